"""CAM (Credit Appraisal Memo) calculator: salary, FOIR and the eligible / recommended loan amount.

Follows seed 001's ``CAMCalculator`` model (salaryCreditDate1/2/3, salaryAmount1/2/3, avgSalary /
actualSalary, eligibleFoir / foirAchieved / proposedFoir, loanApplied / eligibleLoan / loanRecommended,
roi, obligations) and seed 000's "CAM Calculator Flow" (avg salary from up to 3 months of salary credits;
FOIR = Fixed Obligation to Income Ratio; eligible loan = max loan based on FOIR; the credit executive
sets the recommended amount).

Conventions (money in integer paise; percentages and rates are ``Decimal`` percent):

* ``avg_salary`` = arithmetic mean of the 1–3 salary credits, rounded **down** to the paisa (never
  overstates income). ``income`` (the FOIR denominator) = ``actual_salary`` when the executive entered
  one (the assessed salary, e.g. net of non-salary credits), else ``avg_salary``.
* ``foir_achieved`` = obligations ÷ income × 100; ``proposed_foir`` = (obligations + proposed EMI) ÷
  income × 100. Both reported quantized half-up to 0.01 (percent); the policy check
  ``within_policy`` compares the exact fractions.
* ``max_emi`` = income × eligible_foir ÷ 100 − obligations, rounded down to the paisa, never below 0.
* ``eligible_loan`` = the principal whose EMI is ``max_emi`` at ``roi`` over ``tenure_months``: the
  standard reducing-balance EMI formula EMI = P·r·(1+r)^n / ((1+r)^n − 1) inverted,
  P = EMI·((1+r)^n − 1) / (r·(1+r)^n), with r = roi ÷ 12 ÷ 100 (monthly rest, the
  schedule engine's "same as repayment period" rate for monthly installments) and P = EMI·n at r = 0.
  Evaluated in ``Decimal`` at 50 significant digits and quantized **down** to a multiple of
  ``round_eligible_to`` paise (1 = the paisa, 100 = the rupee), so the EMI of the eligible loan
  (:func:`emi_for_principal`, half-up to the paisa as the schedule engine rounds it) never exceeds
  ``max_emi``.
* ``loan_recommended`` = min(loan_applied, eligible_loan) rounded **down** to a multiple of
  ``recommend_multiple`` paise, unless the executive overrides it (then ``within_policy`` says whether
  the override fits the FOIR policy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext

from domain.errors import ValidationError

MAX_SALARY_CREDITS = 3
PERCENT_PLACES = Decimal("0.01")
_PREC = 50


def _paise(value: object, field: str, *, positive: bool = False) -> int:
    if isinstance(value, float):
        raise TypeError(f"{field}: float is not allowed in money code, use int paise")
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError("must be a whole number of paise", field=field)
    if value < 0 or (positive and value == 0):
        raise ValidationError("must be positive" if positive else "cannot be negative", field=field)
    return value


def _percent(value: object, field: str, *, low: Decimal, high: Decimal, low_open: bool = False) -> Decimal:
    if isinstance(value, float):
        raise TypeError(f"{field}: float is not allowed in money code, use Decimal or str")
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise ValidationError("must be a decimal percentage", field=field)
    try:
        number = Decimal(value)
    except Exception as exc:  # decimal.InvalidOperation
        raise ValidationError(f"not a decimal percentage: {value!r}", field=field) from exc
    if not number.is_finite() or number > high or number < low or (low_open and number == low):
        raise ValidationError(f"must be {'above' if low_open else 'at least'} {low} and at most {high}", field=field)
    return number


def _multiple(value: object, field: str) -> int:
    return _paise(value, field, positive=True)


def monthly_rate(roi: Decimal) -> Decimal:
    """Monthly periodic rate as a fraction: roi (% p.a.) ÷ 12 ÷ 100, exact (the schedule
    engine's "same as repayment period" rate for monthly installments)."""
    roi = _percent(roi, "roi", low=Decimal(0), high=Decimal(1000))
    with localcontext() as ctx:
        ctx.prec = _PREC
        return roi / 1200


def average_salary(amounts: Sequence[int]) -> int:
    """Mean of 1–3 monthly salary credits in paise, exact in Decimal, rounded down to the paisa.

    Convention from seed 000 "CAM Calculator Flow": avgSalary over up to 3 months of salary credits."""
    if isinstance(amounts, str | bytes) or not isinstance(amounts, Sequence):
        raise ValidationError("salary credits must be a list of amounts", field="salary_credits")
    if not 1 <= len(amounts) <= MAX_SALARY_CREDITS:
        raise ValidationError("give 1 to 3 salary credits", field="salary_credits")
    values = [_paise(a, f"salary_amount_{i}", positive=True) for i, a in enumerate(amounts, start=1)]
    return sum(values) // len(values)  # floor division of non-negative ints: rounds down to the paisa


def foir_percent(obligations: int, income: int) -> Decimal:
    """FOIR in percent: obligations ÷ income × 100, quantized half-up to 0.01. Income must be positive."""
    obligations = _paise(obligations, "obligations")
    income = _paise(income, "income", positive=True)
    with localcontext() as ctx:
        ctx.prec = _PREC
        return (Decimal(obligations) * 100 / Decimal(income)).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)


