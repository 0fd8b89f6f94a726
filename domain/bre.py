"""Business Rules Engine: a brand's hard rules, run against the applicant's bureau report and KYC facts.

Seed 001: "The BRE runs against third-party credit reports (CIR Pro V2, Equifax) and applies
brand-configured hard rules: minimum credit score, maximum DPD, blacklist check, maximum existing loans,
bureau inquiry threshold. If any hard rule fails, the loan is auto-rejected. If all pass, it proceeds to
the evaluation engine." BrandConfig adds ``salaryThresholdAmount``, ``rejectionDuration`` (days before a
rejected user can re-apply), age limits and ``enable_central_dedup`` (cross-brand deduplication).

Conventions:

* Every rule runs (no short-circuit) and yields one :class:`RuleResult` in the fixed order of
  :class:`Rule`, so staff see every reason at once. A rule whose configuration is unset is reported as
  ``SKIPPED`` (``passed=True, skipped=True``) and never rejects.
* Rules **fail closed**: a configured rule whose fact is missing (no bureau score, no date of birth, no
  salary...) fails with the reason ``missing: <fact>``.
* Money is integer paise (salary is monthly); a float anywhere money is expected → ``TypeError``.
  Dates are plain ``date`` values; "today" is ``BreInput.application_date``.
* Inclusive limits: a value equal to a minimum or maximum passes (score 650 vs minimum 650 passes, DPD 30
  vs maximum 30 passes, age 60 vs maximum 60 passes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.errors import ValidationError
from domain.kyc import age_on
from domain.rules import Decision

MIN_CONTRACT_AGE = 18  # Indian Majority Act 1875 / Contract Act s.11: a minor cannot contract.
MAX_AGE_LIMIT = 100
MAX_BUREAU_SCORE = 900  # CIBIL / Equifax / Experian / CRIF scale 300–900 (0 or -1 for "no history").
DEFAULT_DPD_LOOKBACK_MONTHS = 12
ENQUIRY_WINDOW_DAYS = 30


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


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def _month_label(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


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


# --- applicant facts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BureauAccount:
    """One tradeline of the bureau report: whether it is open, and its monthly DPD history as
    ``(any date in the month, dpd)`` pairs (the integrator maps "STD"/"XXX" codes to 0 and "SUB"/"DBT"/"LSS"
    to the DPD it chooses, e.g. 90+). ``account_id`` only labels reasons."""

    dpd_history: Sequence[tuple[date, int]] = ()
    is_active: bool = True
    account_id: str | None = None

    def __post_init__(self) -> None:
        history = tuple(self.dpd_history)
        for entry in history:
            if not isinstance(entry, tuple) or len(entry) != 2:
                raise ValidationError("each DPD history entry is (month date, dpd)", field="dpdHistory")
            _date(entry[0], "dpdHistory")
            _int(entry[1], "dpd")
        object.__setattr__(self, "dpd_history", history)
        if not isinstance(self.is_active, bool):
            raise ValidationError("must be true or false", field="isActive")


@dataclass(frozen=True)
class BreInput:
    """What the BRE knows about the applicant on ``application_date`` (every other fact optional).

    * ``bureau_score``: None when no report (fails a configured minimum score).
    * ``bureau_accounts``: tradelines (DPD history, open/closed).
    * ``active_loans``: open loans; None → count of ``bureau_accounts`` with ``is_active``.
    * ``enquiry_dates`` / ``enquiries_30d``: bureau enquiries; the count, when given, wins over the dates.
      The caller leaves out this application's own enquiry.
    * ``pan``, ``aadhaar_hash`` (domain.kyc.aadhaar_hash), ``phone``, ``device_id``: blocklist keys.
    * ``dob``: date of birth; ``monthly_salary``: paise.
    * ``last_rejected_on``: date of the customer's last rejection in this brand (None = never).
    * ``other_brand_active_loans``: active loans of the same PAN in other brands (None = not checked).
    """

    application_date: date
    bureau_score: int | None = None
    bureau_accounts: Sequence[BureauAccount] = ()
    active_loans: int | None = None
    enquiry_dates: Sequence[date] = ()
    enquiries_30d: int | None = None
    pan: str | None = None
    aadhaar_hash: str | None = None
    phone: str | None = None
    device_id: str | None = None
    dob: date | None = None
    monthly_salary: int | None = None  # paise
    last_rejected_on: date | None = None
    other_brand_active_loans: int | None = None

    def __post_init__(self) -> None:
        _date(self.application_date, "application_date")
        if self.bureau_score is not None:
            _int(self.bureau_score, "bureau_score", minimum=-1, maximum=MAX_BUREAU_SCORE)
        accounts = tuple(self.bureau_accounts)
        if not all(isinstance(a, BureauAccount) for a in accounts):
            raise ValidationError("must be BureauAccount values", field="bureau_accounts")
        object.__setattr__(self, "bureau_accounts", accounts)
        _opt_int(self.active_loans, "active_loans")
        enquiries = tuple(self.enquiry_dates)
        for d in enquiries:
            _date(d, "enquiry_dates")
        object.__setattr__(self, "enquiry_dates", enquiries)
        _opt_int(self.enquiries_30d, "enquiries_30d")
        for name in ("pan", "aadhaar_hash", "phone", "device_id"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ValidationError("must be text", field=name)
        _opt_date(self.dob, "dob")
        _opt_int(self.monthly_salary, "monthly_salary", money=True)
        _opt_date(self.last_rejected_on, "last_rejected_on")
        _opt_int(self.other_brand_active_loans, "other_brand_active_loans")


# --- results ------------------------------------------------------------------------------------------


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


# --- the rules ----------------------------------------------------------------------------------------


def _skip(rule: Rule) -> RuleResult:
    return RuleResult(rule, True, "not configured for this brand", skipped=True)


def _missing(rule: Rule, what: str, limit: Any) -> RuleResult:
    return RuleResult(rule, False, f"missing: {what}", None, limit)


def _rule_min_score(c: BreConfig, f: BreInput) -> RuleResult:
    rule, limit = Rule.MIN_BUREAU_SCORE, c.min_bureau_score
    if limit is None:
        return _skip(rule)
    if f.bureau_score is None:
        return _missing(rule, "bureau score", limit)
    score = f.bureau_score
    if score >= limit:
        return RuleResult(rule, True, f"bureau score {score} at or above minimum {limit}", score, limit)
    return RuleResult(rule, False, f"bureau score {score} below minimum {limit}", score, limit)


def _rule_max_dpd(c: BreConfig, f: BreInput) -> RuleResult:
    rule, limit = Rule.MAX_DPD, c.max_dpd
    if limit is None:
        return _skip(rule)
    end = _month_index(f.application_date)
    start = end - c.dpd_lookback_months
    worst, where = 0, ""
    for i, account in enumerate(f.bureau_accounts):
        for month, dpd in account.dpd_history:
            if start <= _month_index(month) <= end and dpd > worst:
                worst = dpd
                where = f" on account {account.account_id or i + 1} in {_month_label(month)}"
    window = f"the last {c.dpd_lookback_months} months"
    if worst <= limit:
        return RuleResult(rule, True, f"worst DPD {worst} in {window} within maximum {limit}", worst, limit)
    return RuleResult(rule, False, f"DPD {worst}{where} exceeds maximum {limit} ({window})", worst, limit)


def _rule_active_loans(c: BreConfig, f: BreInput) -> RuleResult:
    rule, limit = Rule.MAX_ACTIVE_LOANS, c.max_active_loans
    if limit is None:
        return _skip(rule)
    count = f.active_loans if f.active_loans is not None else sum(1 for a in f.bureau_accounts if a.is_active)
    if count <= limit:
        return RuleResult(rule, True, f"{count} active loans within maximum {limit}", count, limit)
    return RuleResult(rule, False, f"{count} active loans exceed maximum {limit}", count, limit)


def _rule_enquiries(c: BreConfig, f: BreInput) -> RuleResult:
    rule, limit = Rule.MAX_ENQUIRIES_30D, c.max_enquiries_30d
    if limit is None:
        return _skip(rule)
    if f.enquiries_30d is not None:
        count = f.enquiries_30d
    else:
        since = f.application_date - timedelta(days=ENQUIRY_WINDOW_DAYS)
        count = sum(1 for d in f.enquiry_dates if since < d <= f.application_date)
    if count <= limit:
        return RuleResult(rule, True, f"{count} bureau enquiries in 30 days within maximum {limit}", count, limit)
    return RuleResult(rule, False, f"{count} bureau enquiries in 30 days exceed maximum {limit}", count, limit)


def _rule_blocklist(c: BreConfig, f: BreInput) -> RuleResult:
    rule = Rule.BLOCKLIST
    if c.blocklist is None:
        return _skip(rule)
    hits = c.blocklist.matches(pan=f.pan, aadhaar_hash=f.aadhaar_hash, phone=f.phone, device=f.device_id)
    if not hits:
        return RuleResult(rule, True, "no identifier is on the blocklist", [], None)
    return RuleResult(rule, False, f"on the blocklist: {', '.join(hits)}", hits, None)


def _rule_min_age(c: BreConfig, f: BreInput) -> RuleResult:
    rule, limit = Rule.MIN_AGE, c.min_age
    if limit is None:
        return _skip(rule)
    if f.dob is None:
        return _missing(rule, "date of birth", limit)
    age = age_on(f.dob, f.application_date)
    if age >= limit:
        return RuleResult(rule, True, f"age {age} at or above minimum {limit}", age, limit)
    return RuleResult(rule, False, f"age {age} below minimum {limit}", age, limit)


def _rule_max_age(c: BreConfig, f: BreInput) -> RuleResult:
    rule, limit = Rule.MAX_AGE, c.max_age
    if limit is None:
        return _skip(rule)
    if f.dob is None:
        return _missing(rule, "date of birth", limit)
    age = age_on(f.dob, f.application_date)
    if age <= limit:
        return RuleResult(rule, True, f"age {age} within maximum {limit}", age, limit)
    return RuleResult(rule, False, f"age {age} above maximum {limit}", age, limit)


def _rupees(paise: int) -> str:
    rupees, p = divmod(paise, 100)
    return f"₹{rupees}" if p == 0 else f"₹{rupees}.{p:02d}"


def _rule_salary(c: BreConfig, f: BreInput) -> RuleResult:
    rule, limit = Rule.SALARY_THRESHOLD, c.salary_threshold
    if limit is None:
        return _skip(rule)
    if f.monthly_salary is None:
        return _missing(rule, "monthly salary", limit)
    salary = f.monthly_salary
    if salary >= limit:
        return RuleResult(rule, True, f"monthly salary {_rupees(salary)} at or above {_rupees(limit)}", salary, limit)
    return RuleResult(rule, False, f"monthly salary {_rupees(salary)} below threshold {_rupees(limit)}", salary, limit)


def _rule_cooling(c: BreConfig, f: BreInput) -> RuleResult:
    rule, limit = Rule.COOLING_PERIOD, c.rejection_duration_days
    if limit is None:
        return _skip(rule)
    if f.last_rejected_on is None:
        return RuleResult(rule, True, "no previous rejection in this brand", None, limit)
    days = (f.application_date - f.last_rejected_on).days
    if days >= limit:
        return RuleResult(rule, True, f"{days} days since the last rejection, cooling period {limit} days", days, limit)
    again = f.last_rejected_on + timedelta(days=limit)
    return RuleResult(
        rule,
        False,
        f"rejected {days} days ago on {f.last_rejected_on.isoformat()}; cooling period {limit} days, "
        f"may re-apply from {again.isoformat()}",
        days,
        limit,
    )


def _rule_dedup(c: BreConfig, f: BreInput) -> RuleResult:
    rule = Rule.CENTRAL_DEDUP
    if not c.enable_central_dedup:
        return _skip(rule)
    if f.other_brand_active_loans is None:
        return _missing(rule, "cross-brand active loans", 0)
    n = f.other_brand_active_loans
    if n == 0:
        return RuleResult(rule, True, "no active loan for this PAN in another brand", 0, 0)
    return RuleResult(rule, False, f"{n} active loan(s) for this PAN in another brand", n, 0)


_RULES = (
    _rule_min_score,
    _rule_max_dpd,
    _rule_active_loans,
    _rule_enquiries,
    _rule_blocklist,
    _rule_min_age,
    _rule_max_age,
    _rule_salary,
    _rule_cooling,
    _rule_dedup,
)


def run_bre(config: BreConfig, facts: BreInput) -> BreResult:
    """Run every hard rule of ``config`` on ``facts``; any failure → ``passed=False`` (auto-reject) with
    all the reasons. Returns one :class:`RuleResult` per :class:`Rule`, in that order (skipped rules
    included). Pure and deterministic.
    """
    if not isinstance(config, BreConfig):
        raise ValidationError("must be a BreConfig", field="config")
    if not isinstance(facts, BreInput):
        raise ValidationError("must be a BreInput", field="facts")
    results = tuple(check(config, facts) for check in _RULES)
    return BreResult(all(r.passed for r in results), results)


__all__ = [
    "Blocklist",
    "BlockKind",
    "BreConfig",
    "BreInput",
    "BreResult",
    "BureauAccount",
    "Rule",
    "RuleResult",
    "run_bre",
]
