"""The facts and versions past credit decisions ran on, read back for the policy routes (explain and simulation,
``api/partner/policy.py``): :func:`past_applications` for a whole sample in a fixed number of queries, a decision
made before its inputs were stored rebuilt from its rows (``domain.credit_facts.build_facts``). Runs in the caller's
transaction; what is stored at decision time is in ``db.credit_policy``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from db.credit_policy import blocklist_changes, replay_blocklists
from db.models import BureauReport, Customer, Employment, Loan, LoanDecision
from db.models.operations import CreditDecisionInput
from domain.credit_facts import ApplicationRecord, CreditFacts, build_facts
from domain.policy_simulation import PastApplication
from domain.rules import Decision


@dataclass(frozen=True)
class PastDecision:
    """A decided application as the policy routes read it: its latest BRE and EVALUATION rows, the facts and the
    blocklist it ran on (``application``), the policy version it recorded, and its blocklist version
    (``stored``: False for a decision made before its inputs were stored, whose facts are rebuilt from its rows
    and whose blocklist is the version in force when it was made)."""

    application: PastApplication
    bre_row: LoanDecision
    eval_row: LoanDecision | None
    policy_version: int | None
    blocklist_version: int
    stored: bool


def recorded_decision(bre_row: LoanDecision, eval_row: LoanDecision | None) -> Decision:
    """The outcome a past decision recorded: REJECT when the BRE did not pass (or no evaluation followed), else
    the evaluation's."""
    if bre_row.outcome != "PASS" or eval_row is None:
        return Decision.REJECT
    return Decision(eval_row.outcome)


def past_applications(
    session: Session, brand_id: str, *, limit: int | None = None, loan_ids: Sequence[str] | None = None
) -> list[PastDecision]:
    """The brand's decided applications, the last decided first: the last ``limit`` of them, or those of
    ``loan_ids``. Set-based: the sample, its decision rows, its stored inputs and the brand's blocklist changes are
    four queries whatever the sample's size; decisions made before inputs were stored add three (their customers,
    bureau reports and declared salaries)."""
    last = (
        select(LoanDecision.loan_id, Loan.amount, Loan.customer_id, func.max(LoanDecision.created_at).label("at"))
        .join(Loan, Loan.id == LoanDecision.loan_id)
        .where(Loan.brand_id == brand_id, LoanDecision.stage == "BRE")
        .group_by(LoanDecision.loan_id, Loan.amount, Loan.customer_id)
        .order_by(func.max(LoanDecision.created_at).desc(), LoanDecision.loan_id)
    )
    if loan_ids is not None:
        last = last.where(LoanDecision.loan_id.in_(list(loan_ids)))
    if limit is not None:
        last = last.limit(limit)
    sample = session.execute(last).all()
    if not sample:
        return []
    ids = [r.loan_id for r in sample]
    rows: dict[str, list[LoanDecision]] = {}
    for row in session.scalars(
        select(LoanDecision)
        .where(LoanDecision.loan_id.in_(ids), LoanDecision.stage.in_(("BRE", "EVALUATION")))
        .order_by(LoanDecision.created_at, LoanDecision.id)
    ):
        rows.setdefault(row.loan_id, []).append(row)
    inputs: dict[str, CreditDecisionInput] = {}
    for stored_row in session.scalars(
        select(CreditDecisionInput).where(CreditDecisionInput.loan_id.in_(ids)).order_by(CreditDecisionInput.created_at)
    ):
        inputs[stored_row.loan_id] = stored_row  # the latest decision's
    changes = blocklist_changes(session, brand_id)
    legacy = [r for r in sample if r.loan_id not in inputs]
    customers: dict[str, Customer] = {}
    reports: dict[str, BureauReport] = {}
    declared: dict[str, int | None] = {}
    if legacy:
        customer_ids = list({r.customer_id for r in legacy})
        customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(customer_ids)))}
        reports = {
            b.loan_id: b
            for b in session.scalars(select(BureauReport).where(BureauReport.loan_id.in_([r.loan_id for r in legacy])))
        }
        for customer_id, salary in session.execute(
            select(Employment.customer_id, Employment.monthly_salary)
            .where(Employment.customer_id.in_(customer_ids))
            .order_by(Employment.customer_id, Employment.created_at.desc())
            .ext(distinct_on(Employment.customer_id))
        ):
            declared[customer_id] = salary

    found = []
    for r in sample:
        decided = rows.get(r.loan_id, [])
        bre_row = next((d for d in reversed(decided) if d.stage == "BRE"), None)
        eval_row = next((d for d in reversed(decided) if d.stage == "EVALUATION"), None)
        if bre_row is None:
            continue
        stored = inputs.get(r.loan_id)
        if stored is not None:
            facts = CreditFacts.from_json(stored.facts)
            blocklist_version = stored.blocklist_version
        else:
            facts = _rebuilt(bre_row, eval_row, customers[r.customer_id], reports.get(r.loan_id), declared)
            blocklist_version = max((c.version for c in changes if c.created_at <= bre_row.created_at), default=0)
        found.append((r, bre_row, eval_row, stored, facts, blocklist_version))
    blocklists = replay_blocklists(changes, [f[5] for f in found])
    return [
        PastDecision(
            PastApplication(
                r.loan_id,
                facts.bre_input,
                facts.facts,
                recorded_decision(bre_row, eval_row),
                int(r.amount),
                blocklist=blocklists[version],
            ),
            bre_row,
            eval_row,
            bre_row.policy_version if stored is None else stored.policy_version,
            version,
            stored is not None,
        )
        for r, bre_row, eval_row, stored, facts, version in found
    ]


def _rebuilt(
    bre_row: LoanDecision,
    eval_row: LoanDecision | None,
    customer: Customer,
    report: BureauReport | None,
    declared: dict[str, int | None],
) -> CreditFacts:
    """The facts of a decision made before its inputs were stored, rebuilt from what it stored, through the same
    builder: every metric the evaluation row observed, the BRE rows' observed salary, cooling-period days and
    other-brand loans, the loan's bureau report, the customer's identifiers as they are now, and the decision's
    day. A fact the recorded policy did not read is missing (a salary falls back to the declared one)."""
    on = bre_row.created_at.date()
    observed = {d.get("rule"): d.get("observed") for d in bre_row.details or [] if isinstance(d, dict)}
    kyc: dict[str, Any] = {}
    if eval_row is not None:
        kyc.update({d["metric"]: _revive(d.get("observed")) for d in eval_row.details or [] if d.get("metric")})
    days = observed.get("COOLING_PERIOD")
    salary = observed.get("SALARY_THRESHOLD") or declared.get(customer.id)
    record = ApplicationRecord(
        application_date=on,
        bureau_score=report.score if report is not None else None,
        bureau_report=report.report if report is not None else {},
        pan=customer.pan,
        aadhaar_hash=customer.aadhaar_hash,
        phone=customer.phone,
        device_id=customer.device_id,
        dob=customer.dob,
        kyc_facts={k: v for k, v in kyc.items() if not k.startswith("bureau.")},
        declared_salary=int(Decimal(str(salary))) if salary is not None else None,
        last_rejected_on=on - timedelta(days=int(days)) if isinstance(days, int) else None,
        other_brand_active_loans=observed.get("CENTRAL_DEDUP"),
    )
    return build_facts(record)


def _revive(value: Any) -> Any:
    """An observed value as the decision held it: a decimal stored as text back to a ``Decimal``."""
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    return value
