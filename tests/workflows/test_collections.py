"""Collections, driven through the real LoanWorkflow with stub activities in virtual time: a 12-month loan that
stops paying goes SMA-0, SMA-1, SMA-2 and NPA on RBI's dates, is reallocated at each bucket change and is settled;
an NPA is upgraded only once every arrear is paid; waiver, write-off and restructure with their refusals."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

import pytest_asyncio
from temporalio import activity
from temporalio.worker import Replayer

from tests.workflows.stubs import (
    BRAND_ID,
    LOAN_EXECUTIVE,
    LoanRun,
    Staff,
    StubActivities,
    loan_input,
    patch_markers,
    policy,
    record_if_asked,
    running_loan,
    terms,
    to_agreement_signed,
)
from workflows.contracts import (
    ClosingPostings,
    PaymentEvent,
    RestructureProposal,
    ServicingAction,
    SettlementProposal,
    WaiverRequest,
)
from workflows.loan import LoanWorkflow
from workflows.options import IST, WRITE_OFF_RECOVERY_PATCH

COLLECTOR = Staff("cx-1", "COLLECTION_EXECUTIVE")
MANAGER = Staff("cm-1", "COLLECTION_MANAGER")
HEAD = Staff("ch-1", "COLLECTION_HEAD")
HEAD_2 = Staff("ch-2", "COLLECTION_HEAD")


@pytest_asyncio.fixture  # one test server per test: each moves virtual time its own way
async def env(fresh_env):  # noqa: ANN001, ANN201
    return fresh_env


def action(staff: Staff, **kw: object) -> ServicingAction:
    return ServicingAction(staff.staff_id, staff.email, staff.role, kw.pop("brand_id", BRAND_ID), **kw)  # type: ignore[arg-type]


async def _disbursed(run: LoanRun) -> None:
    await to_agreement_signed(run)
    await run.update("approve_disbursal", LOAN_EXECUTIVE.act())
    await run.settle("TR-1", "SUCCESS", "UTR0009")
    await run.stubs.wait_calls("ensure_payment_link", 1)


async def _overdue(run: LoanRun, days: int) -> date:
    """Disbursed, then past the day-end ``days`` days after the first due date (OVERDUE by then); that due date."""
    await _disbursed(run)
    due = run.stubs.of("record_disbursal")[0].installments[0].due_date
    assert due is not None
    await run.sleep_until(_day_end(due + timedelta(days=days)))
    await run.until_status("OVERDUE")
    return due


def _day_end(day: date) -> datetime:
    """The moment the day-end of ``day`` has run: 00:00 IST of the next day (plus a minute)."""
    return datetime.combine(day + timedelta(days=1), time(0, 1), IST)


def _window_open(day: date) -> datetime:
    """08:31 IST after the day-end of ``day``: RBI's contact hours have opened and every loan's held notices (each
    at its own time from 08:00 to 08:30) have gone."""
    return datetime.combine(day + timedelta(days=1), time(8, 31), IST)


def _offers(stubs: StubActivities) -> list:
    return [n for n in stubs.of("send_notice") if n.event == "SETTLEMENT_OFFER"]


def _classes(stubs: StubActivities) -> list[tuple[str, date | None]]:
    """(asset class, as-of date) at each change of class the workflow recorded."""
    return [(r.asset_class, r.as_of) for r in stubs.of("record_delinquency") if r.class_changed]


def _buckets(stubs: StubActivities) -> list[str | None]:
    """The bucket of each review, with repeats dropped: the allocations the loan went through."""
    out: list[str | None] = []
    for review in stubs.of("review_collection"):
        if not out or out[-1] != review.bucket:
            out.append(review.bucket)
    return out


async def test_twelve_month_loan_slips_on_rbi_dates_is_reallocated_per_bucket_and_settled(env) -> None:  # noqa: ANN001
    """A 12-month loan unpaid from its first installment: SMA-0 at the due date's day-end, SMA-1 at +30, SMA-2 at
    +60, NPA at +90 (RBI IRACP), the collection bucket (and so the allocation) changing at DPD 1, 31, 61 and 91.
    A settlement proposed by a manager cannot be approved by the same person, by an executive, or above the head's
    limit; a second head approves; the borrower pays the amount by its link before the deadline → SETTLED, the rest
    waived, the settlement certificate issued."""
    stubs = StubActivities()
    inp = loan_input(terms(amount=1_20_000_00, tenure=12, period_seconds=None), policy())
    async with running_loan(env, stubs, inp) as run:
        await _disbursed(run)
        first = stubs.of("record_disbursal")[0].installments[0]
        due = first.due_date
        assert due is not None
        await run.sleep_until(_day_end(due + timedelta(days=90)))
        await stubs.wait_for(lambda: ("NPA", due + timedelta(days=90)) in _classes(stubs), "NPA")
        assert _classes(stubs) == [
            ("SMA-0", due),
            ("SMA-1", due + timedelta(days=30)),
            ("SMA-2", due + timedelta(days=60)),
            ("NPA", due + timedelta(days=90)),
        ]
        assert _buckets(stubs) == ["1-30", "31-60", "61-90", "90+"]
        reviews = stubs.of("review_collection")
        assert [r.dpd for r in reviews][:3] == [1, 2, 3] and reviews[-1].dpd == 91
        assert all(r.overdue > 0 for r in reviews)

        proposal = SettlementProposal(MANAGER.staff_id, MANAGER.email, MANAGER.role, BRAND_ID, 0, "job loss")
        bad = await run.refused("propose_settlement", proposal)
        assert (bad.type, bad.field, bad.message) == ("ValidationError", "amount", "must be more than 0")
        exec_try = SettlementProposal(COLLECTOR.staff_id, COLLECTOR.email, COLLECTOR.role, BRAND_ID, 50_000_00, "x")
        assert (await run.refused("propose_settlement", exec_try)).type == "PermissionDenied"
        proposal.amount = 60_000_00
        sid = await run.update("propose_settlement", proposal)
        (proposed,) = [d for d in stubs.of("record_servicing_decision") if d.status == "PROPOSED"]
        assert proposed.payload["id"] == sid and proposed.payload["amount"] == 60_000_00
        waiver = proposed.payload["waiver"]
        assert sum(waiver.values()) == proposed.payload["outstanding"] - 60_000_00
        assert waiver["penal"] == 0 or waiver["interest"] == 0 or waiver["principal"] == 0  # filled in order
        again = await run.refused("propose_settlement", proposal)
        assert again.type == "Conflict"

        same = await run.refused("approve_settlement", action(MANAGER))
        assert same.type == "PermissionDenied"  # a manager may not approve
        head_as_proposer = await run.refused("approve_settlement", action(HEAD, limit=1_00))
        assert head_as_proposer.type == "PermissionDenied" and "limit" in head_as_proposer.message
        other_brand = await run.refused("approve_settlement", action(HEAD, brand_id="other-brand"))
        assert other_brand.type == "NotFound"
        assert [d.status for d in stubs.of("record_servicing_decision")] == ["PROPOSED"]  # refusals wrote nothing

        assert await run.update("approve_settlement", action(HEAD, settlement_days=10)) == "APPROVED"
        (link,) = await stubs.wait_calls("settlement_link", 1)
        assert link.amount == 60_000_00
        # approved at 00:01 IST: the offer waits for RBI's contact hours (overdue-notice-contact-hours-v1)
        assert not [n for n in stubs.of("send_notice") if n.event == "SETTLEMENT_OFFER"]
        await run.sleep_until(_window_open(due + timedelta(days=90)))
        await stubs.wait_for(lambda: _offers(stubs), "the settlement offer at 08:00-08:30 IST")
        offer = _offers(stubs)
        assert len(offer) == 1 and offer[0].values["paymentLink"] == "settle_6000000"
        write_off = await run.refused("write_off", action(HEAD, reason="x", write_off_dpd=30))
        assert write_off.type == "Conflict" and "settlement" in write_off.message

        await run.signal("payment_received", PaymentEvent("pay_settle", 60_000_00, link_id=None, purpose="SETTLEMENT"))
        result = await run.result()
        assert result.status == "SETTLED"
        assert stubs.moves()[-1] == ("OVERDUE", "SETTLED")
        (postings,) = stubs.of("record_closing_postings")
        assert postings.kind == "SETTLEMENT" and postings.reference == sid
        assert [d.status for d in stubs.of("record_servicing_decision")] == ["PROPOSED", "APPROVED", "PAID"]
        (cert,) = stubs.of("issue_closure_certificate")
        assert cert.kind == "SETTLED"
        (closure,) = stubs.of("record_closure")
        assert closure.closed_as == "SETTLED"
        paid = stubs.of("record_payment")[-1]
        parts = paid.parts
        assert sum(p.principal + p.interest + p.fees + p.penal for p in parts) == 60_000_00
        assert sum(p.penal for p in parts) == 0  # the settlement's money pays principal first
        assert stubs.of("offer_reloan") == []  # no reloan after a settlement


async def test_settlement_unpaid_by_its_deadline_lapses_and_collection_goes_on(env) -> None:  # noqa: ANN001
    """Unpaid, the settlement lapses at the end of the grace after its deadline day (a payment made by the deadline
    may be reported late); an approval on figures the borrower's payments have overtaken is refused."""
    stubs = StubActivities()
    inp = loan_input(terms(amount=60_000_00, tenure=3, period_seconds=None), policy())
    async with running_loan(env, stubs, inp) as run:
        await _disbursed(run)
        first = stubs.of("record_disbursal")[0].installments[0]
        due = first.due_date
        assert due is not None
        await run.sleep_until(_day_end(due + timedelta(days=5)))
        await run.until_status("OVERDUE")
        far = SettlementProposal(
            MANAGER.staff_id, MANAGER.email, MANAGER.role, BRAND_ID, 30_000_00, "x", deadline=due + timedelta(days=400)
        )
        assert (await run.refused("propose_settlement", far)).type == "ValidationError"
        await run.update("propose_settlement", SettlementProposal(
            MANAGER.staff_id, MANAGER.email, MANAGER.role, BRAND_ID, 30_000_00, "hardship",
            deadline=due + timedelta(days=8),
        ))  # fmt: skip
        await run.update("approve_settlement", action(HEAD))
        await run.sleep_until(_day_end(due + timedelta(days=9)))  # the deadline day is over; the grace is not
        assert not any(d.status == "LAPSED" for d in stubs.of("record_servicing_decision"))
        await run.sleep_until(_day_end(due + timedelta(days=11)))
        await stubs.wait_for(
            lambda: any(d.status == "LAPSED" for d in stubs.of("record_servicing_decision")), "the settlement lapses"
        )
        # collection goes on: a new proposal; the borrower then pays the whole of it before it is approved
        await run.update("propose_settlement", SettlementProposal(
            MANAGER.staff_id, MANAGER.email, MANAGER.role, BRAND_ID, 20_000_00, "second offer"
        ))  # fmt: skip
        await run.pay("pay_big", 45_000_00)
        await stubs.wait_calls("record_payment", 1)
        stale = await run.refused("approve_settlement", action(HEAD))
        assert stale.type == "Conflict" and "paid since the proposal" in stale.message
        assert (await run.snapshot())["status"] in ("OVERDUE", "DISBURSED")


