"""Co-lending in the real LoanWorkflow against stub activities, in virtual time: a loan booked with a co-lending
partner is booked as co-lent after disbursal, takes the partner through its lifecycle and, in the servicing run
after continue-as-new, asks once whether it is co-lent and splits every payment; a loan booked with a partner
the brand does not co-lend with splits nothing; a loan not routed runs no co-lending command; a partner refusing a
step stops its lifecycle, never the loan."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity
from temporalio.api.enums.v1 import EventType

from domain.colending import Agreement, Parts, Splitter, principal_split
from tests.workflows.stubs import (
    CLOCK_DEPENDENT_PATCHES,
    LOAN_EXECUTIVE,
    StubActivities,
    loan_input,
    terms,
    to_agreement_signed,
)
from tests.workflows.test_partner_routing import OFFERS, PartnerStubs, routed_loan  # noqa: F401
from workflows.colending import CO_LENDING_PATCH
from workflows.contracts.colending import (
    CoLendBookRequest,
    CoLendPayment,
    CoLendSplit,
    CoLendStepRequest,
    CoLendStepResult,
    CoLentBook,
)
from workflows.contracts.partners import PartnerAnswer, PartnerRoute
from workflows.options import FORECLOSURE_INTEREST_CREDIT_PATCH, KYC_INPUTS_AHEAD_PATCH, KYC_READ_ON_UPLOAD_PATCH
from workflows.patches import PATCH_EPOCH_2

COLENDING = {"colending_book", "colending_of", "colending_partner_step", "colending_split"}
AGREEMENT = Agreement(partner_share_bps=2000, partner_rate_bps=1200)


@dataclass
class CoLendingStubs:
    """The co-lending activities: ``co_lends`` (partner codes the brand co-lends with), ``refuse`` (a step the
    partner refuses), and a real splitter per loan, as the database's running totals would give."""

    stubs: StubActivities
    co_lends: set[str] = field(default_factory=lambda: {"lendbox"})
    refuse: str | None = None
    splitters: dict[str, Splitter] = field(default_factory=dict)

    @activity.defn(name="colending_book")
    async def colending_book(self, req: CoLendBookRequest) -> CoLentBook | None:
        self.stubs._record("colending_book", req)
        if req.partner_code not in self.co_lends:
            return None
        self.splitters.setdefault(req.loan_id, Splitter(AGREEMENT, req.blended_rate_bps))
        mine, theirs = principal_split(AGREEMENT, req.amount)
        return CoLentBook(req.partner_code, AGREEMENT.partner_share_bps, mine, theirs)

    @activity.defn(name="colending_of")
    async def colending_of(self, loan_id: str) -> CoLentBook | None:
        self.stubs._record("colending_of", loan_id)
        if loan_id not in self.splitters:
            return None
        mine, theirs = principal_split(AGREEMENT, 60_000_00)
        return CoLentBook("lendbox", AGREEMENT.partner_share_bps, mine, theirs)

    @activity.defn(name="colending_partner_step")
    async def colending_partner_step(self, req: CoLendStepRequest) -> CoLendStepResult:
        self.stubs._record("colending_partner_step", req)
        if req.step == self.refuse:
            return CoLendStepResult(req.step, "FAILED", reason="lendbox: HTTP 422: schedule does not match")
        return CoLendStepResult(req.step, "DONE", f"LB-{req.step}")

    @activity.defn(name="colending_split")
    async def colending_split(self, req: CoLendPayment) -> CoLendSplit:
        self.stubs._record("colending_split", req)
        split = self.splitters[req.loan_id].split(Parts(req.principal, req.interest, req.fees, req.penal))
        as_dict = lambda p: {c: p.get(c) for c in ("principal", "interest", "fees", "penal")}  # noqa: E731
        return CoLendSplit(as_dict(split.originator), as_dict(split.partner), f"CL-{req.payment_id}")

    def all(self) -> list[Any]:
        return [self.colending_book, self.colending_of, self.colending_partner_step, self.colending_split]


