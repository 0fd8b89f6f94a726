"""Dashboards: the brand's figures and charts (stats, summary, collection and disbursement analysis, portfolio: AUM,
PAR, NPA)."""

from __future__ import annotations

from api.partner.common import staff_router

router = staff_router()
