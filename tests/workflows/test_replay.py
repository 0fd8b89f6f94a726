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

from workflows.bureau_files import BureauFilesWorkflow
from workflows.invoice_financing import InvoiceFinancingWorkflow
from workflows.loan import LoanWorkflow
from workflows.partner_disbursal_watch import PartnerDisbursalWatchWorkflow

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.json"))


def test_histories_are_present() -> None:
    names = {p.stem for p in HISTORIES}
    assert {"lifecycle_origination", "lifecycle_servicing", "manual_review_origination"} <= names  # before KYC
    assert {"full_kyc_1", "full_kyc_2", "monthly_late_penal_1", "monthly_late_penal_2"} <= names  # KYC phase
    assert {"full_kyc_per_step_1", "full_kyc_per_step_2"} <= names  # an activity per KYC step, decision in three
    assert {"money_out_hold_1", "money_out_esign_declined_1"} <= names  # KFS, eSign rounds, the hold, the transfer
    assert {"collections_settlement_1", "collections_settlement_2", "collections_settlement_3"} <= names  # NPA, settled
    assert {"partner_routing_1", "partner_routing_2"} <= names  # a partner past its SLA, the next books (routing)
    assert {"partner_offer_apr_1"} <= names  # booked: the policy APR is the offer's (partner-offer-apr-v1)
    assert {"co_lending_1", "co_lending_2"} <= names  # booked with Lendbox: the partner's lifecycle, split payments
    assert {"co_lending_write_off_2", "co_lending_settled_2"} <= names  # co-lent losses split, the DLG invoked
    assert {"co_lending_restructured_2"} <= names  # a co-lent loan's restructure sent to the partner
    assert {"invoice_financing_1", "invoice_virtual_account_1"} <= names  # SME: paid by link; into its account
    assert {"money_in_local_steps_1", "money_in_local_steps_2"} <= names  # status moves and payments as local steps
    assert {"partner_disbursal_resend_1", "invoice_late_credit_1"} <= names  # a re-sent disbursal; a late SME credit
    assert {"bureau_file_alerts_1"} <= names  # the bureau files' run raising alerts (bureau-file-alerts-v1)
    assert {"servicing_local_steps_1", "servicing_local_steps_2"} <= names  # the repayment loop's local steps
    assert {"autopay_debit_check_1"} <= names  # a debit's lost webhook, its payment found at the gateway (stub run)
    assert {"autopay_debit_patience_old_1"} <= names  # before autopay-debit-check-v1: the try ends, a second debit
    assert {"origination_local_steps_1", "origination_local_steps_2"} <= names  # origination's local steps too
    assert {"status_with_payment_1"} <= names  # a payment clearing arrears records the move (status-with-payment-v1)
    assert {"receipt_notice_at_start_1"} <= names  # receipts decided at the run start (receipt-notice-at-start-v1)
    assert {"value_dated_penal_1"} <= names  # a debit confirmed late: the penal levied meanwhile reversed (stub run)
    assert {"patch_epoch_1", "patch_epoch_2"} <= names  # one epoch marker a run, upserts only on change (stub run)
    assert {"full_kyc_local_1", "full_kyc_local_2"} <= names  # the KYC lookups and bureau pull as local activities
    assert {"full_kyc_beside_bureau_1"} <= names  # the KYC results recorded beside the bureau pull
    assert {"patch_epoch_v2_1", "patch_epoch_v2_2"} <= names  # the second epoch: one marker a run, no other (stub run)
    # before late-payment-after-write-off-is-recovery-v1: a payment during a write-off applied as repayment (stub run)
    assert {"write_off_late_payment_old_1", "write_off_late_payment_old_2"} <= names
    # autopay past an installment whose tries are spent (autopay-later-installments-v1), and the same run before it
    assert {"autopay_later_installments_2", "autopay_spent_old_2"} <= names
    # a restructured installment's own autopay tries (autopay-restructure-tries-v1), and the same run before it
    assert {"autopay_restructure_tries_2", "autopay_restructure_old_2", "autopay_restructure_notified_old_2"} <= names
    # a captured try spacing the next (autopay-capture-spaces-retry-v1), and the same run before it
    assert {"autopay_capture_spaced_2", "autopay_capture_unspaced_old_2"} <= names
    # a debit dropped as its mandate is cancelled frees its attempt (autopay-dropped-debit-frees-attempt-v1), and before
    assert {"autopay_dropped_debit_2", "autopay_dropped_debit_old_2"} <= names
    # a charge the gateway never answered, looked up (autopay-charge-unanswered-v1); before it the run ended Failed
    assert {"autopay_charge_unanswered_2", "autopay_charge_unanswered_old_2"} <= names
    # a settlement approved once the gateways are back, its link made first (settlement-link-first-v1); the approvals
    # before it: collections_settlement_3, co_lending_settled_2
    assert {"settlement_link_first_2", "collections_settlement_3", "co_lending_settled_2"} <= names
    # the Aadhaar OTP's vendor calls as local activities (aadhaar-otp-local-v1); before it: full_kyc_aadhaar_handoff_1
    assert {"aadhaar_otp_local_1", "full_kyc_aadhaar_handoff_1"} <= names
    # KYC long polls (kyc_progress_changed) waiting while the progress moved: by the OTP sent, an input, the OTP checked
    assert {"kyc_progress_wait_1"} <= names
    # a statement upload racing the step's attempt wakes the step (kyc-inputs-ahead-v1)
    assert {"kyc_inputs_ahead_1"} <= names