async def test_a_settlement_approval_whose_link_fails_changes_nothing_and_can_be_given_again(env) -> None:  # noqa: ANN001
    """Every gateway is down when the settlement is approved: the link is made before anything is recorded, so the
    approval is refused as Unavailable (the API's 503) with nothing changed: no APPROVED decision, no offer sent, the
    proposal still awaiting its decision; every gateway refusing the link is a Conflict (409) with their reason, also
    with nothing changed. Approved again once the gateways give the link, it is recorded once, with its link in the
    offer. Before settlement-link-first-v1 the first approval was recorded without a link or offer, and
    the second was refused ("no settlement proposal awaits a decision"): the offer lapsed unseen."""
    stubs = StubActivities(settlement_links_down=1, settlement_links_refused=1)
    inp = loan_input(terms(amount=60_000_00, tenure=3, period_seconds=None), policy())
    async with running_loan(env, stubs, inp) as run:
        due = await _overdue(run, 5)
        await run.update("propose_settlement", SettlementProposal(
            MANAGER.staff_id, MANAGER.email, MANAGER.role, BRAND_ID, 30_000_00, "hardship",
        ))  # fmt: skip
        down = await run.refused("approve_settlement", action(HEAD))
        assert down.type == "Unavailable" and "nothing was approved" in down.message
        assert [d.status for d in stubs.of("record_servicing_decision")] == ["PROPOSED"]
        # every gateway refuses the link itself: a 409 with their reason, not "try again once they are back"
        refused = await run.refused("approve_settlement", action(HEAD))
        assert refused.type == "Conflict" and "amount exceeds the maximum allowed" in refused.message
        assert [d.status for d in stubs.of("record_servicing_decision")] == ["PROPOSED"]
        assert not [n for n in stubs.of("send_notice") if n.event == "SETTLEMENT_OFFER"]
        assert await run.update("approve_settlement", action(HEAD)) == "APPROVED"
        assert [d.status for d in stubs.of("record_servicing_decision")] == ["PROPOSED", "APPROVED"]
        await run.sleep_until(_window_open(due + timedelta(days=5)))  # approved at night: the offer goes after 08:00
        await stubs.wait_for(lambda: _offers(stubs), "the settlement offer")
        (offer,) = _offers(stubs)
        assert offer.values["paymentLink"] == "settle_3000000"
        assert len(stubs.of("settlement_link")) == 3  # the same settlement's link, asked again
        history = await run.handle.fetch_history()
        assert "settlement-link-first-v1" in patch_markers(history)
        replayer = Replayer(workflows=[LoanWorkflow], data_converter=env.client.data_converter)
        replayed = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        assert replayed.replay_failure is None, replayed.replay_failure
        await record_if_asked(env, run, "settlement_link_first")


