"""The evaluation engine (seed 001 "Brand Evaluation Items"), versions V1 and V2, run after the BRE passes.

Each brand configures items: name, metric (a dotted path into the facts, e.g. ``bureau.score``,
``bsa.avg_salary``, ``employment.months``, ``kyc.name_match``), comparator (``>=``, ``>``, ``<=``, ``<``,
``==``, ``!=``), threshold (a number, a string or true/false), weight (whole number ≥ 0) and whether a
failure is a hard reject or a soft flag. The brand's ``evaluationVersion`` picks the engine.

Scoring (both versions)::

    score = Σ points / Σ weights × 100, quantized to 0.01 (ROUND_HALF_UP), points quantized to 0.01 first
    any failing hard-reject item        → REJECT (whatever the score)
    score ≥ auto_sanction_threshold     → AUTO_SANCTION
    score ≥ manual_review_threshold     → MANUAL_REVIEW
    otherwise                           → REJECT

* **V1** (pass/fail): an item earns its whole weight when it passes, nothing when it fails.
* **V2** (graded): an item that passes earns its whole weight. A numeric item with an ordering comparator
  earns linear partial credit for a near miss::

      shortfall = max(0, threshold − observed)   for >= and >
      shortfall = max(0, observed − threshold)   for <= and <
      points    = weight × max(0, 1 − shortfall / band)

  ``band`` is the item's own ``band`` or, by default, 10% of |threshold| (at least 1): an item missed by
  half its band earns half its weight, one missed by the band or more earns nothing. Credit is continuous
  in the observed value, so a strict comparison missed exactly at the threshold (``>`` with observed ==
  threshold) earns full credit though it is reported as not passed and flagged. ``==``, ``!=`` and
  string / boolean items are all-or-nothing as in V1.

Missing data: a metric absent from the facts (or ``None``) fails with reason ``missing: <metric>``; a value
of the wrong kind fails with ``invalid: ...``. Either is a soft flag, or a hard reject when the item is
hard. Numbers are ``int`` or ``Decimal`` (or numeric strings); a float → ``TypeError`` (money and scores
are exact here; convert a provider's float with ``Decimal(str(x))`` at the edge).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from domain.errors import ValidationError
from domain.rules import Decision

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


# --- results ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemResult:
    """One line of the staff breakdown: what was observed against the threshold, whether it passed, the
    points earned (Decimal, 2 dp) of ``weight``, the reason, and ``flag``: ``HARD_REJECT`` (failed hard
    item), ``SOFT_FLAG`` (failed soft item) or None."""

    name: str
    metric: str
    comparator: str
    observed: Any
    threshold: Any
    passed: bool
    points: Decimal
    weight: int
    hard_reject: bool
    reason: str

    @property
    def flag(self) -> str | None:
        """``HARD_REJECT``, ``SOFT_FLAG`` or None (passed)."""
        if self.passed:
            return None
        return "HARD_REJECT" if self.hard_reject else "SOFT_FLAG"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (Decimals as strings) for ``LoanDecision.details``."""
        return {
            "item": self.name,
            "metric": self.metric,
            "comparator": self.comparator,
            "observed": str(self.observed) if isinstance(self.observed, Decimal) else self.observed,
            "threshold": _threshold_json(self.threshold),
            "passed": self.passed,
            "points": str(self.points),
            "weight": self.weight,
            "hardReject": self.hard_reject,
            "flag": self.flag,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class EvaluationResult:
    """The engine's verdict: ``decision``, ``score`` (0–100, 2 dp), the per-item ``breakdown`` in the
    policy's order, ``soft_flags`` and ``hard_failures`` as ``"item: reason"`` lines, and ``reason``."""

    version: EngineVersion
    decision: Decision
    score: Decimal
    total_weight: int
    breakdown: tuple[ItemResult, ...]
    soft_flags: tuple[str, ...]
    hard_failures: tuple[str, ...]
    reason: str

    @property
    def outcome(self) -> str:
        """The decision's value (``LoanDecision.outcome`` for stage EVALUATION)."""
        return self.decision.value

    def to_details(self) -> list[dict[str, Any]]:
        """One JSON-safe dict per item for ``LoanDecision.details`` (store ``score`` in its own column)."""
        return [r.to_dict() for r in self.breakdown]


# --- evaluation ---------------------------------------------------------------------------------------


def lookup_metric(facts: Mapping[str, Any], metric: str) -> Any:
    """The value at dotted path ``metric`` in ``facts``, or None when any step is absent.

    A top-level key spelled exactly like the whole path (``{"bureau.score": 720}``) wins over walking
    nested mappings (``{"bureau": {"score": 720}}``)."""
    if metric in facts:
        return facts[metric]
    node: Any = facts
    for part in metric.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _observe(raw: Any, item: Criterion) -> tuple[Any, str | None]:
    """(normalised observed value, problem) — problem is the failure reason when the value is unusable."""
    if raw is None:
        return None, f"missing: {item.metric}"
    if isinstance(raw, float):
        raise TypeError(f"{item.metric}: float is not allowed in evaluation facts, use int or Decimal")
    threshold = item.threshold
    if isinstance(threshold, bool):
        if isinstance(raw, bool):
            return raw, None
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            return raw.strip().lower() == "true", None
        return raw, f"invalid: {item.metric} is {raw!r}, expected true/false"
    if isinstance(threshold, Decimal):
        if isinstance(raw, bool) or not isinstance(raw, int | Decimal | str):
            return raw, f"invalid: {item.metric} is {raw!r}, expected a number"
        try:
            value = Decimal(raw.strip()) if isinstance(raw, str) else Decimal(raw)
        except InvalidOperation:
            return raw, f"invalid: {item.metric} is {raw!r}, expected a number"
        if not value.is_finite():
            return raw, f"invalid: {item.metric} is {raw!r}, expected a finite number"
        return value, None
    if not isinstance(raw, str):
        return raw, f"invalid: {item.metric} is {raw!r}, expected text"
    return raw.strip(), None


def _compare(observed: Any, comparator: Comparator, threshold: Threshold) -> bool:
    if isinstance(threshold, str):
        a, b = str(observed).casefold(), threshold.casefold()
        return a == b if comparator is Comparator.EQ else a != b
    if comparator is Comparator.EQ:
        return bool(observed == threshold)
    if comparator is Comparator.NE:
        return bool(observed != threshold)
    if comparator is Comparator.GE:
        return bool(observed >= threshold)
    if comparator is Comparator.GT:
        return bool(observed > threshold)
    if comparator is Comparator.LE:
        return bool(observed <= threshold)
    return bool(observed < threshold)


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _score_item(item: Criterion, facts: Mapping[str, Any], version: EngineVersion) -> ItemResult:
    observed, problem = _observe(lookup_metric(facts, item.metric), item)
    weight = Decimal(item.weight)
    if problem is not None:
        return ItemResult(
            item.name,
            item.metric,
            item.comparator.value,
            observed,
            item.threshold,
            False,
            _q(Decimal(0)),
            item.weight,
            item.hard_reject,
            problem,
        )
    passed = _compare(observed, item.comparator, item.threshold)
    rel = f"{_fmt(observed)} {item.comparator.value} {_fmt(item.threshold)}"
    if passed:
        return ItemResult(
            item.name,
            item.metric,
            item.comparator.value,
            observed,
            item.threshold,
            True,
            _q(weight),
            item.weight,
            item.hard_reject,
            f"passed: {rel}",
        )
    band = item.effective_band
    points = Decimal(0)
    reason = f"failed: {rel} is false"
    if version is EngineVersion.V2 and band is not None and isinstance(item.threshold, Decimal):
        if item.comparator in (Comparator.GE, Comparator.GT):
            shortfall = max(Decimal(0), item.threshold - observed)
        else:
            shortfall = max(Decimal(0), observed - item.threshold)
        fraction = max(Decimal(0), 1 - shortfall / band)
        points = weight * fraction
        reason += f"; missed by {shortfall} within band {band}: {_q(fraction * HUNDRED)}% credit"
    return ItemResult(
        item.name,
        item.metric,
        item.comparator.value,
        observed,
        item.threshold,
        False,
        _q(points),
        item.weight,
        item.hard_reject,
        reason,
    )


def evaluate(policy: EvaluationPolicy, facts: Mapping[str, Any]) -> EvaluationResult:
    """Score ``facts`` (a nested mapping, see :func:`lookup_metric`) with the policy's engine version and
    decide. See the module docstring for the V1/V2 formulas and the decision bands. Pure."""
    if not isinstance(policy, EvaluationPolicy):
        raise ValidationError("must be an EvaluationPolicy", field="policy")
    if not isinstance(facts, Mapping):
        raise ValidationError("facts must be a mapping", field="facts")
    breakdown = tuple(_score_item(item, facts, policy.version) for item in policy.items)
    total_weight = sum(item.weight for item in policy.items)
    score = _q(sum((r.points for r in breakdown), Decimal(0)) / Decimal(total_weight) * HUNDRED)
    hard = tuple(f"{r.name}: {r.reason}" for r in breakdown if r.flag == "HARD_REJECT")
    soft = tuple(f"{r.name}: {r.reason}" for r in breakdown if r.flag == "SOFT_FLAG")
    auto, manual = _q(policy.auto_sanction_threshold), _q(policy.manual_review_threshold)
    if hard:
        decision, reason = Decision.REJECT, f"hard reject: {'; '.join(hard)}"
    elif score >= auto:
        decision, reason = Decision.AUTO_SANCTION, f"score {score} at or above auto-sanction {auto}"
    elif score >= manual:
        decision, reason = Decision.MANUAL_REVIEW, f"score {score} below auto-sanction {auto}, at or above {manual}"
    else:
        decision, reason = Decision.REJECT, f"score {score} below manual-review {manual}"
    return EvaluationResult(policy.version, decision, score, total_weight, breakdown, soft, hard, reason)


def evaluate_v1(
    items: Sequence[Criterion],
    facts: Mapping[str, Any],
    *,
    auto_sanction_threshold: Decimal | int,
    manual_review_threshold: Decimal | int,
) -> EvaluationResult:
    """V1 (pass/fail) without building a policy first: same as :func:`evaluate` with version V1."""
    policy = EvaluationPolicy(
        EngineVersion.V1,
        tuple(items),
        _decimal(auto_sanction_threshold, "auto_sanction_threshold"),
        _decimal(manual_review_threshold, "manual_review_threshold"),
    )
    return evaluate(policy, facts)


def evaluate_v2(
    items: Sequence[Criterion],
    facts: Mapping[str, Any],
    *,
    auto_sanction_threshold: Decimal | int,
    manual_review_threshold: Decimal | int,
) -> EvaluationResult:
    """V2 (graded) without building a policy first: same as :func:`evaluate` with version V2."""
    policy = EvaluationPolicy(
        EngineVersion.V2,
        tuple(items),
        _decimal(auto_sanction_threshold, "auto_sanction_threshold"),
        _decimal(manual_review_threshold, "manual_review_threshold"),
    )
    return evaluate(policy, facts)


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
