"""Credit policy: what the policy routes (``api/partner/policy.py``) read — the brand's current configuration (BRE
rules and evaluation policy) as a JSON snapshot, the blocklist, the policy the domain engines take, the latest
published version, and the facts a past decision saw, rebuilt from what it stored (``PastApplication``)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.evaluation_items import active_evaluation_items
from db.models import (
    BlocklistEntry,
    Brand,
    BureauReport,
    Customer,
    Employment,
    Loan,
    LoanDecision,
    PolicyVersion,
)
from domain import bre, evaluation
from domain.brand_config import BrandConfig
from domain.evaluation_policy import default_items
from domain.policy_simulation import PastApplication, Policy
from domain.rules import Decision


def jsonable(value: Any) -> Any:
    """``value`` as JSON stores it: dicts and lists walked, booleans, integers, text and null kept, the rest (a
    Decimal, a date) as its text."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    return str(value)


def current_config(session: Session, brand: Brand) -> dict[str, Any]:
    """The brand's credit policy as it is now: ``bre`` (``BreConfig.to_dict``: every rule, None unset) and
    ``evaluation`` (what ``domain.evaluation_policy.brand_policy`` builds from: version, thresholds, items)."""
    config = BrandConfig.of(brand.config or {})
    rules = bre.BreConfig.from_dict(config.bre_settings(), strict=False).to_dict()
    items = active_evaluation_items(session, brand.id)
    return jsonable(
        {
            "bre": rules,
            "evaluation": {
                "version": config.evaluation_version,
                "auto_sanction_threshold": config.auto_sanction_threshold,
                "manual_review_threshold": config.manual_review_threshold,
                "items": [dict(i) for i in items] or default_items(config),
            },
        }
    )


def brand_blocklist(session: Session, brand_id: str) -> bre.Blocklist:
    """The brand's blocklist now (kind, value pairs), as the BRE takes it."""
    rows = session.execute(select(BlocklistEntry.kind, BlocklistEntry.value).where(BlocklistEntry.brand_id == brand_id))
    return bre.Blocklist.from_entries([(k, v) for k, v in rows])


def policy_of(config: dict[str, Any], blocklist: bre.Blocklist) -> Policy:
    """A stored configuration (a version's, or a draft merged into the current one) as the domain's policy. The
    blocklist is the brand's current one (it is a list of identifiers, not a rule, and is not versioned)."""
    return Policy(
        bre.BreConfig.from_dict(config["bre"], strict=False, blocklist=blocklist),
        evaluation.EvaluationPolicy.from_dict(config["evaluation"]),
    )


def latest_version(session: Session, brand_id: str) -> int:
    """The brand's latest published policy version; 0 before the first."""
    return session.scalar(select(func.max(PolicyVersion.version)).where(PolicyVersion.brand_id == brand_id)) or 0


# ---------------------------------------------------------------------------------------------- facts
def decision_rows(session: Session, loan_id: str) -> tuple[LoanDecision | None, LoanDecision | None]:
    """The loan's latest BRE and EVALUATION decision rows (either None when it has none)."""
    rows = session.scalars(
        select(LoanDecision)
        .where(LoanDecision.loan_id == loan_id, LoanDecision.stage.in_(("BRE", "EVALUATION")))
        .order_by(LoanDecision.created_at)
    ).all()
    bre_row = next((r for r in reversed(rows) if r.stage == "BRE"), None)
    eval_row = next((r for r in reversed(rows) if r.stage == "EVALUATION"), None)
    return bre_row, eval_row


def recorded_decision(bre_row: LoanDecision, eval_row: LoanDecision | None) -> Decision:
    """The outcome a past decision recorded: REJECT when the BRE did not pass (or no evaluation followed), else
    the evaluation's."""
    if bre_row.outcome != "PASS" or eval_row is None:
        return Decision.REJECT
    return Decision(eval_row.outcome)


def stored_facts(session: Session, loan: Loan, bre_row: LoanDecision, eval_row: LoanDecision | None) -> PastApplication:
    """The facts the decision saw, read back from what it stored: the loan's bureau report (score, tradelines,
    active loans, enquiries), the customer's identifiers and date of birth, the BRE rows' observed salary,
    cooling-period days and other-brand loans, and every metric the evaluation row observed (the KYC and bank
    statement facts). A fact the recorded policy did not read is missing (a salary falls back to the declared
    one), as it would be for the decision (rules fail closed)."""
    customer = session.get_one(Customer, loan.customer_id)
    report = session.scalars(select(BureauReport).where(BureauReport.loan_id == loan.id)).first()
    raw = report.report if report is not None else {}
    on = bre_row.created_at.date()
    observed = {d.get("rule"): d.get("observed") for d in bre_row.details or [] if isinstance(d, dict)}
    facts: dict[str, Any] = {}
    if eval_row is not None:
        facts.update({d["metric"]: d.get("observed") for d in eval_row.details or [] if d.get("metric")})
    if report is not None:
        facts.update(
            {
                "bureau.score": report.score,
                "bureau.active_loans": raw.get("active_loans"),
                "bureau.enquiries_30d": raw.get("enquiries_30d"),
            }
        )
    salary = observed.get("SALARY_THRESHOLD") or facts.get("kyc.bsa_avg_salary") or facts.get("kyc.monthly_salary")
    if salary is None:  # the declared salary, the decision's last resort
        salary = session.scalar(
            select(Employment.monthly_salary)
            .where(Employment.customer_id == customer.id)
            .order_by(Employment.created_at.desc())
            .limit(1)
        )
    days = observed.get("COOLING_PERIOD")
    accounts = [
        bre.BureauAccount(
            dpd_history=tuple((date.fromisoformat(m), int(d)) for m, d in a.get("dpd_by_month", [])),
            is_active=a.get("status") == "ACTIVE",
        )
        for a in raw.get("accounts_parsed") or []
    ]
    facts_in = bre.BreInput(
        application_date=on,
        bureau_score=report.score if report is not None else None,
        bureau_accounts=accounts,
        active_loans=raw.get("active_loans"),
        enquiries_30d=raw.get("enquiries_30d"),
        pan=customer.pan,
        aadhaar_hash=customer.aadhaar_hash,
        phone=customer.phone,
        device_id=customer.device_id,
        dob=customer.dob,
        monthly_salary=int(Decimal(str(salary))) if salary is not None else None,
        last_rejected_on=on - timedelta(days=int(days)) if isinstance(days, int) else None,
        other_brand_active_loans=observed.get("CENTRAL_DEDUP"),
    )
    return PastApplication(loan.id, facts_in, facts, recorded_decision(bre_row, eval_row), int(loan.amount))
