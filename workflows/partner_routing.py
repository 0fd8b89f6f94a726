"""Origination's partner-lender routing (see ``workflows.loan``): once sanctioned, a loan of a brand with partner
lenders is offered to each eligible partner, and booked with the first that accepts (docs/partner-lenders.md).

1. ``partner_offers``: each active partner's decision table over the application; an offer (amount, rate, EMI,
   fees, APR) from each eligible one.
2. Brands that let the borrower pick wait up to their pick window for ``pick_partner_offer``; the picked offer is
   tried first, then the rest by APR (``domain.partners.route_order``).
3. ``partner_submit`` per offer, bounded by the partner's DECISION SLA (the activity's schedule-to-close timeout,
   transient faults retried inside it): ACCEPTED books the loan with that partner (its rate and charges become
   the loan's terms); REJECTED, SLA_BREACHED or ERROR falls back to the next offer. Every attempt is recorded
   (``partner_record_attempt``) with its outcome, reason and time taken.
4. No offer, or none accepted: the loan is held (NEEDS_ATTENTION, ``workflows.hold``); ops resume it (a new
   round) or reject it. The workflow never fails because a partner said no.

Activities of the loan's own workflow, not a child workflow per partner: the attempts are short, bounded by their
SLA, change the loan's own terms, and end before the agreement, so nothing of them has to outlive the run that
continues-as-new into servicing (what they decided is in the input carried across: the terms).

Only loans whose start says so (memo ``partnerRouting``: the brand had an active partner) take this path, under
``PARTNER_ROUTING_PATCH``; other loans run no new command.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.exceptions import TimeoutError as ActivityTimeout

with workflow.unsafe.imports_passed_through():
    import workflows.contracts.partners  # noqa: F401  (registered in the sandbox by name; see workflows.loan)
    from activities.partners import PartnerActivities
    from domain.partners import AttemptOutcome, route_order
    from domain.status import LoanStatus
    from workflows.contracts.partners import (
        PartnerAnswer,
        PartnerAttemptRecord,
        PartnerOfferView,
        PartnerPick,
        PartnerRoute,
        PartnerRouteRequest,
        PartnerSubmitRequest,
    )
    from workflows.options import (  # the patch ids re-exported: they were defined here
        DB_RETRY,
        DB_TIMEOUT,
        PARTNER_APR_PATCH,
    )

from workflows.base import _check_fresh, _refuse
from workflows.hold import HoldPhase
from workflows.patches import patched

ROUTING_MEMO = "partnerRouting"  # set on the loan's start when its brand has an active partner lender
HOLD_STEP = "partner lenders"
# A partner's transient faults are retried inside its SLA (the schedule-to-close timeout bounds them all).
PARTNER_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    non_retryable_error_types=["BusinessRefusal", "NotFound"],
)


class PartnerRoutingPhase(HoldPhase):
    """The routing step and its borrower update (``pick_partner_offer``) and query (``partner_routing``)."""

    # Routing state, set on first use (class attributes would be shared between workflow instances).
    partner_route: PartnerRoute | None = None
    partner_pick: str | None = None
    partner_state: str | None = None  # OFFERS, PICKING, ROUTING, BOOKED, NONE_ACCEPTED
    partner_tried: list[dict] | None = None
    partner_booked: str | None = None  # the offer id booked

    def _partner_routing_wanted(self) -> bool:
        """Whether the loan was started for routing (memo); never true for loans started before it existed."""
        try:
            return bool(workflow.memo_value(ROUTING_MEMO, default=False, type_hint=bool))
        except Exception:  # noqa: BLE001  (a memo that does not decode means no routing)
            return False

    async def _route_partners(self, key: str) -> None:
        """Offer the loan to its brand's partners until one books it; hold when none does (resume: a new round)."""
        self.partner_tried = []
        round_no = 0
        while True:
            round_no += 1
            self.partner_state, self.partner_pick = "OFFERS", None
            route = await workflow.execute_activity_method(
                PartnerActivities.partner_offers,
                PartnerRouteRequest(self.inp.loan_id, self.inp.brand_id, f"{key}:partners:{round_no}", self.inp.terms,
                                    round_no),
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
                summary=f"Partner offers (round {round_no})",
            )  # fmt: skip
            self.partner_route = route
            if route.offers and route.borrower_pick:
                self.partner_state = "PICKING"
                await workflow.wait_condition(
                    lambda: self.partner_pick is not None,
                    timeout=timedelta(seconds=route.pick_window_seconds),
                    timeout_summary="borrower's pick of a partner offer",
                )
            self.partner_state = "ROUTING"
            for offer in route_order(route.offers, self.partner_pick):
                if await self._try_partner(key, round_no, offer):
                    self.partner_state, self.partner_booked = "BOOKED", offer.offer_id
                    return
            self.partner_state = "NONE_ACCEPTED"
            why = "no partner lender is eligible" if not route.offers else "no partner lender accepted the loan"
            await self._hold(HOLD_STEP, f"{why} (round {round_no})")

    async def _try_partner(self, key: str, round_no: int, offer: PartnerOfferView) -> bool:
        """Submit to one partner within its SLA and record how it ended; True when it booked the loan."""
        attempt_key = f"{key}:partners:{round_no}:{offer.partner_code}"
        started = workflow.now()
        sla = timedelta(seconds=offer.sla_seconds)
        answer: PartnerAnswer
        try:
            answer = await workflow.execute_activity_method(
                PartnerActivities.partner_submit,
                PartnerSubmitRequest(self.inp.loan_id, self.inp.brand_id, offer.offer_id, attempt_key,
                                     float(offer.sla_seconds)),
                schedule_to_close_timeout=sla,
                retry_policy=PARTNER_RETRY,
                summary=f"Partner {offer.partner_name}",
            )  # fmt: skip
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ActivityTimeout):
                answer = PartnerAnswer(AttemptOutcome.SLA_BREACHED, reason=f"no answer within its SLA of {sla}")
            else:
                text = cause.message if isinstance(cause, ApplicationError) else str(cause or err)
                answer = PartnerAnswer(AttemptOutcome.ERROR, reason=text[:300])
        elapsed = int((workflow.now() - started).total_seconds() * 1000)
        assert self.partner_tried is not None
        self.partner_tried.append(
            {"partner": offer.partner_code, "outcome": str(answer.outcome), "reason": answer.reason, "ms": elapsed}
        )
        await workflow.execute_activity_method(
            PartnerActivities.partner_record_attempt,
            PartnerAttemptRecord(
                self.inp.loan_id, self.inp.brand_id, offer.offer_id, str(answer.outcome), elapsed, offer.sla_seconds,
                started, f"{attempt_key}:record", answer.reason, answer.partner_reference,
                picked=offer.offer_id == self.partner_pick,
            ),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary=f"Partner {offer.partner_name}: {answer.outcome}",
        )  # fmt: skip
        if answer.outcome != AttemptOutcome.ACCEPTED:
            return False
        third_party = sum(self.inp.terms.third_party.values())
        self.inp = replace(
            self.inp,
            terms=replace(
                self.inp.terms,
                annual_rate_bps=offer.annual_rate_bps,
                upfront_fees=offer.fees,
                upfront_fees_gst=offer.gst,
                net_disbursed=offer.amount - offer.fees - offer.gst - third_party,
            ),
        )
        # The loan's APR is the offer's (its KFS says so): the cooling-off exit's cost follows it. Loans booked
        # before this patch keep the product's APR they were started with.
        if self.inp.policy.apr is not None and patched(PARTNER_APR_PATCH):
            self.inp = replace(self.inp, policy=replace(self.inp.policy, apr=offer.apr))
        return True

    @workflow.update(
        description="The borrower picks one of the partner lenders' offers (PartnerPick); it is tried first. "
        "Refused (409) when the loan is not waiting for a pick, (422) for an offer not among the loan's."
    )
    async def pick_partner_offer(self, pick: PartnerPick) -> dict:
        self.partner_pick = pick.offer_id
        return {"offerId": pick.offer_id, "status": "PICKED"}

    @pick_partner_offer.validator
    def _validate_pick_partner_offer(self, pick: PartnerPick) -> None:
        _check_fresh(pick.expires_at)
        if pick.customer_id != self.inp.customer_id:
            raise _refuse("NotFound", "loan not found")
        if self.partner_state != "PICKING" or self.partner_route is None or self.partner_pick is not None:
            raise _refuse("Conflict", "the loan is not waiting for a choice of lender")
        if pick.offer_id not in {o.offer_id for o in self.partner_route.offers}:
            raise _refuse("ValidationError", "not one of this loan's offers", field="offerId")

    @workflow.query(description="Partner routing: state, the round's offers, the attempts so far, the offer booked.")
    def partner_routing(self) -> dict:
        route = self.partner_route
        return {
            "state": self.partner_state,
            "offers": [o.offer_id for o in route.offers] if route else [],
            "picked": self.partner_pick,
            "attempts": list(self.partner_tried or []),
            "booked": self.partner_booked,
            "status": str(self.status) if self.status else str(LoanStatus.APPLIED),
        }