def _patches_and_local_steps(path: Path) -> tuple[set[str], int]:
    """The patch ids a saved history recorded, and how many local activities it ran."""
    import base64
    import json

    patches, local = set(), 0
    for event in json.loads(path.read_text())["events"]:
        marker = event.get("markerRecordedEventAttributes")
        if marker and marker["markerName"] == "core_patch":
            data = marker["details"]["patch-data"]["payloads"][0]["data"]
            patches.add(json.loads(base64.b64decode(data))["id"])
        elif marker and marker["markerName"] == "core_local_activity":
            local += 1
    return patches, local


def _scheduled_activities(path: Path) -> list[str]:
    """The activity types a saved history scheduled as activity tasks, in order."""
    import json

    events = json.loads(path.read_text())["events"]
    return [
        e["activityTaskScheduledEventAttributes"]["activityType"]["name"]
        for e in events
        if "activityTaskScheduledEventAttributes" in e
    ]


def test_the_autopay_tries_histories_took_the_paths_they_stand_for() -> None:
    """autopay-restructure-tries-v1, autopay-capture-spaces-retry-v1 and autopay-dropped-debit-frees-attempt-v1 are
    covered only if their saved histories took them and the ones before did not. The restructure with a debit
    notified at its approval: the new code records that debit's row FAILED and debits the new installment 1 (a
    fourth notice and a third charge), the code before did neither."""
    folder = HISTORIES[0].parent
    patch = "autopay-restructure-tries-v1"
    tries, _ = _patches_and_local_steps(folder / "autopay_restructure_tries_2.json")
    for before in ("autopay_restructure_old_2", "autopay_restructure_notified_old_2"):
        assert patch not in _patches_and_local_steps(folder / f"{before}.json")[0], before
    assert patch in tries
    kinds = ("notify_mandate_debit", "charge_mandate", "record_debit_outcome")
    counts = {}
    for name in ("tries", "notified_old"):
        scheduled = _scheduled_activities(folder / f"autopay_restructure_{name}_2.json")
        counts[name] = tuple(scheduled.count(kind) for kind in kinds)
    assert counts == {"tries": (4, 3, 3), "notified_old": (3, 2, 2)}, counts
    spaced, _ = _patches_and_local_steps(folder / "autopay_capture_spaced_2.json")
    unspaced, _ = _patches_and_local_steps(folder / "autopay_capture_unspaced_old_2.json")
    assert "autopay-capture-spaces-retry-v1" in spaced and "autopay-capture-spaces-retry-v1" not in unspaced
    dropped, _ = _patches_and_local_steps(folder / "autopay_dropped_debit_2.json")
    kept, _ = _patches_and_local_steps(folder / "autopay_dropped_debit_old_2.json")
    assert "autopay-dropped-debit-frees-attempt-v1" in dropped and "autopay-dropped-debit-frees-attempt-v1" not in kept
    outcomes = {
        name: _scheduled_activities(folder / f"autopay_dropped_debit_{name}.json").count("record_debit_outcome")
        for name in ("2", "old_2")
    }
    assert outcomes == {"2": 1, "old_2": 0}, outcomes  # the dropped debit's row recorded FAILED only with the patch


