"""domain.contact_hours: RBI's 08:00–19:00 IST window for contact about overdue dues."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.contact_hours import IST, check_recovery_contact, next_contact_opening, within_contact_hours
from domain.errors import Conflict


def ist(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, second, tzinfo=IST)


@pytest.mark.parametrize(
    ("at", "inside"),
    [
        (ist(7, 7, 59, 59), False),
        (ist(7, 8), True),
        (ist(7, 12), True),
        (ist(7, 18, 59, 59), True),
        (ist(7, 19), False),
        (ist(7, 23, 30), False),
        (ist(8, 0), False),  # the day-end run that finds an installment unpaid
        (datetime(2026, 12, 7, 2, 30, tzinfo=UTC), True),  # 08:00 IST, given in UTC
        (datetime(2026, 12, 7, 13, 30, tzinfo=UTC), False),  # 19:00 IST
        (datetime(2026, 12, 7, 9, 0, tzinfo=timezone(timedelta(hours=-5))), False),  # 19:30 IST, from New York
    ],
)
def test_the_window_is_8_inclusive_to_19_exclusive_ist_whatever_zone_the_instant_is_in(
    at: datetime, inside: bool
) -> None:
    assert within_contact_hours(at) is inside


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        within_contact_hours(datetime(2026, 12, 7, 12))


@pytest.mark.parametrize(
    ("at", "opens"),
    [
        (ist(8, 0), ist(8, 8)),  # after midnight: the same morning
        (ist(7, 7, 59), ist(7, 8)),
        (ist(7, 19), ist(8, 8)),  # from 19:00: the next morning
        (ist(31, 22), datetime(2027, 1, 1, 8, tzinfo=IST)),  # across a year's end
        (ist(7, 9, 15), ist(7, 9, 15)),  # inside: now
    ],
)
def test_the_next_opening(at: datetime, opens: datetime) -> None:
    assert next_contact_opening(at) == opens
    assert within_contact_hours(next_contact_opening(at))


def test_contact_outside_the_window_is_refused_saying_when_it_opens() -> None:
    with pytest.raises(Conflict) as refused:
        check_recovery_contact(ist(7, 21, 5), "a borrower in arrears", field="userId")
    assert refused.value.status_code == 409
    assert refused.value.field == "userId"
    assert refused.value.message == (
        "a borrower in arrears may be contacted about overdue dues only between 08:00 and 19:00 IST (RBI circular "
        "of 12 August 2022 on recovery agents); it is 21:05 IST now, next from 08 Dec 2026 08:00 IST"
    )
    check_recovery_contact(ist(7, 18, 59), "a borrower in arrears")  # inside: nothing raised