def _partners(stubs: StubActivities, booked: str) -> PartnerStubs:
    offers = [o for o in OFFERS if o.partner_code == booked]
    return PartnerStubs(stubs, [PartnerRoute(offers=offers)], {booked: [PartnerAnswer("ACCEPTED", "LBX-1")]})


class Both(PartnerStubs):
    """The routing stubs with the co-lending stubs on the same worker."""

    colending: CoLendingStubs | None = None

    def all(self) -> list[Any]:
        assert self.colending is not None
        return [*super().all(), *self.colending.all()]


def _both(stubs: StubActivities, booked: str, co: CoLendingStubs) -> Both:
    base = _partners(stubs, booked)
    both = Both(base.stubs, base.rounds, base.answers)
    both.colending = co
    return both


async def _until_booked(run: Any) -> None:
    """Wait until partner routing has booked the loan with a partner (its terms are the KFS's)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if (await run.handle.query("partner_routing"))["state"] == "BOOKED":
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the loan was not booked with a partner")


async def _markers(run: Any) -> list[str]:
    """The patch ids recorded in every run of the loan."""
    out: list[str] = []
    run_id = None
    while True:
        history = await run.env.client.get_workflow_handle(run.handle.id, run_id=run_id).fetch_history()
        for e in history.events:
            if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
                details = e.marker_recorded_event_attributes.details
                if "patch-data" in details:
                    patch_id = json.loads(details["patch-data"].payloads[0].data)["id"]
                    if patch_id not in CLOCK_DEPENDENT_PATCHES:  # asked or not by the hour the test runs at
                        out.append(patch_id)
        run_id = history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id
        if not run_id:
            return out


async def test_a_co_lent_loan_splits_every_payment_to_the_paisa(env) -> None:  # noqa: ANN001, F811
    stubs = StubActivities()
    co = CoLendingStubs(stubs)
    async with routed_loan(env, _both(stubs, "lendbox", co), loan_input(terms(tenure=3))) as run:
        await run.until_status("SANCTIONED")
        await _until_booked(run)  # the KFS is accepted once a partner has booked the loan
        await to_agreement_signed(run)
        await run.update("approve_disbursal", LOAN_EXECUTIVE.act())
        await run.settle("TR-1", "SUCCESS", "UTR0001")
        await stubs.wait_calls("colending_partner_step", 6)
        await stubs.wait_calls("ensure_payment_link", 1)
        for n in range(1, 4):
            await run.pay(f"pay_{n}", stubs.of("ensure_payment_link")[-1].amount)
            await stubs.wait_calls("colending_split", n)
        result = await run.result()
        markers = await _markers(run)

    assert result.status == "COMPLETED"
    (book,) = stubs.of("colending_book")
    disbursed = stubs.of("record_disbursal")[0]
    assert (book.partner_code, book.amount, book.blended_rate_bps) == ("lendbox", 60_000_00, 1800)
    assert [(x.principal, x.interest) for x in book.schedule] == [
        (i.principal, i.interest) for i in disbursed.installments
    ]
    assert [s.step for s in stubs.of("colending_partner_step")] == [
        "BORROWER", "LOAN", "DOCUMENTS", "ESIGN", "SCHEDULE", "FUNDING"
    ]  # fmt: skip
    # every payment was split after it was recorded, and the splits add up to the loan's figures
    names = stubs.names()
    flow = [n for n in names if n != "colending_of"]
    assert all(flow[i - 1] == "record_payment" for i, n in enumerate(flow) if n == "colending_split")
    splits = stubs.of("colending_split")
    assert [s.payment_id for s in splits] == ["pay_1", "pay_2", "pay_3"]
    assert sum(s.principal for s in splits) == 60_000_00
    assert sum(s.interest for s in splits) == sum(i.interest for i in disbursed.installments)
    assert co.splitters[run.loan_id].collected.principal == 60_000_00
    # the servicing run (after continue-as-new) asked once whether the loan is co-lent, at its first payment
    assert stubs.of("colending_of") == [run.loan_id]
    assert names.index("colending_of") == names.index("record_payment") + 1
    # the co-lending path under the patch epoch: one epoch marker per run (origination's and servicing's), and no
    # marker of co-lending-v1 itself (workflows.patches)
    assert markers.count(PATCH_EPOCH_2) == 2 and CO_LENDING_PATCH not in markers


async def test_a_partner_without_an_agreement_or_a_refused_step_never_stops_the_loan(env) -> None:  # noqa: ANN001, F811
    # booked with Kavach (no co-lending agreement): nothing is split
    stubs = StubActivities()
    co = CoLendingStubs(stubs)
    async with routed_loan(env, _both(stubs, "kavach", co), loan_input(terms(tenure=1))) as run:
        await run.until_status("SANCTIONED")
        await _until_booked(run)  # the KFS is accepted once a partner has booked the loan
        await to_agreement_signed(run)
        await run.update("approve_disbursal", LOAN_EXECUTIVE.act())
        await run.settle("TR-1", "SUCCESS", "UTR0001")
        await stubs.wait_calls("ensure_payment_link", 1)
        await run.pay("pay_1", stubs.of("ensure_payment_link")[-1].amount)
        result = await run.result()
    assert result.status == "COMPLETED"
    assert len(stubs.of("colending_book")) == 1 and stubs.of("colending_of") == [run.loan_id]
    assert not {"colending_partner_step", "colending_split"} & set(stubs.names())

    # Lendbox refuses the schedule: its lifecycle stops there, the loan is serviced and its payments split
    stubs = StubActivities()
    co = CoLendingStubs(stubs, refuse="SCHEDULE")
    async with routed_loan(env, _both(stubs, "lendbox", co), loan_input(terms(tenure=1))) as run:
        await run.until_status("SANCTIONED")
        await _until_booked(run)  # the KFS is accepted once a partner has booked the loan
        await to_agreement_signed(run)
        await run.update("approve_disbursal", LOAN_EXECUTIVE.act())
        await run.settle("TR-1", "SUCCESS", "UTR0001")
        await stubs.wait_calls("ensure_payment_link", 1)
        await run.pay("pay_1", stubs.of("ensure_payment_link")[-1].amount)
        result = await run.result()
    assert result.status == "COMPLETED"
    assert [s.step for s in stubs.of("colending_partner_step")][-1] == "SCHEDULE"
    assert len(stubs.of("colending_split")) == 1


async def test_a_loan_not_routed_runs_no_co_lending_command(env) -> None:  # noqa: ANN001, F811
    stubs = StubActivities()
    co = CoLendingStubs(stubs)
    async with routed_loan(env, _both(stubs, "lendbox", co), loan_input(terms(tenure=1)), memo=False) as run:
        await to_agreement_signed(run)
        await run.update("approve_disbursal", LOAN_EXECUTIVE.act())
        await run.settle("TR-1", "SUCCESS", "UTR0001")
        await stubs.wait_calls("ensure_payment_link", 1)
        await run.pay("pay_1", stubs.of("ensure_payment_link")[-1].amount)
        result = await run.result()
        markers = await _markers(run)
    assert result.status == "COMPLETED"
    assert not COLENDING & set(stubs.names())
    # no co-lending patch of its own asked either, nor any other (workflows.patches): one marker a run, the second
    # epoch's, which bundles the KYC patches the first epoch's runs still ask on their own, and the servicing run's
    # own (foreclosure-interest-credit-v1, asked at every servicing run's start), and the KYC phase's patch released
    # after the epoch (kyc-inputs-ahead-v1, kyc-read-on-upload-v1)
    servicing = [PATCH_EPOCH_2, FORECLOSURE_INTEREST_CREDIT_PATCH]
    origination = [PATCH_EPOCH_2, KYC_INPUTS_AHEAD_PATCH, KYC_READ_ON_UPLOAD_PATCH]
    assert markers == [*servicing, *origination]  # the latest run first
