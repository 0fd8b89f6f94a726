"""Credit information reporting to the credit information companies (CICs): the consumer data file in CIBIL's TUDF
layout (:mod:`domain.cic.tudf`) and RBI's reporting calendar and account selection (:mod:`domain.cic.calendar`).
Pure code: plain values in, text and lists out. What is reported and why: docs/bureau-reporting.md."""

from domain.cic.calendar import (
    FULL,
    INCREMENTAL,
    Account,
    Snapshot,
    dpd_bucket,
    due_date,
    is_reference_date,
    kind_of,
    previous_full_date,
    previous_reference_date,
    select_full,
    select_incremental,
)
from domain.cic.tudf import (
    AccountRecord,
    Header,
    account_number,
    loan_id_of_account,
    render_file,
    render_record,
)
from domain.cic.validation import FieldError, validate_header, validate_record

__all__ = [
    "FULL",
    "INCREMENTAL",
    "Account",
    "AccountRecord",
    "FieldError",
    "Header",
    "Snapshot",
    "account_number",
    "dpd_bucket",
    "due_date",
    "is_reference_date",
    "kind_of",
    "loan_id_of_account",
    "previous_full_date",
    "previous_reference_date",
    "render_file",
    "render_record",
    "select_full",
    "select_incremental",
    "validate_header",
    "validate_record",
]
