"""Double-entry ledger postings. Each transaction is a list of legs whose signed amounts sum to zero
(debit positive, credit negative, integer paise). The database enforces the same law.

Two families live here:

* the walking-skeleton postings ``disbursal(principal)`` and ``repayment(amount, allocation)`` (cash
  basis: interest is income when collected), used by ``activities/loan/``;
* the full set (accrual basis): disbursal net of upfront fees, GST and third-party charges; fee, interest
  and penal-charge demands as receivables; repayment split by component; waiver; provision; write-off;
  recovery after write-off. They share the account names below.

Account conventions (amounts are paise; an asset/expense normally has a debit balance, a
liability/income a credit balance):

=============================  ==========  =====================================================
constant                       type        holds
=============================  ==========  =====================================================
LOAN_PRINCIPAL                 asset       principal outstanding (only disbursal, principal
                                           repayment and write-off touch it, never charges)
INTEREST_RECEIVABLE            asset       interest demanded/accrued and not yet collected
FEES_RECEIVABLE                asset       fees levied (incl. their GST) not yet collected
PENAL_RECEIVABLE               asset       penal charges levied (incl. any GST) not yet collected
DISBURSAL_BANK                 asset       the lender's bank account money is paid out of
COLLECTION_BANK                asset       the lender's bank account collections land in
CUSTOMER_CREDIT                liability   excess paid by the customer, owed back / to be applied
GST_PAYABLE                    liability   output GST on fees and charges
THIRD_PARTY_PAYABLE & co.      liability   amounts deducted at disbursal for others (insurer…)
PROVISION_FOR_NPA              liability   provision held against the loan (contra-asset)
INTEREST_INCOME                income      interest earned
FEE_INCOME                     income      processing and other fees (net of GST)
PENAL_INCOME                   income      penal charges (net of GST)
BAD_DEBT_RECOVERY              income      money recovered after write-off
INTEREST_WAIVED & co.          contra-inc  interest, fees, penal charges waived
WRITE_OFF_EXPENSE              expense     written-off amounts not covered by provision
PROVISION_EXPENSE              expense     provisions made
=============================  ==========  =====================================================

Sources: penal charges are a separate receivable/income and never capitalised into principal or
interest (RBI "Fair Lending Practice – Penal Charges in Loan Accounts", RBI/2023-24/53
DoR.MCS.REC.28/01.01.001/2023-24, 18 Aug 2023). GST at 18% on fees and charges of financial services
(SAC 9971); interest on loans is exempt (Notification 12/2017-Central Tax (Rate), entry 27), so interest
legs never carry GST.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from domain.errors import ValidationError
from domain.repayment import AllocationResult

if TYPE_CHECKING:
    from domain.allocation import WaterfallResult

# --- walking-skeleton accounts (names stored in the database; do not rename)
LOAN_PRINCIPAL = "LOAN_PRINCIPAL_RECEIVABLE"
INTEREST_INCOME = "INTEREST_INCOME"
DISBURSAL_BANK = "DISBURSAL_BANK"
COLLECTION_BANK = "COLLECTION_BANK"
CUSTOMER_CREDIT = "CUSTOMER_CREDIT_BALANCE"

# --- receivables
INTEREST_RECEIVABLE = "INTEREST_RECEIVABLE"
FEES_RECEIVABLE = "FEES_RECEIVABLE"
PENAL_RECEIVABLE = "PENAL_CHARGES_RECEIVABLE"

# --- income and contra-income
FEE_INCOME = "FEE_INCOME"
PENAL_INCOME = "PENAL_CHARGES_INCOME"
BAD_DEBT_RECOVERY = "BAD_DEBTS_RECOVERED_INCOME"
INTEREST_WAIVED = "INTEREST_WAIVED"
FEES_WAIVED = "FEES_WAIVED"
PENAL_WAIVED = "PENAL_CHARGES_WAIVED"

# --- liabilities
GST_PAYABLE = "GST_OUTPUT_PAYABLE"
THIRD_PARTY_PAYABLE = "THIRD_PARTY_PAYABLE"
INSURANCE_PREMIUM_PAYABLE = "INSURANCE_PREMIUM_PAYABLE"
STAMP_DUTY_PAYABLE = "STAMP_DUTY_PAYABLE"
PROVISION_FOR_NPA = "PROVISION_FOR_NPA"

# --- expenses
WRITE_OFF_EXPENSE = "WRITE_OFF_EXPENSE"
PROVISION_EXPENSE = "PROVISION_EXPENSE"

GST_RATE = Decimal("18")  # percent, financial services other than interest (SAC 9971)
MAX_ACCOUNT_LENGTH = 60  # ledger_entries.account is VARCHAR(60)


@dataclass(frozen=True)
class Leg:
    account: str
    amount: int  # debit > 0, credit < 0


@dataclass(frozen=True)
class Transaction:
    kind: str
    legs: tuple[Leg, ...]

    def __post_init__(self) -> None:
        if sum(leg.amount for leg in self.legs) != 0:
            raise ValueError(f"unbalanced ledger transaction {self.kind}: {self.legs}")
        if any(leg.amount == 0 for leg in self.legs):
            raise ValueError("zero-amount leg")

    @property
    def debits(self) -> int:
        """Total of the debit legs (= total of the credit legs, negated)."""
        return sum(leg.amount for leg in self.legs if leg.amount > 0)

    def net(self, account: str) -> int:
        """Signed total of this transaction's legs on ``account`` (debit > 0)."""
        return sum(leg.amount for leg in self.legs if leg.account == account)