async def test_a_payment_dated_by_the_deadline_and_reported_late_still_settles(env) -> None:  # noqa: ANN001
    """An offline payment made on the deadline and approved the next day (inside the grace) settles the loan: the
    settlement is PAID, not LAPSED."""
    stubs = StubActivities()
    inp = loan_input(terms(amount=60_000_00, tenure=3, period_seconds=None), policy())
    async with running_loan(env, stubs, inp) as run:
        due = await _overdue(run, days=3)
        deadline = due + timedelta(days=6)
        await run.update("propose_settlement", SettlementProposal(
            MANAGER.staff_id, MANAGER.email, MANAGER.role, BRAND_ID, 30_000_00, "hardship", deadline=deadline
        ))  # fmt: skip
        await run.update("approve_settlement", action(HEAD))
        await run.sleep_until(_day_end(deadline + timedelta(days=1)))  # reported the day after the deadline
        late = PaymentEvent("offline-1", 30_000_00, gateway="offline", paid_on=deadline, mode="NEFT")
        await run.signal("payment_received", late)
        result = await run.result()
        assert result.status == "SETTLED"
        assert [d.status for d in stubs.of("record_servicing_decision")] == ["PROPOSED", "APPROVED", "PAID"]


async def _settlement_approved(run: LoanRun, amount: int) -> date:
    """Three days overdue, a settlement of ``amount`` paise proposed by a manager and approved by a head (at 00:01
    IST); the first installment's due date."""
    due = await _overdue(run, days=3)
    await run.update("propose_settlement", SettlementProposal(
        MANAGER.staff_id, MANAGER.email, MANAGER.role, BRAND_ID, amount, "hardship"
    ))  # fmt: skip
    await run.update("approve_settlement", action(HEAD))
    return due


