"""Evaluation items and a brand's evaluation policy, read and validated: an item (``Criterion``: name, metric,
comparator, threshold, weight, hard reject or soft flag, the optional V2 ``band``), the engine version and the two
decision thresholds (``EvaluationPolicy``), from a brand's JSON or its ``EvaluationItem`` rows. Errors are
``ValidationError`` naming the key (``items[2].threshold``); a float is a ``TypeError``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from domain.errors import ValidationError

TWO_PLACES = Decimal("0.01")
HUNDRED = Decimal(100)
DEFAULT_BAND_PERCENT = Decimal(10)
_METRIC_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class Comparator(StrEnum):
    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"
    EQ = "=="
    NE = "!="

    @property
    def ordering(self) -> bool:
        """True for ``>=``, ``>``, ``<=``, ``<`` (need a numeric threshold)."""
        return self in (Comparator.GE, Comparator.GT, Comparator.LE, Comparator.LT)


class EngineVersion(StrEnum):
    V1 = "V1"
    V2 = "V2"


Threshold = Decimal | str | bool


def _q(value: Decimal) -> Decimal:
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def _decimal(value: object, field: str) -> Decimal:
    """int / Decimal / numeric string → finite Decimal; float → TypeError; else ValidationError."""
    if isinstance(value, float):
        raise TypeError(f"{field}: float is not allowed, use int, Decimal or a numeric string")
    if isinstance(value, bool):
        raise ValidationError("must be a number", field=field)
    try:
        if isinstance(value, int | Decimal):
            result = Decimal(value)
        elif isinstance(value, str):
            result = Decimal(value.strip())
        else:
            raise ValidationError("must be a number", field=field)
    except InvalidOperation:
        raise ValidationError(f"not a number: {value!r}", field=field) from None
    if not result.is_finite():
        raise ValidationError("must be finite", field=field)
    return result


def parse_threshold(value: object, field: str = "threshold") -> Threshold:
    """An item's threshold as stored (``EvaluationItem.threshold`` is text): an int, Decimal or numeric
    string → Decimal; ``"true"``/``"false"`` (any case) or a bool → bool; any other non-empty string → the
    stripped string. Float → TypeError; empty or another type → ValidationError(field=``field``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        raise TypeError(f"{field}: float is not allowed, use int, Decimal or a numeric string")
    if isinstance(value, int | Decimal):
        return _decimal(value, field)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValidationError("threshold is empty", field=field)
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        try:
            number = Decimal(text)
        except InvalidOperation:
            return text
        if not number.is_finite():
            raise ValidationError("must be finite", field=field)
        return number
    raise ValidationError("must be a number, text or true/false", field=field)


def _parse_comparator(value: object, field: str) -> Comparator:
    if isinstance(value, Comparator):
        return value
    text = str(value).strip()
    aliases = {"=": "==", "≥": ">=", "≤": "<=", "≠": "!=", "<>": "!="}
    text = aliases.get(text, text)
    try:
        return Comparator(text)
    except ValueError:
        allowed = ", ".join(c.value for c in Comparator)
        raise ValidationError(f"unknown comparator {value!r}; allowed: {allowed}", field=field) from None


def _bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError("must be true or false", field=field)
    return value


def _pick(data: Mapping[str, Any], *keys: str, default: Any = None) -> tuple[Any, str]:
    for key in keys:
        if key in data:
            return data[key], key
    return default, keys[0]


@dataclass(frozen=True)
class Criterion:
    """One evaluation item (``db.models.EvaluationItem`` minus storage columns, plus the optional V2
    ``band``). Construction validates and normalises: comparator text → :class:`Comparator`, threshold via
    :func:`parse_threshold`. Errors name the attribute (``weight``, ``threshold``...)."""

    name: str
    metric: str
    comparator: Comparator
    threshold: Threshold
    weight: int = 1
    hard_reject: bool = False
    band: Decimal | None = None  # V2 partial-credit band; None → 10% of |threshold|, at least 1

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValidationError("item name is required", field="name")
        object.__setattr__(self, "name", self.name.strip())
        if not isinstance(self.metric, str) or not _METRIC_RE.match(self.metric.strip()):
            raise ValidationError("metric must be a dotted path such as bureau.score", field="metric")
        object.__setattr__(self, "metric", self.metric.strip())
        object.__setattr__(self, "comparator", _parse_comparator(self.comparator, "comparator"))
        threshold = parse_threshold(self.threshold)
        object.__setattr__(self, "threshold", threshold)
        if self.comparator.ordering and not isinstance(threshold, Decimal):
            raise ValidationError(f"{self.comparator.value} needs a numeric threshold", field="threshold")
        if isinstance(self.weight, float):
            raise TypeError("weight: float is not allowed, use a whole number")
        if not isinstance(self.weight, int) or isinstance(self.weight, bool) or self.weight < 0:
            raise ValidationError("weight must be a whole number ≥ 0", field="weight")
        _bool(self.hard_reject, "hard_reject")
        if self.band is not None:
            band = _decimal(self.band, "band")
            if band <= 0:
                raise ValidationError("band must be positive", field="band")
            if not isinstance(threshold, Decimal) or not self.comparator.ordering:
                raise ValidationError("band applies only to numeric >=, >, <=, < items", field="band")
            object.__setattr__(self, "band", band)

    @property
    def effective_band(self) -> Decimal | None:
        """The V2 band used for partial credit, or None for an all-or-nothing item."""
        if not isinstance(self.threshold, Decimal) or not self.comparator.ordering:
            return None
        if self.band is not None:
            return self.band
        return max(abs(self.threshold) * DEFAULT_BAND_PERCENT / HUNDRED, Decimal(1))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], field_prefix: str = "") -> Criterion:
        """From a JSON object or an ``EvaluationItem`` row's columns: ``name``, ``metric``, ``comparator``,
        ``threshold``, ``weight`` (default 1), ``hard_reject`` / ``hardReject`` (default false), ``band``
        (optional). Other keys (``id``, ``version``, ``is_active``...) are ignored. A bad value →
        ValidationError whose field is ``field_prefix`` + the key, e.g. ``items[2].threshold``."""
        if not isinstance(data, Mapping):
            raise ValidationError("item must be an object", field=field_prefix.rstrip(".") or "item")
        keys = {
            "name": ("name",),
            "metric": ("metric",),
            "comparator": ("comparator",),
            "threshold": ("threshold",),
            "weight": ("weight",),
            "hard_reject": ("hard_reject", "hardReject"),
            "band": ("band",),
        }
        defaults: dict[str, Any] = {"weight": 1, "hard_reject": False}
        kwargs: dict[str, Any] = {}
        used: dict[str, str] = {}
        for attr, names in keys.items():
            value, key = _pick(data, *names, default=defaults.get(attr))
            kwargs[attr] = value
            used[attr] = key
        for required in ("name", "metric", "comparator", "threshold"):
            if kwargs[required] is None:
                raise ValidationError(f"{required} is required", field=field_prefix + required)
        try:
            return cls(**kwargs)
        except ValidationError as exc:
            raise ValidationError(exc.message, field=field_prefix + used.get(exc.field or "", exc.field or "")) from exc
        except TypeError as exc:
            raise TypeError(f"{field_prefix}{exc}") from exc


