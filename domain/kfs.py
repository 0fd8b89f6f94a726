"""The Key Facts Statement (KFS) of one loan, as RBI prescribes it, ready to render into the agreement.

Source: RBI circular "Key Facts Statement (KFS) for Loans & Advances" (RBI/2024-25/18,
DOR.STR.REC.13/13.03.00/2024-25, 15 April 2024), which harmonises the earlier KFS of the Digital Lending
guidelines (2 September 2022) and the microfinance directions:

* Annex A part 1 (interest rate and fees/charges): 1 loan proposal/account no. and type of loan;
  2 sanctioned loan amount; 3 disbursal schedule (100% upfront or in stages, with the agreement clause);
  4 loan term; 5 instalment details (type, number of EPIs, EPI amount, commencement of repayment post
  sanction); 6 interest rate and type (fixed/floating/hybrid); 7 for floating rates: reference benchmark,
  benchmark rate (B), spread (S), final rate R = B + S, reset periodicity and the impact of a 25 bps change
  on the EPI and the number of EPIs; 8 fee/charges, (A) payable to the RE and (B) payable to a third party
  through the RE, one-time or recurring: (i) processing fees, (ii) insurance charges, (iii) valuation fees,
  (iv) any other; 9 APR (computed as in Annex B); 10 contingent charges: (i) penal charges for delayed
  payment, (ii) other penal charges, (iii) foreclosure charges, (iv) charges for switching floating ↔
  fixed, (v) any other (bounce/dishonour charges here).
* Annex A part 2 (qualitative): recovery-agent clause, grievance redressal clause, nodal grievance officer
  contact, whether the loan may be transferred/securitised, co-lending details, and for digital loans the
  cooling-off/look-up period and the LSP acting as recovery agent.
* Annex B rows: total interest over the tenor, fee/charges payable (A + B), net disbursed amount (sanctioned −
  charges), total amount to be paid by the borrower (sanctioned + total interest), APR.
* Annex C: the repayment schedule: instalment no., outstanding principal, principal, interest, instalment.

Amounts are integer paise; ``as_dict`` gives each amount as ``<name>_paise`` (int) and ``<name>_inr``
(``₹20,000.00``), rates as strings with two decimals, dates as ISO strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from domain import apr as apr_mod
from domain.charges import (
    DEFAULT_COOLING_OFF_DAYS,
    ChargeConfig,
    ChargeKind,
    KfsHead,
    PenalChargeSpec,
    UpfrontCharges,
)
from domain.errors import ValidationError
from domain.money import format_inr
from domain.product import Frequency, Schedule, parse_enum

TWO_PLACES = Decimal("0.01")
NIL = "Nil"


class InterestRateType(StrEnum):
    FIXED = "FIXED"
    FLOATING = "FLOATING"
    HYBRID = "HYBRID"


class Recurrence(StrEnum):
    ONE_TIME = "ONE_TIME"
    RECURRING = "RECURRING"


class PayableTo(StrEnum):
    RE = "RE"  # the regulated entity (the lender)
    THIRD_PARTY = "THIRD_PARTY"  # a third party, collected through the RE


def _pct(value: Decimal) -> str:
    return str(value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP))


def _money(out: dict[str, Any], key: str, paise: int) -> None:
    out[f"{key}_paise"] = paise
    out[f"{key}_inr"] = format_inr(paise)


@dataclass(frozen=True)
class FloatingRateInfo:
    """KFS item 7. Rates in percent; ``epi_change``/``installments_change`` are the effect of a 25 bps
    change in R on the EPI (paise) and on the number of EPIs."""

    benchmark: str
    benchmark_rate: Decimal
    spread: Decimal
    reset_periodicity_months: int
    epi_change: int | None = None
    installments_change: int | None = None

    def __post_init__(self) -> None:
        for name in ("benchmark_rate", "spread"):
            value = getattr(self, name)
            if isinstance(value, float):
                raise TypeError(f"{name}: float is not allowed, use Decimal")
            if not isinstance(value, Decimal):
                raise ValidationError("must be a Decimal percent", field=name)
        if not isinstance(self.reset_periodicity_months, int) or self.reset_periodicity_months <= 0:
            raise ValidationError(
                "reset periodicity must be a positive number of months", field="reset_periodicity_months"
            )

    @property
    def final_rate(self) -> Decimal:
        return self.benchmark_rate + self.spread


@dataclass(frozen=True)
class FeeItem:
    """One row of KFS item 8."""

    name: str
    head: KfsHead
    kind: ChargeKind
    payable_to: PayableTo
    recurrence: Recurrence
    amount: int  # paise; for a recurring item, per occurrence
    basis: str = ""


@dataclass(frozen=True)
class ContingentCharges:
    """KFS item 10, as the text shown to the borrower."""

    penal_delayed_payment: str = NIL
    other_penal: str = NIL
    foreclosure: str = NIL
    switching: str = "Not applicable"
    bounce: str = NIL
    other: tuple[str, ...] = ()


@dataclass(frozen=True)
class Disclosures:
    """KFS Annex A part 2 and the digital-lending items; free text, all optional."""

    recovery_agents_clause: str | None = None
    grievance_redressal_clause: str | None = None
    grievance_officer: str | None = None  # name, designation, address, phone number, email of the nodal officer
    transfer_or_securitisation: bool | None = None
    co_lending: str | None = None  # originating RE, partner RE, blended rate
    lsp_details: str | None = None  # lending service provider(s) involved
    lsp_recovery_agent: str | None = None  # LSP acting as recovery agent and authorised to approach the borrower
    disbursal_stage_clause: str | None = None  # item 3(ii), when disbursed in stages


@dataclass(frozen=True)
class RepaymentRow:
    """One Annex C row. ``outstanding_principal`` is the principal outstanding when the instalment
    begins (before it is paid); ``closing_balance`` is the principal left after it."""

    number: int
    due_date: date
    outstanding_principal: int
    principal: int
    interest: int
    fees: int
    installment: int
    closing_balance: int


@dataclass(frozen=True)
class KeyFactStatement:
    # --- part 1
    loan_account_no: str | None
    loan_type: str
    sanctioned_amount: int
    disbursal_schedule: str
    loan_term: str
    loan_term_days: int
    repayment_frequency: str
    installment_count: int
    installment_amount: int  # the regular EPI (paise)
    first_installment_on: date
    repayment_commences_after_days: int
    interest_rate: Decimal  # percent per annum
    interest_rate_text: str
    interest_rate_type: InterestRateType
    floating_rate: FloatingRateInfo | None
    fees: tuple[FeeItem, ...]
    apr: Decimal  # percent, 2 places
    apr_exact: Decimal
    apr_method: apr_mod.AprMethod
    contingent: ContingentCharges
    penal: PenalChargeSpec | None
    # --- Annex B
    total_interest: int
    processing_fees: int
    insurance_charges: int
    valuation_fees: int
    other_charges: int
    gst: int
    upfront_charges: int  # every deduction at disbursal (A + B)
    payable_to_re: int
    payable_to_third_party: int
    net_disbursed: int
    recurring_fees: int  # installment fees over the tenor (schedule fees column)
    total_amount_payable: int  # sanctioned + total interest + installment fees
    # --- part 2
    cooling_off_days: int
    disclosures: Disclosures
    # --- Annex C
    repayment_schedule: tuple[RepaymentRow, ...]
    issued_on: date | None = None
    valid_until: date | None = None

    @property
    def total_amount_payable_incl_upfront(self) -> int:
        """Total amount to be paid counting the upfront charges too (the 2022 digital-lending KFS item (v):
        loan amount + total interest + other upfront charges)."""
        return self.total_amount_payable + self.upfront_charges

    @property
    def total_cost_of_credit(self) -> int:
        """Everything paid beyond the net disbursed amount: interest and every charge."""
        return self.total_amount_payable - self.net_disbursed

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "loan_account_no": self.loan_account_no,
            "loan_type": self.loan_type,
            "disbursal_schedule": self.disbursal_schedule,
            "loan_term": self.loan_term,
            "loan_term_days": self.loan_term_days,
            "repayment_frequency": self.repayment_frequency,
            "installment_count": self.installment_count,
            "first_installment_on": self.first_installment_on.isoformat(),
            "repayment_commences_after_days": self.repayment_commences_after_days,
            "interest_rate_percent": _pct(self.interest_rate),
            "interest_rate_text": self.interest_rate_text,
            "interest_rate_type": self.interest_rate_type.value,
            "apr_percent": str(self.apr),
            "apr_exact_percent": str(self.apr_exact),
            "apr_method": self.apr_method.value,
            "cooling_off_days": self.cooling_off_days,
            "issued_on": self.issued_on.isoformat() if self.issued_on else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
        }
        for key in (
            "sanctioned_amount",
            "installment_amount",
            "total_interest",
            "processing_fees",
            "insurance_charges",
            "valuation_fees",
            "other_charges",
            "gst",
            "upfront_charges",
            "payable_to_re",
            "payable_to_third_party",
            "net_disbursed",
            "recurring_fees",
            "total_amount_payable",
            "total_amount_payable_incl_upfront",
            "total_cost_of_credit",
        ):
            _money(out, key, getattr(self, key))
        if self.floating_rate is None:
            out["floating_rate"] = None
        else:
            fr = self.floating_rate
            out["floating_rate"] = {
                "benchmark": fr.benchmark,
                "benchmark_rate_percent": _pct(fr.benchmark_rate),
                "spread_percent": _pct(fr.spread),
                "final_rate_percent": _pct(fr.final_rate),
                "reset_periodicity_months": fr.reset_periodicity_months,
                "epi_change_paise": fr.epi_change,
                "installments_change": fr.installments_change,
            }
        fees = []
        for item in self.fees:
            row: dict[str, Any] = {
                "name": item.name,
                "head": item.head.value,
                "kind": item.kind.value,
                "payable_to": item.payable_to.value,
                "recurrence": item.recurrence.value,
                "basis": item.basis,
            }
            _money(row, "amount", item.amount)
            fees.append(row)
        out["fees"] = fees
        c = self.contingent
        out["contingent_charges"] = {
            "penal_delayed_payment": c.penal_delayed_payment,
            "other_penal": c.other_penal,
            "foreclosure": c.foreclosure,
            "switching": c.switching,
            "bounce": c.bounce,
            "other": list(c.other),
        }
        if self.penal is None:
            out["penal_charge"] = None
        else:
            out["penal_charge"] = {
                "basis": self.penal.basis.value,
                "flat_paise": self.penal.flat,
                "annual_percent": _pct(self.penal.annual_percent),
                "days_in_year": self.penal.days_in_year,
                "cap_paise": self.penal.cap,
                "capitalised": False,
                "interest_bearing": False,
            }
        d = self.disclosures
        out["disclosures"] = {
            "recovery_agents_clause": d.recovery_agents_clause,
            "grievance_redressal_clause": d.grievance_redressal_clause,
            "grievance_officer": d.grievance_officer,
            "transfer_or_securitisation": d.transfer_or_securitisation,
            "co_lending": d.co_lending,
            "lsp_details": d.lsp_details,
            "lsp_recovery_agent": d.lsp_recovery_agent,
            "disbursal_stage_clause": d.disbursal_stage_clause,
        }
        schedule = []
        for r in self.repayment_schedule:
            line: dict[str, Any] = {"number": r.number, "due_date": r.due_date.isoformat()}
            for key in ("outstanding_principal", "principal", "interest", "fees", "installment", "closing_balance"):
                _money(line, key, getattr(r, key))
            schedule.append(line)
        out["repayment_schedule"] = schedule
        return out


# ------------------------------------------------------------------------------------------ builder
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


__all__ = [
    "ContingentCharges",
    "Disclosures",
    "FeeItem",
    "FloatingRateInfo",
    "InterestRateType",
    "KeyFactStatement",
    "PayableTo",
    "Recurrence",
    "RepaymentRow",
    "build_kfs",
]