async def test_money_covering_everything_owed_under_a_settlement_closes_the_loan_paid_not_settled(env) -> None:  # noqa: ANN001
    """A settlement of ₹30,000 is approved on a ₹60,000 loan. The borrower pays more than everything owed (an
    overdue link paid late, then the settlement's own): nothing is waived, so the loan is paid, not SETTLED: no
    closing postings, no SETTLED certificate or bureau flag, the settlement PAID_IN_FULL, and only the money beyond
    everything owed kept as credit balance (OVERPAID until refunded, then COMPLETED). settlement-applies-all-v1;
    before it, the loan closed SETTLED and the money beyond the settlement amount was credit to refund."""
    stubs = StubActivities()
    inp = loan_input(terms(amount=60_000_00, tenure=3, period_seconds=None), policy())
    async with running_loan(env, stubs, inp) as run:
        await _settlement_approved(run, 30_000_00)
        await run.signal("payment_received", PaymentEvent("pay_all", 70_000_00, link_id=None, purpose="SETTLEMENT"))
        await run.until_status("OVERPAID")  # everything paid; the money beyond it waits to be refunded, then COMPLETED
        assert stubs.moves()[-1] == ("OVERDUE", "OVERPAID")  # never SETTLED
        assert stubs.of("record_closing_postings") == []  # nothing waived, nothing written off
        assert [d.status for d in stubs.of("record_servicing_decision")][-1] == "PAID_IN_FULL"
        assert not any(c.kind == "SETTLED" for c in stubs.of("issue_closure_certificate"))
        paid = stubs.of("record_payment")[-1]
        applied = sum(p.principal + p.interest + p.fees + p.penal for p in paid.parts)
        assert applied + paid.excess == 70_000_00 and 0 < paid.excess < 10_000_00
        assert "settlement-applies-all-v1" in patch_markers(await run.handle.fetch_history())
        await record_if_asked(env, run, "settlement_applies_all")


async def test_money_beyond_a_settlement_pays_dues_before_anything_is_waived(env) -> None:  # noqa: ANN001
    """₹40,000 paid on a ₹30,000 settlement, short of everything owed: applied whole, only what it leaves waived (before
    settlement-applies-all-v1 the ₹10,000 was credit to refund while the dues it could pay were waived)."""
    stubs = StubActivities()
    inp = loan_input(terms(amount=60_000_00, tenure=3, period_seconds=None), policy())
    async with running_loan(env, stubs, inp) as run:
        await _settlement_approved(run, 30_000_00)
        await run.signal("payment_received", PaymentEvent("pay_more", 40_000_00, link_id=None, purpose="SETTLEMENT"))
        result = await run.result()
        assert result.status == "SETTLED"
        paid = stubs.of("record_payment")[-1]
        assert sum(p.principal + p.interest + p.fees + p.penal for p in paid.parts) == 40_000_00
        assert paid.excess == 0  # all of it paid dues; only what it left was waived
        assert [d.status for d in stubs.of("record_servicing_decision")][-1] == "PAID"


