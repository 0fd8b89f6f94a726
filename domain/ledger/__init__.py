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

The package, by seam: ``domain.ledger.accounts`` (the account names above and the GST rate),
``domain.ledger.transactions`` (``Leg``, ``Transaction``, ``balances``), ``domain.ledger.gst`` (``gst_on``,
``split_gst_inclusive``), ``domain.ledger.skeleton`` (the walking-skeleton postings) and
``domain.ledger.postings`` (the full set). ``domain.ledger`` re-exports every public name: import from it, as
before the split.
"""

from __future__ import annotations

# ruff: noqa: F401
# (this module only re-exports the names of its package)
from domain.ledger.accounts import (
    BAD_DEBT_RECOVERY,
    COLLECTION_BANK,
    CUSTOMER_CREDIT,
    DISBURSAL_BANK,
    FEE_INCOME,
    FEES_RECEIVABLE,
    FEES_WAIVED,
    GST_PAYABLE,
    GST_RATE,
    INSURANCE_PREMIUM_PAYABLE,
    INTEREST_INCOME,
    INTEREST_RECEIVABLE,
    INTEREST_WAIVED,
    LOAN_PRINCIPAL,
    MAX_ACCOUNT_LENGTH,
    PENAL_INCOME,
    PENAL_RECEIVABLE,
    PENAL_WAIVED,
    PROVISION_EXPENSE,
    PROVISION_FOR_NPA,
    STAMP_DUTY_PAYABLE,
    THIRD_PARTY_PAYABLE,
    WRITE_OFF_EXPENSE,
)
from domain.ledger.gst import gst_on, split_gst_inclusive
from domain.ledger.postings import (
    disbursal_with_deductions,
    fee_charge,
    interest_accrual,
    interest_credit,
    interest_reversal,
    penal_charge,
    provision,
    recovery_after_write_off,
    repayment_from_waterfall,
    repayment_split,
    waiver,
    write_off,
)
from domain.ledger.skeleton import disbursal, repayment
from domain.ledger.transactions import Leg, Transaction, balances
