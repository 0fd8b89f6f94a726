"""The full set of postings, accrual basis: disbursal net of upfront fees, GST and third-party charges; fee,
interest and penal-charge demands as receivables; interest reversal on an NPA; repayment split by component;
waiver; provision; write-off; recovery after write-off; refund of a credit balance. Sources: the ``domain.ledger``
docstring.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from domain.errors import ValidationError
from domain.ledger.accounts import (
    BAD_DEBT_RECOVERY,
    COLLECTION_BANK,
    CUSTOMER_CREDIT,
    DISBURSAL_BANK,
    FEE_INCOME,
    FEES_RECEIVABLE,
    FEES_WAIVED,
    GST_PAYABLE,
    INTEREST_INCOME,
    INTEREST_RECEIVABLE,
    INTEREST_WAIVED,
    LOAN_PRINCIPAL,
    PENAL_INCOME,
    PENAL_RECEIVABLE,
    PENAL_WAIVED,
    PROVISION_EXPENSE,
    PROVISION_FOR_NPA,
    WRITE_OFF_EXPENSE,
)
from domain.ledger.transactions import Transaction, _account, _build, _paise

if TYPE_CHECKING:
    from domain.allocation import WaterfallResult


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


def interest_credit(amount: int) -> Transaction:
    """Interest collected for days the loan did not run, counted towards its principal at foreclosure (an EMI paid
    before its due date, the loan closed before that date: ``domain.closure``): Dr INTEREST_INCOME, Cr
    LOAN_PRINCIPAL. It was credited to income when collected (a period not yet ended has nothing receivable), so
    income is reduced by what was never earned. Kind ``INTEREST_CREDIT``."""
    amount = _paise(amount, "amount", positive=True)
    return _build("INTEREST_CREDIT", [(INTEREST_INCOME, amount), (LOAN_PRINCIPAL, -amount)])


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


def refund(amount: int) -> Transaction:
    """A credit balance paid back to the borrower's bank account: Dr CUSTOMER_CREDIT (the liability is settled),
    Cr DISBURSAL_BANK (the refund leaves through the disbursal bank, as transfers do). Kind ``REFUND``. ``amount`` is
    positive paise; raises TypeError on floats and ValidationError naming ``amount`` otherwise."""
    amount = _paise(amount, "amount", positive=True)
    return _build("REFUND", [(CUSTOMER_CREDIT, amount), (DISBURSAL_BANK, -amount)])