def disbursal(principal: int) -> Transaction:
    """Walking-skeleton disbursal with no deductions: Dr LOAN_PRINCIPAL, Cr DISBURSAL_BANK the principal.
    See :func:`disbursal_with_deductions` for fees, GST and third-party charges. Kind ``DISBURSAL``."""
    return Transaction("DISBURSAL", (Leg(LOAN_PRINCIPAL, principal), Leg(DISBURSAL_BANK, -principal)))


def repayment(amount: int, allocation: AllocationResult) -> Transaction:
    """Walking-skeleton repayment, cash basis: Dr COLLECTION_BANK amount; Cr LOAN_PRINCIPAL,
    INTEREST_INCOME and CUSTOMER_CREDIT by the ``domain.repayment`` allocation (interest → principal,
    oldest first). See :func:`repayment_split` / :func:`repayment_from_waterfall` for fees and penal
    charges. Kind ``REPAYMENT``."""
    return Transaction("REPAYMENT", tuple(_repayment_legs(amount, allocation)))


def _repayment_legs(amount: int, allocation: AllocationResult) -> list[Leg]:
    legs = [Leg(COLLECTION_BANK, amount)]
    if allocation.principal:
        legs.append(Leg(LOAN_PRINCIPAL, -allocation.principal))
    if allocation.interest:
        legs.append(Leg(INTEREST_INCOME, -allocation.interest))
    if allocation.excess:
        legs.append(Leg(CUSTOMER_CREDIT, -allocation.excess))
    return legs


# --------------------------------------------------------------------------- helpers


def _paise(value: object, field: str, *, positive: bool = False) -> int:
    if isinstance(value, float):
        raise TypeError(f"{field}: float is not allowed in money code, use int paise")
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError("must be a whole number of paise", field=field)
    if value < 0 or (positive and value == 0):
        raise ValidationError("must be positive" if positive else "cannot be negative", field=field)
    return value


def _build(kind: str, entries: Iterable[tuple[str, int]]) -> Transaction:
    """A transaction from (account, signed amount) pairs: zero amounts dropped, same-account legs merged
    in first-seen order."""
    merged: dict[str, int] = {}
    for account, amount in entries:
        merged[account] = merged.get(account, 0) + amount
    return Transaction(kind, tuple(Leg(a, v) for a, v in merged.items() if v != 0))


def balances(transactions: Iterable[Transaction]) -> dict[str, int]:
    """Net signed balance per account over ``transactions`` (debit > 0); zero balances omitted."""
    out: dict[str, int] = {}
    for txn in transactions:
        for leg in txn.legs:
            out[leg.account] = out.get(leg.account, 0) + leg.amount
    return {k: v for k, v in out.items() if v != 0}


