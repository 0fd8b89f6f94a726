"""Co-lending: a loan's principal shared with a partner lender (docs/co-lending.md). Pure rules: the split of
principal, interest, fees and penal charges to the paisa (``split``), each lender's ledger sub-accounts
(``ledger``) and the partners' books and settlement statements (``reports``)."""

from domain.colending.split import (
    BPS,
    CLA_2025_MIN_ORIGINATOR_BPS,
    CLM_2020_MIN_ORIGINATOR_BPS,
    COMPONENTS,
    Agreement,
    Parts,
    Rule,
    Split,
    Splitter,
    largest_remainder,
    principal_split,
    schedule_split,
)

__all__ = [
    "BPS",
    "CLA_2025_MIN_ORIGINATOR_BPS",
    "CLM_2020_MIN_ORIGINATOR_BPS",
    "COMPONENTS",
    "Agreement",
    "Parts",
    "Rule",
    "Split",
    "Splitter",
    "largest_remainder",
    "principal_split",
    "schedule_split",
]
