"""`los demo --scenario partner-disbursal-sla --json` over the real `los up`: the watch run by triggering its
Temporal Schedule (`partner-disbursal-watch`, created by the worker), the disbursal re-sent once, the UTR taken from
Kavach's signed callback, the loan DISBURSED (docs/partner-lenders.md, "Demo")."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import select

from db.models import Loan, PartnerDisbursal, PartnerDisbursalResend
from tests.e2e.conftest import UpProcess

pytestmark = pytest.mark.e2e


def test_the_partner_disbursal_sla_scenario_over_los_up(stack: UpProcess) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "los.cli", "demo", "--scenario", "partner-disbursal-sla", "--json",
         "--api", stack.api, "--sandbox", stack.sandbox],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=90,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    [journey] = json.loads(out.stdout)["loans"]
    assert journey["final_status"] == "DISBURSED"
    end = journey["partner_disbursal"]
    assert (end["partner"], end["state"], end["confirmed_via"]) == ("kavach", "CONFIRMED", "CALLBACK")
    assert end["breached"] is True and end["escalated"] is False  # late, and the breach kept
    assert (end["resends"], end["resend_status"]) == (1, "ACCEPTED")
    assert end["resend_reference"].endswith(":kavach:resend")
    assert (end["partner_resend_calls"], end["partner_resend_payouts"]) == (1, 1)  # Kavach asked once, paid once
    assert end["utr"].startswith("KV")
    with stack.db() as s:  # what was printed is what was recorded
        loan = s.get_one(Loan, journey["loan_id"])
        assert loan.status == "DISBURSED"
        case = s.scalars(select(PartnerDisbursal).where(PartnerDisbursal.loan_id == loan.id)).one()
        assert (case.state, case.confirmed_via, case.utr, case.breached) == ("CONFIRMED", "CALLBACK", end["utr"], True)
        resends = s.scalars(select(PartnerDisbursalResend).where(PartnerDisbursalResend.case_id == case.id)).all()
        assert [(r.status, r.attempts) for r in resends] == [("ACCEPTED", 1)]
