"""Response models of the schedule previews: the customer EMI preview and the staff schedule preview with its
Key Fact Statement (``api.products.preview_for``).

The schedule, its totals and charges are ``domain.preview.schedule_preview`` and the KFS
``domain.kfs.KeyFactStatement.as_dict``: the domain writes their keys in snake_case, and the preview keeps them
(``los schedule`` prints the same), so their models name the wire keys as they are (:class:`SnakeCaseModel`).
Preview amounts are rupee decimal strings (``"305.00"``); KFS amounts come twice, ``<name>_paise`` (integer paise)
and ``<name>_inr`` (``"₹20,000.00"``); rates are percent strings with two decimals.
"""

from __future__ import annotations

from pydantic import ConfigDict, Field

from api.responses import ApiModel

RUPEES = 'rupees, a decimal string with two decimals ("305.00")'
INR = 'the same amount in rupees as printed, e.g. "₹20,000.00"'
PERCENT = 'percent, a decimal string with two decimals ("18.00")'
DATE = "IST calendar date, ISO YYYY-MM-DD"


class SnakeCaseModel(ApiModel):
    """A response model whose wire keys are its snake_case field names (the domain's own dictionaries)."""

    model_config = ConfigDict(alias_generator=None)


# ------------------------------------------------------------------------------------------- the schedule
class PreviewInstallment(SnakeCaseModel):
    """One installment of the previewed schedule."""

    number: int = Field(description="1-based")
    due_date: str = Field(description=DATE)
    days: int = Field(description="days of interest in the period")
    principal: str = Field(description=RUPEES)
    interest: str = Field(description=RUPEES)
    fees: str = Field(description=f"installment fees, {RUPEES}")
    total: str = Field(description=RUPEES)
    balance: str = Field(description=f"principal left after it, {RUPEES}")


class PreviewTotals(SnakeCaseModel):
    """The schedule's totals."""

    principal: str = Field(description=RUPEES)
    interest: str = Field(description=RUPEES)
    fees: str = Field(description=RUPEES)
    total: str = Field(description=f"everything repaid over the schedule, {RUPEES}")
    upfront_charges: str = Field(description=f"deducted at disbursal, {RUPEES}")


class PreviewCharge(SnakeCaseModel):
    """One upfront charge line."""

    name: str
    kind: str = Field(description="LENDER_FEE, GST, THIRD_PARTY or OTHER")
    amount: str = Field(description=RUPEES)
    basis: str = Field(description='how it was computed, e.g. "2.00% of the loan amount"')


class ProductTerms(ApiModel):
    """The product the preview is computed on."""

    code: str
    name: str
    annual_rate_bps: int = Field(description="interest rate per annum, basis points")
    repay_every: int
    repay_unit: str = Field(description="DAYS, WEEKS or MONTHS")
    interest_method: str
    amortization: str
    holiday_strategy: str = Field(description="how a due date on a brand holiday moves")


class SchedulePreview(ApiModel):
    """EMI, schedule, totals, upfront charges, net disbursed amount and APR of a loan before it is taken."""

    emi: str = Field(description=f"the regular installment, {RUPEES}")
    installments: list[PreviewInstallment]
    totals: PreviewTotals
    apr: str = Field(description="annual percentage rate (RBI KFS method), percent as a decimal string")
    net_disbursed: str = Field(alias="net_disbursed", description=f"what reaches the borrower, {RUPEES}")
    charges: list[PreviewCharge]
    product: ProductTerms


# ------------------------------------------------------------------------------------------- the KFS
class KfsFloatingRate(SnakeCaseModel):
    """KFS item 7, for a floating rate."""

    benchmark: str
    benchmark_rate_percent: str = Field(description=PERCENT)
    spread_percent: str = Field(description=PERCENT)
    final_rate_percent: str = Field(description=PERCENT)
    reset_periodicity_months: int
    epi_change_paise: int | None = Field(description="the EPI change for a 25 bps change in the rate, paise")
    installments_change: int | None = Field(description="the change in the number of EPIs for 25 bps")


class KfsFee(SnakeCaseModel):
    """One row of KFS item 8."""

    name: str
    head: str = Field(description="PROCESSING_FEE, INSURANCE, VALUATION_FEE or OTHER")
    kind: str = Field(description="LENDER_FEE, GST, THIRD_PARTY or OTHER")
    payable_to: str = Field(description="RE (the lender) or THIRD_PARTY")
    recurrence: str = Field(description="ONE_TIME or RECURRING")
    basis: str
    amount_paise: int = Field(description="paise; for a recurring fee, per occurrence")
    amount_inr: str = Field(description=INR)


class KfsContingentCharges(SnakeCaseModel):
    """KFS item 10, as the text shown to the borrower."""

    penal_delayed_payment: str
    other_penal: str
    foreclosure: str
    switching: str
    bounce: str
    other: list[str]