async def test_a_settlement_part_paid_another_way_gets_a_link_for_what_is_still_to_pay(env) -> None:  # noqa: ANN001
    """A ₹30,000 settlement is approved (its link for ₹30,000 sent); the borrower then pays ₹10,000 through an old
    overdue link. The settlement's link is made again for the ₹20,000 still to pay (version 1, superseding the first)
    and sent (SETTLEMENT_OFFER for ₹20,000; all this at night, so the offers wait for 08:00 IST and the first, for a
    superseded link, is not sent); paying it settles the loan, ₹30,000 in all, as agreed. Before
    settlement-link-follows-payments-v1 the link kept asking ₹30,000: paid, the borrower gave ₹40,000."""
    stubs = StubActivities()
    inp = loan_input(terms(amount=60_000_00, tenure=3, period_seconds=None), policy())
    async with running_loan(env, stubs, inp) as run:
        due = await _settlement_approved(run, 30_000_00)
        (first,) = await stubs.wait_calls("settlement_link", 1)
        assert (first.amount, first.version) == (30_000_00, 0)
        await run.signal("payment_received", PaymentEvent("old_link", 10_000_00, purpose="INSTALLMENT"))
        first, again = await stubs.wait_calls("settlement_link", 2)
        assert (again.settlement_id, again.amount, again.version) == (first.settlement_id, 20_000_00, 1)
        # all at night: the offers wait for 08:00, and only the current one goes (the first's link is superseded)
        await run.sleep_until(_window_open(due + timedelta(days=3)))
        await stubs.wait_for(lambda: _offers(stubs), "the offer")
        (offer,) = _offers(stubs)
        assert (offer.values["amount"], offer.values["paymentLink"]) == (20_000_00, "settle_2000000")
        await run.signal("payment_received", PaymentEvent("settle", 20_000_00, purpose="SETTLEMENT"))
        result = await run.result()
        assert (result.status, result.total_collected) == ("SETTLED", 30_000_00)
        assert len(stubs.of("settlement_link")) == 2  # not remade again once paid
        assert [d.status for d in stubs.of("record_servicing_decision")][-1] == "PAID"
        assert "settlement-link-follows-payments-v1" in patch_markers(await run.handle.fetch_history())
        await record_if_asked(env, run, "settlement_link_follows")


async def test_a_settlement_whose_deadline_passes_before_the_morning_is_not_approved_at_night(env) -> None:  # noqa: ANN001
    """At 20:00 IST an approval's offer can reach the borrower only from 08:00 the next day (RBI's contact hours): a
    proposal whose deadline is today is refused (Conflict naming deadline) with nothing recorded; proposed again with
    tomorrow's deadline, it is approved, and its offer goes in the morning."""
    stubs = StubActivities()
    inp = loan_input(terms(amount=60_000_00, tenure=3, period_seconds=None), policy())
    async with running_loan(env, stubs, inp) as run:
        due = await _overdue(run, days=3)
        today = due + timedelta(days=4)  # the day-end of due + 3 ran at 00:00 IST of this day
        await run.sleep_until(datetime.combine(today, time(20, 0), IST))
        proposal = SettlementProposal(
            MANAGER.staff_id, MANAGER.email, MANAGER.role, BRAND_ID, 30_000_00, "hardship", deadline=today
        )
        await run.update("propose_settlement", proposal)
        late = await run.refused("approve_settlement", action(HEAD))
        assert (late.type, late.field) == ("Conflict", "deadline") and "after its deadline" in late.message, late
        assert [d.status for d in stubs.of("record_servicing_decision")] == ["PROPOSED"]
        assert await run.update("reject_settlement", action(HEAD, reason="deadline too close")) == "REJECTED"
        await run.update("propose_settlement", replace(proposal, deadline=today + timedelta(days=1)))
        assert await run.update("approve_settlement", action(HEAD)) == "APPROVED"
        assert not _offers(stubs)
        await run.sleep_until(_window_open(today))
        await stubs.wait_for(lambda: _offers(stubs), "the offer in the morning")


