"""The collections journeys of `los demo --scenario` over the public API, each to the end its name says, with what each
must leave behind: a promise to pay KEPT by the payment that cleared the arrears and a no-dues certificate; a
settlement proposed by one person, approved by another and PAID, the rest waived in the ledger, and its letter; a
write-off whose later payment the webhook answers as a recovery, posted as recovery income; a reloan whose KYC is
REUSED; and, for every loan, a ledger whose trial balance balances with no receivable left."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from activities.loan import LoanActivities
from activities.storage import LocalStorage
from db.closure import certificate_context, settlement_waived
from db.models import ClosureCertificate, PaymentLink, RepaymentInstallment
from domain.money import format_inr
from los.demo_collections import RECEIVABLES, CollectionsJourney
from los.demo_scenarios import SCENARIOS, describe, run_scenario
from workflows.contracts import ClosingPostings

COLLECTIONS = ["overdue-then-paid", "settlement", "write-off-then-recovery", "reloan"]


def test_the_cli_names_every_collections_scenario() -> None:
    assert set(SCENARIOS) >= set(COLLECTIONS)
    listed = {line.split()[0] for line in describe().splitlines()}
    assert listed >= set(COLLECTIONS)


def _check_overdue_then_paid(j: CollectionsJourney) -> None:
    assert j.closed_as == "REPAID"
    queue = j.checks["queue"]
    # a demo product's DPD stays 0: the overdue loan is worked from the pre-collection queue, allocated by hand
    assert queue["queue"] in ("collection/pre", "collection") and queue["status"] == "OVERDUE"
    assert queue["collector"] == j.checks["collector"] == j.checks["allocated_to"]
    promise = j.checks["promise"]
    assert promise["status"] == "KEPT" and promise["paid_paise"] >= promise["amount_paise"] > 0
    assert j.checks["link"]["purpose"] == "OVERDUE" and j.checks["link"]["amount_paise"] >= promise["amount_paise"]
    assert j.checks["back_to_disbursed"]
    moves = [(h["from"], h["to"]) for h in j.history]
    assert moves.index(("DISBURSED", "OVERDUE")) < moves.index(("OVERDUE", "DISBURSED")) < len(moves)
    assert moves[-1][1] == "COMPLETED"
    assert j.checks["noc"]["pdf"] and j.checks["noc"]["number"]
    listed = j.checks["closed_list"]  # staff see it among the completed loans, with the certificate downloaded
    assert (listed["status"], listed["closedAs"], listed["certificateNo"]) == (
        "COMPLETED",
        "REPAID",
        j.checks["noc"]["number"],
    )
    assert len(j.payments) >= 3  # the collector's link, then the rest installment by installment


def _check_settlement(j: CollectionsJourney) -> None:
    s = j.checks["settlement"]
    assert s["status"] == "PAID" and s["approved"] == "APPROVED"
    assert s["proposed_by"] != s["decided_by"]  # maker-checker: a second person approved it
    assert 0 < s["amount_paise"] < s["outstanding_paise"]
    assert sum(s["waiver_paise"].values()) == s["outstanding_paise"] - s["amount_paise"]
    assert s["deadline"] >= s["paid_on"]  # paid before its deadline
    (paid,) = j.payments
    assert paid["amount_paise"] == s["amount_paise"]
    assert "WAIVER" in j.checks["ledger_kinds"]  # the rest waived (and any principal unpaid written off)
    assert j.checks["certificate"]["pdf"] and j.checks["certificate"]["number"]
    listed = j.checks["closed_list"]  # among the settled loans, flagged SETTLED for the bureau, with that letter
    assert (listed["status"], listed["bureauFlag"]) == ("SETTLED", "SETTLED")
    assert listed["certificateNo"] == j.checks["certificate"]["number"]


def _check_write_off(j: CollectionsJourney) -> None:
    assert j.checks["write_off"] == "WRITTEN_OFF"
    listed = j.checks["closed_list"]  # among the written-off loans, flagged for the bureau, with no certificate
    assert (listed["status"], listed["bureauFlag"], listed["certificateNo"]) == ("WRITTEN_OFF", "WRITTEN_OFF", None)
    assert "WRITE_OFF" in j.checks["ledger_kinds"] and "WRITE_OFF_RECOVERY" in j.checks["ledger_kinds"]
    # Razorpay sends payment.captured and payment_link.paid for one payment: recorded once, the other a duplicate
    answers = j.checks["webhook_answers"]
    assert answers.count("recorded_as_recovery") == 1 and set(answers) <= {"recorded_as_recovery", "duplicate"}
    recovered = j.checks["recovered_paise"]
    assert recovered and recovered > 0
    assert j.checks["recovery"] == {"COLLECTION_BANK": recovered, "BAD_DEBTS_RECOVERED_INCOME": -recovered}
    assert j.credit_balance == 0  # a recovery, not money owed back
    # nothing lost: the ledger had balanced before the payment, and the payment is all of the new postings
    assert j.checks["ledger_before_recovery"]["sum_paise"] == 0
    assert j.ledger_entries == j.checks["ledger_before_recovery"]["entries"] + 2


def _check_reloan(j: CollectionsJourney) -> None:
    assert j.closed_as == "REPAID" and j.checks["first_loan_status"] == "COMPLETED"
    assert j.checks["noc"]["pdf"]
    offer, new = j.checks["offer"], j.checks["reloan"]
    assert offer["amount_paise"] > 0
    results = new["kyc_results"]
    assert results and set(results.values()) == {"REUSED"}, new  # every step still valid: none run again
    assert new["kyc_asked"] == [], new  # the borrower was asked for nothing (no Aadhaar OTP, no statement)
    assert new["status"] not in ("APPLIED", "REJECTED"), new  # straight to the credit decision
    assert new["kyc_sources"] == [j.loan_id]  # each reused from the loan just closed
    assert set(new["kyc_seen_by_borrower"].values()) <= {"REUSED"}, new  # the app showed them reused, nothing run


ENDS = {
    "overdue-then-paid": ("COMPLETED", _check_overdue_then_paid),
    "settlement": ("SETTLED", _check_settlement),
    "write-off-then-recovery": ("WRITTEN_OFF", _check_write_off),
    "reloan": ("COMPLETED", _check_reloan),
}


# Scenarios expected to fail, with the product bug that stops each (none today).
XFAIL: dict[str, str] = {}


@pytest.fixture
def demo_brand(db, sandbox) -> dict:  # noqa: ANN001
    """A brand as `los up` seeds the demo one: the full KYC pipeline (so a reloan has steps to reuse), DEMO-FAST
    periods of 5 seconds, one staff user per role."""
    from los.seed import FULL_KYC, seed_brand

    code = f"c{uuid.uuid4().hex[:8]}"
    return seed_brand(db, sandbox.url, code=code, name=f"Collections {code}", period_seconds=5, kyc_steps=FULL_KYC)


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=XFAIL[n])) if n in XFAIL else n for n in COLLECTIONS],
)
async def test_collections_journey(name: str, app, demo_brand, sandbox, db, storage_dir) -> None:  # noqa: ANN001
    timeout = 40 if name in XFAIL else 90  # an expected failure waits no longer than it must
    journey = await run_scenario(app.api.url, sandbox.url, name, demo_brand["brand_code"], timeout=timeout)
    assert isinstance(journey, CollectionsJourney)
    status, check = ENDS[name]
    assert journey.status == status, journey.as_json()
    ledger = journey.as_json()["ledger"]
    assert journey.ledger_entries > 0 and journey.ledger_sum == 0, ledger  # debits = credits, entry by entry
    assert journey.trial_balanced and ledger["balanced"] is True, ledger  # and in the trial balance
    assert journey.receivables == dict.fromkeys(RECEIVABLES, 0), ledger  # the loan ended: nothing left receivable
    check(journey)
    if name == "settlement":
        _letter_states_what_the_ledger_waived(db, journey)
        _nothing_left_due_or_payable(db, journey)
        # the closing step asked again (a retry after a crash past its commit) answers what it posted, not zero: the
        # settled notice's "waived" and a co-lent loan's loss split are read from it
        activities = LoanActivities(db, app.http, LocalStorage(storage_dir), None, app.settings.api_url)
        sid = journey.checks["settlement"]["id"]
        again = await activities.record_closing_postings(ClosingPostings(journey.loan_id, "SETTLEMENT", sid))
        with db.unit_of_work() as s:
            assert sum(again.values()) == settlement_waived(s, journey.loan_id) > 0, again


def _nothing_left_due_or_payable(db, journey: CollectionsJourney) -> None:  # noqa: ANN001
    """A settled loan asks nothing more: every installment reads PAID with what was paid of it (the rest waived, as
    the ledger has it), and no link is left to pay."""
    with db.unit_of_work() as s:
        rows = s.scalars(select(RepaymentInstallment).where(RepaymentInstallment.loan_id == journey.loan_id)).all()
        assert rows and {r.status for r in rows} == {"PAID"}
        for r in rows:
            assert (r.principal, r.interest, r.fees, r.penal) == (
                r.principal_paid,
                r.interest_paid,
                r.fees_paid,
                r.penal_paid,
            ), r.installment_no
            assert r.total == r.principal + r.interest + r.fees
        offered = s.scalars(
            select(PaymentLink.link_id).where(
                PaymentLink.loan_id == journey.loan_id, PaymentLink.status.in_(("ACTIVE", "HELD"))
            )
        ).all()
        assert offered == []


def _letter_states_what_the_ledger_waived(db, journey: CollectionsJourney) -> None:  # noqa: ANN001
    """The settlement letter's "amount waived" is what the closing postings cleared (interest and penal charges
    accrued after the approval included), never less: the agreed waiver is only what was owed on approval day."""
    with db.unit_of_work() as s:
        cert = s.scalars(
            select(ClosureCertificate)
            .where(ClosureCertificate.loan_id == journey.loan_id)
            .order_by(ClosureCertificate.version.desc())
        ).first()
        assert cert is not None and cert.kind == "SETTLED"
        cleared = settlement_waived(s, journey.loan_id)
        agreed = sum(journey.checks["settlement"]["waiver_paise"].values())
        assert cleared >= agreed > 0, (cleared, agreed)
        assert certificate_context(s, cert, datetime.now(UTC).date())["waived_inr"] == format_inr(cleared)


async def test_without_an_active_collection_executive_the_demo_creates_one(app, demo_brand, sandbox) -> None:  # noqa: ANN001
    """The brand's admin deactivates the seeded collection executive (staff-users API): the scenario's admin creates
    another through the same API, and the loan is allocated to, and worked by, that new person."""
    from los.demo import Driver

    seeded = next(u for u in demo_brand["staff"] if u["role"] == "COLLECTION_EXECUTIVE")
    admin = Driver(app.api.url, sandbox.url, demo_brand["brand_code"])
    try:
        await admin.partner("ADMIN", "PUT", f"/user/{seeded['id']}/update", json={"isActive": False})
    finally:
        await admin.close()
    journey = await run_scenario(app.api.url, sandbox.url, "overdue-then-paid", demo_brand["brand_code"], timeout=90)
    assert isinstance(journey, CollectionsJourney)
    assert journey.status == "COMPLETED", journey.as_json()
    assert journey.checks["collector"] != seeded["id"]
    assert journey.checks["collector_email"] == f"collections.demo@{demo_brand['brand_code']}.example"
    _check_overdue_then_paid(journey)
