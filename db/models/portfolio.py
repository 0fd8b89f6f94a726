"""The daily portfolio snapshot behind the dashboards: one row per brand and IST day, written once after that day's
day-end by the ``portfolio-snapshot`` schedule (docs/dashboards.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created, fk, pk


class PortfolioSnapshot(Base):
    """The brand's portfolio summary as of the day-end of ``as_of`` (``db.portfolio.summary`` for the month to
    that day, as the API's ``summary`` answers it), frozen: later payments or corrections do not change it."""

    __tablename__ = "portfolio_snapshots"
    id: Mapped[str] = pk()
    brand_id: Mapped[str] = fk("brands.id", index=True)
    as_of: Mapped[date] = mapped_column(Date)
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("brand_id", "as_of"),)