def max_emi(income: int, eligible_foir: Decimal, obligations: int) -> int:
    """EMI capacity at the policy FOIR: income × eligible_foir ÷ 100 − obligations, rounded down to the
    paisa, and 0 when existing obligations already use the whole FOIR."""
    income = _paise(income, "income", positive=True)
    foir = _percent(eligible_foir, "eligible_foir", low=Decimal(0), high=Decimal(100), low_open=True)
    obligations = _paise(obligations, "obligations")
    with localcontext() as ctx:
        ctx.prec = _PREC
        capacity = (Decimal(income) * foir / 100).to_integral_value(rounding=ROUND_DOWN)
    return max(int(capacity) - obligations, 0)


def principal_for_emi(emi: int, roi: Decimal, tenure_months: int, *, round_to: int = 1) -> int:
    """The largest principal (a multiple of ``round_to`` paise) whose exact EMI is at most ``emi``.

    P = EMI·((1+r)^n − 1) / (r·(1+r)^n), r = roi ÷ 1200 (the reducing-balance EMI formula inverted;
    P = EMI·n when r = 0), computed in Decimal at 50 significant digits and quantized DOWN to a multiple
    of ``round_to`` paise (1 = the paisa, 100 = the rupee). Hence ``emi_for_principal(P, roi, n)`` ≤ ``emi``.
    """
    emi = _paise(emi, "emi")
    n = _tenure(tenure_months)
    step = _multiple(round_to, "round_to")
    r = monthly_rate(roi)
    with localcontext() as ctx:
        ctx.prec = _PREC
        if r == 0:
            exact = Decimal(emi) * n
        else:
            growth = (1 + r) ** n
            exact = Decimal(emi) * (growth - 1) / (r * growth)
        units = (exact / step).to_integral_value(rounding=ROUND_DOWN)
    return int(units) * step


