"""RBI's credit information reporting calendar and which accounts each file carries.

Source: the RBI amendments of 4 December 2025 to the Credit Information Reporting Directions, 2025 (one per class of
regulated entity: RBI/DOR/2025-26/112 for local area banks, RBI/DOR/2025-26/116 for all-India financial
institutions, and the same text for NBFCs), in force from 1 July 2026. As summarised at
https://bankpulse.ai/c/rbi-dor-2025-26-112/, https://bankpulse.ai/c/rbi-dor-2025-26-116/ and
https://www.livemint.com/money/banks-to-now-update-credit-information-every-week-instead-of-fortnight-earlier-rbi-directions-11764934262696.html
(paragraph 10(2) as amended):

* credit information is submitted **as on the 9th, 16th, 23rd and the last day of each month** (the reference
  dates; before 1 July 2026 it was the 15th and the last day, fortnightly);
* the file as on the **last day of the month** is the **full file**: every active account in the books and the
  accounts whose relationship with the borrower ended since the last reporting date; it is due **by the 5th of the
  next month**;
* the files as on the 9th, 16th and 23rd carry only the **incremental accounts** (opened, closed, or with a change
  in status or asset classification since the last reference date) and are due **within 4 calendar days** of the
  reference date;
* paragraph 12(10): the borrower's CKYC number is reported where available; paragraph 14/15: data the CIC rejected
  is rectified and resubmitted before or with the next reference date's submission.

Dates here are IST calendar dates. The file "as on" a reference date reflects the book after that date's day-end
(the loans' day-end runs at 00:00 IST the next day; the ``bureau-files`` schedule runs after it).
"""

from __future__ import annotations

import calendar as _cal
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from domain.errors import ValidationError

INCREMENTAL = "INCREMENTAL"
FULL = "FULL"
KINDS = (INCREMENTAL, FULL)
INCREMENTAL_DAYS = (9, 16, 23)  # paragraph 10(2): the reference dates within the month
INCREMENTAL_DUE_DAYS = 4  # calendar days after the reference date
FULL_DUE_DAY = 5  # of the next month
WEEKLY_FROM = date(2026, 7, 1)  # the amended calendar's start


def last_day(d: date) -> date:
    """The last day of ``d``'s month."""
    return d.replace(day=_cal.monthrange(d.year, d.month)[1])


def kind_of(d: date) -> str | None:
    """``FULL`` for the last day of a month, ``INCREMENTAL`` for the 9th, 16th and 23rd, else ``None`` (RBI
    paragraph 10(2) as amended on 4 December 2025)."""
    if d == last_day(d):
        return FULL
    if d.day in INCREMENTAL_DAYS:
        return INCREMENTAL
    return None


def is_reference_date(d: date, kind: str | None = None) -> bool:
    """Whether ``d`` is a reference date (of ``kind`` when given)."""
    found = kind_of(d)
    return found is not None and (kind is None or found == kind)


def check_reference_date(d: date, kind: str, field: str = "referenceDate") -> None:
    """``ValidationError`` naming ``field`` unless ``d`` is a reference date of ``kind``."""
    if kind not in KINDS:
        raise ValidationError(f"must be one of {', '.join(KINDS)}", field="kind")
    if not is_reference_date(d, kind):
        if kind == FULL:
            last = last_day(d).isoformat()
            raise ValidationError(f"a FULL file is as on the last day of a month ({last})", field=field)
        raise ValidationError("an INCREMENTAL file is as on the 9th, 16th or 23rd of a month", field=field)


def due_date(kind: str, reference: date) -> date:
    """When the file as on ``reference`` must reach the CICs: an incremental file within 4 calendar days of the
    reference date (reference + 4), the full file by the 5th of the next month (RBI paragraph 10(2))."""
    if kind == INCREMENTAL:
        return reference + timedelta(days=INCREMENTAL_DUE_DAYS)
    if kind == FULL:
        first_next = last_day(reference) + timedelta(days=1)
        return first_next.replace(day=FULL_DUE_DAY)
    raise ValidationError(f"must be one of {', '.join(KINDS)}", field="kind")


def previous_reference_date(d: date) -> date:
    """The last reference date (of either kind) before ``d``."""
    day = d - timedelta(days=1)
    while kind_of(day) is None:
        day -= timedelta(days=1)
    return day


