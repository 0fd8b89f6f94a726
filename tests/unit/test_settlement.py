"""Settlement, waiver and write-off rules (domain.settlement) and the brand's collections rules
(domain.collection_policy)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.collection_policy import CollectionPolicy, ReloanPolicy
from domain.errors import ValidationError
from domain.settlement import (
    Outstanding,
    can_write_off,
    check_limit,
    penal_waiver,
    settlement_parts,
    settlement_waiver,
    waive_remaining,
)


@dataclass
class Inst:
    number: int
    due_date: date | None
    principal: int
    interest: int
    fees: int = 0
    penal: int = 0
    principal_paid: int = 0
    interest_paid: int = 0
    fees_paid: int = 0
    penal_paid: int = 0

    @property
    def paid(self) -> bool:
        return all(getattr(self, c) <= getattr(self, f"{c}_paid") for c in ("principal", "interest", "fees", "penal"))


def _loan() -> list[Inst]:
    return [
        Inst(1, date(2026, 1, 5), 10_000_00, 1_000_00, fees=100_00, penal=500_00),
        Inst(2, date(2026, 2, 5), 10_000_00, 800_00, penal=300_00),
        Inst(3, date(2026, 3, 5), 10_000_00, 600_00),
    ]


def test_the_waiver_takes_penal_then_fees_then_interest_then_principal() -> None:
    owed = Outstanding(principal=30_000_00, interest=2_400_00, fees=100_00, penal=800_00)
    assert settlement_waiver(owed, owed.total - 500_00) == {"penal": 500_00, "fees": 0, "interest": 0, "principal": 0}
    assert settlement_waiver(owed, owed.total - 1_000_00) == {
        "penal": 800_00, "fees": 100_00, "interest": 100_00, "principal": 0,
    }  # fmt: skip
    assert settlement_waiver(owed, 20_000_00) == {
        "penal": 800_00, "fees": 100_00, "interest": 2_400_00, "principal": 10_000_00,
    }  # fmt: skip


@pytest.mark.parametrize("amount", [0, -1, 33_300_00, 40_000_00])
def test_a_settlement_is_for_something_and_for_less_than_is_owed(amount: int) -> None:
    owed = Outstanding(principal=30_000_00, interest=2_400_00, fees=100_00, penal=800_00)
    with pytest.raises(ValidationError) as err:
        settlement_waiver(owed, amount)
    assert err.value.field == "amount"


@given(
    principal=st.integers(0, 10**9),
    interest=st.integers(0, 10**8),
    fees=st.integers(0, 10**7),
    penal=st.integers(0, 10**7),
    share=st.floats(0.001, 0.999),
)
def test_waiver_plus_amount_is_the_outstanding(
    principal: int, interest: int, fees: int, penal: int, share: float
) -> None:
    owed = Outstanding(principal, interest, fees, penal)
    amount = int(owed.total * share)
    if not 0 < amount < owed.total:
        return
    waiver = settlement_waiver(owed, amount)
    assert sum(waiver.values()) + amount == owed.total
    assert all(0 <= waiver[c] <= getattr(owed, c) for c in waiver)
    # a component is waived only once every component before it is waived in full
    order = ["penal", "fees", "interest", "principal"]
    for before, after in zip(order, order[1:], strict=False):
        if waiver[after]:
            assert waiver[before] == getattr(owed, before)


def test_the_settlement_money_pays_principal_first_and_the_rest_is_waived() -> None:
    loan = _loan()
    parts, left = settlement_parts(loan, 25_000_00, date(2026, 3, 10))
    assert left == 0
    assert sum(p.principal for p in parts) == 25_000_00 and sum(p.penal + p.interest + p.fees for p in parts) == 0
    assert [p.number for p in parts] == [1, 2, 3]  # oldest first
    for inst, part in zip(loan, parts, strict=True):
        inst.principal_paid += part.principal
    waived = waive_remaining(loan)
    assert waived == {"penal": 800_00, "fees": 100_00, "interest": 2_400_00, "principal": 5_000_00}
    assert all(i.paid for i in loan)
    more, extra = settlement_parts(_loan(), 40_000_00, date(2026, 3, 10))
    assert extra == 40_000_00 - (30_000_00 + 2_400_00 + 100_00 + 800_00)


def test_penal_waiver_oldest_first_and_never_more_than_unpaid() -> None:
    loan = _loan()
    loan[0].penal_paid = 200_00
    assert penal_waiver(loan, 400_00) == [(1, 300_00), (2, 100_00)]
    assert (loan[0].penal, loan[1].penal) == (200_00, 200_00)
    with pytest.raises(ValidationError) as err:
        penal_waiver(loan, 200_01)
    assert err.value.field == "amount"
    with pytest.raises(ValidationError):
        penal_waiver(loan, 0)


def test_limits_and_the_write_off_threshold() -> None:
    assert check_limit("COLLECTION_HEAD", 100, None, "waiver") is None
    assert check_limit("COLLECTION_HEAD", 100, 100, "waiver") is None
    assert "above the COLLECTION_HEAD limit" in (check_limit("COLLECTION_HEAD", 101, 100, "waiver") or "")
    assert "no waiver authority" in (check_limit("COLLECTION_EXECUTIVE", 1, 0, "waiver") or "")
    assert can_write_off(180, 180) is None
    assert "179 days past due" in (can_write_off(179, 180) or "")


def test_the_brands_collections_rules_read_with_defaults_and_refuse_nonsense() -> None:
    default = CollectionPolicy.of(None)
    assert [b.name for b in default.buckets.buckets] == ["0", "1-30", "31-60", "61-90", "90+"]
    assert default.role_for("90+") == "COLLECTION_HEAD" and default.role_for("1-30") == "COLLECTION_EXECUTIVE"
    assert default.waiver_limit("ADMIN") is None and default.waiver_limit("COLLECTION_EXECUTIVE") == 0
    assert default.settlement_limit("collection_head") == 1_00_000_00
    custom = CollectionPolicy.of(
        {"buckets": ["0", "1-15", "16-45", "45+"], "bucketRoles": {"45+": "COLLECTION_MANAGER"}, "writeOffDpd": 120}
    )
    assert custom.bucket_for(16) == "16-45" and custom.bucket_for(46) == "45+"
    assert custom.role_for("45+") == "COLLECTION_MANAGER" and custom.write_off_dpd == 120
    for bad, field in (
        ({"buckets": ["1-30", "31+"]}, "collections.buckets"),
        ({"bucketRoles": {"nope": "COLLECTION_HEAD"}}, "collections.bucketRoles"),
        ({"writeOffDpd": -1}, "collections.write_off_dpd"),
        ({"waiverLimits": {"COLLECTION_HEAD": 1.5}}, "collections.waiver_limits.COLLECTION_HEAD"),
        ("x", "collections"),
    ):
        with pytest.raises(ValidationError) as err:
            CollectionPolicy.of(bad)  # type: ignore[arg-type]
        assert err.value.field == field
    assert ReloanPolicy.of({"stepUpPercent": 50, "maxAmount": 1_00_000_00}).step_up_percent == 50
    with pytest.raises(ValidationError) as err:
        ReloanPolicy.of({"enabled": "yes"})
    assert err.value.field == "reloan.enabled"
