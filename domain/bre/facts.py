"""What the BRE knows about the applicant: the bureau report's tradelines (``BureauAccount``) and every fact the
hard rules read (``BreInput``); dates are plain ``date`` values, money integer paise."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from domain.bre.config import MAX_BUREAU_SCORE, _date, _int, _opt_date, _opt_int
from domain.errors import ValidationError


@dataclass(frozen=True)
class BureauAccount:
    """One tradeline of the bureau report: whether it is open, and its monthly DPD history as
    ``(any date in the month, dpd)`` pairs (the integrator maps "STD"/"XXX" codes to 0 and "SUB"/"DBT"/"LSS"
    to the DPD it chooses, e.g. 90+). ``account_id`` only labels reasons."""

    dpd_history: Sequence[tuple[date, int]] = ()
    is_active: bool = True
    account_id: str | None = None

    def __post_init__(self) -> None:
        history = tuple(self.dpd_history)
        for entry in history:
            if not isinstance(entry, tuple) or len(entry) != 2:
                raise ValidationError("each DPD history entry is (month date, dpd)", field="dpdHistory")
            _date(entry[0], "dpdHistory")
            _int(entry[1], "dpd")
        object.__setattr__(self, "dpd_history", history)
        if not isinstance(self.is_active, bool):
            raise ValidationError("must be true or false", field="isActive")


@dataclass(frozen=True)
class BreInput:
    """What the BRE knows about the applicant on ``application_date`` (every other fact optional).

    * ``bureau_score``: None when no report (fails a configured minimum score).
    * ``bureau_accounts``: tradelines (DPD history, open/closed).
    * ``active_loans``: open loans; None → count of ``bureau_accounts`` with ``is_active``.
    * ``enquiry_dates`` / ``enquiries_30d``: bureau enquiries; the count, when given, wins over the dates.
      The caller leaves out this application's own enquiry.
    * ``pan``, ``aadhaar_hash`` (domain.kyc.aadhaar_hash), ``phone``, ``device_id``: blocklist keys.
    * ``dob``: date of birth; ``monthly_salary``: paise.
    * ``last_rejected_on``: date of the customer's last rejection in this brand (None = never).
    * ``other_brand_active_loans``: active loans of the same PAN in other brands (None = not checked).
    """

    application_date: date
    bureau_score: int | None = None
    bureau_accounts: Sequence[BureauAccount] = ()
    active_loans: int | None = None
    enquiry_dates: Sequence[date] = ()
    enquiries_30d: int | None = None
    pan: str | None = None
    aadhaar_hash: str | None = None
    phone: str | None = None
    device_id: str | None = None
    dob: date | None = None
    monthly_salary: int | None = None  # paise
    last_rejected_on: date | None = None
    other_brand_active_loans: int | None = None

    def __post_init__(self) -> None:
        _date(self.application_date, "application_date")
        if self.bureau_score is not None:
            _int(self.bureau_score, "bureau_score", minimum=-1, maximum=MAX_BUREAU_SCORE)
        accounts = tuple(self.bureau_accounts)
        if not all(isinstance(a, BureauAccount) for a in accounts):
            raise ValidationError("must be BureauAccount values", field="bureau_accounts")
        object.__setattr__(self, "bureau_accounts", accounts)
        _opt_int(self.active_loans, "active_loans")
        enquiries = tuple(self.enquiry_dates)
        for d in enquiries:
            _date(d, "enquiry_dates")
        object.__setattr__(self, "enquiry_dates", enquiries)
        _opt_int(self.enquiries_30d, "enquiries_30d")
        for name in ("pan", "aadhaar_hash", "phone", "device_id"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ValidationError("must be text", field=name)
        _opt_date(self.dob, "dob")
        _opt_int(self.monthly_salary, "monthly_salary", money=True)
        _opt_date(self.last_rejected_on, "last_rejected_on")
        _opt_int(self.other_brand_active_loans, "other_brand_active_loans")