def gst_on(amount: int, rate: Decimal = GST_RATE) -> int:
    """GST in paise on a taxable ``amount`` in paise: amount × rate / 100, half-up to the paisa.

    Convention: tax computed per line and rounded half-up to the paisa (not to the rupee: CGST Act
    s.170's rounding applies to the return, not the invoice line). Default rate 18% (financial services
    other than interest, SAC 9971). Interest is exempt (Notification 12/2017-CT(Rate) entry 27): don't
    call this on interest.
    """
    amount = _paise(amount, "amount")
    rate = _rate(rate)
    return int((Decimal(amount) * rate / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def split_gst_inclusive(gross: int, rate: Decimal = GST_RATE) -> tuple[int, int]:
    """(taxable value, GST) of a GST-inclusive ``gross`` in paise: taxable = gross × 100 / (100 + rate)
    half-up to the paisa, GST = gross − taxable (so the two always add back to ``gross``)."""
    gross = _paise(gross, "gross")
    rate = _rate(rate)
    taxable = int((Decimal(gross) * 100 / (100 + rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return taxable, gross - taxable


def _rate(rate: object) -> Decimal:
    if isinstance(rate, float):
        raise TypeError("rate: float is not allowed in money code, use Decimal")
    if isinstance(rate, bool) or not isinstance(rate, Decimal | int):
        raise ValidationError("rate must be a Decimal percentage", field="rate")
    value = Decimal(rate)
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(100):
        raise ValidationError("rate must be between 0 and 100 percent", field="rate")
    return value


def _account(name: object, field: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_ACCOUNT_LENGTH:
        raise ValidationError(f"account must be a name of 1-{MAX_ACCOUNT_LENGTH} characters", field=field)
    return name


# --------------------------------------------------------------------------- postings


def disbursal_with_deductions(
    principal: int,
    *,
    upfront_fees: int = 0,
    upfront_fees_gst: int = 0,
    third_party: Mapping[str, int] | None = None,
    fee_income_account: str = FEE_INCOME,
) -> Transaction:
    """Disbursal of gross ``principal`` with upfront deductions; the net goes to the borrower's bank.

    Dr LOAN_PRINCIPAL principal (the borrower owes the gross amount); Cr FEE_INCOME upfront_fees;
    Cr GST_PAYABLE upfront_fees_gst; Cr each third-party payable (``{account: amount}``, e.g.
    ``{INSURANCE_PREMIUM_PAYABLE: 1_200_00}``); Cr DISBURSAL_BANK the net = principal − all deductions,
    which must be positive. ``fee_income_account`` lets a lender that amortises fees under Ind AS 109's
    effective-interest method post them to a deferred-income account instead. Kind ``DISBURSAL``.
    Raises TypeError on floats and ValidationError naming the field otherwise.
    """
    principal = _paise(principal, "principal", positive=True)
    upfront_fees = _paise(upfront_fees, "upfront_fees")
    upfront_fees_gst = _paise(upfront_fees_gst, "upfront_fees_gst")
    _account(fee_income_account, "fee_income_account")
    others: list[tuple[str, int]] = []
    for account, amount in (third_party or {}).items():
        if _account(account, "third_party") in (LOAN_PRINCIPAL, DISBURSAL_BANK):
            raise ValidationError("third-party deductions need their own payable account", field="third_party")
        others.append((account, -_paise(amount, "third_party")))
    deductions = upfront_fees + upfront_fees_gst - sum(a for _, a in others)
    net = principal - deductions
    if net <= 0:
        raise ValidationError("deductions must leave a positive amount to disburse", field="upfront_fees")
    return _build(
        "DISBURSAL",
        [
            (LOAN_PRINCIPAL, principal),
            (fee_income_account, -upfront_fees),
            (GST_PAYABLE, -upfront_fees_gst),
            *others,
            (DISBURSAL_BANK, -net),
        ],
    )


def fee_charge(fee: int, gst: int = 0) -> Transaction:
    """A fee levied on the loan (e.g. bounce or documentation charge): Dr FEES_RECEIVABLE fee + gst,
    Cr FEE_INCOME fee, Cr GST_PAYABLE gst. Use :func:`gst_on` for the GST (18%, SAC 9971).
    Kind ``FEE_CHARGE``."""
    fee = _paise(fee, "fee", positive=True)
    gst = _paise(gst, "gst")
    return _build("FEE_CHARGE", [(FEES_RECEIVABLE, fee + gst), (FEE_INCOME, -fee), (GST_PAYABLE, -gst)])


def interest_accrual(amount: int) -> Transaction:
    """Interest demanded on a due date or accrued at a period end: Dr INTEREST_RECEIVABLE,
    Cr INTEREST_INCOME. No GST (interest on loans is exempt). Kind ``INTEREST_ACCRUAL``.
    RBI IRACP: don't accrue on an NPA (income on NPAs is recognised on receipt)."""
    amount = _paise(amount, "amount", positive=True)
    return _build("INTEREST_ACCRUAL", [(INTEREST_RECEIVABLE, amount), (INTEREST_INCOME, -amount)])


def interest_reversal(amount: int) -> Transaction:
    """Reverse interest accrued but not collected when an account turns NPA: Dr INTEREST_INCOME,
    Cr INTEREST_RECEIVABLE (RBI Master Circular on IRACP: income on NPAs is recognised only when
    received, and interest already charged and not collected is reversed). Interest later collected on
    the NPA goes to income: ``repayment_split(..., accrued_interest=0)``. Kind ``INTEREST_REVERSAL``."""
    amount = _paise(amount, "amount", positive=True)
    return _build("INTEREST_REVERSAL", [(INTEREST_INCOME, amount), (INTEREST_RECEIVABLE, -amount)])


def penal_charge(amount: int, gst: int = 0) -> Transaction:
    """A penal charge levied: Dr PENAL_RECEIVABLE amount + gst, Cr PENAL_INCOME amount, Cr GST_PAYABLE
    gst. Never touches LOAN_PRINCIPAL or interest: RBI "Fair Lending Practice – Penal Charges in Loan
    Accounts" (18 Aug 2023) forbids capitalising penal charges or computing interest on them. Whether GST
    applies is the lender's tax position (default none). Kind ``PENAL_CHARGE``."""
    amount = _paise(amount, "amount", positive=True)
    gst = _paise(gst, "gst")
    return _build("PENAL_CHARGE", [(PENAL_RECEIVABLE, amount + gst), (PENAL_INCOME, -amount), (GST_PAYABLE, -gst)])


def repayment_split(
    *,
    principal: int = 0,
    interest: int = 0,
    fees: int = 0,
    penal: int = 0,
    excess: int = 0,
    accrued_interest: int | None = None,
) -> Transaction:
    """A collection split by component: Dr COLLECTION_BANK the total; Cr LOAN_PRINCIPAL principal;
    Cr FEES_RECEIVABLE fees; Cr PENAL_RECEIVABLE penal; Cr CUSTOMER_CREDIT excess; interest credits
    INTEREST_RECEIVABLE for the part that was accrued (``accrued_interest``, default all of it) and
    INTEREST_INCOME for the rest (cash basis, e.g. an NPA whose accrual was reversed; pass 0 for the
    walking skeleton's cash-basis convention). Kind ``REPAYMENT``. The order of components is decided by
    the allocation (see ``domain.allocation``), not here.
    """
    principal = _paise(principal, "principal")
    interest = _paise(interest, "interest")
    fees = _paise(fees, "fees")
    penal = _paise(penal, "penal")
    excess = _paise(excess, "excess")
    accrued = interest if accrued_interest is None else _paise(accrued_interest, "accrued_interest")
    if accrued > interest:
        raise ValidationError("accrued interest cannot exceed the interest collected", field="accrued_interest")
    total = principal + interest + fees + penal + excess
    if total == 0:
        raise ValidationError("a repayment must collect something", field="amount")
    return _build(
        "REPAYMENT",
        [
            (COLLECTION_BANK, total),
            (PENAL_RECEIVABLE, -penal),
            (FEES_RECEIVABLE, -fees),
            (INTEREST_RECEIVABLE, -accrued),
            (INTEREST_INCOME, -(interest - accrued)),
            (LOAN_PRINCIPAL, -principal),
            (CUSTOMER_CREDIT, -excess),
        ],
    )


def repayment_from_waterfall(result: WaterfallResult, *, accrued_interest: int | None = None) -> Transaction:
    """:func:`repayment_split` for a ``domain.allocation.allocate_payment`` result: principal includes
    the advance to principal; the excess goes to CUSTOMER_CREDIT. Debits exactly ``result.amount``."""
    txn = repayment_split(
        principal=result.principal,
        interest=result.interest,
        fees=result.fees,
        penal=result.penal,
        excess=result.excess,
        accrued_interest=accrued_interest,
    )
    if txn.net(COLLECTION_BANK) != result.amount:  # pragma: no cover - the allocation's own law
        raise AssertionError("allocation does not add up to the amount collected")
    return txn


def waiver(*, interest: int = 0, fees: int = 0, fees_gst: int = 0, penal: int = 0, penal_gst: int = 0) -> Transaction:
    """Waive receivables: Dr INTEREST_WAIVED / FEES_WAIVED / PENAL_WAIVED (contra-income) the net
    amounts and Dr GST_PAYABLE the GST being reversed (a credit note); Cr INTEREST_RECEIVABLE interest,
    Cr FEES_RECEIVABLE fees + fees_gst, Cr PENAL_RECEIVABLE penal + penal_gst. Principal is never waived
    here (that is a write-off or a settlement loss). Kind ``WAIVER``."""
    interest = _paise(interest, "interest")
    fees = _paise(fees, "fees")
    fees_gst = _paise(fees_gst, "fees_gst")
    penal = _paise(penal, "penal")
    penal_gst = _paise(penal_gst, "penal_gst")
    if interest + fees + fees_gst + penal + penal_gst == 0:
        raise ValidationError("nothing to waive", field="amount")
    return _build(
        "WAIVER",
        [
            (INTEREST_WAIVED, interest),
            (FEES_WAIVED, fees),
            (PENAL_WAIVED, penal),
            (GST_PAYABLE, fees_gst + penal_gst),
            (INTEREST_RECEIVABLE, -interest),
            (FEES_RECEIVABLE, -(fees + fees_gst)),
            (PENAL_RECEIVABLE, -(penal + penal_gst)),
        ],
    )


def provision(amount: int) -> Transaction:
    """Make a provision against the loan: Dr PROVISION_EXPENSE, Cr PROVISION_FOR_NPA (RBI IRACP
    provisioning; the percentage is policy, not this function's). Kind ``PROVISION``."""
    amount = _paise(amount, "amount", positive=True)
    return _build("PROVISION", [(PROVISION_EXPENSE, amount), (PROVISION_FOR_NPA, -amount)])


def write_off(
    *, principal: int, interest: int = 0, fees: int = 0, penal: int = 0, from_provision: int = 0
) -> Transaction:
    """Write off what is outstanding: Cr LOAN_PRINCIPAL principal, Cr INTEREST_RECEIVABLE interest,
    Cr FEES_RECEIVABLE fees, Cr PENAL_RECEIVABLE penal; Dr PROVISION_FOR_NPA ``from_provision`` (using
    provision already held, at most the total) and Dr WRITE_OFF_EXPENSE the rest. Kind ``WRITE_OFF``."""
    principal = _paise(principal, "principal")
    interest = _paise(interest, "interest")
    fees = _paise(fees, "fees")
    penal = _paise(penal, "penal")
    from_provision = _paise(from_provision, "from_provision")
    total = principal + interest + fees + penal
    if total == 0:
        raise ValidationError("nothing to write off", field="principal")
    if from_provision > total:
        raise ValidationError("provision used cannot exceed the amount written off", field="from_provision")
    return _build(
        "WRITE_OFF",
        [
            (PROVISION_FOR_NPA, from_provision),
            (WRITE_OFF_EXPENSE, total - from_provision),
            (LOAN_PRINCIPAL, -principal),
            (INTEREST_RECEIVABLE, -interest),
            (FEES_RECEIVABLE, -fees),
            (PENAL_RECEIVABLE, -penal),
        ],
    )


def recovery_after_write_off(amount: int) -> Transaction:
    """Money collected on a written-off loan: Dr COLLECTION_BANK, Cr BAD_DEBT_RECOVERY (income; the
    receivables are already gone, so nothing is allocated to principal). Kind ``WRITE_OFF_RECOVERY``."""
    amount = _paise(amount, "amount", positive=True)
    return _build("WRITE_OFF_RECOVERY", [(COLLECTION_BANK, amount), (BAD_DEBT_RECOVERY, -amount)])
