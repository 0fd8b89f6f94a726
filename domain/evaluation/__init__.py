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

The package, by seam:

* ``domain.evaluation.config``: an item (``Criterion``, its ``Comparator`` and ``parse_threshold``) and a
  brand's policy (``EvaluationPolicy``, ``EngineVersion``), read and validated from JSON or ``EvaluationItem``
  rows; ``EVALUATION_METRICS``, the facts items may read;
* ``domain.evaluation.scoring``: scoring and the decision (``evaluate``, ``evaluate_v1``, ``evaluate_v2``,
  ``lookup_metric``) and the staff breakdown (``ItemResult``, ``EvaluationResult``).

``domain.evaluation`` re-exports every public name: import from it, as before the split. A brand's policy as the
credit decision builds it is ``domain.evaluation_policy.brand_policy``.
"""

from __future__ import annotations

# ruff: noqa: F401
# (this module only re-exports the names of its package)
from domain.evaluation.config import (
    DEFAULT_BAND_PERCENT,
    EVALUATION_METRICS,
    HUNDRED,
    TWO_PLACES,
    Comparator,
    Criterion,
    EngineVersion,
    EvaluationPolicy,
    Threshold,
    parse_threshold,
)
from domain.evaluation.scoring import (
    EvaluationResult,
    ItemResult,
    evaluate,
    evaluate_v1,
    evaluate_v2,
    lookup_metric,
)