def _threshold_json(value: Threshold) -> Any:
    return str(value) if isinstance(value, Decimal) else value


@dataclass(frozen=True)
class EvaluationPolicy:
    """A brand's evaluation setup: engine version, its items and the two decision thresholds (0–100,
    manual review ≤ auto-sanction). Items need distinct names and a total weight above 0."""

    version: EngineVersion
    items: tuple[Criterion, ...]
    auto_sanction_threshold: Decimal
    manual_review_threshold: Decimal

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "version", EngineVersion(str(self.version).strip().upper()))
        except ValueError:
            raise ValidationError(
                f"unknown evaluation version {self.version!r}; allowed: V1, V2", field="version"
            ) from None
        items = tuple(self.items)
        if not items:
            raise ValidationError("at least one evaluation item is required", field="items")
        seen: set[str] = set()
        for i, item in enumerate(items):
            if not isinstance(item, Criterion):
                raise ValidationError("must be a Criterion", field=f"items[{i}]")
            if item.name.lower() in seen:
                raise ValidationError(f"item name {item.name!r} is used twice", field=f"items[{i}].name")
            seen.add(item.name.lower())
        if sum(item.weight for item in items) <= 0:
            raise ValidationError("the items' total weight must be above 0", field="items")
        object.__setattr__(self, "items", items)
        for name in ("auto_sanction_threshold", "manual_review_threshold"):
            value = _decimal(getattr(self, name), name)
            if not Decimal(0) <= value <= HUNDRED:
                raise ValidationError("must be between 0 and 100", field=name)
            object.__setattr__(self, name, value)
        if self.manual_review_threshold > self.auto_sanction_threshold:
            raise ValidationError("must not exceed the auto-sanction threshold", field="manual_review_threshold")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvaluationPolicy:
        """From the brand's JSON: ``version`` / ``evaluationVersion`` (default V1),
        ``auto_sanction_threshold`` / ``autoSanctionThreshold``, ``manual_review_threshold`` /
        ``manualReviewThreshold`` (both required; int, Decimal or numeric string) and ``items`` (objects for
        :meth:`Criterion.from_dict`). Items with ``is_active`` / ``isActive`` false, or whose own
        ``version`` differs from the policy's, are left out, so all of a brand's ``EvaluationItem`` rows can
        be passed. Errors name the key, e.g. ``autoSanctionThreshold`` or ``items[1].comparator``."""
        if not isinstance(data, Mapping):
            raise ValidationError("evaluation config must be an object", field="evaluation")
        version_raw, version_key = _pick(data, "version", "evaluationVersion", "evaluation_version", default="V1")
        try:
            version = EngineVersion(str(version_raw).strip().upper())
        except ValueError:
            raise ValidationError(
                f"unknown evaluation version {version_raw!r}; allowed: V1, V2", field=version_key
            ) from None
        auto, auto_key = _pick(data, "auto_sanction_threshold", "autoSanctionThreshold")
        manual, manual_key = _pick(data, "manual_review_threshold", "manualReviewThreshold")
        if auto is None:
            raise ValidationError("auto-sanction threshold is required", field=auto_key)
        if manual is None:
            raise ValidationError("manual-review threshold is required", field=manual_key)
        raw_items = data.get("items")
        if not isinstance(raw_items, Sequence) or isinstance(raw_items, str):
            raise ValidationError("items must be a list", field="items")
        items: list[Criterion] = []
        for i, raw in enumerate(raw_items):
            if isinstance(raw, Mapping):
                active, _ = _pick(raw, "is_active", "isActive", default=True)
                item_version = raw.get("version")
                if active is False:
                    continue
                if item_version is not None and str(item_version).strip().upper() != version.value:
                    continue
            items.append(Criterion.from_dict(raw, field_prefix=f"items[{i}]."))
        try:
            return cls(version, tuple(items), _decimal(auto, auto_key), _decimal(manual, manual_key))
        except ValidationError as exc:
            mapped = {"auto_sanction_threshold": auto_key, "manual_review_threshold": manual_key}
            raise ValidationError(exc.message, field=mapped.get(exc.field or "", exc.field)) from exc


# The facts the KYC phase and the bureau pull publish (activities/kyc/), which evaluation items may read.
EVALUATION_METRICS = frozenset(
    {
        "bureau.score",
        "bureau.active_loans",
        "bureau.enquiries_30d",
        "kyc.pan_verified",
        "kyc.pan_name",
        "kyc.age",
        "kyc.aadhaar_verified",
        "kyc.aadhaar_name_match",
        "kyc.mobile_pan_match",
        "kyc.mobile_address_score",
        "kyc.bank_name_match",
        "kyc.employment_verified",
        "kyc.monthly_salary",
        "kyc.employer_name_match",
        "kyc.employment_months",
        "kyc.epf_wage",
        "kyc.ckyc_found",
        "kyc.ckyc_score",
        "kyc.digilocker_name_match",
        "kyc.digilocker_documents",
        "kyc.bsa_avg_salary",
        "kyc.bsa_salary_credits",
        "kyc.bsa_monthly_emi",
        "kyc.bsa_average_balance",
        "kyc.bsa_bounces",
    }
)
