"""A brand's collections, settlement, write-off and reloan rules, read from its settings (``Brand.config``
keys ``collections`` and ``reloan``, camelCase or snake_case keys), with the defaults a lender starts from.

Money is paise, days are calendar days, DPD as ``domain.delinquency`` counts it (RBI day-end convention).

``collections``::

    buckets            the collection buckets (``domain.delinquency.CollectionBuckets.parse``)
                       default ["0", "1-30", "31-60", "61-90", "90+"]
    preDueDays         a loan is in pre-collection when an installment falls due within this many days (7)
    escalationDpd      from this DPD a loan is post-collection (escalated) (61)
    bucketRoles        bucket name → the role that works it (seed 000: executive, then manager, then head)
                       default 1-30 and 31-60 COLLECTION_EXECUTIVE, 61-90 COLLECTION_MANAGER, 90+ COLLECTION_HEAD
    allocationCap      open cases per collector when their profile sets none (100)
    writeOffDpd        the least DPD at which a loan may be written off (180; 0: any loan in arrears, for demo
                       products whose periods last seconds and whose DPD stays 0)
    waiverLimits       role → the most penal charges one waiver may waive (paise); ADMIN/SUPER_ADMIN unlimited
                       default COLLECTION_MANAGER 5,000 rupees, COLLECTION_HEAD 50,000 rupees
    settlementLimits   role → the most a settlement it approves may waive in all (paise); ADMIN/SUPER_ADMIN
                       unlimited; default COLLECTION_HEAD 1,00,000 rupees
    settlementDays     the default days a settlement offer stays open after approval (15)

``reloan``::

    enabled            offer a reloan at closure in good standing (true)
    maxDpd             the worst DPD a loan may have reached and still count as good standing (30)
    stepUpPercent      the offer is the closed loan's amount plus this percent (20)
    maxAmount          the offer never exceeds this (paise; null: no cap)
    offerDays          the offer stays open this many days (30)
    kycValidityDays    a KYC result younger than this is reused by the next loan (180)

Sources: RBI's Framework for Compromise Settlements and Technical Write-offs (8 June 2023: settlements and
write-offs by a board-approved policy, with the sanctioning authority one level above the proposer's), RBI's penal
charges circular (18 August 2023: penal charges may be waived, never capitalised), seed 000 (the roles' matrix,
auto-allocation by area, load and rating; "Write-Off Authority"), seed 001 (brand reloan configs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.delinquency import DEFAULT_BUCKETS, CollectionBuckets
from domain.errors import ValidationError

UNLIMITED_ROLES = frozenset({"ADMIN", "SUPER_ADMIN"})

DEFAULT_BUCKET_ROLES: Mapping[str, str] = {
    "1-30": "COLLECTION_EXECUTIVE",
    "31-60": "COLLECTION_EXECUTIVE",
    "61-90": "COLLECTION_MANAGER",
    "90+": "COLLECTION_HEAD",
}


def _get(raw: Mapping[str, Any], snake: str) -> Any:
    camel = snake.split("_")[0] + "".join(p.title() for p in snake.split("_")[1:])
    return raw.get(camel, raw.get(snake))


def _int(value: Any, name: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("must be a whole number", field=name)
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise ValidationError(f"must be {bound}", field=name)
    return value


def _limits(value: Any, name: str) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise ValidationError("must be an object of role → paise", field=name)
    return {str(role).upper(): _int(amount, f"{name}.{role}") for role, amount in value.items()}


@dataclass(frozen=True)
class CollectionPolicy:
    """The brand's collections rules (module docstring for each key, its unit and default)."""

    buckets: CollectionBuckets = DEFAULT_BUCKETS
    pre_due_days: int = 7
    escalation_dpd: int = 61
    bucket_roles: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_BUCKET_ROLES))
    allocation_cap: int = 100
    write_off_dpd: int = 180
    waiver_limits: Mapping[str, int] = field(
        default_factory=lambda: {"COLLECTION_MANAGER": 5_000_00, "COLLECTION_HEAD": 50_000_00}
    )
    settlement_limits: Mapping[str, int] = field(default_factory=lambda: {"COLLECTION_HEAD": 1_00_000_00})
    settlement_days: int = 15

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> CollectionPolicy:
        """From the brand's ``collections`` setting (None or {} → the defaults); a bad value → ValidationError
        naming ``collections.<key>``."""
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise ValidationError("must be an object", field="collections")
        values: dict[str, Any] = {}
        if (buckets := _get(raw, "buckets")) is not None:
            try:
                values["buckets"] = CollectionBuckets.parse(buckets)
            except ValidationError as exc:
                raise ValidationError(str(exc), field="collections.buckets") from exc
        for key, lo, hi in (
            ("pre_due_days", 0, 60),
            ("escalation_dpd", 1, 3650),
            ("allocation_cap", 1, 100_000),
            ("write_off_dpd", 0, 3650),  # 0: any loan in arrears (a demo brand's compressed time)
            ("settlement_days", 1, 180),
        ):
            if (value := _get(raw, key)) is not None:
                values[key] = _int(value, f"collections.{key}", minimum=lo, maximum=hi)
        if (roles := _get(raw, "bucket_roles")) is not None:
            if not isinstance(roles, Mapping):
                raise ValidationError("must be an object of bucket → role", field="collections.bucketRoles")
            values["bucket_roles"] = {str(k): str(v).upper() for k, v in roles.items()}
        for key in ("waiver_limits", "settlement_limits"):
            if (value := _get(raw, key)) is not None:
                values[key] = _limits(value, f"collections.{key}")
        policy = cls(**values)
        names = {b.name for b in policy.buckets.buckets}
        unknown = sorted(set(policy.bucket_roles) - names)
        if unknown and "bucket_roles" in values:
            raise ValidationError(
                f"unknown bucket(s) {unknown}; buckets are {sorted(names)}", field="collections.bucketRoles"
            )
        return policy

    def bucket_for(self, dpd: int) -> str:
        """The name of the bucket ``dpd`` falls in."""
        return self.buckets.bucket_for(dpd).name

    def role_for(self, bucket: str) -> str:
        """The role that works loans in ``bucket`` (COLLECTION_EXECUTIVE when the brand names none)."""
        return self.bucket_roles.get(bucket, "COLLECTION_EXECUTIVE")

    def waiver_limit(self, role: str) -> int | None:
        """The most penal charges ``role`` may waive at once (paise): None = unlimited, 0 = not at all."""
        role = role.upper()
        return None if role in UNLIMITED_ROLES else self.waiver_limits.get(role, 0)

    def settlement_limit(self, role: str) -> int | None:
        """The most a settlement approved by ``role`` may waive in all (paise): None = unlimited, 0 = none."""
        role = role.upper()
        return None if role in UNLIMITED_ROLES else self.settlement_limits.get(role, 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "buckets": [{"name": b.name, "min": b.min_dpd, "max": b.max_dpd} for b in self.buckets.buckets],
            "preDueDays": self.pre_due_days,
            "escalationDpd": self.escalation_dpd,
            "bucketRoles": dict(self.bucket_roles),
            "allocationCap": self.allocation_cap,
            "writeOffDpd": self.write_off_dpd,
            "waiverLimits": dict(self.waiver_limits),
            "settlementLimits": dict(self.settlement_limits),
            "settlementDays": self.settlement_days,
        }


