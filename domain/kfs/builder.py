"""The KFS of one loan built from its schedule and upfront charges (``build_kfs``): every amount taken from them
as computed, the APR from ``domain.apr`` (RBI KFS circular of 15 April 2024, Annex B), the fee rows of item 8 and
the contingent charges of item 10 as the text shown to the borrower.
"""

from __future__ import annotations

from datetime import date

from domain import apr as apr_mod
from domain.charges import DEFAULT_COOLING_OFF_DAYS, ChargeConfig, ChargeKind, KfsHead, UpfrontCharges
from domain.errors import ValidationError
from domain.kfs.statement import (
    NIL,
    ContingentCharges,
    Disclosures,
    FeeItem,
    FloatingRateInfo,
    InterestRateType,
    KeyFactStatement,
    PayableTo,
    Recurrence,
    RepaymentRow,
    _pct,
)
from domain.money import format_inr
from domain.product import Frequency, Schedule, parse_enum


def _frequency_text(schedule: Schedule) -> str:
    terms = schedule.terms
    if terms.daily_rate is not None or len(schedule.rows) == 1:
        return "Bullet (single repayment)"
    every, freq = terms.repay_every, terms.frequency
    if freq == Frequency.MONTHS:
        return {1: "Monthly", 3: "Quarterly", 6: "Half-yearly", 12: "Yearly"}.get(every, f"Every {every} months")
    if freq == Frequency.WEEKS:
        return {1: "Weekly", 2: "Fortnightly"}.get(every, f"Every {every} weeks")
    return "Daily" if every == 1 else f"Every {every} days"


def _term_text(schedule: Schedule, term_days: int) -> str:
    terms = schedule.terms
    if terms.frequency == Frequency.MONTHS and terms.first_due is None and terms.daily_rate is None:
        months = terms.installments * terms.repay_every
        return f"{months} month" + ("s" if months != 1 else "")
    return f"{term_days} day" + ("s" if term_days != 1 else "")


def _fee_items(charges: UpfrontCharges, schedule: Schedule) -> tuple[FeeItem, ...]:
    items = [
        FeeItem(
            line.name,
            line.kfs_head,
            line.kind,
            PayableTo.THIRD_PARTY if line.kind == ChargeKind.THIRD_PARTY else PayableTo.RE,
            Recurrence.ONE_TIME,
            line.amount,
            line.basis,
        )
        for line in charges.lines
    ]
    fees = [r.fees for r in schedule.rows if r.fees]
    if fees:
        per = max(fees, key=fees.count)  # the usual per-installment fee (first of the most common)
        items.append(
            FeeItem(
                "Installment fee",
                KfsHead.OTHER,
                ChargeKind.LENDER_FEE,
                PayableTo.RE,
                Recurrence.RECURRING,
                per,
                "per instalment",
            )
        )
    return tuple(items)


def _contingent(config: ChargeConfig | None) -> ContingentCharges:
    if config is None:
        return ContingentCharges()
    foreclosure = NIL
    if config.foreclosure_percent is not None and config.foreclosure_percent > 0:
        foreclosure = f"{_pct(config.foreclosure_percent)}% of the principal outstanding"
    return ContingentCharges(
        penal_delayed_payment=config.penal.describe() if config.penal else NIL,
        other_penal=config.other_penal or NIL,
        foreclosure=foreclosure,
        switching=config.switching_charges or "Not applicable",
        bounce=f"{format_inr(config.bounce_charge)} per instance" if config.bounce_charge else NIL,
        other=config.other_contingent,
    )


