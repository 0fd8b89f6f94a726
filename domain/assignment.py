"""Auto-allocation of a loan (or a new customer) to a staff member of the brand.

Seed 000/001: "assigns it using round-robin rotation among loan executives with capacity. Checks
PartnerUnavailabilityDate to skip staff on leave"; "finds an available loan executive by: checking brand
assignment, current load, availability status".

Eligibility (every condition, checked in this order; the first failing one is the staff member's reason):

1. active (``StaffUser.is_active``),
2. in the brand,
3. role matches (case-insensitive),
4. not on leave on the allocation date (a ``PartnerUnavailabilityDate`` row for that day),
5. open workload below the cap (the member's own ``capacity`` if set, else the call's ``cap``; no cap →
   unlimited).

Strategies:

* ``ROUND_ROBIN`` (default): candidates ordered by staff id (a total, stable order); the first eligible id
  strictly after ``last_assigned_id`` gets it, wrapping round to the start. ``last_assigned_id`` need not
  be a current candidate (a deactivated member): the rotation continues from where the id would sort.
* ``LEAST_LOADED``: the eligible member with the lowest open workload; ties broken by the round-robin
  order above (so equal loads still rotate).

Deterministic: same candidates, date and ``last_assigned_id`` → same answer; the input order is irrelevant.
Nobody eligible → ``Assignment.staff_id is None`` with the reason; never raises for that.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from domain.errors import ValidationError


class Strategy(StrEnum):
    ROUND_ROBIN = "ROUND_ROBIN"
    LEAST_LOADED = "LEAST_LOADED"


@dataclass(frozen=True)
class StaffCandidate:
    """A staff member as auto-allocation sees them: ``StaffUser`` columns, their count of open assigned
    items (loans under review, or customers, as the caller counts), the dates they are unavailable
    (``PartnerUnavailabilityDate.day`` values; only the allocation date matters) and an optional personal
    ``capacity`` overriding the call's cap."""

    staff_id: str
    brand_id: str
    role: str
    is_active: bool = True
    open_workload: int = 0
    unavailable_on: Collection[date] = frozenset()
    capacity: int | None = None

    def __post_init__(self) -> None:
        for name in ("staff_id", "brand_id", "role"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValidationError("is required", field=name)
        if not isinstance(self.is_active, bool):
            raise ValidationError("must be true or false", field="is_active")
        _count(self.open_workload, "open_workload", minimum=0)
        if self.capacity is not None:
            _count(self.capacity, "capacity", minimum=0)
        days = frozenset(self.unavailable_on)
        for d in days:
            _plain_date(d, "unavailable_on")
        object.__setattr__(self, "unavailable_on", days)


@dataclass(frozen=True)
class Assignment:
    """The outcome: ``staff_id`` (None when nobody is eligible), ``reason`` for the audit trail, and
    ``skipped`` = ``(staff_id, why)`` for every candidate found ineligible, in round-robin order."""

    staff_id: str | None
    reason: str
    skipped: tuple[tuple[str, str], ...] = ()

    @property
    def assigned(self) -> bool:
        """True when someone was chosen."""
        return self.staff_id is not None

    def to_dict(self) -> dict[str, object]:
        """JSON-safe record for ``LoanDecision.details`` (stage ALLOCATION)."""
        return {
            "staffId": self.staff_id,
            "reason": self.reason,
            "skipped": [{"staffId": s, "reason": r} for s, r in self.skipped],
        }


def _count(value: object, field: str, *, minimum: int) -> int:
    if isinstance(value, float):
        raise TypeError(f"{field}: float is not allowed, use a whole number")
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValidationError(f"must be a whole number ≥ {minimum}", field=field)
    return value


def _plain_date(value: object, field: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError("must be a calendar date (not a datetime)", field=field)
    return value


def ineligibility(candidate: StaffCandidate, *, brand_id: str, role: str, on: date, cap: int | None) -> str | None:
    """Why ``candidate`` cannot take a new item on ``on`` (the first failing condition, see the module
    docstring), or None when eligible."""
    if not candidate.is_active:
        return "inactive"
    if candidate.brand_id != brand_id:
        return "not in this brand"
    if candidate.role.strip().upper() != role.strip().upper():
        return f"role {candidate.role} is not {role}"
    if on in candidate.unavailable_on:
        return f"unavailable on {on.isoformat()}"
    limit = candidate.capacity if candidate.capacity is not None else cap
    if limit is not None and candidate.open_workload >= limit:
        return f"workload {candidate.open_workload} at cap {limit}"
    return None


def assign(
    candidates: Iterable[StaffCandidate],
    *,
    brand_id: str,
    role: str,
    on: date,
    last_assigned_id: str | None = None,
    cap: int | None = None,
    strategy: Strategy | str = Strategy.ROUND_ROBIN,
) -> Assignment:
    """Pick the staff member of ``brand_id`` with ``role`` who gets the next item on date ``on``.

    ``last_assigned_id``: the staff id that received the brand's previous item for this role (None → start
    of the rotation). ``cap``: maximum open workload per member (None = unlimited; a member's own
    ``capacity`` wins). See the module docstring for eligibility and strategies. Returns an
    :class:`Assignment`; ``staff_id`` None when nobody is eligible. Bad arguments (duplicate staff ids,
    negative cap, datetime ``on``, unknown strategy) → ValidationError naming the argument.
    """
    _plain_date(on, "on")
    if cap is not None:
        _count(cap, "cap", minimum=0)
    for value, name in ((brand_id, "brand_id"), (role, "role")):
        if not isinstance(value, str) or not value.strip():
            raise ValidationError("is required", field=name)
    try:
        chosen_strategy = Strategy(str(strategy).strip().upper())
    except ValueError:
        raise ValidationError(
            f"unknown strategy {strategy!r}; allowed: ROUND_ROBIN, LEAST_LOADED", field="strategy"
        ) from None
    pool = sorted(candidates, key=lambda c: c.staff_id)
    for a, b in zip(pool, pool[1:], strict=False):
        if a.staff_id == b.staff_id:
            raise ValidationError(f"staff {a.staff_id} is listed twice", field="candidates")
    # Rotation order: ids after the last assigned one first, then wrap round.
    if last_assigned_id is not None:
        after = [c for c in pool if c.staff_id > last_assigned_id]
        pool = after + [c for c in pool if c.staff_id <= last_assigned_id]
    eligible: list[StaffCandidate] = []
    skipped: list[tuple[str, str]] = []
    for c in pool:
        why = ineligibility(c, brand_id=brand_id, role=role, on=on, cap=cap)
        if why is None:
            eligible.append(c)
        else:
            skipped.append((c.staff_id, why))
    if not eligible:
        if not pool:
            reason = "no staff to choose from"
        else:
            reason = f"no eligible {role} in brand {brand_id} on {on.isoformat()} ({len(skipped)} ineligible)"
        return Assignment(None, reason, tuple(skipped))
    if chosen_strategy is Strategy.LEAST_LOADED:
        pick = min(eligible, key=lambda c: c.open_workload)  # min keeps the first of equals: rotation order
        reason = f"least loaded eligible {role} (open workload {pick.open_workload})"
    else:
        pick = eligible[0]
        reason = (
            f"round-robin: next eligible {role} after {last_assigned_id}"
            if last_assigned_id
            else f"round-robin: first eligible {role}"
        )
    return Assignment(pick.staff_id, reason, tuple(skipped))
