"""The credit decision, in three activities: the bureau pull (with failover; a report on the same customer younger
than 24 hours is reused), the brand's hard rules (BRE) and evaluation engine (every outcome stored), and the
allocation of a manual-review loan to a staff member (round robin, leave and workload cap)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.kyc import queries
from activities.kyc.common import KycBase, jsonable, revive
from db import credit_policy
from db.models import Brand, Customer, Loan, LoanDecision
from db.notifications import notify
from domain import assignment, bre, evaluation
from domain.brand_config import BrandConfig
from domain.credit_facts import CreditFacts, build_facts
from domain.errors import LosError
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
    """A bureau report as stored (fresh or reused): score plus the raw answer the rules read (through
    ``domain.credit_facts.build_facts``)."""

    def __init__(self, score: int, raw: dict, provider: str = "-", reused: bool = False):
        self.score = score
        self.raw = raw
        self.provider = provider
        self.reused = reused
        self.active_loans = raw.get("active_loans")


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
        """BRE then evaluation; outcomes stored under ``<key>:bre`` and ``<key>:evaluation``, what they ran on
        under ``<key>:inputs``.

        The policy run is the snapshot the decision records: the brand's configuration now
        (``db.credit_policy.current_config``), whose version is the latest one when unchanged or a new one published
        by this decision (``policy_version_in_force``); the blocklist is read at its latest version. The facts are
        built by ``domain.credit_facts.build_facts`` from what ``db.credit_policy.gather_application`` reads, the
        same builder explain and simulation use, and stored as built.

        Run again under the same key (a retried attempt, or the local activity re-run with its workflow task), it
        runs the first run's stored facts against the policy and blocklist versions that run recorded, so it answers
        the first verdict even when the brand's policy changed in between; nothing is stored twice and no policy
        version is published for it."""
        first = credit_policy.stored_inputs(session, f"{key}:inputs")
        if first is not None:
            version, blocklist_version = first.policy_version, first.blocklist_version
            config = (credit_policy.config_at(session, brand.id, version) if version else None) or (
                credit_policy.current_config(session, brand)
            )
            entries = credit_policy.blocklist_entries_at(session, brand.id, blocklist_version)
        else:
            config = credit_policy.current_config(session, brand)
            version = credit_policy.policy_version_in_force(session, brand.id, config)
            blocklist_version, entries = credit_policy.blocklist_in_force(session, brand.id)
        rules = bre.BreConfig.from_dict(config["bre"], strict=False, blocklist=bre.Blocklist.from_entries(entries))
        if first is not None:
            facts = CreditFacts.from_json(first.facts)
        else:
            record = credit_policy.gather_application(
                session,
                loan_id=loan.id,
                brand_id=brand.id,
                customer=customer,
                bureau_score=report.score,
                bureau_report=report.raw,
                kyc_facts={k: revive(v) for k, v in kyc_facts.items()},
                on=date.today(),
                central_dedup=bool(rules.enable_central_dedup),
            )
            facts = build_facts(record)
        # --- BRE (hard rules) -------------------------------------------------------------------
        result = bre.run_bre(rules, facts.bre_input)
        queries.store_decision(
            session, loan.id, "BRE", result.outcome, None, jsonable(result.to_details()), f"{key}:bre"
        )
        _record_version(session, f"{key}:bre", version)
        credit_policy.record_inputs(session, loan.id, f"{key}:inputs", version, blocklist_version, facts)
        if not result.passed:
            return CreditRulesResult(CreditOutcome.REJECT, [f"BRE_{reason}" for reason in result.reasons], stage="BRE")

        # --- evaluation engine (its policy read only when the hard rules pass, as before) ----------
        policy = evaluation.EvaluationPolicy.from_dict(config["evaluation"])
        outcome = evaluation.evaluate(policy, facts.evaluation_facts())
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
        ``key``; the notification under ``<key>:notify``. Run again under the same key (a retried attempt, or the
        local activity re-run with its workflow task), it answers the first run's pick and changes nothing: the
        round robin has moved on since, and would otherwise hand the loan to the next person."""
        done = session.scalars(select(LoanDecision.details).where(LoanDecision.idempotency_key == key)).first()
        if done is not None:
            first = done[0] if isinstance(done, list) and done else {}
            return first.get("staffId") if isinstance(first, dict) else None
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
