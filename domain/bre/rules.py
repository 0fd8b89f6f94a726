"""The hard rules, one function each in ``Rule`` order, and ``run_bre``, which runs them all.

Every rule runs (no short-circuit); an unset rule is ``SKIPPED``; a configured rule whose fact is missing fails
with ``missing: <fact>`` (fail closed); limits are inclusive.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from domain.bre.config import BreConfig
from domain.bre.facts import BreInput
from domain.bre.results import BreResult, Rule, RuleResult
from domain.errors import ValidationError
from domain.kyc import age_on

ENQUIRY_WINDOW_DAYS = 30


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def _month_label(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


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
