"""The daily portfolio snapshot's activities (``workflows.portfolio_snapshot``): which brands to snapshot, and one
brand's snapshot for one IST day, written once (``db.portfolio.take_snapshot``; a retry or a second run of the same
day writes nothing). Its figures and their definitions: docs/dashboards.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from temporalio import activity

from activities.base import DbActivities
from db import portfolio
from db.session import Database


@dataclass(frozen=True)
class SnapshotRequest:
    brand_id: str
    as_of: str  # IST date, YYYY-MM-DD: the day whose day-end the snapshot follows


class PortfolioActivities(DbActivities):
    """The snapshot's two activities; ``all()`` lists them for the worker."""

    def __init__(self, db: Database):
        self.db = db

    def all(self) -> list[Callable[..., Any]]:
        return [self.portfolio_brands, self.snapshot_portfolio]

    @activity.defn
    async def portfolio_brands(self) -> list[str]:
        """Every active brand's id."""
        return await self._tx(portfolio.active_brands)

    @activity.defn
    async def snapshot_portfolio(self, req: SnapshotRequest) -> bool:
        """The brand's portfolio summary for the month to ``req.as_of``, stored as that day's snapshot unless one
        is there already. True when this call wrote it."""
        day = date.fromisoformat(req.as_of)
        return await self._tx(lambda session: portfolio.take_snapshot(session, req.brand_id, day))
