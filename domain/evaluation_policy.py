"""A brand's evaluation policy, built one way for the credit decision (``activities/kyc/decision.py``) and for the
check that a brand's settings still give a valid one (``api/brand_config.check_evaluation``).

The policy is the brand's active evaluation items with the engine version and the two decision thresholds of
its configuration (``domain.brand_config.BrandConfig``). A brand with no active item at all is scored on two
default bands over the bureau score: ``min_credit_score`` (a hard reject) and ``auto_sanction_score``. Pure:
the caller reads the items (``db.evaluation_items.active_evaluation_items``) and passes them in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain.brand_config import BrandConfig
from domain.evaluation import EvaluationPolicy

# The default bands' names: they are stored in decision outcomes (``loan_decisions.details[].item``), so they
# must not change.
MINIMUM_BAND = "Bureau score at or above minimum"
AUTO_SANCTION_BAND = "Bureau score at or above auto-sanction"


def default_items(config: BrandConfig) -> list[dict[str, Any]]:
    """The two score bands of a brand without evaluation items, of the brand's engine version, weight 1 each:
    ``bureau.score >= min_credit_score`` (hard reject) and ``bureau.score >= auto_sanction_score`` (soft)."""
    version = config.evaluation_version
    return [
        {
            "name": MINIMUM_BAND,
            "metric": "bureau.score",
            "comparator": ">=",
            "threshold": str(config.min_credit_score),
            "weight": 1,
            "hard_reject": True,
            "version": version,
        },
        {
            "name": AUTO_SANCTION_BAND,
            "metric": "bureau.score",
            "comparator": ">=",
            "threshold": str(config.auto_sanction_score),
            "weight": 1,
            "version": version,
        },
    ]


def brand_policy(config: BrandConfig, items: Sequence[Mapping[str, Any]]) -> EvaluationPolicy:
    """The evaluation policy of a brand whose configuration reads as ``config``.

    ``items``: the brand's active evaluation items (every version), each a mapping with ``name``, ``metric``,
    ``comparator``, ``threshold`` (the stored text), ``weight``, ``hard_reject`` and ``version`` (the columns of
    ``db.models.EvaluationItem``); the policy keeps those of ``config.evaluation_version``. Only an empty
    ``items`` gives the :func:`default_items` bands: items all of another version leave the policy empty.

    Raises ``domain.errors.ValidationError`` (``EvaluationPolicy.from_dict``) whose field is the policy's key:
    ``version`` (not V1/V2), ``auto_sanction_threshold`` / ``manual_review_threshold`` (not 0–100, or manual
    above auto), ``items`` (no item of the brand's version, or a total weight of 0), ``items[<i>].<key>`` for a
    bad item (``<i>`` its index in ``items``); ``TypeError`` for a float threshold or weight.
    """
    return EvaluationPolicy.from_dict(
        {
            "version": config.evaluation_version,
            "auto_sanction_threshold": config.auto_sanction_threshold,
            "manual_review_threshold": config.manual_review_threshold,
            "items": list(items) or default_items(config),
        }
    )
