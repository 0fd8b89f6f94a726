"""Every saved history replays against today's workflow code: a non-deterministic change fails here.

Refresh or add histories with:
  temporal workflow show -w loan-<id> -r <runId> --output json > tests/histories/<name>.json
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.invoice_financing import InvoiceFinancingWorkflow
from workflows.loan import LoanWorkflow

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.json"))


def test_histories_are_present() -> None:
    names = {p.stem for p in HISTORIES}
    assert {"lifecycle_origination", "lifecycle_servicing", "manual_review_origination"} <= names  # before KYC
    assert {"full_kyc_1", "full_kyc_2", "monthly_late_penal_1", "monthly_late_penal_2"} <= names  # KYC phase
    assert {"full_kyc_per_step_1", "full_kyc_per_step_2"} <= names  # an activity per KYC step, decision in three
    assert {"money_out_hold_1", "money_out_esign_declined_1"} <= names  # KFS, eSign rounds, the hold, the transfer
    assert {"collections_settlement_1", "collections_settlement_2", "collections_settlement_3"} <= names  # NPA, settled
    assert {"partner_routing_1", "partner_routing_2"} <= names  # a partner past its SLA, the next books (routing)
    assert {"co_lending_1", "co_lending_2"} <= names  # booked with Lendbox: the partner's lifecycle, split payments
    assert {"co_lending_write_off_2", "co_lending_settled_2"} <= names  # co-lent losses split, the DLG invoked
    assert {"invoice_financing_1", "invoice_virtual_account_1"} <= names  # SME: paid by link; into its account


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text())
    replayer = Replayer(workflows=[LoanWorkflow, InvoiceFinancingWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
