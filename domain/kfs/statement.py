"""The Key Facts Statement and its parts (RBI KFS circular of 15 April 2024: Annex A parts 1 and 2, Annex B,
Annex C), as built by ``domain.kfs.builder.build_kfs``. Amounts are integer paise; ``KeyFactStatement.as_dict``
gives each as ``<name>_paise`` and ``<name>_inr``, rates as strings with two decimals, dates as ISO strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from domain import apr as apr_mod
from domain.charges import ChargeKind, KfsHead, PenalChargeSpec
from domain.errors import ValidationError
from domain.money import format_inr

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
    # the parties named to the borrower (domain.kfs.disclosures, from the brand's settings)
    lender_legal_name: str | None = None  # the regulated entity lending
    nodal_officer: str | None = None  # the nodal grievance redressal officer's contact
    recovery_policy_url: str | None = None  # the lender's policy on recovery agents
    partner_name: str | None = None  # a co-lending partner or lending service provider


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
            "lender_legal_name": d.lender_legal_name,
            "nodal_officer": d.nodal_officer,
            "recovery_policy_url": d.recovery_policy_url,
            "partner_name": d.partner_name,
        }
        schedule = []
        for r in self.repayment_schedule:
            line: dict[str, Any] = {"number": r.number, "due_date": r.due_date.isoformat()}
            for key in ("outstanding_principal", "principal", "interest", "fees", "installment", "closing_balance"):
                _money(line, key, getattr(r, key))
            schedule.append(line)
        out["repayment_schedule"] = schedule
        return out
