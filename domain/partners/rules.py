"""A partner lender's eligibility decision table: versioned rows of ``fact op value``, every row must hold.

A table is data a credit manager edits (``PUT .../partner-lenders/{id}/rules`` saves a new version, the old one
stays for audit), so the rows are plain values checked here, never code. Each row names the fact it reads, the
comparison and the reason shown when it fails; a fact the application lacks fails the row (a lender's rule is
never passed by missing data). The ticket and tenure limits of the partner are checked first, as rows of their
own, so a refusal always names the limit.

Facts (what :func:`application_facts` builds, all integers or strings): ``amount`` (paise), ``tenure``
(installments), ``bureau_score``, ``age`` (whole years on the IST decision date), ``state`` (as on the customer's
address), ``pincode``, ``employment_type``, ``monthly_income`` (paise).

Source: seed 004 ("rule engine backed by MySQL for auditability", "mapped via decision tables"); RBI's
Co-Lending guidelines (5 November 2020) and Digital Lending Directions (2025) ask that each lender's credit
policy be applied and recorded, which the version on every offer does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.errors import ValidationError

OPS = ("==", "!=", ">=", "<=", ">", "<", "in", "not_in")
FACTS = frozenset({"amount", "tenure", "bureau_score", "age", "state", "pincode", "employment_type", "monthly_income"})
MAX_ROWS = 50


@dataclass(frozen=True)
class Rule:
    """One row: ``fact op value`` must hold, else the application fails with ``reason``. ``value`` is an int
    for the comparisons, a list of strings or ints for ``in``/``not_in``, an int or string for ``==``/``!=``."""

    fact: str
    op: str
    value: Any
    reason: str

    def holds(self, facts: Mapping[str, Any]) -> bool:
        """Whether the row holds for ``facts``; a missing fact (None or absent) never holds."""
        have = facts.get(self.fact)
        if have is None:
            return False
        if self.op == "in":
            return have in self.value
        if self.op == "not_in":
            return have not in self.value
        if self.op == "==":
            return bool(have == self.value)
        if self.op == "!=":
            return bool(have != self.value)
        if not isinstance(have, int):
            return False
        return {
            ">=": have >= self.value,
            "<=": have <= self.value,
            ">": have > self.value,
            "<": have < self.value,
        }[self.op]


@dataclass(frozen=True)
class Eligibility:
    """The table's verdict: ``eligible`` when every row held; ``reasons`` of the rows that failed, in order;
    ``version`` of the table applied (recorded on the offer)."""

    eligible: bool
    reasons: tuple[str, ...]
    version: int


@dataclass(frozen=True)
class Limits:
    """The partner's ticket (paise) and tenure (installments) limits, both ends inclusive."""

    min_amount: int
    max_amount: int
    min_tenure: int
    max_tenure: int

    def __post_init__(self) -> None:
        for name in ("min_amount", "max_amount", "min_tenure", "max_tenure"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValidationError("must be a positive whole number", field=_camel(name))
        if self.min_amount > self.max_amount:
            raise ValidationError("minimum ticket is above the maximum", field="minAmount")
        if self.min_tenure > self.max_tenure:
            raise ValidationError("minimum tenure is above the maximum", field="minTenure")

    def rules(self) -> tuple[Rule, ...]:
        """The limits as rows, checked before the table's own."""
        return (
            Rule(
                "amount", ">=", self.min_amount, f"amount below the partner's minimum ticket of {self.min_amount} paise"
            ),
            Rule(
                "amount", "<=", self.max_amount, f"amount above the partner's maximum ticket of {self.max_amount} paise"
            ),
            Rule("tenure", ">=", self.min_tenure, f"tenure below the partner's minimum of {self.min_tenure}"),
            Rule("tenure", "<=", self.max_tenure, f"tenure above the partner's maximum of {self.max_tenure}"),
        )


@dataclass(frozen=True)
class DecisionTable:
    """A partner's eligibility table at one ``version`` (1, 2, ... per partner)."""

    version: int
    rules: tuple[Rule, ...] = field(default_factory=tuple)

    def evaluate(self, facts: Mapping[str, Any], limits: Limits | None = None) -> Eligibility:
        """Every row (the ``limits`` first) against ``facts``; never raises for a missing fact."""
        rows = (limits.rules() if limits is not None else ()) + self.rules
        failed = tuple(rule.reason for rule in rows if not rule.holds(facts))
        return Eligibility(not failed, failed, self.version)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def parse_rules(rows: Any) -> tuple[Rule, ...]:
    """Rows as saved (``[{"fact", "op", "value", "reason"}]``) to :class:`Rule`; ValidationError naming
    ``rules[i].<key>`` and the reason for a row that is not well formed."""
    if not isinstance(rows, list):
        raise ValidationError("must be a list of rows", field="rules")
    if len(rows) > MAX_ROWS:
        raise ValidationError(f"at most {MAX_ROWS} rows", field="rules")
    parsed = []
    for i, row in enumerate(rows):
        where = f"rules[{i}]"
        if not isinstance(row, Mapping):
            raise ValidationError("must be an object", field=where)
        fact, op, value, reason = row.get("fact"), row.get("op"), row.get("value"), row.get("reason")
        if fact not in FACTS:
            raise ValidationError(f"must be one of {', '.join(sorted(FACTS))}", field=f"{where}.fact")
        if op not in OPS:
            raise ValidationError(f"must be one of {', '.join(OPS)}", field=f"{where}.op")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 200:
            raise ValidationError("a reason of 1 to 200 characters is required", field=f"{where}.reason")
        if op in ("in", "not_in"):
            if not isinstance(value, list) or not value or not all(_scalar(v) for v in value):
                raise ValidationError("must be a non-empty list of numbers or texts", field=f"{where}.value")
            value = tuple(value)
        elif op in ("==", "!="):
            if not _scalar(value):
                raise ValidationError("must be a number or a text", field=f"{where}.value")
        elif isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("must be a whole number", field=f"{where}.value")
        parsed.append(Rule(fact, op, value, reason.strip()))
    return tuple(parsed)


def _scalar(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and 0 < len(value) <= 100
    )


def rules_as_rows(rules: tuple[Rule, ...]) -> list[dict[str, Any]]:
    """The inverse of :func:`parse_rules` (what is stored and shown)."""
    return [
        {
            "fact": r.fact,
            "op": r.op,
            "value": list(r.value) if isinstance(r.value, tuple) else r.value,
            "reason": r.reason,
        }
        for r in rules
    ]


def age_on(dob: date | None, on: date) -> int | None:
    """Whole years from ``dob`` to ``on`` (IST date), None when the date of birth is unknown."""
    if dob is None:
        return None
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def application_facts(
    *,
    amount: int,
    tenure: int,
    bureau_score: int | None,
    dob: date | None,
    on: date,
    state: str | None = None,
    pincode: str | None = None,
    employment_type: str | None = None,
    monthly_income: int | None = None,
) -> dict[str, Any]:
    """The facts a table reads, from the application (paise, installments, IST ``on``)."""
    return {
        "amount": amount,
        "tenure": tenure,
        "bureau_score": bureau_score,
        "age": age_on(dob, on),
        "state": state,
        "pincode": pincode,
        "employment_type": employment_type,
        "monthly_income": monthly_income,
    }