def test_the_unanswered_charge_histories_took_the_paths_they_stand_for() -> None:
    """autopay-charge-unanswered-v1 is covered only if its saved history took it and the one before did not: on this
    code the unanswered charge is followed by the gateway look-up (``find_mandate_debit``) and the run goes on; the
    code before ended the run Failed right after the charge, with no look-up."""
    import json

    folder = HISTORIES[0].parent
    patch = "autopay-charge-unanswered-v1"
    after, _ = _patches_and_local_steps(folder / "autopay_charge_unanswered_2.json")
    before, _ = _patches_and_local_steps(folder / "autopay_charge_unanswered_old_2.json")
    assert patch in after and patch not in before
    looked_up = {
        name: _scheduled_activities(folder / f"autopay_charge_unanswered_{name}.json").count("find_mandate_debit")
        for name in ("2", "old_2")
    }
    assert looked_up == {"2": 1, "old_2": 0}, looked_up
    last = json.loads((folder / "autopay_charge_unanswered_old_2.json").read_text())["events"][-1]
    assert last["eventType"] in ("EVENT_TYPE_WORKFLOW_EXECUTION_FAILED", "WorkflowExecutionFailed"), last["eventType"]


def test_the_settlement_histories_took_the_paths_they_stand_for() -> None:
    """settlement-link-first-v1 is covered only if its saved history took it (the link asked before the approval is
    recorded: twice, the first refused with every gateway down) and the approvals saved before it did not."""
    folder = HISTORIES[0].parent
    patch = "settlement-link-first-v1"
    assert patch in _patches_and_local_steps(folder / "settlement_link_first_2.json")[0]
    for before in ("collections_settlement_3", "co_lending_settled_2"):
        assert patch not in _patches_and_local_steps(folder / f"{before}.json")[0], before
    scheduled = _scheduled_activities(folder / "settlement_link_first_2.json")
    links = [i for i, name in enumerate(scheduled) if name == "settlement_link"]
    assert len(links) == 2, scheduled
    decisions = [i for i, name in enumerate(scheduled) if name == "record_servicing_decision"]
    assert len(decisions) == 2 and decisions[0] < links[0] < links[1] < decisions[1]  # PROPOSED, link ×2, APPROVED
    # settlement-applies-all-v1: a settlement under which everything owed was paid; nothing closed as settled
    applies_all = "settlement-applies-all-v1"
    assert applies_all in _patches_and_local_steps(folder / "settlement_applies_all_2.json")[0]
    assert applies_all not in _patches_and_local_steps(folder / "settlement_link_first_2.json")[0]
    scheduled = _scheduled_activities(folder / "settlement_applies_all_2.json")
    assert "settlement_link" in scheduled and "record_closing_postings" not in scheduled, scheduled
    # settlement-link-follows-payments-v1: a settlement part-paid another way, its link made again for the rest
    follows = "settlement-link-follows-payments-v1"
    assert follows in _patches_and_local_steps(folder / "settlement_link_follows_2.json")[0]
    assert follows not in _patches_and_local_steps(folder / "settlement_applies_all_2.json")[0]
    scheduled = _scheduled_activities(folder / "settlement_link_follows_2.json")
    assert scheduled.count("settlement_link") == 2 and "record_closing_postings" in scheduled, scheduled