@dataclass(frozen=True)
class ReloanPolicy:
    """The brand's reloan rules (module docstring for each key, its unit and default)."""

    enabled: bool = True
    max_dpd: int = 30
    step_up_percent: int = 20
    max_amount: int | None = None
    offer_days: int = 30
    kyc_validity_days: int = 180

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> ReloanPolicy:
        """From the brand's ``reloan`` setting (None or {} → the defaults); a bad value → ValidationError naming
        ``reloan.<key>``."""
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise ValidationError("must be an object", field="reloan")
        values: dict[str, Any] = {}
        if (enabled := _get(raw, "enabled")) is not None:
            if not isinstance(enabled, bool):
                raise ValidationError("must be true or false", field="reloan.enabled")
            values["enabled"] = enabled
        for key, lo, hi in (
            ("max_dpd", 0, 3650),
            ("step_up_percent", 0, 500),
            ("offer_days", 1, 365),
            ("kyc_validity_days", 0, 3650),
        ):
            if (value := _get(raw, key)) is not None:
                values[key] = _int(value, f"reloan.{key}", minimum=lo, maximum=hi)
        if (cap := _get(raw, "max_amount")) is not None:
            values["max_amount"] = _int(cap, "reloan.maxAmount", minimum=1)
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "maxDpd": self.max_dpd,
            "stepUpPercent": self.step_up_percent,
            "maxAmount": self.max_amount,
            "offerDays": self.offer_days,
            "kycValidityDays": self.kyc_validity_days,
        }
