"""Changes to a running loan's schedule: part-prepayment (reduce EMI or reduce tenure), the foreclosure quote,
rescheduling and re-amortisation after an advance payment to principal. Each new schedule is generated from the
outstanding principal (``domain.schedule.engine.generate``) and continues the old numbering; amounts in paise.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from decimal import Decimal, localcontext
from enum import StrEnum

from domain.errors import ValidationError
from domain.money import round_paise
from domain.product import LoanTerms, Schedule
from domain.schedule.engine import generate
from domain.schedule.rates import daily_interest, periodic_rate

HUNDRED = Decimal(100)


class PrepaymentMode(StrEnum):
    REDUCE_EMI = "REDUCE_EMI"
    REDUCE_TENURE = "REDUCE_TENURE"


def _remaining_terms(
    schedule: Schedule, paid: int, balance: int, installments: int, first_due: date | None = None
) -> LoanTerms:
    """Terms for the rest of a loan: the outstanding balance from the last paid due date."""
    terms = schedule.terms
    anchor = schedule.rows[paid - 1].due_date if paid else terms.disbursed_on
    next_due = first_due or (schedule.rows[paid].due_date if paid < len(schedule.rows) else None)
    return replace(
        terms,
        principal=balance,
        installments=installments,
        disbursed_on=anchor,
        first_due=next_due,
        grace_principal=max(0, terms.grace_principal - paid),
        grace_interest=max(0, terms.grace_interest - paid),
    )


def _check_paid(schedule: Schedule, paid: int) -> int:
    if not 0 <= paid < len(schedule.rows):
        raise ValidationError(
            f"installments paid must be between 0 and {len(schedule.rows) - 1}", field="installments_paid"
        )
    return schedule.rows[paid - 1].balance if paid else schedule.terms.principal


def prepay(schedule: Schedule, installments_paid: int, amount: int, mode: PrepaymentMode) -> Schedule:
    """Part-prepayment of ``amount`` paise on the due date of installment ``installments_paid`` (after it is
    paid). REDUCE_EMI keeps the remaining count and lowers the EMI; REDUCE_TENURE keeps the EMI and
    shortens the loan (the last installment is smaller). The new schedule continues the old numbering."""
    if isinstance(amount, float):
        raise TypeError("amount: float is not allowed in money code")
    balance = _check_paid(schedule, installments_paid)
    if amount <= 0 or amount >= balance:
        raise ValidationError(
            "prepayment must be positive and less than the outstanding principal (use foreclosure to close the loan)",
            field="amount",
        )
    remaining = len(schedule.rows) - installments_paid
    new_balance = balance - amount
    if mode == PrepaymentMode.REDUCE_EMI:
        return generate(
            _remaining_terms(schedule, installments_paid, new_balance, remaining), first_number=installments_paid + 1
        )
    if mode != PrepaymentMode.REDUCE_TENURE:
        raise ValidationError(f"unknown prepayment mode {mode!r}", field="mode")
    terms = _remaining_terms(schedule, installments_paid, new_balance, remaining)
    rate = periodic_rate(terms)
    count = _installments_for(new_balance, rate, schedule.emi, remaining)
    return generate(replace(terms, installments=count), fixed_emi=schedule.emi, first_number=installments_paid + 1)


def _installments_for(balance: int, rate: Decimal, installment: int, ceiling: int) -> int:
    """Fewest installments of at most ``installment`` that repay ``balance`` at ``rate``."""
    if rate == 0:
        return max(1, min(ceiling, math.ceil(balance / installment)))
    with localcontext() as ctx:
        ctx.prec = 50
        ratio = 1 - Decimal(balance) * rate / installment
        if ratio <= 0:
            return ceiling
        exact = -(ratio.ln() / (1 + rate).ln())
    return max(1, min(ceiling, math.ceil(exact - Decimal("1e-12"))))


def foreclosure_amount(
    schedule: Schedule, installments_paid: int, on: date, *, unpaid_dues: int = 0, charge_percent: Decimal = Decimal(0)
) -> dict[str, int]:
    """What closes the loan on ``on``: outstanding principal, interest accrued DAILY (the product's day
    count) from the last due date (or disbursal) to ``on``, unpaid earlier dues, and a foreclosure charge
    as a percent of the outstanding principal (0 for floating-rate individual loans under RBI's rules)."""
    if isinstance(unpaid_dues, float) or isinstance(charge_percent, float):
        raise TypeError("float is not allowed in money code")
    balance = _check_paid(schedule, installments_paid) if installments_paid < len(schedule.rows) else 0
    since = schedule.rows[installments_paid - 1].due_date if installments_paid else schedule.terms.disbursed_on
    if on < since:
        raise ValidationError("foreclosure date is before the last paid due date", field="on")
    if not Decimal(0) <= charge_percent <= HUNDRED:
        raise ValidationError("charge percent must be between 0 and 100", field="charge_percent")
    interest = round_paise(daily_interest(balance, schedule.terms, since, on)) if balance else 0
    charge = round_paise(Decimal(balance) * charge_percent / HUNDRED)
    return {
        "principal": balance,
        "interest": interest,
        "unpaid_dues": unpaid_dues,
        "charge": charge,
        "total": balance + interest + unpaid_dues + charge,
    }


def reschedule(
    schedule: Schedule,
    installments_paid: int,
    *,
    first_due: date,
    installments: int,
    annual_rate: Decimal | None = None,
) -> Schedule:
    """A new schedule for the outstanding principal after ``installments_paid``: new due dates starting at
    ``first_due``, a new count and optionally a new rate (interest for the gap follows the real days)."""
    balance = _check_paid(schedule, installments_paid)
    anchor = schedule.rows[installments_paid - 1].due_date if installments_paid else schedule.terms.disbursed_on
    if first_due <= anchor:
        raise ValidationError("the new first due date must be after the last paid due date", field="first_due")
    terms = _remaining_terms(schedule, installments_paid, balance, installments, first_due)
    if annual_rate is not None:
        terms = replace(terms, annual_rate=annual_rate)
    return generate(terms, first_number=installments_paid + 1)


def reamortize(
    terms: LoanTerms,
    *,
    balance: int,
    anchor: date,
    next_due: date,
    remaining: int,
    current_emi: int,
    mode: PrepaymentMode | str,
    first_number: int,
) -> Schedule:
    """The rest of a loan after an advance payment to principal: ``balance`` outstanding from ``anchor``
    (the last settled due date), next due on ``next_due``, at most ``remaining`` installments.
    REDUCE_TENURE keeps ``current_emi`` and drops installments from the end; REDUCE_EMI keeps the count."""
    if balance <= 0:
        raise ValidationError("nothing left to re-amortise", field="balance")
    mode = PrepaymentMode(mode)
    rest = replace(
        terms,
        principal=balance,
        installments=remaining,
        disbursed_on=anchor,
        first_due=next_due,
        grace_principal=0,
        grace_interest=0,
    )
    if mode == PrepaymentMode.REDUCE_EMI:
        return generate(rest, first_number=first_number)
    count = _installments_for(balance, periodic_rate(rest), current_emi, remaining)
    return generate(replace(rest, installments=count), fixed_emi=current_emi, first_number=first_number)