def test_the_contact_hours_history_held_its_overdue_notice() -> None:
    """overdue-notice-contact-hours-v1 is covered only if its saved history took it: the servicing run's marker, the
    installment marked overdue at the day-end, and the OVERDUE notice sent after it (from 08:00 IST)."""
    folder = HISTORIES[0].parent
    patch = "overdue-notice-contact-hours-v1"
    assert patch in _patches_and_local_steps(folder / "overdue_notice_contact_hours_2.json")[0]
    assert patch not in _patches_and_local_steps(folder / "settlement_applies_all_2.json")[0]  # timed in seconds
    import base64
    import json
    from datetime import datetime, timedelta, timezone

    events = json.loads((folder / "overdue_notice_contact_hours_2.json").read_text())["events"]
    sent = {}
    for e in events:
        attrs = e.get("activityTaskScheduledEventAttributes")
        if attrs and attrs["activityType"]["name"] == "send_notice":
            notice = json.loads(base64.b64decode(attrs["input"]["payloads"][0]["data"]))
            sent[notice["event"]] = datetime.fromisoformat(e["eventTime"].replace("Z", "+00:00"))
    at = sent["OVERDUE"].astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert at.hour == 8 and at.minute < 30, at  # held from the 00:00 IST day-end to the loan's minute after 08:00


def test_the_aadhaar_history_called_the_vendor_as_local_activities() -> None:
    """aadhaar-otp-local-v1 is covered only if a saved history took it: its marker, the OTP sent and checked (twice:
    a wrong OTP, then the right one) as local activities, none as an activity task, the handoff after it run without
    its own patch asked; the history recorded before it scheduled them as activity tasks."""
    folder = HISTORIES[0].parent
    patches, _ = _patches_and_local_steps(folder / "aadhaar_otp_local_1.json")
    assert "aadhaar-otp-local-v1" in patches
    calls = {"aadhaar_initiate", "aadhaar_submit"}
    assert not calls & set(_scheduled_activities(folder / "aadhaar_otp_local_1.json"))
    assert _local_activities(folder / "aadhaar_otp_local_1.json").count("aadhaar_submit") == 2
    # the verified OTP's handoff is implied, not asked (a marker asked after a local activity's result could move a
    # task later than replay asks it); the handoff itself still runs
    assert "aadhaar-answer-first-v2" not in patches
    assert "aadhaar_answered" in _scheduled_activities(folder / "aadhaar_otp_local_1.json")
    assert "aadhaar-otp-local-v1" not in _patches_and_local_steps(folder / "full_kyc_aadhaar_handoff_1.json")[0]
    assert calls <= set(_scheduled_activities(folder / "full_kyc_aadhaar_handoff_1.json"))


def test_the_inputs_ahead_histories_took_their_paths() -> None:
    """kyc_input_race_1: the upload reached the workflow while the statement's first attempt ran; the step ran again
    with it at once (two attempts), no KYC timeout. kyc_inputs_ahead_1: the statement's first attempt was scheduled
    with the Aadhaar handoff. kyc_input_own_step_1: an input for another step left the Aadhaar wait alone. All under
    kyc-inputs-ahead-v1."""
    import json

    folder = HISTORIES[0].parent
    race, ahead = folder / "kyc_input_race_1.json", folder / "kyc_inputs_ahead_1.json"
    assert "kyc-inputs-ahead-v1" in _patches_and_local_steps(race)[0]
    assert "kyc-inputs-ahead-v1" in _patches_and_local_steps(ahead)[0]
    assert _scheduled_activities(race).count("kyc_bank_statement") == 2
    # scheduled by the same workflow task's completion (no task completed between the two events)
    at = _scheduled_in_task(ahead)
    assert at["kyc_bank_statement"] == at["aadhaar_answered"]
    # kyc_input_own_step_1: the statement's input came while the Aadhaar OTP was awaited; that wait's timer ran on
    own = json.loads((folder / "kyc_input_own_step_1.json").read_text())["events"]
    assert sum("workflowExecutionSignaledEventAttributes" in e for e in own) == 1
    assert sum("timerStartedEventAttributes" in e for e in own) == 1


