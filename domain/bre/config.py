"""The BRE's configuration: a brand's hard rules (``BreConfig``, from its ``bre`` settings) and its blocklist
(``Blocklist``, from ``BlocklistEntry`` rows), with the small validators the BRE's values share.

Limits are inclusive (see ``domain.bre``); money is integer paise (a float → ``TypeError``); a bad value →
``ValidationError`` naming the key as given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from domain.errors import ValidationError

MIN_CONTRACT_AGE = 18  # Indian Majority Act 1875 / Contract Act s.11: a minor cannot contract.
MAX_AGE_LIMIT = 100
MAX_BUREAU_SCORE = 900  # CIBIL / Equifax / Experian / CRIF scale 300–900 (0 or -1 for "no history").
DEFAULT_DPD_LOOKBACK_MONTHS = 12


class BlockKind(StrEnum):
    """``BlocklistEntry.kind`` values."""

    PAN = "PAN"
    AADHAAR = "AADHAAR"  # the keyed hash (domain.kyc.aadhaar_hash), never the number
    PHONE = "PHONE"
    DEVICE = "DEVICE"


# --- small validators ---------------------------------------------------------------------------------


def _int(value: object, name: str, *, minimum: int = 0, maximum: int | None = None, money: bool = False) -> int:
    if isinstance(value, float):
        if money:
            raise TypeError(f"{name}: float is not allowed in money code, use int paise")
        raise ValidationError("must be a whole number", field=name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError("must be a whole number", field=name)
    if value < minimum:
        raise ValidationError(f"must be at least {minimum}", field=name)
    if maximum is not None and value > maximum:
        raise ValidationError(f"must be at most {maximum}", field=name)
    return value


def _opt_int(value: object, name: str, **kw: Any) -> int | None:
    return None if value is None else _int(value, name, **kw)


def _date(value: object, name: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError("must be a calendar date (not a datetime)", field=name)
    return value


def _opt_date(value: object, name: str) -> date | None:
    return None if value is None else _date(value, name)


def _norm_phone(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    return digits[-10:] if len(digits) > 10 and digits.startswith("91") else digits


def _norm(kind: BlockKind, value: str) -> str:
    text = value.strip()
    if kind is BlockKind.PAN:
        return text.upper()
    if kind is BlockKind.AADHAAR:
        return text.lower()
    if kind is BlockKind.PHONE:
        return _norm_phone(text)
    return text


# --- configuration ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Blocklist:
    """A brand's blocked identifiers (from ``BlocklistEntry`` rows), each set normalised on construction:
    PAN upper-case, Aadhaar hash lower-case hex, phone reduced to its 10 digits (+91 / 91 dropped), device
    id stripped. An empty blocklist is still a configured rule (it passes); ``None`` on the config skips it.
    """

    pan: frozenset[str] = frozenset()
    aadhaar_hash: frozenset[str] = frozenset()
    phone: frozenset[str] = frozenset()
    device: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for kind, name in _BLOCK_FIELDS.items():
            values = getattr(self, name)
            if isinstance(values, str) or not isinstance(values, Iterable):
                raise ValidationError("must be a set of strings", field=f"blocklist.{name}")
            if not all(isinstance(v, str) for v in values):
                raise ValidationError("must be a set of strings", field=f"blocklist.{name}")
            object.__setattr__(self, name, frozenset(_norm(kind, v) for v in values if v.strip()))

    @classmethod
    def from_entries(cls, entries: Iterable[tuple[str, str]]) -> Blocklist:
        """From ``(kind, value)`` pairs, e.g. ``[(e.kind, e.value) for e in blocklist_rows]``; kind is one of
        PAN / AADHAAR / PHONE / DEVICE (case-insensitive), anything else → ValidationError(field="kind")."""
        buckets: dict[str, set[str]] = {name: set() for name in _BLOCK_FIELDS.values()}
        for kind, value in entries:
            try:
                k = BlockKind(str(kind).strip().upper())
            except ValueError:
                allowed = ", ".join(b.value for b in BlockKind)
                raise ValidationError(f"unknown blocklist kind {kind!r}; allowed: {allowed}", field="kind") from None
            buckets[_BLOCK_FIELDS[k]].add(value)
        return cls(**{name: frozenset(v) for name, v in buckets.items()})

    def matches(self, *, pan: str | None, aadhaar_hash: str | None, phone: str | None, device: str | None) -> list[str]:
        """The kinds (``BlockKind`` values, in PAN, AADHAAR, PHONE, DEVICE order) whose value is blocked."""
        given = {BlockKind.PAN: pan, BlockKind.AADHAAR: aadhaar_hash, BlockKind.PHONE: phone, BlockKind.DEVICE: device}
        hits: list[str] = []
        for kind, name in _BLOCK_FIELDS.items():
            value = given[kind]
            if value and value.strip() and _norm(kind, value) in getattr(self, name):
                hits.append(kind.value)
        return hits


_BLOCK_FIELDS: dict[BlockKind, str] = {
    BlockKind.PAN: "pan",
    BlockKind.AADHAAR: "aadhaar_hash",
    BlockKind.PHONE: "phone",
    BlockKind.DEVICE: "device",
}


@dataclass(frozen=True)
class BreConfig:
    """A brand's hard rules. Every limit is optional; ``None`` (or ``False`` for the dedup flag) skips it.

    * ``min_bureau_score``: score ≥ this (0–900).
    * ``max_dpd`` with ``dpd_lookback_months`` (default 12): the worst DPD reported on any bureau account in
      the lookback window ≤ this. The window is the application month and the ``dpd_lookback_months``
      calendar months before it (bureaus report a month in arrears, so this covers the last N reported
      months); history entries after the application month are ignored.
    * ``max_active_loans``: active loans ≤ this.
    * ``max_enquiries_30d``: bureau enquiries in the 30 calendar days ending on the application date
      (application_date − 29 days … application_date, both included; later dates ignored) ≤ this.
    * ``blocklist``: none of PAN, Aadhaar hash, phone, device is blocked.
    * ``min_age`` / ``max_age``: completed years at the application date within the limits (min ≥ 18).
    * ``salary_threshold``: monthly salary (paise) ≥ this.
    * ``rejection_duration_days``: at least this many days since the last rejection in this brand.
    * ``enable_central_dedup``: no active loan of the same PAN in another brand.
    """

    min_bureau_score: int | None = None
    max_dpd: int | None = None
    dpd_lookback_months: int = DEFAULT_DPD_LOOKBACK_MONTHS
    max_active_loans: int | None = None
    max_enquiries_30d: int | None = None
    blocklist: Blocklist | None = None
    min_age: int | None = None
    max_age: int | None = None
    salary_threshold: int | None = None  # paise per month
    rejection_duration_days: int | None = None
    enable_central_dedup: bool = False

    def __post_init__(self) -> None:
        _opt_int(self.min_bureau_score, "min_bureau_score", maximum=MAX_BUREAU_SCORE)
        _opt_int(self.max_dpd, "max_dpd", maximum=999)
        _int(self.dpd_lookback_months, "dpd_lookback_months", minimum=1, maximum=120)
        _opt_int(self.max_active_loans, "max_active_loans")
        _opt_int(self.max_enquiries_30d, "max_enquiries_30d")
        _opt_int(self.min_age, "min_age", minimum=MIN_CONTRACT_AGE, maximum=MAX_AGE_LIMIT)
        _opt_int(self.max_age, "max_age", minimum=MIN_CONTRACT_AGE, maximum=MAX_AGE_LIMIT)
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValidationError(f"must not be below min_age {self.min_age}", field="max_age")
        _opt_int(self.salary_threshold, "salary_threshold", money=True)
        _opt_int(self.rejection_duration_days, "rejection_duration_days", maximum=3650)
        if not isinstance(self.enable_central_dedup, bool):
            raise ValidationError("must be true or false", field="enable_central_dedup")
        if self.blocklist is not None and not isinstance(self.blocklist, Blocklist):
            raise ValidationError("must be a Blocklist", field="blocklist")

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, strict: bool = True, blocklist: Blocklist | None = None
    ) -> BreConfig:
        """Build from a brand's JSON config.

        Keys are the field names (snake_case) or their camelCase / seed aliases: ``minBureauScore`` or
        ``min_credit_score`` / ``minCreditScore`` (the walking-skeleton key), ``maxDpd``, ``dpdLookbackMonths``,
        ``maxActiveLoans``, ``maxEnquiries30d``, ``minAge``, ``maxAge``, ``salaryThresholdAmount``
        (paise), ``rejectionDuration``, ``enableCentralDedup`` / ``enable_central_dedup``. ``null`` = unset.
        ``strict=True`` rejects an unknown key (ValidationError naming it); ``strict=False`` ignores unknown
        keys so the whole brand config can be passed. A bad value → ValidationError whose field is the key
        as given (a float salary → TypeError). The blocklist comes from the database, not the JSON: pass it
        as ``blocklist``.
        """
        if not isinstance(data, Mapping):
            raise ValidationError("BRE config must be an object", field="bre")
        kwargs: dict[str, Any] = {}
        source_key: dict[str, str] = {}
        for key, value in data.items():
            name = _ALIASES.get(str(key))
            if name is None:
                if strict:
                    raise ValidationError(f"unknown BRE setting {key!r}", field=str(key))
                continue
            if name in kwargs:
                raise ValidationError(f"{key!r} repeats setting {source_key[name]!r}", field=str(key))
            source_key[name] = str(key)
            if value is None:
                if name == "dpd_lookback_months":
                    value = DEFAULT_DPD_LOOKBACK_MONTHS
                elif name == "enable_central_dedup":
                    value = False
            kwargs[name] = value
            if name == "salary_threshold" and isinstance(value, float):
                raise TypeError(f"{key}: float is not allowed in money code, use int paise")
        try:
            return cls(**kwargs, blocklist=blocklist)
        except ValidationError as exc:
            key = source_key.get(exc.field or "", exc.field or "bre")
            raise ValidationError(exc.message, field=key) from exc

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (snake_case keys, blocklist left out), accepted back by :meth:`from_dict`."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "blocklist"}


_ALIASES: dict[str, str] = {
    **{
        f: f
        for f in (
            "min_bureau_score",
            "max_dpd",
            "dpd_lookback_months",
            "max_active_loans",
            "max_enquiries_30d",
            "min_age",
            "max_age",
            "salary_threshold",
            "rejection_duration_days",
            "enable_central_dedup",
        )
    },
    "minBureauScore": "min_bureau_score",
    "min_credit_score": "min_bureau_score",
    "minCreditScore": "min_bureau_score",
    "maxDpd": "max_dpd",
    "dpdLookbackMonths": "dpd_lookback_months",
    "maxActiveLoans": "max_active_loans",
    "maxEnquiries30d": "max_enquiries_30d",
    "minAge": "min_age",
    "maxAge": "max_age",
    "salaryThresholdAmount": "salary_threshold",
    "salary_threshold_amount": "salary_threshold",
    "rejectionDuration": "rejection_duration_days",
    "rejection_duration": "rejection_duration_days",
    "enableCentralDedup": "enable_central_dedup",
}
