"""Bureau refresh of active loans (``workflows.bureau_refresh``): an account-review pull for each active loan whose
latest report is older than the brand's ``opsJobs.bureauRefreshDays``, the oldest first, ``bureauBatch`` loans per
brand per run, with an early warning to staff when the report got worse.

The loan's origination report stays in ``bureau_reports`` (one per loan, the one the credit decision read). Each
refresh is a ``provider_calls`` row of kind ``BUREAU_REFRESH`` under the key ``bureau-refresh:<loan>:<IST day>``
(shown in the loan's credit file with the other provider calls): the score, the report as the credit decision
stores one (the vendor's answer plus ``accounts_parsed``), the previous score and the warning's reasons. The same key
goes to the bureau as the request's idempotency key, so a retried activity gets the same report back (one enquiry),
and a second run the same day finds the row and pulls nothing. Outcome ``PULLED``, ``WARNING`` (score fell by more
than ``bureauScoreDrop`` points, or more accounts in recent delinquency: ``domain.ops_jobs.deterioration``) or
``REFUSED`` (the bureau said no; tried again the next day). A warning notifies the loan's collector, the staff member
it is assigned to and the brand's admins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from temporalio import activity

from activities.base import DbActivities
from activities.ops_jobs_common import ACTIVE_LOAN, BrandRun, brand_admins, brand_policy, notify_once
from activities.providers import ProviderConfig, call_with_failover
from activities.providers.base import BusinessRefusal
from db.models import Brand, BureauReport, Customer, Loan, ProviderCall
from domain import ops_jobs

KIND = "BUREAU_REFRESH"
PULLED, WARNING, REFUSED = "PULLED", "WARNING", "REFUSED"
SKIPPED = "SKIPPED"  # the loan closed between the choice and the pull: nothing pulled or stored


@dataclass(frozen=True)
class BureauRefreshRequest:
    """One loan's refresh on one IST day (YYYY-MM-DD)."""

    brand_id: str
    loan_id: str
    day: str

    @property
    def key(self) -> str:
        return f"bureau-refresh:{self.loan_id}:{self.day}"


@dataclass(frozen=True)
class BureauRefreshResult:
    """The refresh's outcome (PULLED / WARNING / REFUSED), the new and previous scores (None when refused or
    never pulled) and the warning's reasons."""

    outcome: str
    score: int | None
    previous_score: int | None
    reasons: list[str]


def _last_pull() -> Any:
    """(the latest successful refresh per loan, as a subquery; the loan's last pull: the later of it and the
    origination report)."""
    refreshed = (
        select(ProviderCall.loan_id, func.max(ProviderCall.created_at).label("at"))
        .where(ProviderCall.kind == KIND, ProviderCall.outcome.in_((PULLED, WARNING)))
        .group_by(ProviderCall.loan_id)
        .subquery()
    )
    return refreshed, func.greatest(BureauReport.created_at, refreshed.c.at)  # GREATEST skips NULLs


def refresh_candidates(session: Session, run: BrandRun) -> list[str]:
    """The brand's active loans due for a refresh (``domain.ops_jobs.refresh_due``), the oldest report first (none
    at all before any), not yet tried on ``run.day``, at most the brand's ``bureauBatch``. None when the brand
    switched the refresh off or has no bureau vendor."""
    brand = session.get_one(Brand, run.brand_id)
    policy = brand_policy(brand.config)
    if policy.bureau_refresh_days <= 0 or not ProviderConfig.candidates(dict(brand.config or {}), "bureau"):
        return []
    now = datetime.fromisoformat(run.now)
    refreshed, last = _last_pull()
    tried_today = select(ProviderCall.id).where(
        ProviderCall.idempotency_key == func.concat(literal("bureau-refresh:"), Loan.id, literal(f":{run.day}"))
    )
    rows = session.execute(
        select(Loan.id)
        .outerjoin(BureauReport, BureauReport.loan_id == Loan.id)
        .outerjoin(refreshed, refreshed.c.loan_id == Loan.id)
        .where(
            Loan.brand_id == run.brand_id,
            Loan.status.in_(ACTIVE_LOAN),
            (last.is_(None)) | (last <= now - timedelta(days=policy.bureau_refresh_days)),
            ~tried_today.exists(),
        )
        .order_by(last.asc().nulls_first(), Loan.id)
        .limit(policy.bureau_batch)
    ).all()
    return [str(r[0]) for r in rows]


def previous_report(session: Session, loan_id: str) -> tuple[int, dict[str, Any]] | None:
    """The loan's latest report before this refresh (score, report): the last refresh that pulled one, else the
    origination report; None when it has neither."""
    call = session.scalars(
        select(ProviderCall)
        .where(ProviderCall.loan_id == loan_id, ProviderCall.kind == KIND, ProviderCall.outcome.in_((PULLED, WARNING)))
        .order_by(ProviderCall.created_at.desc())
    ).first()
    if call is not None:
        return int(call.response.get("score") or 0), dict(call.response.get("report") or {})
    report = session.scalars(select(BureauReport).where(BureauReport.loan_id == loan_id)).first()
    return (report.score, dict(report.report or {})) if report is not None else None


