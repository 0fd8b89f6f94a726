"""The reports catalogue (docs/reports.md): every report type by name, each a ``reports.base.Report`` whose query
reads the brand's real tables for an IST date range. Families: loans, collections, marketing (leads), bureau,
staff."""

from __future__ import annotations

from dataclasses import replace

from reports import bureau, collections, loans, marketing, staff
from reports.base import MAX_DAYS, Column, Range, Report

CATALOGUE: dict[str, Report] = {
    report.name: report if report.family else replace(report, family=family)
    for family, module in (
        ("loans", loans),
        ("staff", staff),
        ("collections", collections),
        ("marketing", marketing),
        ("bureau", bureau),
    )
    for report in module.REPORTS
}

__all__ = ["CATALOGUE", "MAX_DAYS", "Column", "Range", "Report"]
