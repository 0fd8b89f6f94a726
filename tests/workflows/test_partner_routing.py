"""Partner-lender routing in the real LoanWorkflow against stub activities (tests/workflows/stubs.py), in virtual
time: offers → a partner past its SLA → a partner that declines → the next accepts and its terms become the loan's;
the borrower's pick tried first; no partner accepting holds the loan, and resuming it runs a new round; loans
started without the routing memo run no partner activity at all."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

from temporalio import activity
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError
from temporalio.worker import Worker

from tests.workflows.stubs import (
    CUSTOMER_ID,
    LOAN_EXECUTIVE,
    LoanRun,
    StubActivities,
    loan_input,
    refused,
    terms,
    to_agreement_signed,
)
from worker import workflow_runner
from workflows.contracts import LoanWorkflowInput
from workflows.contracts.partners import (
    PartnerAnswer,
    PartnerAttemptRecord,
    PartnerOfferView,
    PartnerPick,
    PartnerRoute,
    PartnerRouteRequest,
    PartnerSubmitRequest,
)
from workflows.loan import LoanWorkflow
from workflows.partner_routing import ROUTING_MEMO

PARTNER_ACTIVITIES = {"partner_offers", "partner_submit", "partner_record_attempt"}
HANG = "hang"  # partner_submit keeps the workflow waiting past the partner's SLA


def offer(code: str, apr: str, rate_bps: int, sla: int = 5, priority: int = 100) -> PartnerOfferView:
    return PartnerOfferView(
        offer_id=f"offer-{code}", partner_id=f"partner-{code}", partner_code=code, partner_name=code.title(),
        priority=priority, amount=60_000_00, tenure=3, annual_rate_bps=rate_bps, emi=20_400_00, fees=1_000_00,
        gst=180_00, net_disbursed=58_820_00, apr=apr, sla_seconds=sla,
    )  # fmt: skip


OFFERS = [offer("navodaya", "30.10", 2400), offer("lendbox", "24.50", 1800, sla=1), offer("kavach", "26.00", 2000)]


@dataclass
class PartnerStubs:
    """The routing activities: ``rounds`` (one PartnerRoute per round, the last repeats) and, per partner code,
    its answers in order (the last repeats): a PartnerAnswer or HANG."""

    stubs: StubActivities
    rounds: list[PartnerRoute]
    answers: dict[str, list[PartnerAnswer | str]] = field(default_factory=dict)

    @activity.defn(name="partner_offers")
    async def partner_offers(self, req: PartnerRouteRequest) -> PartnerRoute:
        self.stubs._record("partner_offers", req)
        return self.rounds[min(req.round, len(self.rounds)) - 1]

    @activity.defn(name="partner_submit")
    async def partner_submit(self, req: PartnerSubmitRequest) -> PartnerAnswer:
        self.stubs._record("partner_submit", req)
        code = req.offer_id.removeprefix("offer-")
        done = sum(1 for c in self.stubs.of("partner_submit") if c.offer_id == req.offer_id) - 1
        script = self.answers.get(code) or [PartnerAnswer("ACCEPTED", f"{code.upper()}-1")]
        answer = script[min(done, len(script) - 1)]
        if answer == HANG:
            await asyncio.sleep(req.timeout_seconds + 2)  # real seconds: the SLA timer fires first
            return PartnerAnswer("ACCEPTED", "too-late")
        assert isinstance(answer, PartnerAnswer)
        return answer

    @activity.defn(name="partner_record_attempt")
    async def partner_record_attempt(self, rec: PartnerAttemptRecord) -> None:
        self.stubs._record("partner_record_attempt", rec)

    def all(self) -> list[Any]:
        return [*self.stubs.all(), self.partner_offers, self.partner_submit, self.partner_record_attempt]



@contextlib.asynccontextmanager
async def routed_loan(
    env: Any, partners: PartnerStubs, inp: LoanWorkflowInput | None = None, memo: bool = True
) -> AsyncIterator[LoanRun]:
    """The loan started as the API starts it for a brand with partner lenders (memo ``partnerRouting``)."""
    from workflows.loan import BRAND_ID, LOAN_AMOUNT, LOAN_STATUS

    inp = inp or loan_input()
    queue = f"stub-{uuid.uuid4().hex[:10]}"
    # production's sandbox (phase modules passed through): the one where an unregistered contracts module fails
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[LoanWorkflow],
        activities=partners.all(),
        workflow_runner=workflow_runner(),
    ):
        handle = await env.client.start_workflow(
            LoanWorkflow.run,
            inp,
            id=f"loan-{inp.loan_id}",
            task_queue=queue,
            memo={ROUTING_MEMO: True} if memo else None,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(LOAN_STATUS, "APPLIED"),
                    SearchAttributePair(BRAND_ID, inp.brand_id),
                    SearchAttributePair(LOAN_AMOUNT, inp.terms.amount),
                ]
            ),
        )
        run = LoanRun(env, partners.stubs, inp, handle, queue)
        try:
            yield run
        finally:
            with contextlib.suppress(RPCError):
                await env.client.get_workflow_handle(handle.id).terminate("test over")


def attempts(stubs: StubActivities) -> list[tuple[str, str]]:
    return [(r.offer_id.removeprefix("offer-"), r.outcome) for r in stubs.of("partner_record_attempt")]


async def test_sla_timeout_then_decline_then_accept_books_the_next_partner(env) -> None:  # noqa: ANN001
    stubs = StubActivities()
    partners = PartnerStubs(
        stubs,
        [PartnerRoute(offers=list(OFFERS), ineligible={"other": ["bureau score below 750"]})],
        {"lendbox": [HANG], "kavach": [PartnerAnswer("REJECTED", reason="[POLICY] age below 23")]},
    )
    async with routed_loan(env, partners) as run:
        await run.until_status("SANCTIONED")
        await stubs.wait_calls("partner_record_attempt", 3)
        await to_agreement_signed(run)
        assert await run.update("approve_disbursal", LOAN_EXECUTIVE.act()) == "DISBURSAL_PENDING"
        routing = await run.handle.query("partner_routing")

    # Tried by APR: Lendbox (24.50 %, past its 1 s SLA), Kavach (26.00 %, declined), Navodaya (30.10 %, accepted).
    assert attempts(stubs) == [("lendbox", "SLA_BREACHED"), ("kavach", "REJECTED"), ("navodaya", "ACCEPTED")]
    breach, declined, booked = stubs.of("partner_record_attempt")
    assert breach.reason == "no answer within its SLA of 0:00:01" and breach.sla_seconds == 1
    assert breach.elapsed_ms >= 1000
    assert declined.reason == "[POLICY] age below 23"
    assert booked.partner_reference == "NAVODAYA-1" and booked.sla_seconds == 5
    keys = [r.idempotency_key for r in stubs.of("partner_record_attempt")]
    assert keys == [f"{run.key}:partners:1:{c}:record" for c in ("lendbox", "kavach", "navodaya")]
    (ask,) = stubs.of("partner_offers")
    assert (ask.round, ask.idempotency_key, ask.terms) == (1, f"{run.key}:partners:1", run.inp.terms)
    # The loan goes on with the partner's rate and charges: the agreement and the transfer carry them.
    (agreement,) = stubs.of("prepare_agreement")
    assert agreement.terms == replace(
        run.inp.terms, annual_rate_bps=2400, upfront_fees=1_000_00, upfront_fees_gst=180_00, net_disbursed=58_820_00
    )
    (transfer,) = stubs.of("initiate_disbursal")
    assert transfer.amount == 58_820_00
    assert routing["state"] == "BOOKED" and routing["booked"] == "offer-navodaya"
    assert [a["outcome"] for a in routing["attempts"]] == ["SLA_BREACHED", "REJECTED", "ACCEPTED"]
    # Routing runs after the sanction is recorded and before the KFS acceptance and the agreement.
    names = stubs.names()
    assert names.index("partner_offers") == names.index("record_status") + 1
    assert names.index("prepare_agreement") > names.index("partner_record_attempt")


async def test_borrower_pick_goes_first_and_bad_picks_are_refused(env) -> None:  # noqa: ANN001
    stubs = StubActivities()
    partners = PartnerStubs(stubs, [PartnerRoute(offers=list(OFFERS), borrower_pick=True, pick_window_seconds=3600)])
    async with routed_loan(env, partners) as run:
        await run.until_status("SANCTIONED")
        await stubs.wait_for(lambda: stubs.of("partner_offers"), "the offers")
        for _ in range(200):
            if (await run.handle.query("partner_routing"))["state"] == "PICKING":
                break
            await asyncio.sleep(0.02)
        await refused(run, "pick_partner_offer", PartnerPick("someone-else", "offer-kavach"), "NotFound")
        await refused(
            run, "pick_partner_offer", PartnerPick(CUSTOMER_ID, "offer-unknown"), "ValidationError",
            "not one of this loan's offers",
            "offerId",
        )  # fmt: skip
        picked = await run.update("pick_partner_offer", PartnerPick(CUSTOMER_ID, "offer-navodaya"))
        assert picked == {"offerId": "offer-navodaya", "status": "PICKED"}
        await stubs.wait_calls("partner_record_attempt", 1)
        late = await run.refused("pick_partner_offer", PartnerPick(CUSTOMER_ID, "offer-kavach"))
        assert (late.type, late.message) == ("Conflict", "the loan is not waiting for a choice of lender")
    # The borrower's choice (the dearest) is tried first and books the loan: nobody else is asked.
    assert attempts(stubs) == [("navodaya", "ACCEPTED")]
    assert stubs.of("partner_record_attempt")[0].picked


async def test_no_partner_accepting_holds_the_loan_and_resume_runs_a_new_round(env) -> None:  # noqa: ANN001
    stubs = StubActivities()
    no = PartnerAnswer("REJECTED", reason="declined")
    partners = PartnerStubs(
        stubs,
        [PartnerRoute(offers=list(OFFERS[1:])), PartnerRoute(offers=list(OFFERS[1:]))],
        {"lendbox": [no, PartnerAnswer("ACCEPTED", "LBX-2")], "kavach": [no]},
    )
    async with routed_loan(env, partners) as run:
        await run.until_status("NEEDS_ATTENTION")
        hold = stubs.of("record_status")[-1]
        assert hold.reason == "partner lenders: no partner lender accepted the loan (round 1)"
        assert await run.update("resume_hold", LOAN_EXECUTIVE.act(reason="partners asked again")) == "SANCTIONED"
        await stubs.wait_calls("partner_record_attempt", 3)
        await run.until_status("SANCTIONED")
    assert [r.round for r in stubs.of("partner_offers")] == [1, 2]
    assert attempts(stubs) == [("lendbox", "REJECTED"), ("kavach", "REJECTED"), ("lendbox", "ACCEPTED")]
    assert stubs.moves()[:3] == [("APPLIED", "SANCTIONED"), ("SANCTIONED", "NEEDS_ATTENTION"),
                                 ("NEEDS_ATTENTION", "SANCTIONED")]  # fmt: skip


async def test_no_eligible_partner_holds_the_loan(env) -> None:  # noqa: ANN001
    stubs = StubActivities()
    partners = PartnerStubs(stubs, [PartnerRoute(ineligible={"lendbox": ["amount above the maximum ticket"]})])
    async with routed_loan(env, partners) as run:
        await run.until_status("NEEDS_ATTENTION")
        assert await run.update("reject_hold", LOAN_EXECUTIVE.act(reason="no lender")) == "REJECTED"
        result = await run.result()
    assert result.status == "REJECTED"
    assert stubs.of("partner_submit") == []
    assert stubs.of("record_status")[1].reason == "partner lenders: no partner lender is eligible (round 1)"


async def test_a_loan_started_without_routing_runs_no_partner_activity(env) -> None:  # noqa: ANN001
    stubs = StubActivities()
    partners = PartnerStubs(stubs, [PartnerRoute(offers=list(OFFERS))])
    async with routed_loan(env, partners, loan_input(terms()), memo=False) as run:
        await to_agreement_signed(run)
    assert not PARTNER_ACTIVITIES & set(stubs.names())
    assert stubs.of("prepare_agreement")[0].terms == run.inp.terms
