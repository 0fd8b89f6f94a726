"""A failed wallet order's resend, maker-checker (domain.colending.orders), and the partner's part of a restructured
schedule (domain.colending.split.remaining_schedule: its principal outstanding to the paisa, hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.colending import Agreement, Parts
from domain.colending.orders import check_resend, check_resend_decision, failed, in_flight
from domain.colending.split import remaining_schedule
from domain.errors import Conflict, PermissionDenied

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_only_a_failed_order_is_resent_once_and_by_two_people() -> None:
    refused = {"status": "REFUSED: lendbox: HTTP 422: wallet limit", "walletOrderId": None, "amount": 100}
    assert failed(refused) and failed({"status": "FAILED", "walletOrderId": "LBW1"})
    assert not failed({"status": "PENDING", "walletOrderId": "LBW1"})
    check_resend(refused, NOW)
    with pytest.raises(Conflict, match="already succeeded at the partner \\(UTR U1\\)"):
        check_resend({"status": "SUCCESS", "walletOrderId": "LBW1", "utr": "U1"}, NOW)
    with pytest.raises(Conflict, match="holds the order"):
        check_resend({"status": "PENDING", "walletOrderId": "LBW1"}, NOW)
    pending = {**refused, "resend": {"status": "PENDING", "requestedBy": "maker"}}
    with pytest.raises(Conflict, match="awaits approval"):
        check_resend(pending, NOW)
    with pytest.raises(PermissionDenied):
        check_resend_decision(pending, "maker", NOW)
    check_resend_decision(pending, "checker", NOW)
    sending = {**refused, "resend": {"status": "SENDING", "requestedBy": "maker", "sendingAt": NOW.isoformat()}}
    assert in_flight(sending, NOW + timedelta(seconds=30))
    for check in (lambda: check_resend(sending, NOW), lambda: check_resend_decision(sending, "checker", NOW)):
        with pytest.raises(Conflict, match="being sent"):
            check()
    later = NOW + timedelta(minutes=3)  # a SENDING whose process died is taken as lost
    assert not in_flight(sending, later)
    check_resend_decision(sending, "checker", later)
    with pytest.raises(Conflict, match="no resend"):
        check_resend_decision({**refused, "resend": {"status": "SENT"}}, "checker", NOW)


@settings(max_examples=200, deadline=None)
@given(
    outstanding=st.integers(0, 10**9),
    lines=st.lists(st.tuples(st.integers(0, 10**8), st.integers(0, 10**6), st.integers(0, 10**4)), min_size=1,
                   max_size=24),
    share=st.integers(1, 9000),
    rate=st.integers(0, 2400),
)  # fmt: skip
def test_a_restructured_schedule_carries_the_partners_principal_outstanding(
    outstanding: int, lines: list[tuple[int, int, int]], share: int, rate: int
) -> None:
    agreement = Agreement(share, min(rate, 2400))
    blended = 2400
    left = [Parts(p, i, f) for p, i, f in lines]
    theirs = remaining_schedule(agreement, blended, outstanding, left)
    assert sum(p.principal for p in theirs) == outstanding  # what the partner's sub-ledger says it is owed
    for mine, whole in zip(theirs, left, strict=True):
        assert 0 <= mine.interest <= whole.interest and 0 <= mine.fees <= whole.fees and mine.principal >= 0
    if any(p for p, _, _ in lines):
        assert all(t.principal == 0 for t, (p, _, _) in zip(theirs, lines, strict=True) if p == 0)
    with pytest.raises(ValueError):
        remaining_schedule(agreement, blended, -1, left)
