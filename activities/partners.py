"""Partner-lender routing's activities (``workflows.partner_routing``): the round's offers, one submission to a
partner, and the record of how it ended. Thin: the rules are ``domain.partners``, the SQL ``db.partners``, the
partner's API its adapter (``activities.providers.partners``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.base import DbActivities
from activities.providers.base import BusinessRefusal, ProviderError
from activities.providers.partners import PartnerApplication, adapter
from db import partner_disbursals as pd
from db import partner_resends as pr
from db import partners as q
from db.kfs import partner_charges
from db.models import Customer, Loan, LoanProduct, PartnerDisbursal, PartnerLender, PartnerOffer
from db.session import Database
from domain.charges import charge_config_from_dict
from domain.errors import ValidationError
from domain.partners import (
    AttemptOutcome,
    PartnerPricing,
    application_facts,
    compute_offer,
    parse_sla,
    stored_lines,
)
from domain.partners.disbursal import CaseState, PartnerTxnStatus
from domain.partners.resend import ResendStatus, resend_reason, resend_reference, wants_resend
from workflows.contracts.partners import (
    PartnerAnswer,
    PartnerAttemptRecord,
    PartnerOfferView,
    PartnerRoute,
    PartnerRouteRequest,
    PartnerSubmitRequest,
)
from workflows.options import IST


# The partner disbursal watch's inputs and outputs (``workflows.partner_disbursal_watch``), here as the reminder
# dispatch keeps its own: dataclasses, so fields can be added later.
@dataclass
class DisbursalDue:
    """One case to ask its partner about: ``checks`` is how many were recorded before this one (a retry of a check
    already recorded changes nothing)."""

    case_id: str
    loan_id: str
    brand_id: str
    partner_code: str
    checks: int
    resend: bool = False  # the watch re-sends a failed or lost disbursal (patch partner-disbursal-resend-v1)


@dataclass
class DisbursalChecked:
    """What one check did: the partner's ``answer`` (``PartnerTxnStatus``), the case's new ``state``, whether the
    breach was marked and whether the case was escalated by it; ``recorded`` False when it had been recorded
    before (a retry) or the case was confirmed meanwhile. ``resend_reason`` (FAILED, NOT_FOUND) when the watch is
    to re-send the disbursal request now (``partner_disbursal_resend``)."""

    case_id: str
    answer: str
    state: str
    breach_now: bool = False
    escalate_now: bool = False
    recorded: bool = True
    resend_reason: str | None = None


@dataclass
class DisbursalResend:
    """The re-send of a case's disbursal request (``partner_disbursal_resend``): the case, and why (``reason``:
    FAILED or NOT_FOUND)."""

    case_id: str
    loan_id: str
    partner_code: str
    reason: str


@dataclass
class DisbursalResent:
    """What the re-send did: ``status`` ACCEPTED or REFUSED (the partner's answer, with its ``detail``), or SKIPPED
    (the case was confirmed meanwhile, or its re-send was answered before: nothing sent); the ``reference`` sent."""

    case_id: str
    status: str
    reference: str | None = None
    detail: str | None = None


def _view(offer: PartnerOffer, partner: PartnerLender) -> PartnerOfferView:
    return PartnerOfferView(
        offer_id=offer.id,
        partner_id=partner.id,
        partner_code=partner.code,
        partner_name=partner.name,
        priority=partner.priority,
        amount=offer.amount,
        tenure=offer.tenure,
        annual_rate_bps=offer.annual_rate_bps,
        emi=offer.emi,
        fees=offer.fees,
        gst=offer.gst,
        net_disbursed=offer.net_disbursed,
        apr=q.apr_text(offer.apr),
        sla_seconds=parse_sla(partner.sla)["DECISION"],
    )


class PartnerActivities(DbActivities):
    """``partner_offers``, ``partner_submit``, ``partner_record_attempt``, and the disbursal watch's
    ``partner_disbursals_due``, ``partner_disbursal_check`` and ``partner_disbursal_resend``; ``all()`` lists them
    for the worker."""

    def __init__(self, db: Database, http: httpx.AsyncClient):
        self.db = db
        self.http = http

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.partner_offers,
            self.partner_submit,
            self.partner_record_attempt,
            self.partner_disbursals_due,
            self.partner_disbursal_check,
            self.partner_disbursal_resend,
        ]

    @activity.defn
    async def partner_offers(self, req: PartnerRouteRequest) -> PartnerRoute:
        """Each active partner's table (limits first) over the application, and an offer (``domain.partners``) from
        each eligible one, written once per round (a retry reads what was written)."""
        today = datetime.now(UTC).astimezone(IST).date()
        schedule_terms = req.terms.schedule_terms(today)

        def run(session: Session) -> PartnerRoute:
            loan, customer, _ = self._context(req.loan_id)(session)
            facts = application_facts(
                amount=loan.amount,
                tenure=loan.tenure,
                bureau_score=q.bureau_score(session, loan.id),
                dob=customer.dob,
                on=today,
                state=customer.state,
                pincode=customer.pincode,
            )
            route = PartnerRoute()
            route.borrower_pick, route.pick_window_seconds = q.routing_of(session, req.brand_id)
            for partner in q.active_partners(session, req.brand_id):
                table = q.rule_table(session, partner)
                verdict = table.evaluate(facts, q.limits_of(partner))
                offer, reasons = None, verdict.reasons
                if verdict.eligible:
                    try:
                        pricing = PartnerPricing.of(partner.pricing)
                        offer = compute_offer(pricing, schedule_terms, req.terms.third_party)
                    except ValidationError as exc:  # a partner misconfigured is skipped, with the reason
                        reasons = (f"pricing: {exc.message}",)
                row = q.offer_row(
                    session, loan=loan, partner=partner, round_no=req.round, version=table.version,
                    offer=offer, reasons=reasons,
                )  # fmt: skip
                if row.status == "INELIGIBLE":
                    route.ineligible[partner.code] = list(row.reasons)
                else:
                    route.offers.append(_view(row, partner))
            return route

        return await self._tx(run)

    @activity.defn
    async def partner_submit(self, req: PartnerSubmitRequest) -> PartnerAnswer:
        """Ask the offer's partner to book the loan. A transient fault raises (retried within the SLA the workflow
        gives the activity); the partner's no is an answer (REJECTED with its reason), never an error."""

        def load(session: Session) -> tuple[PartnerApplication, str, dict]:
            offer = session.get(PartnerOffer, req.offer_id)
            if offer is None or offer.loan_id != req.loan_id:
                raise ApplicationError(f"offer {req.offer_id} not found", type="NotFound", non_retryable=True)
            partner = session.get_one(PartnerLender, offer.partner_id)
            loan = session.get_one(Loan, offer.loan_id)
            customer = session.get_one(Customer, loan.customer_id)
            app = PartnerApplication(
                reference=req.idempotency_key,
                loan_id=loan.id,
                full_name=customer.pan_name or customer.full_name or "",
                pan=customer.pan or "",
                dob=customer.dob,
                phone=customer.phone,
                email=customer.email,
                state=customer.state,
                pincode=customer.pincode,
                bureau_score=q.bureau_score(session, loan.id),
                amount=offer.amount,
                tenure=offer.tenure,
                repay_unit="MONTHS",
                annual_rate_bps=offer.annual_rate_bps,
                fees=offer.fees,
                gst=offer.gst,
                net_disbursed=offer.net_disbursed,
                emi=offer.emi,
                apr=q.apr_text(offer.apr),
            )
            return app, partner.adapter, dict(partner.settings or {})

        app, code, settings = await self._tx(load)
        decision = await adapter(self.http, code, settings).submit(app, timeout=max(req.timeout_seconds, 1.0))
        if decision.accepted:
            return PartnerAnswer(AttemptOutcome.ACCEPTED, partner_reference=decision.partner_reference)
        reason = decision.reason or "declined"
        return PartnerAnswer(AttemptOutcome.REJECTED, reason=f"[{decision.code}] {reason}" if decision.code else reason)

    @activity.defn
    async def partner_record_attempt(self, rec: PartnerAttemptRecord) -> None:
        """The attempt and the offer's new status, once per key. ACCEPTED: the loan takes the offer's rate, charges
        (its lines from ``db.kfs.partner_charges``, as the KFS reads them), net disbursal and APR."""

        def run(session: Session) -> None:
            offer = session.get(PartnerOffer, rec.offer_id, with_for_update=True)
            if offer is None or offer.loan_id != rec.loan_id:
                raise ApplicationError(f"offer {rec.offer_id} not found", type="NotFound", non_retryable=True)
            written = q.record_attempt(
                session, offer=offer, outcome=rec.outcome, reason=rec.reason,
                partner_reference=rec.partner_reference, elapsed_ms=rec.elapsed_ms,
                sla_seconds=rec.sla_seconds, started_at=rec.started_at, key=rec.idempotency_key,
                picked=rec.picked,
            )  # fmt: skip
            if written and rec.outcome == AttemptOutcome.ACCEPTED:
                loan = session.get_one(Loan, rec.loan_id, with_for_update=True)
                session.flush()  # the offer's ACCEPTED status, which partner_charges reads
                product = session.get_one(LoanProduct, loan.product_id)
                charges = partner_charges(session, loan, charge_config_from_dict(product.charges))
                assert charges is not None  # the offer was just accepted
                loan.annual_rate_bps = offer.annual_rate_bps
                loan.upfront_charges = stored_lines(charges)  # the KFS's fee lines are the offer's (db.kfs)
                loan.net_disbursed = charges.net_disbursed  # == offer.net_disbursed
                loan.apr = Decimal(offer.apr)

        await self._tx(run)

    # ------------------------------------------------------------------------------ the partner's disbursal (SLA)
    @activity.defn
    async def partner_disbursals_due(self, now: datetime) -> list[DisbursalDue]:
        """Open a case for each newly disbursed partner-booked loan, then the cases due for a status check at
        ``now`` (``db.partner_disbursals``; at most 200 a run, the rest next run)."""

        def run(session: Session) -> list[DisbursalDue]:
            pd.open_cases(session)
            session.flush()
            return [
                DisbursalDue(case.id, case.loan_id, case.brand_id, partner.code, case.checks)
                for case, partner in pd.due_cases(session, now)
            ]

        return await self._tx(run)

    @activity.defn
    async def partner_disbursal_check(self, due: DisbursalDue) -> DisbursalChecked:
        """Ask the partner's status API about its disbursal (``PartnerAdapter.disbursal_status``) and record the
        answer on the case once (its check count must still be ``due.checks``): the UTR taken, the breach marked and
        alerted, a recheck or the escalation per the partner's settings. A co-lent loan whose partner funding was
        already confirmed by the co-lending callback is confirmed with that UTR, the partner not asked. A partner
        that cannot be asked is an UNKNOWN answer with its error as the detail (recorded like any other: the case
        is still late).

        With ``due.resend``: an answer that the disbursal FAILED, or a 404 (the partner has no such disbursal), on a
        case whose request was not re-sent before, by a partner whose adapter can re-send, is recorded without
        escalating (``db.partner_resends.record_resend_check``) and answered with its ``resend_reason``: the watch
        then re-sends (``partner_disbursal_resend``)."""

        def load(session: Session) -> tuple[PartnerDisbursal, PartnerLender]:
            case = session.get(PartnerDisbursal, due.case_id)
            if case is None:
                raise ApplicationError(f"case {due.case_id} not found", type="NotFound", non_retryable=True)
            return case, session.get_one(PartnerLender, case.partner_id)

        case, partner = await self._tx(load)
        if case.checks != due.checks or case.state == CaseState.CONFIRMED:
            return DisbursalChecked(case.id, "", case.state, recorded=False)

        def co_lent(session: Session) -> DisbursalChecked | None:
            """A co-lent loan's partner funding, already confirmed by its own callback, confirms the case."""
            utr, funded_on = pd.co_lending_utr(session, due.loan_id)
            row = session.get_one(PartnerDisbursal, due.case_id, with_for_update=True)
            late = funded_on is None or funded_on > row.due_at.astimezone(IST).date()  # it has a date, not a time
            if utr is None or not pd.confirm(row, utr, "CO_LENDING", datetime.now(UTC), late=late):
                return None
            return DisbursalChecked(row.id, PartnerTxnStatus.DISBURSED.value, row.state)

        settled = await self._tx(co_lent)
        if settled is not None:
            return settled
        not_found, can_resend = False, False
        try:
            api = adapter(self.http, partner.adapter, dict(partner.settings or {}))
            can_resend = api.can_resend
            said = await api.disbursal_status(
                partner_reference=case.partner_reference or "", reference=case.our_reference
            )
            status, utr, detail = said.status, said.utr, said.detail
            if said.amount is not None and said.amount != case.amount:
                detail = f"{detail or ''} amount {said.amount} paise, expected {case.amount}".strip()
        except (ProviderError, BusinessRefusal) as exc:
            status, utr, detail = PartnerTxnStatus.UNKNOWN.value, None, str(exc)[:300]
            not_found = isinstance(exc, BusinessRefusal) and exc.status == 404
        reason = resend_reason(status, not_found) if due.resend else None

        def record(session: Session) -> DisbursalChecked:
            row = session.get_one(PartnerDisbursal, due.case_id, with_for_update=True)
            if row.checks != due.checks or row.state == CaseState.CONFIRMED:  # recorded by a retry, or a callback won
                return DisbursalChecked(row.id, status, row.state, recorded=False)
            lender = session.get_one(PartnerLender, row.partner_id)
            now = datetime.now(UTC)
            previous = pr.resend_of(session, row.id)
            if reason is not None and wants_resend(reason, previous.status if previous else None, can_resend):
                out = pr.record_resend_check(session, row, lender, status=status, detail=detail, reason=reason,
                                             now=now)  # fmt: skip
                return DisbursalChecked(row.id, status, row.state, out.breach_now, out.escalate_now,
                                        resend_reason=reason.value)  # fmt: skip
            out = pd.record_check(session, row, lender, status=status, utr=utr, detail=detail, now=now)
            return DisbursalChecked(row.id, status, row.state, out.breach_now, out.escalate_now)

        return await self._tx(record)

    @activity.defn
    async def partner_disbursal_resend(self, req: DisbursalResend) -> DisbursalResent:
        """Re-send the case's disbursal request through the partner's adapter (``PartnerAdapter.resend_disbursal``),
        once per case: the record is reserved (SENT) before the partner is asked, carrying the partner's idempotency
        reference (``domain.partners.resend.resend_reference``: the same on every retry, so the partner pays once);
        its answer is kept on the record and the case's log and loan ops are alerted (``db.partner_resends``). A
        case confirmed meanwhile, or whose re-send was answered before, is SKIPPED (nothing sent). A fault of the
        partner's API raises ProviderError (retried; a later run sends again under the same reference)."""

        def reserve(session: Session) -> tuple[str, str, str, str, int, dict] | None:
            case = session.get(PartnerDisbursal, req.case_id, with_for_update=True)
            if case is None:
                raise ApplicationError(f"case {req.case_id} not found", type="NotFound", non_retryable=True)
            previous = pr.resend_of(session, case.id)
            if case.state == CaseState.CONFIRMED or (previous is not None and previous.status not in (
                    ResendStatus.SENT, ResendStatus.ERROR)):  # fmt: skip
                return None
            partner = session.get_one(PartnerLender, case.partner_id)
            row = pr.reserve(session, case, resend_reference(case.our_reference), req.reason, datetime.now(UTC))
            return (row.reference, case.our_reference, case.partner_reference or "", partner.adapter, case.amount,
                    dict(partner.settings or {}))  # fmt: skip

        reserved = await self._tx(reserve)
        if reserved is None:
            return DisbursalResent(req.case_id, "SKIPPED")
        reference, ours, theirs, code, amount, settings = reserved
        try:
            answer = await adapter(self.http, code, settings).resend_disbursal(
                reference=ours, partner_reference=theirs, resend_reference=reference, amount=amount
            )
        except (ProviderError, BusinessRefusal) as exc:
            error = str(exc)[:300]

            def failed(session: Session) -> None:
                row = pr.resend_of(session, req.case_id, lock=True)
                if row is not None and row.status == ResendStatus.SENT:
                    row.status, row.detail = ResendStatus.ERROR.value, error

            await self._tx(failed)
            raise

        def record(session: Session) -> DisbursalResent:
            case = session.get_one(PartnerDisbursal, req.case_id, with_for_update=True)
            row = pr.resend_of(session, req.case_id, lock=True)
            assert row is not None  # reserved above
            if row.status in (ResendStatus.SENT, ResendStatus.ERROR):
                partner = session.get_one(PartnerLender, case.partner_id)
                pr.record_answer(session, row, case, partner, accepted=answer.accepted, partner_status=answer.status,
                                 detail=answer.detail, now=datetime.now(UTC))  # fmt: skip
            return DisbursalResent(case.id, row.status, row.reference, row.detail)

        return await self._tx(record)