def previous_full_date(d: date) -> date:
    """The last day of the month before ``d``'s month: the previous full file's reference date."""
    return d.replace(day=1) - timedelta(days=1)


def dpd_bucket(dpd: int) -> str:
    """The DPD bucket a change of which makes an account incremental: ``0``, ``1-30``, ``31-60``, ``61-90``,
    ``90+`` (the SMA-0/1/2 and NPA bands of RBI's IRACP norms, ``domain.delinquency``)."""
    if dpd <= 0:
        return "0"
    if dpd <= 30:
        return "1-30"
    if dpd <= 60:
        return "31-60"
    if dpd <= 90:
        return "61-90"
    return "90+"


@dataclass(frozen=True)
class Snapshot:
    """What was reported of an account, kept with each file's record to tell a change next time: the loan's
    status, asset classification, DPD bucket, bureau flag (written off / settled / restructured) and whether it
    was reported closed."""

    status: str
    asset_class: str
    dpd_bucket: str
    bureau_flag: str | None
    closed: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def of(cls, value: Mapping[str, Any]) -> Snapshot:
        return cls(
            status=str(value.get("status") or ""),
            asset_class=str(value.get("asset_class") or ""),
            dpd_bucket=str(value.get("dpd_bucket") or "0"),
            bureau_flag=value.get("bureau_flag"),
            closed=bool(value.get("closed")),
        )


@dataclass(frozen=True)
class Account:
    """One loan account as the selection sees it: opened (disbursed) and closed on (IST dates), and its state
    now."""

    loan_id: str
    opened_on: date
    closed_on: date | None
    state: Snapshot

    def open_on(self, reference: date) -> bool:
        """Opened on or before ``reference`` and not closed by then."""
        return self.opened_on <= reference and (self.closed_on is None or self.closed_on > reference)


def select_incremental(
    accounts: Iterable[Account],
    last_reference: date,
    reference: date,
    reported: Mapping[str, Snapshot],
    resubmit: Iterable[str] = (),
) -> list[str]:
    """The loan ids an incremental file as on ``reference`` carries, in the order given: accounts **opened**
    (disbursed) after ``last_reference`` up to ``reference``, accounts **closed** in that span, and accounts whose
    status, asset classification, DPD bucket or bureau flag **changed** since what was last reported of them
    (``reported``: loan id → snapshot of the latest earlier file); an account never reported and open is new to the
    CIC and goes in too. Accounts the CIC **rejected** (``resubmit``) go in again (RBI paragraph 14/15: rectified
    and resubmitted with the next submission). Accounts opened after ``reference`` never go in, nor accounts
    closed before ``last_reference`` and already reported closed."""
    again = set(resubmit)
    chosen: list[str] = []
    for a in accounts:
        if a.opened_on > reference:
            continue
        before = reported.get(a.loan_id)
        opened = last_reference < a.opened_on <= reference
        closed = a.closed_on is not None and last_reference < a.closed_on <= reference
        if a.loan_id in again or opened or closed:
            chosen.append(a.loan_id)
        elif before is None:
            if a.open_on(reference):  # never reported: new to the CIC
                chosen.append(a.loan_id)
        elif _changed(before, a.state):
            chosen.append(a.loan_id)
    return chosen


def _changed(before: Snapshot, now: Snapshot) -> bool:
    return (before.status, before.asset_class, before.dpd_bucket, before.bureau_flag, before.closed) != (
        now.status,
        now.asset_class,
        now.dpd_bucket,
        now.bureau_flag,
        now.closed,
    )


def select_full(
    accounts: Iterable[Account], last_full: date, reference: date, resubmit: Iterable[str] = ()
) -> list[str]:
    """The loan ids the full file as on ``reference`` (a month's last day) carries, in the order given: **every
    account open** on ``reference`` and **every account closed** after ``last_full`` (the previous month's last
    day) up to ``reference``, which covers RBI's "accounts wherein the relationship ended since the last reporting
    reference date"; plus rejected accounts to resubmit."""
    again = set(resubmit)
    chosen: list[str] = []
    for a in accounts:
        if a.opened_on > reference:
            continue
        closed = a.closed_on is not None and last_full < a.closed_on <= reference
        if a.open_on(reference) or closed or a.loan_id in again:
            chosen.append(a.loan_id)
    return chosen
