"""The BRE's outcome: the hard rules in the order they are run and reported (``Rule``), one ``RuleResult`` per
rule and the whole ``BreResult``, JSON-safe for ``LoanDecision.details`` (stage BRE)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from domain.rules import Decision


class Rule(StrEnum):
    """The hard rules, in the order they are run and reported."""

    MIN_BUREAU_SCORE = "MIN_BUREAU_SCORE"
    MAX_DPD = "MAX_DPD"
    MAX_ACTIVE_LOANS = "MAX_ACTIVE_LOANS"
    MAX_ENQUIRIES_30D = "MAX_ENQUIRIES_30D"
    BLOCKLIST = "BLOCKLIST"
    MIN_AGE = "MIN_AGE"
    MAX_AGE = "MAX_AGE"
    SALARY_THRESHOLD = "SALARY_THRESHOLD"
    COOLING_PERIOD = "COOLING_PERIOD"
    CENTRAL_DEDUP = "CENTRAL_DEDUP"


@dataclass(frozen=True)
class RuleResult:
    """One rule's outcome: ``passed`` (True also when skipped), ``reason`` for staff, what was ``observed``
    and the configured ``limit`` (both None when skipped)."""

    rule: Rule
    passed: bool
    reason: str
    observed: Any = None
    limit: Any = None
    skipped: bool = False

    @property
    def outcome(self) -> str:
        """``PASS``, ``FAIL`` or ``SKIPPED``."""
        return "SKIPPED" if self.skipped else ("PASS" if self.passed else "FAIL")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe record (dates as ISO strings) for ``LoanDecision.details``."""
        return {
            "rule": self.rule.value,
            "outcome": self.outcome,
            "passed": self.passed,
            "skipped": self.skipped,
            "reason": self.reason,
            "observed": _jsonable(self.observed),
            "limit": _jsonable(self.limit),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class BreResult:
    """All rule results in :class:`Rule` order; ``passed`` is False when any rule failed."""

    passed: bool
    results: tuple[RuleResult, ...]

    @property
    def failures(self) -> tuple[RuleResult, ...]:
        """The failed rules, in order."""
        return tuple(r for r in self.results if not r.passed)

    @property
    def reasons(self) -> list[str]:
        """``"RULE: reason"`` for every failed rule (the loan's rejection reasons)."""
        return [f"{r.rule.value}: {r.reason}" for r in self.failures]

    @property
    def outcome(self) -> str:
        """``PASS`` or ``FAIL`` (``LoanDecision.outcome`` for stage BRE)."""
        return "PASS" if self.passed else "FAIL"

    @property
    def decision(self) -> Decision | None:
        """``Decision.REJECT`` when a rule failed, else None (go on to the evaluation engine)."""
        return None if self.passed else Decision.REJECT

    def to_details(self) -> list[dict[str, Any]]:
        """One JSON-safe dict per rule for ``LoanDecision.details``."""
        return [r.to_dict() for r in self.results]