async def test_npa_is_upgraded_only_once_every_arrear_is_paid(env) -> None:  # noqa: ANN001
    """NPA at the first installment's +90; paying that installment (the next one is still overdue) keeps it NPA
    whatever the DPD; paying every arrear upgrades it (RBI IRACP: upgrade only when the entire arrears are paid)."""
    stubs = StubActivities()
    inp = loan_input(terms(amount=60_000_00, tenure=6, period_seconds=None), policy())
    async with running_loan(env, stubs, inp) as run:
        await _disbursed(run)
        rows = stubs.of("record_disbursal")[0].installments
        due = rows[0].due_date
        assert due is not None
        await run.sleep_until(_day_end(due + timedelta(days=90)))
        await stubs.wait_for(lambda: _classes(stubs) and _classes(stubs)[-1][0] == "NPA", "NPA")
        emi = rows[0].principal + rows[0].interest
        await run.pay("pay_1", 2 * emi)  # the oldest installment cleared; the later ones still overdue
        await stubs.wait_calls("record_payment", 1)
        await run.sleep_until(_day_end(due + timedelta(days=92)))
        await stubs.wait_for(lambda: len(stubs.of("record_delinquency")) > 0, "day-ends")
        assert _classes(stubs)[-1][0] == "NPA"  # DPD fell below 91, but arrears remain: still NPA
        snapshot = [r for r in stubs.of("record_delinquency")][-1]
        assert snapshot.dpd < 91 and snapshot.asset_class == "NPA"
        await run.pay("pay_2", 10 * emi)  # every arrear and more (an advance)
        await stubs.wait_calls("record_payment", 2)
        await stubs.wait_for(lambda: _classes(stubs)[-1][0] == "STANDARD", "the upgrade")
        await stubs.wait_for(lambda: _buckets(stubs)[-1] is None, "the allocation ends (current again)")


async def test_waiver_within_limit_write_off_after_threshold_and_refusals(env) -> None:  # noqa: ANN001
    stubs = StubActivities()
    loan_policy = policy(penal={"basis": "FLAT_PER_OCCURRENCE", "flat": 500_00})
    inp = loan_input(terms(amount=60_000_00, tenure=3, period_seconds=None), loan_policy)
    async with running_loan(env, stubs, inp) as run:
        await _overdue(run, days=3)
        levied = sum(levy.amount for levy in stubs.of("levy_penal"))
        assert levied > 0
        too_much = WaiverRequest(MANAGER.staff_id, MANAGER.email, MANAGER.role, BRAND_ID, levied + 1, "goodwill")
        assert (await run.refused("waive_penal", too_much)).type == "ValidationError"
        over_limit = WaiverRequest(MANAGER.staff_id, MANAGER.email, MANAGER.role, BRAND_ID, levied, "goodwill", limit=1)
        refusal = await run.refused("waive_penal", over_limit)
        assert refusal.type == "PermissionDenied" and "limit" in refusal.message
        by_exec = WaiverRequest(COLLECTOR.staff_id, COLLECTOR.email, COLLECTOR.role, BRAND_ID, levied, "goodwill")
        assert (await run.refused("waive_penal", by_exec)).type == "PermissionDenied"
        links_before = len(stubs.of("ensure_payment_link"))
        await run.update("waive_penal", WaiverRequest(
            MANAGER.staff_id, MANAGER.email, MANAGER.role, BRAND_ID, levied, "goodwill"
        ))  # fmt: skip
        (waived,) = [d for d in stubs.of("record_servicing_decision") if d.kind == "WAIVER"]
        assert waived.payload["amount"] == levied
        await stubs.wait_for(lambda: len(stubs.of("ensure_payment_link")) > links_before, "a new link")
        first = stubs.of("record_disbursal")[0].installments[0]
        assert stubs.of("ensure_payment_link")[-1].amount == first.principal + first.interest  # penal gone

        early = await run.refused("write_off", action(HEAD, reason="unreachable", write_off_dpd=30))
        assert early.type == "Conflict" and "30" in early.message
        by_manager = await run.refused("write_off", action(MANAGER, reason="unreachable", write_off_dpd=1))
        assert by_manager.type == "PermissionDenied"
        no_reason = await run.refused("write_off", action(HEAD, write_off_dpd=1))
        assert no_reason.type == "ValidationError"
        assert await run.update("write_off", action(HEAD, reason="unreachable", write_off_dpd=3)) == "WRITTEN_OFF"
        result = await run.result()
        assert result.status == "WRITTEN_OFF" and stubs.moves()[-1] == ("OVERDUE", "WRITTEN_OFF")
        (postings,) = stubs.of("record_closing_postings")
        assert postings.kind == "WRITE_OFF"
        assert stubs.of("record_closure")[-1].closed_as == "WRITTEN_OFF"


@dataclass
class HeldWriteOff(StubActivities):
    """The stubs, with the write-off's postings (an activity task) held until ``release`` is set."""

    release: asyncio.Event = field(default_factory=asyncio.Event)

    @activity.defn(name="record_closing_postings")
    async def record_closing_postings(self, req: ClosingPostings) -> dict:
        self._record("record_closing_postings", req)
        await self.release.wait()
        return {"principal": 60_000_00, "interest": 0, "fees": 0, "penal": 0}


