"""The patch epochs (workflows.patches): a loan started on this code records one patch marker per run (the second
epoch, patch-epoch-2026-12-v2) instead of one per patch, and upserts a search attribute only when its value changes;
a loan started on the code before either epoch keeps asking each patch (its markers) after a worker of this code
takes it over, and each run's history replays against this code. ``LOS_RECORD_HISTORIES=1`` saves the new loan's
runs as ``tests/histories/patch_epoch_v2_*`` for the replay suite (``patch_epoch_1``/``_2`` are the first epoch's)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.worker import Replayer, Worker

from tests.workflows.stubs import (
    LOAN_EXECUTIVE,
    StubActivities,
    loan_input,
    patch_markers,
    pay_every_installment,
    policy,
    running_loan,
    start_loan,
    terms,
    to_agreement_signed,
    worker_before,
)
from workflows import options
from workflows.contracts import AadhaarInitiate, AadhaarOtp
from workflows.loan import LoanWorkflow
from workflows.options import (
    AADHAAR_ANSWER_FIRST_PATCH,
    AADHAAR_HANDOFF_PATCH,
    AADHAAR_LOCAL_PATCH,
    AUTOPAY_CAPTURE_SPACES_RETRY_PATCH,
    AUTOPAY_CHARGE_UNANSWERED_PATCH,
    AUTOPAY_DROPPED_DEBIT_PATCH,
    AUTOPAY_LATER_INSTALLMENTS_PATCH,
    AUTOPAY_RESTRUCTURE_TRIES_PATCH,
    CONTACT_HOURS_PATCH,
    FORECLOSURE_INTEREST_CREDIT_PATCH,
    GRACE_ADVANCE_PATCH,
    IST_ANCHOR_PATCH,
    KYC_INPUTS_AHEAD_PATCH,
    KYC_LOCAL_PATCH,
    KYC_PHASE_PATCH,
    KYC_READ_ON_UPLOAD_PATCH,
    KYC_RESULTS_BESIDE_BUREAU_PATCH,
    LOCAL_DB_PATCH,
    MONEY_IN_PATCH,
    MONEY_OUT_PATCH,
    ORIGINATION_LOCAL_PATCH,
    PROVIDER_FAULT_HOLD_PATCH,
    SETTLEMENT_APPLIES_ALL_PATCH,
    SETTLEMENT_LINK_FIRST_PATCH,
    SETTLEMENT_LINK_FOLLOWS_PATCH,
    WRITE_OFF_RECOVERY_PATCH,
)
from workflows.patches import EPOCH_2_PATCHES, EPOCH_PATCHES, PATCH_EPOCH, PATCH_EPOCH_2

KEYS = ("LoanStatus", "NextDueAt", "DPD", "BrandId", "LoanAmount")
# The loan workflow's patches released after the first epoch (asked on their own, a marker each), bundled by the second.
AFTER_EPOCH = [KYC_LOCAL_PATCH, KYC_RESULTS_BESIDE_BUREAU_PATCH, PROVIDER_FAULT_HOLD_PATCH]
# The loan workflow's patches released after the second epoch that every loan asks (on their own, a marker each, until a
# later epoch bundles them).
AFTER_EPOCH_2 = [KYC_INPUTS_AHEAD_PATCH, KYC_READ_ON_UPLOAD_PATCH]
# Released after the second epoch and asked at each servicing run's start (a marker per servicing run, not per loan).
ASKED_AT_SERVICING = [FORECLOSURE_INTEREST_CREDIT_PATCH]
# Released after the second epoch and asked at the start of a servicing run of a calendar product only (a product timed
# in seconds, as these tests' loans are, asks nothing).
ASKED_FOR_CALENDAR_PRODUCTS = [CONTACT_HOURS_PATCH]
# Released after the second epoch and asked only where a loan's Aadhaar OTP is sent (a marker of its own).
ASKED_AT_AADHAAR = [AADHAAR_LOCAL_PATCH]
# Released after the second epoch and replaced since: asked only replaying a run recorded before its successor (the
# handoff's v2 also where the OTP's updates ran as activity tasks, before AADHAAR_LOCAL_PATCH, which implies it).
SUPERSEDED = [AADHAAR_ANSWER_FIRST_PATCH, AADHAAR_HANDOFF_PATCH]
# Released after the second epoch and asked only where a servicing run's schedule has a grace installment of nothing.
ASKED_WITH_GRACE = [GRACE_ADVANCE_PATCH]
# Released after the second epoch and asked only where a loan was disbursed between midnight and 05:30 IST.
ASKED_EARLY_IST = [IST_ANCHOR_PATCH]
# Released after the second epoch and asked only where a write-off is requested (the update's handler).
ASKED_AT_WRITE_OFF = [WRITE_OFF_RECOVERY_PATCH]
# Released after the second epoch and asked only for a loan with an ACTIVE autopay mandate.
ASKED_WITH_MANDATE = [
    AUTOPAY_LATER_INSTALLMENTS_PATCH,
    AUTOPAY_CAPTURE_SPACES_RETRY_PATCH,
    AUTOPAY_DROPPED_DEBIT_PATCH,
    AUTOPAY_CHARGE_UNANSWERED_PATCH,
]
# Released after the second epoch and asked only where a restructure is approved (the update's handler).
ASKED_AT_RESTRUCTURE = [AUTOPAY_RESTRUCTURE_TRIES_PATCH]
# Released after the second epoch and asked only where a settlement is approved (the update's handler).
ASKED_AT_SETTLEMENT = [SETTLEMENT_LINK_FIRST_PATCH, SETTLEMENT_APPLIES_ALL_PATCH, SETTLEMENT_LINK_FOLLOWS_PATCH]


def _upserts(history: Any) -> list[dict[str, bytes]]:
    """The loan's own search attribute upserts of one run (not the SDK's TemporalChangeVersion), raw values."""
    out = []
    for e in history.events:
        if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            mine = {k: fields[k].data for k in KEYS if k in fields}
            if mine:
                out.append(mine)
    return out


async def _taken_over(env: Any, stubs: StubActivities, queue: str, run: Any, last_ask: str) -> tuple[Any, Any, Any]:
    """A worker of this code takes over ``run``, waiting for the Aadhaar OTP, and takes it to COMPLETED: the OTP
    verified, past ``last_ask`` (the last patch its code asks mid-run, waited for without queries: LoanRun.until_asked),
    the agreement signed, the disbursal settled, every installment paid. The result and the two runs' histories."""
    async with Worker(env.client, task_queue=queue, workflows=[LoanWorkflow], activities=stubs.all()):
        sealed = AadhaarInitiate(aadhaar_sealed="sealed-aadhaar", aadhaar_masked="XXXX-XXXX-1236")
        assert await run.update("aadhaar_initiate", sealed) == {"status": "OTP_SENT"}
        assert await run.update("aadhaar_submit", AadhaarOtp("123456")) == {"status": "VERIFIED"}
        await run.until_asked(last_ask)
        await to_agreement_signed(run)
        assert await run.update("approve_disbursal", LOAN_EXECUTIVE.act()) == "DISBURSAL_PENDING"
        await run.settle("TR-1", "SUCCESS", "UTR0001")
        await pay_every_installment(run)
        result = await run.result()
        origination, servicing = await run._histories()
    return result, origination, servicing