def _scheduled_in_task(path: Path) -> dict[str, int]:
    """Each activity type a saved history scheduled → how many workflow tasks had completed before it was scheduled
    (its last scheduling): two activities with the same number were scheduled by the same task's completion."""
    import json

    events = json.loads(path.read_text())["events"]
    at: dict[str, int] = {}
    for n, e in enumerate(events):
        if "activityTaskScheduledEventAttributes" in e:
            name = e["activityTaskScheduledEventAttributes"]["activityType"]["name"]
            at[name] = sum("workflowTaskCompletedEventAttributes" in before for before in events[:n])
    return at


def test_the_read_on_upload_history_took_its_path() -> None:
    """kyc_read_on_upload_1 (kyc-read-on-upload-v1): the statement uploaded while the Aadhaar OTP was awaited was
    scheduled in an earlier workflow task than the OTP's handoff (read on its upload, not with the handoff)."""
    path = HISTORIES[0].parent / "kyc_read_on_upload_1.json"
    assert {"kyc-inputs-ahead-v1", "kyc-read-on-upload-v1"} <= _patches_and_local_steps(path)[0]
    at = _scheduled_in_task(path)
    assert at["kyc_bank_statement"] < at["aadhaar_answered"]


def _local_activities(path: Path) -> list[str]:
    """The activity types a saved history ran as local activities, in order (their markers)."""
    import base64
    import json

    return [
        json.loads(base64.b64decode(e["markerRecordedEventAttributes"]["details"]["data"]["payloads"][0]["data"]))[
            "activity_type"
        ]
        for e in json.loads(path.read_text())["events"]
        if e.get("markerRecordedEventAttributes", {}).get("markerName") == "core_local_activity"
    ]


def test_the_kyc_history_recorded_its_results_beside_the_bureau_pull() -> None:
    """kyc-results-beside-bureau-v1 is covered only if a saved history took it: its marker, then the results recorded
    and the bureau pulled as local activities, in that order (the order the two are started in)."""
    import base64
    import json

    events = json.loads((HISTORIES[0].parent / "full_kyc_beside_bureau_1.json").read_text())["events"]
    seen = []
    for event in events:
        marker = event.get("markerRecordedEventAttributes")
        if marker and marker["markerName"] == "core_patch":
            seen.append(json.loads(base64.b64decode(marker["details"]["patch-data"]["payloads"][0]["data"]))["id"])
        elif marker and marker["markerName"] == "core_local_activity":
            seen.append(json.loads(base64.b64decode(marker["details"]["data"]["payloads"][0]["data"]))["activity_type"])
    at = seen.index("kyc-results-beside-bureau-v1")
    assert seen[at + 1 : at + 3] == ["kyc_record_results", "credit_bureau_pull"], seen


def test_the_local_steps_history_took_the_new_paths() -> None:
    """The replay suite covers local-db-steps-v1 and receipt-with-notice-v1 only if a saved history took them."""
    folder = HISTORIES[0].parent
    patches, local = set(), 0
    for run in ("money_in_local_steps_1", "money_in_local_steps_2"):  # the year continued as new once
        run_patches, run_local = _patches_and_local_steps(folder / f"{run}.json")
        patches, local = patches | run_patches, local + run_local
    assert {"local-db-steps-v1", "receipt-with-notice-v1"} <= patches
    assert local >= 10  # every status move and every payment of the year