class KfsPenalCharge(SnakeCaseModel):
    """The product's penal charge for delayed payment."""

    basis: str = Field(description="FLAT_PER_OCCURRENCE or PERCENT_PER_ANNUM")
    flat_paise: int = Field(description="per overdue installment, paise")
    annual_percent: str = Field(description=PERCENT)
    days_in_year: int
    cap_paise: int | None = Field(description="the most one levy may be, paise")
    capitalised: bool
    interest_bearing: bool


class KfsDisclosures(SnakeCaseModel):
    """KFS Annex A part 2 and the digital-lending items (free text)."""

    recovery_agents_clause: str | None
    grievance_redressal_clause: str | None
    grievance_officer: str | None
    transfer_or_securitisation: bool | None
    co_lending: str | None
    lsp_details: str | None
    lsp_recovery_agent: str | None
    disbursal_stage_clause: str | None
    lender_legal_name: str | None = Field(description="the regulated entity lending (the brand's setting)")
    nodal_officer: str | None = Field(description="the nodal grievance redressal officer's contact")
    recovery_policy_url: str | None = Field(description="the lender's policy on recovery agents")
    partner_name: str | None = Field(description="a co-lending partner or lending service provider")


class KfsRepaymentRow(SnakeCaseModel):
    """One Annex C row; each amount in paise and as printed."""

    number: int
    due_date: str = Field(description=DATE)
    outstanding_principal_paise: int = Field(description="principal outstanding before it is paid, paise")
    outstanding_principal_inr: str
    principal_paise: int
    principal_inr: str
    interest_paise: int
    interest_inr: str
    fees_paise: int
    fees_inr: str
    installment_paise: int
    installment_inr: str
    closing_balance_paise: int = Field(description="principal left after it, paise")
    closing_balance_inr: str


class KeyFactStatement(SnakeCaseModel):
    """The Key Fact Statement (RBI/2024-25/18): each amount as ``<name>_paise`` and ``<name>_inr``."""

    loan_account_no: str | None
    loan_type: str
    disbursal_schedule: str
    loan_term: str
    loan_term_days: int
    repayment_frequency: str
    installment_count: int
    first_installment_on: str = Field(description=DATE)
    repayment_commences_after_days: int
    interest_rate_percent: str = Field(description=f"per annum, {PERCENT}")
    interest_rate_text: str
    interest_rate_type: str = Field(description="FIXED, FLOATING or HYBRID")
    apr_percent: str = Field(description=PERCENT)
    apr_exact_percent: str = Field(description="the APR unrounded, percent as a decimal string")
    apr_method: str = Field(description="AUTO, PERIODIC or DAY_COUNT")
    cooling_off_days: int
    issued_on: str | None = Field(description=DATE)
    valid_until: str | None = Field(description=DATE)
    sanctioned_amount_paise: int
    sanctioned_amount_inr: str
    installment_amount_paise: int = Field(description="the regular EPI, paise")
    installment_amount_inr: str
    total_interest_paise: int
    total_interest_inr: str
    processing_fees_paise: int
    processing_fees_inr: str
    insurance_charges_paise: int
    insurance_charges_inr: str
    valuation_fees_paise: int
    valuation_fees_inr: str
    other_charges_paise: int
    other_charges_inr: str
    gst_paise: int
    gst_inr: str
    upfront_charges_paise: int = Field(description="every deduction at disbursal, paise")
    upfront_charges_inr: str
    payable_to_re_paise: int
    payable_to_re_inr: str
    payable_to_third_party_paise: int
    payable_to_third_party_inr: str
    net_disbursed_paise: int
    net_disbursed_inr: str
    recurring_fees_paise: int = Field(description="installment fees over the tenor, paise")
    recurring_fees_inr: str
    total_amount_payable_paise: int = Field(description="sanctioned + total interest + installment fees, paise")
    total_amount_payable_inr: str
    total_amount_payable_incl_upfront_paise: int
    total_amount_payable_incl_upfront_inr: str
    total_cost_of_credit_paise: int = Field(description="everything paid beyond the net disbursed amount, paise")
    total_cost_of_credit_inr: str
    floating_rate: KfsFloatingRate | None
    fees: list[KfsFee]
    contingent_charges: KfsContingentCharges
    penal_charge: KfsPenalCharge | None
    disclosures: KfsDisclosures
    repayment_schedule: list[KfsRepaymentRow]


class StaffSchedulePreview(SchedulePreview):
    """A loan's schedule, charges, APR and Key Fact Statement as if disbursed on ``disbursedOn``."""

    loan_id: str
    disbursed_on: str = Field(description=DATE)
    kfs: KeyFactStatement