async def _replays(env: Any, history: Any) -> None:
    """The run's history (payloads as recorded, encrypted) replays against this code."""
    replayer = Replayer(workflows=[LoanWorkflow], data_converter=env.client.data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


async def test_a_loan_on_this_code_records_the_epoch_once_per_run_and_no_upsert_that_changes_nothing(env) -> None:  # noqa: ANN001
    stubs = StubActivities()
    async with running_loan(env, stubs, loan_input(terms(tenure=3))) as run:
        await to_agreement_signed(run)
        assert await run.update("approve_disbursal", LOAN_EXECUTIVE.act()) == "DISBURSAL_PENDING"
        await run.settle("TR-1", "SUCCESS", "UTR0001")
        await pay_every_installment(run)
        result = await run.result()
        histories = await run._histories()
        if os.environ.get("LOS_RECORD_HISTORIES"):  # tests/histories/patch_epoch_v2_<n>.json (the replay suite)
            from tests.decode_history import decode_history_json

            folder = Path(__file__).parent.parent / "histories"
            for n, history in enumerate(histories, start=1):
                (folder / f"patch_epoch_v2_{n}.json").write_text(await decode_history_json(history.to_json()))
    assert result.status == "COMPLETED"
    assert len(histories) == 2  # origination, then servicing after continue-as-new
    _, local = await run.activity_kinds()
    assert {"record_status", "record_payment", "record_disbursal"} <= local  # bundled patches took their new paths
    # one epoch marker per run, the second epoch's (not the first's), and no patch asked on its own
    assert [patch_markers(h) for h in histories] == [
        [PATCH_EPOCH_2, *AFTER_EPOCH_2],
        [PATCH_EPOCH_2, *ASKED_AT_SERVICING],
    ]
    for history in histories:
        # every attribute an upsert sets changes its value (from the start event's, then each upsert's)
        started = history.events[0].workflow_execution_started_event_attributes.search_attributes.indexed_fields
        values = {k: started[k].data for k in KEYS if k in started}
        for upsert in _upserts(history):
            assert all(values.get(k) != v for k, v in upsert.items()), (upsert, values)
            values.update(upsert)
        await _replays(env, history)
    # the servicing run still set what a pass sets: the next due date while one was left, DPD, and the end status
    servicing = _upserts(histories[1])
    assert any("NextDueAt" in u for u in servicing) and any(u.get("LoanStatus") == b'"COMPLETED"' for u in servicing)


async def test_a_loan_started_before_the_epoch_keeps_its_patch_markers_after_the_deploy(env) -> None:  # noqa: ANN001
    """Started on the code before the epoch, the loan waits for the customer's Aadhaar (KYC) when this code takes it
    over: the patches it first asks after that (the status moves' local steps, money in, money out) are asked one by
    one and leave their own markers, as the old code would have; its servicing run, started on this code, is under
    the second epoch. Both runs replay."""
    stubs = StubActivities()
    inp = loan_input(terms(tenure=1), policy(kyc_steps=["PAN", "AADHAAR"]))
    queue = f"stub-{uuid.uuid4().hex[:10]}"
    # the code before the epochs: every other patch of its time (not the later ones)
    async with worker_before(env, stubs, queue, {PATCH_EPOCH, PATCH_EPOCH_2, *AFTER_EPOCH, *AFTER_EPOCH_2}):
        run = await start_loan(env, stubs, inp, queue)
        await run.until_kyc_waiting("AADHAAR")  # the old code's markers so far: the KYC phase's
        (before,) = await run._histories()
    asked_first = set(patch_markers(before))
    assert not {PATCH_EPOCH, PATCH_EPOCH_2} & asked_first and {KYC_PHASE_PATCH, ORIGINATION_LOCAL_PATCH} <= asked_first
    later = {LOCAL_DB_PATCH, MONEY_IN_PATCH, MONEY_OUT_PATCH}
    assert not later & asked_first  # asked only after the takeover
    # the last patch origination asks, after the decision
    result, origination, servicing = await _taken_over(env, stubs, queue, run, MONEY_OUT_PATCH)
    assert result.status == "COMPLETED"
    first = patch_markers(origination)
    assert not {PATCH_EPOCH, PATCH_EPOCH_2} & set(first) and later <= set(first)  # this code asked each, as before
    # and, once the OTP was verified and the KYC steps were done, the later patches asked there (a marker each, as for
    # any run)
    assert set(first) - EPOCH_PATCHES == {*ASKED_AT_AADHAAR, KYC_RESULTS_BESIDE_BUREAU_PATCH}
    _, local = await run.activity_kinds()
    assert {"record_status", "record_disbursal"} <= local  # and took the paths their markers say
    assert patch_markers(servicing) == [PATCH_EPOCH_2, *ASKED_AT_SERVICING]  # the servicing run started on this code
    await _replays(env, origination)
    await _replays(env, servicing)


async def test_a_loan_started_under_the_first_epoch_keeps_asking_the_later_patches_after_the_deploy(env) -> None:  # noqa: ANN001
    """Started on the code of the first epoch (before the second), the loan recorded the first epoch's marker and the
    KYC local steps' own when this code takes it over at the Aadhaar OTP: it stays under the first epoch, asks the
    results-beside-bureau patch on its own as that code would have and the Aadhaar answer's patch (released after both)
    with a marker of its own, and takes their paths; its servicing run, started on this code, is under the second
    epoch. Both runs replay."""
    stubs = StubActivities()
    inp = loan_input(terms(tenure=1), policy(kyc_steps=["PAN", "AADHAAR"]))
    queue = f"stub-{uuid.uuid4().hex[:10]}"
    async with worker_before(env, stubs, queue, {PATCH_EPOCH_2, *AFTER_EPOCH_2}):
        run = await start_loan(env, stubs, inp, queue)
        await run.until_kyc_waiting("AADHAAR")
        (before,) = await run._histories()
    assert patch_markers(before) == [PATCH_EPOCH, KYC_LOCAL_PATCH]
    result, origination, servicing = await _taken_over(env, stubs, queue, run, KYC_RESULTS_BESIDE_BUREAU_PATCH)
    assert result.status == "COMPLETED"
    # as that code asked them (the hold's patch only when a step fails with its retries spent: none here)
    assert patch_markers(origination) == [
        PATCH_EPOCH, KYC_LOCAL_PATCH, *ASKED_AT_AADHAAR, KYC_RESULTS_BESIDE_BUREAU_PATCH,
    ]  # fmt: skip
    tasks, local = await run.activity_kinds()
    assert "credit_bureau_pull" in local and "credit_bureau_pull" not in tasks  # the KYC local path it recorded
    assert patch_markers(servicing) == [PATCH_EPOCH_2, *ASKED_AT_SERVICING]
    await _replays(env, origination)
    await _replays(env, servicing)


def test_every_loan_workflow_patch_is_bundled_by_an_epoch_or_listed_as_asked_on_its_own() -> None:
    """Every patch id of the loan workflow (``workflows.options``) is in the second epoch or named in AFTER_EPOCH_2,
    ASKED_AT_AADHAAR, ASKED_WITH_GRACE, ASKED_EARLY_IST, ASKED_AT_WRITE_OFF, ASKED_WITH_MANDATE, ASKED_AT_RESTRUCTURE,
    ASKED_AT_SETTLEMENT, ASKED_AT_SERVICING, ASKED_FOR_CALENDAR_PRODUCTS or SUPERSEDED, and the
    first epoch's set and AFTER_EPOCH make the second's: a patch released later and left out of all fails here."""
    released = {v for k, v in vars(options).items() if k.endswith("_PATCH")}
    asked_where_needed = {
        *ASKED_AT_SERVICING,
        *ASKED_FOR_CALENDAR_PRODUCTS,
        *ASKED_AT_AADHAAR,
        *ASKED_WITH_GRACE,
        *ASKED_EARLY_IST,
        *ASKED_AT_WRITE_OFF,
        *ASKED_WITH_MANDATE,
        *ASKED_AT_RESTRUCTURE,
        *ASKED_AT_SETTLEMENT,
        *SUPERSEDED,
    }
    assert released == EPOCH_2_PATCHES | set(AFTER_EPOCH_2) | asked_where_needed
    assert not EPOCH_2_PATCHES & (set(AFTER_EPOCH_2) | asked_where_needed)
    assert EPOCH_PATCHES | set(AFTER_EPOCH) == EPOCH_2_PATCHES and not EPOCH_PATCHES & set(AFTER_EPOCH)
