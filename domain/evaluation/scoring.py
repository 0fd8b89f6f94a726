"""The evaluation engine's scoring: each item scored against the facts (V1 pass/fail, V2 graded), the weighted
score and the decision, and the per-item breakdown staff see. Formulas and decision bands: the ``domain.evaluation``
docstring.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.errors import ValidationError
from domain.evaluation.config import (
    HUNDRED,
    Comparator,
    Criterion,
    EngineVersion,
    EvaluationPolicy,
    Threshold,
    _decimal,
    _q,
    _threshold_json,
)
from domain.rules import Decision


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
    decide. See the ``domain.evaluation`` docstring for the V1/V2 formulas and the decision bands. Pure."""
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
