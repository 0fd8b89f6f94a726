"""A brand's active evaluation items as its evaluation policy reads them (``domain.evaluation_policy``): the SQL
shared by the credit decision activity and the brand-settings check, so that the API and the activities read the
same items without depending on each other. Runs in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import EvaluationItem

# The columns ``domain.evaluation_policy.brand_policy`` reads of each item.
_COLUMNS = (
    EvaluationItem.name,
    EvaluationItem.metric,
    EvaluationItem.comparator,
    EvaluationItem.threshold,
    EvaluationItem.weight,
    EvaluationItem.hard_reject,
    EvaluationItem.version,
)


def active_evaluation_items(session: Session, brand_id: str) -> list[dict[str, Any]]:
    """The brand's active evaluation items, every version, as ``{"name", "metric", "comparator", "threshold",
    "weight", "hard_reject", "version"}`` dicts (the stored values)."""
    rows = session.execute(
        select(*_COLUMNS).where(EvaluationItem.brand_id == brand_id, EvaluationItem.is_active)
    ).mappings()
    return [dict(row) for row in rows]
