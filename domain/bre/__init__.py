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

The package, by seam:

* ``domain.bre.config``: the brand's rules (``BreConfig``, read from its JSON by ``BreConfig.from_dict``) and
  its blocklist (``Blocklist``, ``BlockKind``);
* ``domain.bre.facts``: what the BRE knows about the applicant (``BreInput``, ``BureauAccount``);
* ``domain.bre.results``: the rules in report order (``Rule``) and their outcomes (``RuleResult``, ``BreResult``);
* ``domain.bre.rules``: each hard rule and ``run_bre``, which runs them all.

``domain.bre`` re-exports every public name: import from it, as before the split.
"""

from __future__ import annotations

# ruff: noqa: F401
# (this module only re-exports the names of its package)
from domain.bre.config import (
    DEFAULT_DPD_LOOKBACK_MONTHS,
    MAX_AGE_LIMIT,
    MAX_BUREAU_SCORE,
    MIN_CONTRACT_AGE,
    BlockKind,
    Blocklist,
    BreConfig,
)
from domain.bre.facts import (
    BreInput,
    BureauAccount,
)
from domain.bre.results import (
    BreResult,
    Rule,
    RuleResult,
)
from domain.bre.rules import (
    ENQUIRY_WINDOW_DAYS,
    run_bre,
)

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