def build_kfs(
    schedule: Schedule,
    charges: UpfrontCharges,
    *,
    config: ChargeConfig | None = None,
    loan_type: str = "Term loan",
    loan_account_no: str | None = None,
    interest_rate_type: InterestRateType | str = InterestRateType.FIXED,
    floating_rate: FloatingRateInfo | None = None,
    disclosures: Disclosures | None = None,
    cooling_off_days: int | None = None,
    apr_method: apr_mod.AprMethod | str = apr_mod.AprMethod.AUTO,
    disbursal_schedule: str = "100% upfront",
    issued_on: date | None = None,
    valid_until: date | None = None,
) -> KeyFactStatement:
    """The KFS of ``schedule`` with the upfront ``charges`` computed for its principal.

    Every amount is integer paise taken from the schedule and the charges (nothing is re-rounded); the APR
    is ``domain.apr.apr`` (RBI KFS circular of 15 April 2024, Annex B: IRR on the net disbursed amount,
    nominal annualisation, 2 decimals ROUND_HALF_UP). ``config`` supplies the contingent charges (item 10)
    and the cooling-off period; ``cooling_off_days`` overrides it. Floating or hybrid rates need
    ``floating_rate`` (item 7); a fixed rate must not have it.
    """
    if not isinstance(schedule, Schedule) or not schedule.rows:
        raise ValidationError("a schedule with at least one installment is needed", field="schedule")
    if not isinstance(charges, UpfrontCharges):
        raise ValidationError("charges must be the result of compute_upfront_charges", field="charges")
    terms = schedule.terms
    if charges.principal != terms.principal:
        raise ValidationError("the charges were computed for a different principal", field="charges")
    if schedule.total_principal != terms.principal:
        raise ValidationError("the schedule does not repay the principal", field="schedule")
    rate_type = InterestRateType(parse_enum(InterestRateType, interest_rate_type, "interest_rate_type"))
    if rate_type == InterestRateType.FIXED and floating_rate is not None:
        raise ValidationError("a fixed-rate loan has no floating-rate details", field="floating_rate")
    if rate_type != InterestRateType.FIXED and floating_rate is None:
        raise ValidationError("a floating or hybrid rate needs the benchmark details", field="floating_rate")
    if not isinstance(loan_type, str) or not loan_type.strip():
        raise ValidationError("the loan type is needed", field="loan_type")
    if cooling_off_days is None:
        cooling_off_days = config.cooling_off_days if config is not None else DEFAULT_COOLING_OFF_DAYS
    if isinstance(cooling_off_days, bool) or not isinstance(cooling_off_days, int) or cooling_off_days < 1:
        raise ValidationError("cooling-off period must be at least one day", field="cooling_off_days")
    if issued_on is not None and valid_until is not None and valid_until < issued_on:
        raise ValidationError("validity ends before the issue date", field="valid_until")

    method = apr_mod.AprMethod(parse_enum(apr_mod.AprMethod, apr_method, "apr_method"))
    if method == apr_mod.AprMethod.AUTO:
        method = apr_mod.AprMethod.PERIODIC if apr_mod.is_regular(schedule) else apr_mod.AprMethod.DAY_COUNT
    exact = apr_mod.apr_exact(schedule, charges, method=method)

    rows = []
    outstanding = terms.principal
    for r in schedule.rows:
        rows.append(
            RepaymentRow(
                r.number,
                r.due_date,
                outstanding,
                r.principal,
                r.interest,
                r.fees,
                r.principal + r.interest + r.fees,
                r.balance,
            )
        )
        outstanding = r.balance

    first, last = schedule.rows[0], schedule.rows[-1]
    term_days = (last.due_date - terms.disbursed_on).days
    rate_text = f"{_pct(terms.annual_rate)}% per annum"
    if terms.daily_rate is not None:
        rate_text = f"{_pct(terms.daily_rate)}% per day"
    return KeyFactStatement(
        loan_account_no=loan_account_no,
        loan_type=loan_type,
        sanctioned_amount=terms.principal,
        disbursal_schedule=disbursal_schedule,
        loan_term=_term_text(schedule, term_days),
        loan_term_days=term_days,
        repayment_frequency=_frequency_text(schedule),
        installment_count=len(schedule.rows),
        installment_amount=schedule.emi,
        first_installment_on=first.due_date,
        repayment_commences_after_days=(first.due_date - terms.disbursed_on).days,
        interest_rate=terms.annual_rate,
        interest_rate_text=rate_text,
        interest_rate_type=rate_type,
        floating_rate=floating_rate,
        fees=_fee_items(charges, schedule),
        apr=apr_mod.quantize_apr(exact),
        apr_exact=exact,
        apr_method=method,
        contingent=_contingent(config),
        penal=config.penal if config is not None else None,
        total_interest=schedule.total_interest,
        processing_fees=charges.by_head(KfsHead.PROCESSING_FEE),
        insurance_charges=charges.by_head(KfsHead.INSURANCE),
        valuation_fees=charges.by_head(KfsHead.VALUATION_FEE),
        other_charges=charges.by_head(KfsHead.OTHER),
        gst=charges.gst,
        upfront_charges=charges.total_deductions,
        payable_to_re=charges.payable_to_re,
        payable_to_third_party=charges.payable_to_third_party,
        net_disbursed=charges.net_disbursed,
        recurring_fees=schedule.total_fees,
        total_amount_payable=schedule.total_principal + schedule.total_interest + schedule.total_fees,
        cooling_off_days=cooling_off_days,
        disclosures=disclosures or Disclosures(),
        repayment_schedule=tuple(rows),
        issued_on=issued_on,
        valid_until=valid_until,
    )
