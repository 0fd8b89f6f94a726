"""The credit decision, in three activities: the bureau pull (with failover; a report on the same customer younger
than 24 hours is reused), the brand's hard rules (BRE) and evaluation engine (every outcome stored), and the
allocation of a manual-review loan to a staff member (round robin, leave and workload cap)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.kyc import queries
from activities.kyc.common import KycBase, jsonable, revive
from db.models import Brand, Customer, Loan, LoanDecision, PolicyVersion
from db.notifications import notify
from domain import assignment, bre, evaluation
from domain.brand_config import BrandConfig
from domain.errors import LosError
from domain.evaluation_policy import brand_policy
from domain.outcomes import CreditOutcome
from workflows.contracts import (
    AllocationRequest,
    AllocationResult,
    BureauPullRequest,
    BureauPullResult,
    CreditRulesRequest,
    CreditRulesResult,
)

BUREAU_REUSE = timedelta(hours=24)


class StoredReport:
    """A bureau report as stored (fresh or reused): score plus the raw answer the rules read."""

    def __init__(self, score: int, raw: dict, provider: str = "-", reused: bool = False):
        self.score = score
        self.raw = raw
        self.provider = provider
        self.reused = reused
        self.active_loans = raw.get("active_loans")

    def accounts(self) -> list[bre.BureauAccount]:
        out = []
        for a in self.raw.get("accounts_parsed") or []:
            history = [(date.fromisoformat(m), int(d)) for m, d in a.get("dpd_by_month", [])]
            out.append(bre.BureauAccount(dpd_history=tuple(history), is_active=a.get("status") == "ACTIVE"))
        return out

    def facts(self) -> dict[str, Any]:
        """What evaluation items may read of the bureau (domain.evaluation's bureau.* facts)."""
        return {
            "bureau.score": self.score,
            "bureau.active_loans": self.raw.get("active_loans"),
            "bureau.enquiries_30d": self.raw.get("enquiries_30d"),
        }


def _account_dict(a: Any) -> dict:
    """A bureau account with its DPD history dated month by month (bureaus report up to last month)."""
    today = date.today().replace(day=1)
    months = []
    for k, dpd in enumerate(a.dpd_history):  # [0] is last month's reported DPD
        y, m = divmod(today.month - 2 - k, 12)
        months.append((date(today.year + y, m + 1, 1).isoformat(), int(dpd)))
    return {"status": a.status, "account_type": a.account_type, "dpd_by_month": months}


def brand_config_error(exc: LosError) -> ApplicationError:
    """The brand's rules are misconfigured: retrying will not help."""
    return ApplicationError(f"brand configuration: {exc.message}", type="BrandConfigError", non_retryable=True)


def _record_version(session: Session, key: str, version: int | None) -> None:
    """The policy version on the decision row stored under ``key`` (a retry keeps the first one recorded)."""
    if version is not None:
        session.execute(
            update(LoanDecision)
            .where(LoanDecision.idempotency_key == key, LoanDecision.policy_version.is_(None))
            .values(policy_version=version)
        )


class DecisionActivities(KycBase):
    # ------------------------------------------------------------------ bureau
    @activity.defn
    async def credit_bureau_pull(self, req: BureauPullRequest) -> BureauPullResult:
        """The loan's bureau report: reused when the customer has one younger than 24 hours, else pulled from
        the brand's bureaus with failover; stored once per loan with the score on the loan."""
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        report = await self._bureau(loan, customer, brand, req.idempotency_key)
        return BureauPullResult(
            report.score,
            report.provider,
            report.reused,
            report.raw.get("active_loans"),
            report.raw.get("enquiries_30d"),
        )

    async def _bureau(self, loan: Loan, customer: Customer, brand: Brand, call_key: str) -> StoredReport:
        """``call_key``: the idempotency key of the provider call (the vendor's and ``provider_calls``')."""
        since = datetime.now(UTC) - BUREAU_REUSE
        cached = await self._tx(lambda session: queries.recent_bureau_report(session, customer.id, since))
        if cached is not None and cached.loan_id != loan.id:

            def reuse(session: Session) -> None:
                queries.insert_bureau_report(
                    session,
                    loan_id=loan.id,
                    customer_id=customer.id,
                    provider=cached.provider,
                    score=cached.score,
                    report=cached.report,
                    reused_from=cached.id,
                )
                queries.update_loan(session, loan.id, credit_score=cached.score)

            await self._tx(reuse)
            return StoredReport(cached.score, cached.report, cached.provider, reused=True)
        res = await self._failover(
            "bureau", brand, "pull", customer.pan or "", customer.pan_name or customer.full_name, call_key
        )
        rep = res.value
        raw = dict(rep.raw)
        raw.setdefault("accounts_parsed", [_account_dict(a) for a in rep.accounts])
        raw.setdefault("active_loans", rep.active_loans)
        raw.setdefault("enquiries_30d", rep.enquiries_30d)
        raw["vendor"] = res.vendor
        raw["attempts"] = res.attempts_as_dicts()

        def save(session: Session) -> None:
            queries.insert_bureau_report(
                session, loan_id=loan.id, customer_id=customer.id, provider=res.vendor, score=rep.score, report=raw
            )
            queries.update_loan(session, loan.id, credit_score=rep.score)
            queries.record_provider_call(
                session,
                call_key,
                loan_id=loan.id,
                customer_id=customer.id,
                kind="BUREAU",
                provider=res.vendor,
                outcome="PULLED",
                response={"score": rep.score},
                attempts=res.attempts_as_dicts(),
            )

        await self._tx(save)
        return StoredReport(rep.score, raw, res.vendor)

    # ------------------------------------------------------------------ rules and evaluation
    @activity.defn
    async def credit_rules_and_evaluation(self, req: CreditRulesRequest) -> CreditRulesResult:
        """The brand's hard rules (BRE) over the stored bureau report and the KYC facts, then its evaluation
        engine; every rule's and item's outcome is stored (``loan_decisions``, stages BRE and EVALUATION)."""
        loan, customer, brand = await self._tx(self._context(req.loan_id))

        def decide(session: Session) -> CreditRulesResult:
            stored = queries.bureau_report_of(session, loan.id)
            if stored is None:  # the workflow pulls the bureau first: nothing a retry could fix
                raise ApplicationError("no bureau report for this loan", type="NoBureauReport", non_retryable=True)
            report = StoredReport(stored.score, stored.report, stored.provider, stored.reused_from is not None)
            return self._rules(session, req.idempotency_key, loan, customer, brand, report, req.facts)

        try:
            return await self._tx(decide)
        except LosError as exc:
            raise brand_config_error(exc) from exc

    def _rules(
        self,
        session: Session,
        key: str,
        loan: Loan,
        customer: Customer,
        brand: Brand,
        report: StoredReport,
        kyc_facts: dict[str, Any],
    ) -> CreditRulesResult:
        """BRE then evaluation; outcomes stored under ``<key>:bre`` and ``<key>:evaluation``."""
        facts = {k: revive(v) for k, v in kyc_facts.items()}
        facts.update(report.facts())
        # --- BRE (hard rules) -------------------------------------------------------------------
        blocklist = bre.Blocklist.from_entries(queries.blocklist_of(session, brand.id))
        # the brand's "bre" settings, or for older brands the same names at the top of the config
        config = bre.BreConfig.from_dict(BrandConfig.of(brand.config).bre_settings(), strict=False, blocklist=blocklist)
        last_rejected = queries.last_rejection_at(session, customer.id, other_than=loan.id)
        other_brand_active = 0
        if config.enable_central_dedup and customer.pan:
            other_brand_active = queries.live_loans_elsewhere(session, customer.pan, brand.id)
        # verified income first (bank statement), then the employment step's, then what the customer declared
        salary = (
            facts.get("kyc.bsa_avg_salary")
            or facts.get("kyc.monthly_salary")
            or queries.declared_salary(session, customer.id)
        )
        facts_in = bre.BreInput(
            application_date=date.today(),
            bureau_score=report.score,
            bureau_accounts=report.accounts(),
            active_loans=report.raw.get("active_loans"),
            enquiries_30d=report.raw.get("enquiries_30d"),
            pan=customer.pan,
            aadhaar_hash=customer.aadhaar_hash,
            phone=customer.phone,
            device_id=customer.device_id,
            dob=customer.dob,
            monthly_salary=int(salary) if salary is not None else None,
            last_rejected_on=last_rejected.date() if last_rejected else None,
            other_brand_active_loans=other_brand_active,
        )
        result = bre.run_bre(config, facts_in)
        queries.store_decision(
            session, loan.id, "BRE", result.outcome, None, jsonable(result.to_details()), f"{key}:bre"
        )
        # the brand's latest published credit-policy version (None: never published), on both stages' rows
        version = session.scalar(select(func.max(PolicyVersion.version)).where(PolicyVersion.brand_id == brand.id))
        _record_version(session, f"{key}:bre", version)
        if not result.passed:
            return CreditRulesResult(CreditOutcome.REJECT, [f"BRE_{reason}" for reason in result.reasons], stage="BRE")

        # --- evaluation engine ------------------------------------------------------------------
        outcome = evaluation.evaluate(self._policy(session, brand), {k: v for k, v in facts.items() if v is not None})
        queries.store_decision(
            session,
            loan.id,
            "EVALUATION",
            outcome.outcome,
            outcome.score,
            jsonable(outcome.to_details()),
            f"{key}:evaluation",
        )
        _record_version(session, f"{key}:evaluation", version)
        queries.update_loan(session, loan.id, evaluation_score=outcome.score)
        return CreditRulesResult(outcome.decision, [outcome.reason], str(outcome.score))

    @staticmethod
    def _policy(session: Session, brand: Brand) -> evaluation.EvaluationPolicy:
        """The brand's evaluation policy (``domain.evaluation_policy.brand_policy``): its active items, or without
        any the score bands of the brand's ``min_credit_score`` and ``auto_sanction_score``."""
        return brand_policy(BrandConfig.of(brand.config), queries.active_evaluation_items(session, brand.id))

    # ------------------------------------------------------------------ allocation
    @activity.defn
    async def credit_allocation(self, req: AllocationRequest) -> AllocationResult:
        """A manual-review loan to a staff member of the brand (stored as stage ALLOCATION, and the staff member
        notified); nobody free leaves it in the unallocated queue."""
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        assigned = await self._tx(
            lambda session: self._allocate(session, req.idempotency_key, loan, brand, date.today())
        )
        return AllocationResult(assigned)

    def _allocate(self, session: Session, key: str, loan: Loan, brand: Brand, on: date) -> str | None:
        """Round-robin over the staff holding the brand's allocation role (by default the credit executives,
        the first stage of the sanction hierarchy) with a workload cap, skipping those on leave. Stored under
        ``key``; the notification under ``<key>:notify``."""
        cfg = BrandConfig.of(brand.config)
        workload = queries.review_workload(session, brand.id)
        leave = queries.on_leave(session, on)
        candidates = [
            assignment.StaffCandidate(
                s.id,
                s.brand_id,
                s.role,
                s.is_active,
                workload.get(s.id, 0),
                frozenset(d for sid, d in leave if sid == s.id),
            )
            for s in queries.brand_staff(session, brand.id)
        ]
        picked = assignment.assign(
            candidates,
            brand_id=brand.id,
            role=cfg.allocation_role,
            on=on,
            last_assigned_id=queries.last_assignee(session, brand.id),
            cap=cfg.allocation_cap,
        )
        queries.store_decision(
            session,
            loan.id,
            "ALLOCATION",
            "ASSIGNED" if picked.assigned else "UNALLOCATED",
            None,
            jsonable([picked.to_dict()]),
            key,
        )
        if picked.assigned:
            queries.update_loan(session, loan.id, assigned_to=picked.staff_id, assigned_at=datetime.now(UTC))
            notify(
                session,
                str(picked.staff_id),
                brand.id,
                "NEW_ASSIGNMENT",
                "New loan for review",
                f"Loan {loan.id} needs a credit review",
                {"loanId": loan.id, "customerId": loan.customer_id},
                f"{key}:notify",
            )
        return picked.staff_id