async def test_a_payment_arriving_while_the_write_off_is_recorded_is_a_recovery(env) -> None:  # noqa: ANN001
    """A payment that reaches the loan while its write-off is being recorded (the receivables zeroed, WRITTEN_OFF not
    yet recorded, so the webhook signals the loan) is booked as a recovery: ``record_credit_balance``, which books
    recovery income once the loan reads WRITTEN_OFF. Before WRITE_OFF_RECOVERY_PATCH it was allocated to the
    installments the write-off had taken off the books (``record_payment``)."""
    stubs = HeldWriteOff()
    inp = loan_input(terms(amount=60_000_00, tenure=3, period_seconds=None), policy())
    async with running_loan(env, stubs, inp) as run:
        await _overdue(run, days=3)
        write_off = asyncio.create_task(run.update("write_off", action(HEAD, reason="absconded", write_off_dpd=3)))
        await stubs.wait_calls("record_closing_postings", 1)
        await run.pay("pay-late", 7_000_00)
        await run.snapshot()  # a query: answered once the workflow has taken the signal
        stubs.release.set()
        assert await write_off == "WRITTEN_OFF"
        result = await run.result()
        assert result.status == "WRITTEN_OFF" and stubs.moves()[-1] == ("OVERDUE", "WRITTEN_OFF")
        (late,) = stubs.of("record_credit_balance")
        assert late.payment.payment_id == "pay-late" and late.payment.amount == 7_000_00
        # recorded once the loan reads WRITTEN_OFF: what makes the database book it as recovery income
        names = [c.name for c in stubs.calls]
        written_off = [
            i for i, c in enumerate(stubs.calls) if c.name == "record_status" and c.arg.to_status == "WRITTEN_OFF"
        ]
        assert written_off and written_off[0] < names.index("record_credit_balance")
        assert "pay-late" not in [r.payment.payment_id for r in stubs.of("record_payment")]
        assert result.total_collected == 7_000_00
        history = (await run._histories())[-1]
        assert WRITE_OFF_RECOVERY_PATCH in patch_markers(history)
        replayer = Replayer(workflows=[LoanWorkflow], data_converter=env.client.data_converter)
        replayed = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        assert replayed.replay_failure is None, replayed.replay_failure


async def test_an_overdue_notice_held_for_the_morning_is_dropped_when_a_restructure_replaces_the_schedule(env) -> None:  # noqa: ANN001,E501
    """Installment 1 falls overdue at the 00:00 IST day-end; its OVERDUE notice waits for 08:00. Before then a
    restructure is approved: the new schedule's installment 1 is not due, so at 08:00 no OVERDUE notice goes (the held
    one was about the replaced schedule), and the new installment's own day-1 notice is still to come."""
    stubs = StubActivities()
    inp = loan_input(terms(amount=60_000_00, tenure=3, period_seconds=None), policy())
    async with running_loan(env, stubs, inp) as run:
        due = await _overdue(run, days=0)
        await run.update("propose_restructure", RestructureProposal(
            MANAGER.staff_id, MANAGER.email, MANAGER.role, BRAND_ID, "salary cut", installments=6,
        ))  # fmt: skip
        await run.update("approve_restructure", action(HEAD_2))
        await run.until_status("DISBURSED")
        await run.sleep_until(_window_open(due))
        await stubs.wait_for(lambda: "RESTRUCTURED" in [n.event for n in stubs.of("send_notice")], "the new plan")
        assert "OVERDUE" not in [n.event for n in stubs.of("send_notice")]
        keys = {n.key for n in stubs.of("send_notice")}
        assert not any(k.endswith(":overdue:1:1") for k in keys), keys  # the new installment 1's key is still free


