"""The ledger's account names (stored in ``ledger_entries.account``: never rename one) and the GST rate on fees
and charges. What each account holds, and its type: the ``domain.ledger`` docstring.
"""

from __future__ import annotations

from decimal import Decimal

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