def _parsed(accounts: Any, today: date) -> list[dict[str, Any]]:
    """The accounts as the credit decision stores them: DPD by month, most recent (last month) first."""
    first = today.replace(day=1)
    out = []
    for a in accounts:
        months = []
        for k, dpd in enumerate(a.dpd_history):
            y, m = divmod(first.month - 2 - k, 12)
            months.append((date(first.year + y, m + 1, 1).isoformat(), int(dpd)))
        out.append({"status": a.status, "account_type": a.account_type, "dpd_by_month": months})
    return out


def _stored(call: ProviderCall) -> BureauRefreshResult:
    r = call.response or {}
    return BureauRefreshResult(call.outcome, r.get("score"), r.get("previousScore"), list(r.get("reasons") or []))


def stored_refresh(session: Session, key: str) -> BureauRefreshResult | None:
    """The outcome stored under ``key`` (a refresh already done), else None."""
    call = session.scalars(select(ProviderCall).where(ProviderCall.idempotency_key == key)).first()
    return _stored(call) if call is not None else None


def pull_context(
    session: Session, loan_id: str
) -> tuple[str, str | None, dict[str, Any], tuple[int, dict[str, Any]] | None] | None:
    """What a pull needs: the customer's PAN and name (as verified, else as given), the brand's configuration
    (its bureaus) and the previous report (:func:`previous_report`); None when the loan is no longer active."""
    loan = session.get_one(Loan, loan_id)
    if loan.status not in ACTIVE_LOAN:
        return None
    customer, brand = session.get_one(Customer, loan.customer_id), session.get_one(Brand, loan.brand_id)
    name = customer.pan_name or customer.full_name
    return customer.pan or "", name, dict(brand.config or {}), previous_report(session, loan_id)


class BureauRefreshActivities(DbActivities):
    """The bureau refresh job's two activities."""

    db: Any
    http: httpx.AsyncClient

    @activity.defn
    async def bureau_refresh_due(self, run: BrandRun) -> list[str]:
        """The ids of the brand's loans to refresh this run (:func:`refresh_candidates`)."""
        return await self._tx(lambda s: refresh_candidates(s, run))

    @activity.defn
    async def refresh_bureau(self, req: BureauRefreshRequest) -> BureauRefreshResult:
        """Pull the loan's bureau report again and store it once per loan and day; notify staff on an early
        warning. A vendor's fault raises (retried); a refusal is stored as REFUSED."""

        done = await self._tx(lambda s: stored_refresh(s, req.key))
        if done is not None:
            return done  # pulled (or refused) by an earlier try or run: no second enquiry
        context = await self._tx(lambda s: pull_context(s, req.loan_id))
        if context is None:
            return BureauRefreshResult(SKIPPED, None, None, [])
        pan, name, config, previous = context
        policy = brand_policy(config)  # before the pull: a bad setting costs no enquiry
        try:
            res = await call_with_failover("bureau", config, self.http, lambda b: b.pull(pan, name, req.key))
        except BusinessRefusal as exc:
            reason = str(exc)[:300]
            await self._tx(lambda s: self._record(s, req, REFUSED, None, {"error": reason}, []))
            return BureauRefreshResult(REFUSED, None, previous[0] if previous else None, [reason])
        rep = res.value
        raw = dict(rep.raw)
        raw.setdefault("accounts_parsed", _parsed(rep.accounts, datetime.now(UTC).date()))
        raw.setdefault("active_loans", rep.active_loans)
        raw.setdefault("enquiries_30d", rep.enquiries_30d)
        raw["vendor"] = res.vendor
        after = ops_jobs.view_of(rep.score, raw)
        reasons: list[str] = []
        if previous is not None:
            reasons = list(ops_jobs.deterioration(ops_jobs.view_of(*previous), after, policy.bureau_score_drop).reasons)
        outcome = WARNING if reasons else PULLED
        response = {
            "score": rep.score,
            "previousScore": previous[0] if previous else None,
            "reasons": reasons,
            "report": raw,
        }

        def save(session: Session) -> BureauRefreshResult:
            self._record(session, req, outcome, rep.score, response, res.attempts_as_dicts(), res.vendor)
            if outcome == WARNING:
                loan = session.get_one(Loan, req.loan_id)
                staff = [loan.collector_id, loan.assigned_to, *brand_admins(session, loan.brand_id)]
                notify_once(
                    session,
                    [s for s in staff if s],
                    loan.brand_id,
                    f"Bureau early warning: loan {loan.id[:8]}",
                    "; ".join(reasons),
                    {"alert": "BUREAU_EARLY_WARNING", "loanId": loan.id, "score": rep.score, "reasons": reasons},
                    req.key,
                )
            stored = session.scalars(select(ProviderCall).where(ProviderCall.idempotency_key == req.key)).one()
            return _stored(stored)

        return await self._tx(save)

    @staticmethod
    def _record(
        session: Session,
        req: BureauRefreshRequest,
        outcome: str,
        score: int | None,
        response: dict[str, Any],
        attempts: list[dict[str, Any]],
        vendor: str = "-",
    ) -> None:
        loan = session.get_one(Loan, req.loan_id)
        session.execute(
            insert(ProviderCall)
            .values(
                idempotency_key=req.key,
                loan_id=loan.id,
                customer_id=loan.customer_id,
                kind=KIND,
                provider=vendor,
                outcome=outcome,
                score=score,
                response=response,
                attempts=attempts,
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