async def test_restructure_by_two_people_rolls_the_arrears_and_is_npa(env) -> None:  # noqa: ANN001
    stubs = StubActivities()
    loan_policy = policy(penal={"basis": "FLAT_PER_OCCURRENCE", "flat": 500_00})
    inp = loan_input(terms(amount=60_000_00, tenure=3, period_seconds=None), loan_policy)
    async with running_loan(env, stubs, inp) as run:
        await _disbursed(run)
        due = stubs.of("record_disbursal")[0].installments[0].due_date
        assert due is not None
        await run.sleep_until(_day_end(due + timedelta(days=10)))
        await run.until_status("OVERDUE")
        both = RestructureProposal(MANAGER.staff_id, MANAGER.email, MANAGER.role, BRAND_ID, "salary cut", 6, 10_000_00)
        assert (await run.refused("propose_restructure", both)).type == "ValidationError"
        rid = await run.update("propose_restructure", RestructureProposal(
            MANAGER.staff_id, MANAGER.email, MANAGER.role, BRAND_ID, "salary cut", installments=6,
        ))  # fmt: skip
        assert (await run.refused("approve_restructure", action(MANAGER))).type == "PermissionDenied"
        await run.update("approve_restructure", action(HEAD_2))
        approved = [d for d in stubs.of("record_servicing_decision") if d.status == "APPROVED"]
        assert approved and approved[0].payload["id"] == rid
        assert len(approved[0].payload["rescheduled"]) == 6
        await run.until_status("DISBURSED")  # the arrears moved onto the new schedule
        assert stubs.moves()[-1] == ("OVERDUE", "DISBURSED")
        classes = [r.asset_class for r in stubs.of("record_delinquency")]
        assert classes[-1] == "NPA"  # RBI 2019: restructured, so NPA for the specified period
        # the interest accrued on the missed installment went with it: paying the new first one clears that
        # receivable (never booked as income twice)
        accrued = sum(a for rec in stubs.of("accrue_interest") for n, a in rec.amounts if n == 1)
        assert accrued > 0
        new_first = approved[0].payload["rescheduled"][0]
        owed = new_first["principal"] + new_first["interest"] + new_first["fees"] + new_first["penal"]
        await run.pay("pay_first", owed)
        (paid,) = await stubs.wait_calls("record_payment", 1)
        assert paid.accrued_interest == accrued
        # the new first installment falls due unpaid: its flat penal charge has a key of its own schedule
        due_new = date.fromisoformat(new_first["dueDate"])
        await run.sleep_until(_day_end(due_new + timedelta(days=32)))
        await stubs.wait_for(lambda: len(stubs.of("levy_penal")) >= 2, "the new schedule's penal charge")
        keys = [levy.key for levy in stubs.of("levy_penal")]
        assert len(keys) == len(set(keys)) and any(k.startswith("v1:") for k in keys), keys


async def test_history_stays_bounded_however_long_the_loan_is_in_arrears(env) -> None:  # noqa: ANN001
    """A loan unpaid for 200 days continues-as-new whenever its run passes ``MAX_RUN_EVENTS`` events; every run stays
    near that bound, and the count of days past due and the reviews carry on across the runs."""
    from workflows.options import MAX_RUN_EVENTS

    stubs = StubActivities()
    inp = loan_input(terms(amount=1_20_000_00, tenure=12, period_seconds=None), policy())
    async with running_loan(env, stubs, inp) as run:
        await _disbursed(run)
        due = stubs.of("record_disbursal")[0].installments[0].due_date
        assert due is not None
        await run.sleep_until(_day_end(due + timedelta(days=200)))
        await stubs.wait_for(lambda: any(r.dpd == 201 for r in stubs.of("review_collection")), "DPD 201")
        lengths, run_id = [], None
        while True:
            history = await env.client.get_workflow_handle(run.handle.id, run_id=run_id).fetch_history()
            lengths.append(len(history.events))
            run_id = history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id
            if not run_id:
                break
        assert len(lengths) >= 3, lengths  # origination, then at least two servicing runs
        assert max(lengths) < MAX_RUN_EVENTS + 200, lengths
        dpds = [r.dpd for r in stubs.of("review_collection")]
        assert dpds == list(range(1, 202)), "one review per day-end, none lost or repeated across the runs"
        assert _buckets(stubs) == ["1-30", "31-60", "61-90", "90+"]


def test_an_accepted_write_off_is_dropped_when_a_payment_of_the_same_pass_cleared_the_arrears() -> None:
    """The loop checks an accepted write-off again after applying the payments of its pass: arrears paid meanwhile
    drop it with the reason the handler answers (409), instead of writing off a loan that owes nothing overdue."""
    from datetime import UTC

    from domain.status import LoanStatus
    from workflows.contracts import InstallmentState, ServicingState
    from workflows.loan import LoanWorkflow

    now = datetime(2027, 3, 1, tzinfo=UTC)
    past = InstallmentState(1, now - timedelta(days=40), 10_000_00, 1_000_00, due_date=date(2027, 1, 20))
    later = InstallmentState(2, now + timedelta(days=20), 10_000_00, 900_00, due_date=date(2027, 3, 20))
    wf = LoanWorkflow.__new__(LoanWorkflow)
    wf.status = LoanStatus.OVERDUE
    wf.servicing = ServicingState([past, later], now - timedelta(days=70), dpd=40)
    wf.write_off_request, wf.write_off_refusal = action(HEAD, reason="gone", write_off_dpd=30), None
    assert wf._write_off_still_due(now) and wf.write_off_request is not None
    past.principal_paid, past.interest_paid = past.principal, past.interest  # a payment of this pass cleared it
    assert not wf._write_off_still_due(now)
    assert wf.write_off_request is None and "cleared the loan's arrears" in (wf.write_off_refusal or "")
    wf.write_off_request = action(HEAD, reason="gone", write_off_dpd=90)  # arrears, but below the threshold
    past.principal_paid = 0
    assert not wf._write_off_still_due(now) and "90" in (wf.write_off_refusal or "")