def emi_for_principal(principal: int, roi: Decimal, tenure_months: int) -> int:
    """Monthly EMI in paise: P·r·(1+r)^n / ((1+r)^n − 1), r = roi ÷ 1200, half-up to the paisa (P ÷ n
    rounded up when r = 0) — the standard reducing-balance EMI, rounded as the schedule engine rounds
    an EMI to the paisa. Used for the CAM's proposed EMI and FOIR."""
    principal = _paise(principal, "principal")
    n = _tenure(tenure_months)
    r = monthly_rate(roi)
    if r == 0:
        return -(-principal // n)
    with localcontext() as ctx:
        ctx.prec = _PREC
        growth = (1 + r) ** n
        exact = Decimal(principal) * r * growth / (growth - 1)
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def recommended_amount(applied: int, eligible: int, multiple: int = 1) -> int:
    """min(applied, eligible) rounded down to a multiple of ``multiple`` paise (e.g. 1000_00 for
    ₹1,000 steps). Seed 001 CAMCalculator: loanApplied / eligibleLoan / loanRecommended."""
    applied = _paise(applied, "loan_applied", positive=True)
    eligible = _paise(eligible, "eligible_loan")
    step = _multiple(multiple, "recommend_multiple")
    return min(applied, eligible) // step * step


def _tenure(value: object) -> int:
    if isinstance(value, float):
        raise TypeError("tenure_months: float is not allowed")
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1200:
        raise ValidationError("tenure must be 1 to 1200 months", field="tenure_months")
    return value


@dataclass(frozen=True)
class SalaryCredit:
    amount: int  # paise
    credit_date: date | None = None

    def __post_init__(self) -> None:
        _paise(self.amount, "salary_amount", positive=True)
        if self.credit_date is not None and (
            isinstance(self.credit_date, datetime) or not isinstance(self.credit_date, date)
        ):
            raise ValidationError("must be a calendar date", field="salary_credit_date")


@dataclass(frozen=True)
class CamInput:
    salary_credits: tuple[SalaryCredit, ...]  # 1–3, as entered (salaryCreditDate1-3 / salaryAmount1-3)
    obligations: int  # existing monthly EMIs, paise
    eligible_foir: Decimal  # policy FOIR limit, % (e.g. Decimal("50"))
    loan_applied: int  # paise
    roi: Decimal  # % p.a.
    tenure_months: int
    actual_salary: int | None = None  # assessed salary, paise; used for FOIR when given
    round_eligible_to: int = 1  # paise: 1 = paisa, 100 = rupee
    recommend_multiple: int = 1  # paise
    loan_recommended: int | None = None  # the executive's override, paise
    salary_threshold: int = 0  # brand's minimum salary (BrandConfig.salaryThresholdAmount), paise


@dataclass(frozen=True)
class CamResult:
    salary_credits: tuple[SalaryCredit, ...]
    avg_salary: int
    actual_salary: int | None
    income: int  # the FOIR denominator
    obligations: int
    eligible_foir: Decimal
    foir_achieved: Decimal
    max_emi: int
    eligible_loan: int
    loan_applied: int
    loan_recommended: int
    proposed_emi: int
    proposed_foir: Decimal
    roi: Decimal
    tenure_months: int
    within_policy: bool  # proposed FOIR ≤ eligible FOIR (exact)
    meets_salary_threshold: bool

    def as_record(self) -> dict[str, object]:
        """The seed 001 ``CAMCalculator`` fields (camelCase). Amounts in paise, percentages as strings."""
        record: dict[str, object] = {}
        for i in range(1, MAX_SALARY_CREDITS + 1):
            credit = self.salary_credits[i - 1] if i <= len(self.salary_credits) else None
            when = credit.credit_date if credit else None
            record[f"salaryCreditDate{i}"] = when.isoformat() if when else None
            record[f"salaryAmount{i}"] = credit.amount if credit else None
        record.update(
            avgSalary=self.avg_salary,
            actualSalary=self.actual_salary,
            eligibleFoir=str(self.eligible_foir),
            foirAchieved=str(self.foir_achieved),
            proposedFoir=str(self.proposed_foir),
            loanApplied=self.loan_applied,
            eligibleLoan=self.eligible_loan,
            loanRecommended=self.loan_recommended,
            roi=str(self.roi),
            obligations=self.obligations,
        )
        return record


def calculate_cam(inp: CamInput) -> CamResult:
    """Compute a CAM from the executive's inputs. Conventions (rounding, EMI formula, FOIR) are in the
    module docstring; the model and flow follow seed 001 ``CAMCalculator`` and seed 000 "CAM Calculator
    Flow". Raises TypeError on floats, ValidationError naming the field on bad input."""
    if not isinstance(inp, CamInput):
        raise ValidationError("expected a CamInput", field="cam")
    credits = tuple(inp.salary_credits)
    for credit in credits:
        if not isinstance(credit, SalaryCredit):
            raise ValidationError("each salary credit must be a SalaryCredit", field="salary_credits")
    avg = average_salary([c.amount for c in credits])
    actual = None if inp.actual_salary is None else _paise(inp.actual_salary, "actual_salary", positive=True)
    income = actual if actual is not None else avg
    obligations = _paise(inp.obligations, "obligations")
    foir = _percent(inp.eligible_foir, "eligible_foir", low=Decimal(0), high=Decimal(100), low_open=True)
    roi = _percent(inp.roi, "roi", low=Decimal(0), high=Decimal(1000))
    tenure = _tenure(inp.tenure_months)
    applied = _paise(inp.loan_applied, "loan_applied", positive=True)
    threshold = _paise(inp.salary_threshold, "salary_threshold")

    capacity = max_emi(income, foir, obligations)
    eligible = principal_for_emi(capacity, roi, tenure, round_to=inp.round_eligible_to)
    if inp.loan_recommended is None:
        recommended = recommended_amount(applied, eligible, inp.recommend_multiple)
    else:
        recommended = _paise(inp.loan_recommended, "loan_recommended")
        if recommended > applied:
            raise ValidationError("cannot recommend more than the customer applied for", field="loan_recommended")
    proposed_emi = emi_for_principal(recommended, roi, tenure)
    return CamResult(
        salary_credits=credits,
        avg_salary=avg,
        actual_salary=actual,
        income=income,
        obligations=obligations,
        eligible_foir=foir,
        foir_achieved=foir_percent(obligations, income),
        max_emi=capacity,
        eligible_loan=eligible,
        loan_applied=applied,
        loan_recommended=recommended,
        proposed_emi=proposed_emi,
        proposed_foir=foir_percent(obligations + proposed_emi, income),
        roi=roi,
        tenure_months=tenure,
        within_policy=(obligations + proposed_emi) * 100 <= foir * income,
        meets_salary_threshold=income >= threshold,
    )
