"""The reports catalogue: every report type the seed lists is there (and nothing else), each one's query selects
exactly its declared columns, and docs/reports.md lists every type with its columns."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from sqlalchemy.dialects import postgresql

from reports import CATALOGUE, Range
from reports.output import csv_value, rupees

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT.parent / "shared" / "seeds" / "000_b724bca7a03d6fdf.txt"
# seed 000's "Report Generation Flow": 29 report types
SEED_TYPES = """master-report disbursed-loan-report non-disbursed-loan-report disburse-non-disburse-report
active-loans-by-due-date-report completed-loan-with-no-repet-report loan-close-report outstanding-data-report
reject-report total-approve-sanction-report affiliate-report login-sessions-report master-collection-report
collection-loan-report collection-due-report collection-loan-report-by-approved-date
collection-allocation-executive-report credit-executive-allocation-report collection-remarks-report
total-recovery-report field-visit-report marketing-report internal-marketing-report
internal-marketing-analysis-report daily-marketing-mis-report lead-total-report cic-report equifax-credit-report
transunion-report""".split()


def test_every_seed_report_type_is_in_the_catalogue() -> None:
    assert len(SEED_TYPES) == 29
    assert sorted(CATALOGUE) == sorted(SEED_TYPES)
    if SEED.exists():  # the seed itself, where it is at hand
        text = SEED.read_text()
        section = text[text.index("Report Generation Flow") :]
        for name in SEED_TYPES:
            assert name in section, name


def test_each_query_selects_its_columns_in_order() -> None:
    span = Range(date(2025, 3, 1), date(2025, 3, 31))
    families = {"loans", "collections", "marketing", "bureau", "staff"}
    for name, report in CATALOGUE.items():
        query = report.query("00000000-0000-0000-0000-000000000000", span)
        assert [c.name for c in query.selected_columns] == [c.name for c in report.columns], name
        assert report.family in families and report.title and report.description and report.date_column, name
        assert len({c.name for c in report.columns}) == len(report.columns), name
        assert query._order_by_clauses, f"{name} has no stable order"  # pages must not overlap
        query.compile(dialect=postgresql.dialect())


def test_csv_cells() -> None:
    money = CATALOGUE["master-report"].columns[20]
    text = CATALOGUE["master-report"].columns[4]
    assert (money.name, money.type) == ("amount", "paise")
    assert [rupees(v) for v in (0, 5, 100, 1234567, -5, -12345)] == [
        "0.00",
        "0.05",
        "1.00",
        "12345.67",
        "-0.05",
        "-123.45",
    ]
    assert csv_value(money, 1234567) == "12345.67" and csv_value(money, None) == ""
    for formula in ("=1+1", "+91", "-2", "@SUM(A1)", "\tx"):
        assert csv_value(text, formula) == "'" + formula
    assert csv_value(text, "Asha") == "Asha"
    assert csv_value(CATALOGUE["master-report"].columns[1], date(2025, 3, 1)) == "2025-03-01"


def test_the_docs_list_every_report_and_its_columns() -> None:
    doc = (ROOT / "docs" / "reports.md").read_text()
    headings = re.findall(r"^### `([a-z-]+)`", doc, re.M)
    assert headings == list(CATALOGUE)
    for name, report in CATALOGUE.items():
        section = doc[doc.index(f"### `{name}`") :]
        section = section[: section.find("\n### ", 4)] if "\n### " in section[4:] else section
        for column in report.columns:
            assert f"`{column.name}`" in section, (name, column.name)