def test_the_servicing_history_ran_its_database_steps_locally() -> None:
    """servicing-local-steps-v1 is covered only if a saved history took it: its servicing run marked installments
    overdue, levied penal charges, recorded DPD, accrued interest and reviewed collections as local activities, and
    scheduled none of them as an activity task."""
    import json

    path = HISTORIES[0].parent / "servicing_local_steps_2.json"
    patches, local = _patches_and_local_steps(path)
    assert "servicing-local-steps-v1" in patches
    steps = {"mark_overdue", "levy_penal", "record_delinquency", "accrue_interest", "review_collection"}
    scheduled = {
        e["activityTaskScheduledEventAttributes"]["activityType"]["name"]
        for e in json.loads(path.read_text())["events"]
        if "activityTaskScheduledEventAttributes" in e
    }
    assert not steps & scheduled, steps & scheduled
    assert "ensure_payment_link" in scheduled  # provider calls stay activity tasks
    before, before_local = _patches_and_local_steps(HISTORIES[0].parent / "money_in_local_steps_2.json")
    assert "servicing-local-steps-v1" not in before and local > before_local + 12  # the same year, more steps local


def test_the_origination_history_ran_its_database_steps_locally() -> None:
    """origination-local-steps-v1 is covered only if a saved history took it: its origination run looked up and
    recorded KYC results, ran the rules and evaluation, recorded the agreement's outcome and booked the disbursal as
    local activities (their markers name them), and scheduled none of them as an activity task; vendor calls stayed
    activity tasks."""
    import base64
    import json

    path = HISTORIES[0].parent / "origination_local_steps_1.json"
    patches, _ = _patches_and_local_steps(path)
    assert "origination-local-steps-v1" in patches
    events = json.loads(path.read_text())["events"]
    scheduled = {
        e["activityTaskScheduledEventAttributes"]["activityType"]["name"]
        for e in events
        if "activityTaskScheduledEventAttributes" in e
    }
    local = {
        json.loads(base64.b64decode(e["markerRecordedEventAttributes"]["details"]["data"]["payloads"][0]["data"]))[
            "activity_type"
        ]
        for e in events
        if e.get("markerRecordedEventAttributes", {}).get("markerName") == "core_local_activity"
    }
    steps = {
        "kyc_reuse_lookup",
        "kyc_record_results",
        "credit_rules_and_evaluation",
        "record_agreement_outcome",
        "record_disbursal",
    }
    assert steps <= local, steps - local
    assert not steps & scheduled, steps & scheduled
    assert {"kyc_pan", "credit_bureau_pull", "prepare_agreement", "initiate_disbursal"} <= scheduled


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text())
    workflows = [LoanWorkflow, InvoiceFinancingWorkflow, PartnerDisbursalWatchWorkflow, BureauFilesWorkflow]
    replayer = Replayer(workflows=workflows, data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


def test_the_value_dated_history_reversed_penal_at_its_credit() -> None:
    """value-dated-penal-v1 is covered only if a saved history took it: an e-mandate debit still processing at its
    first look-up, the installment overdue with its penal charge levied at midnight, the capture found at the next
    look-up and credited value-dated the due date (tests/workflows/test_money_in.py)."""
    patches, _ = _patches_and_local_steps(HISTORIES[0].parent / "value_dated_penal_1.json")
    assert {"value-dated-penal-v1", "autopay-debit-check-v1"} <= patches


def test_the_status_with_payment_history_recorded_the_move_with_the_payment() -> None:
    """status-with-payment-v1 is covered only if a saved history took it: an OVERDUE loan paid by webhook (a due-date
    storm's loan, bench/collections_day.py) recorded its move back to DISBURSED in record_payment's local step, ran
    no record_status after the payment, and set LoanStatus in the same upsert as NextDueAt and DPD; the patch was
    decided when the servicing run started (its marker before the run's first timer), not by the credit."""
    import base64
    import json

    path = HISTORIES[0].parent / "status_with_payment_1.json"
    patches, _ = _patches_and_local_steps(path)
    assert "status-with-payment-v1" in patches
    steps, upserts, first_timer, patch_at = [], [], None, None
    for event in json.loads(path.read_text())["events"]:
        marker = event.get("markerRecordedEventAttributes")
        if marker and marker["markerName"] == "core_local_activity":
            data = json.loads(base64.b64decode(marker["details"]["data"]["payloads"][0]["data"]))
            steps.append(data["activity_type"])
        elif marker and marker["markerName"] == "core_patch":
            data = json.loads(base64.b64decode(marker["details"]["patch-data"]["payloads"][0]["data"]))
            if data["id"] == "status-with-payment-v1":
                patch_at = int(event["eventId"])
        upsert = event.get("upsertWorkflowSearchAttributesEventAttributes")
        if upsert and steps and steps[-1] == "record_payment":
            upserts.append(set(upsert["searchAttributes"]["indexedFields"]))
        if event.get("timerStartedEventAttributes") and first_timer is None:
            first_timer = int(event["eventId"])
    paid = steps.index("record_payment")
    assert "record_status" in steps[:paid]  # the move to OVERDUE, on its own
    assert "record_status" not in steps[paid:]
    assert upserts[0] == {"LoanStatus", "NextDueAt", "DPD"}  # one upsert for the move and the next due date
    assert patch_at is not None and first_timer is not None and patch_at < first_timer


def test_a_credit_decides_no_patch_once_the_run_decided_its_receipts_at_the_start() -> None:
    """receipt-notice-at-start-v1 is covered only if a saved history took it: a due-date storm's loan
    (bench/collections_day.py) decided it when its servicing run started (its marker before the run's first timer),
    and the workflow task that took the payment recorded no patch marker and no TemporalChangeVersion upsert, only
    the payment's local step, one upsert (status, next due date, DPD), the loop's timer and the receipt and link."""
    import base64
    import json

    path = HISTORIES[0].parent / "receipt_notice_at_start_1.json"
    patches, _ = _patches_and_local_steps(path)
    assert "receipt-notice-at-start-v1" in patches and "receipt-with-notice-v1" not in patches
    events = json.loads(path.read_text())["events"]
    first_timer = next(int(e["eventId"]) for e in events if "timerStartedEventAttributes" in e)
    signalled = next(
        i
        for i, e in enumerate(events)
        if e.get("workflowExecutionSignaledEventAttributes", {}).get("signalName") == "payment_received"
    )
    patch_at = None
    for event in events:
        marker = event.get("markerRecordedEventAttributes")
        if marker and marker["markerName"] == "core_patch":
            data = json.loads(base64.b64decode(marker["details"]["patch-data"]["payloads"][0]["data"]))
            if data["id"] == "receipt-notice-at-start-v1":
                patch_at = int(event["eventId"])
    assert patch_at is not None and patch_at < first_timer
    completed = next(i for i in range(signalled, len(events)) if "workflowTaskCompletedEventAttributes" in events[i])
    credit = []
    for event in events[completed + 1 :]:
        if "activityTaskStartedEventAttributes" in event or "workflowTaskScheduledEventAttributes" in event:
            break
        credit.append(event["eventType"].removeprefix("EVENT_TYPE_"))
    assert credit == [
        "TIMER_CANCELED",
        "MARKER_RECORDED",  # record_payment, a local activity
        "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES",  # LoanStatus, NextDueAt, DPD: none of TemporalChangeVersion
        "TIMER_STARTED",
        "ACTIVITY_TASK_SCHEDULED",  # the receipt with its notice
        "ACTIVITY_TASK_SCHEDULED",  # the next link
    ], credit


def test_the_second_epoch_histories_recorded_its_marker_alone() -> None:
    """patch-epoch-2026-12-v2 is covered only if a saved history took it: each run of the loan started under it
    recorded that one patch marker (no first epoch's, no patch of its own) and still ran its database steps locally."""
    folder = HISTORIES[0].parent
    for run in ("patch_epoch_v2_1", "patch_epoch_v2_2"):  # origination, then servicing after continue-as-new
        patches, local = _patches_and_local_steps(folder / f"{run}.json")
        assert patches == {"patch-epoch-2026-12-v2"}, (run, patches)
        assert local > 0, run
