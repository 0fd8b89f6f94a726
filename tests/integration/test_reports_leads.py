"""The lead and marketing reports count the uploaded lead forms next to the sign-ups: the hand-built March 2025 book
of ``test_reports.build``, one more sign-up from a Facebook paid campaign, and lead forms of every status, paid and
organic, dated by the platform or by their import, one just before the range, one on the last IST evening, and one
of another brand; each report's rows checked exactly."""

from __future__ import annotations

import uuid
from typing import Any

from db.models import LeadForm
from los.demo import Driver
from los.seed import seed_brand
from tests.integration.test_reports import _customer, build, ist, rows_of

LEAD_KEYS = ("leads", "paid_leads", "organic_leads", "leads_processed", "leads_duplicate", "leads_failed")


def lead_form(brand_id: str, status: str, *, paid: bool = True, **kw: Any) -> LeadForm:
    return LeadForm(
        brand_id=brand_id,
        source=kw.pop("source", "FACEBOOK"),
        is_paid=paid,
        phone=f"8{uuid.uuid4().int % 10**9:09d}",
        status=status,
        responses={},
        **kw,
    )


def add_lead_forms(db, brand: dict, sandbox_url: str, c1: str) -> str:  # noqa: ANN001
    """Neha (a sign-up from facebook / paid / spring) and six lead forms of the brand, one of another brand; Neha's
    id."""
    b = brand["brand_id"]
    other = seed_brand(db, sandbox_url, code=f"l{uuid.uuid4().hex[:7]}")
    with db.unit_of_work() as s:
        neha = _customer(
            s,
            b,
            "Neha Jain",
            ist(3, 12),
            utm={"utm_source": "facebook", "utm_medium": "paid", "utm_campaign": "spring"},
        )
        s.add_all(
            [
                # matched to Asha (who came by google): her lead form
                lead_form(
                    b,
                    "PROCESSED",
                    campaign_name="spring",
                    ad_set_name="set-a",
                    customer_id=c1,
                    lead_created_at=ist(1, 8),
                ),
                # no platform date: dated by its import
                lead_form(b, "DUPLICATE", paid=False, created_at=ist(3)),
                # the last IST evening of the range
                lead_form(b, "FAILED", campaign_name="spring", lead_created_at=ist(31, 23, 30)),
                lead_form(b, "NEW", campaign_name="diwali", lead_created_at=ist(5)),
                lead_form(b, "NEW", source="INSTAGRAM", lead_created_at=ist(10)),
                # imported in March, dated by the platform in February: not in the range
                lead_form(b, "NEW", campaign_name="spring", lead_created_at=ist(27, month=2), created_at=ist(2)),
                lead_form(other["brand_id"], "PROCESSED", campaign_name="spring", lead_created_at=ist(4)),
            ]
        )
    return neha


def leads_of(row: dict[str, Any]) -> tuple[int, ...]:
    return tuple(row[k] for k in LEAD_KEYS)


async def test_lead_reports_count_the_lead_forms_next_to_the_sign_ups(app, brand, sandbox, db) -> None:  # noqa: ANN001
    ids = build(db, brand)
    neha = add_lead_forms(db, brand, sandbox.url, ids["c1"])
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    b = brand["brand_id"]
    try:
        h = await driver.staff_headers("ADMIN")
        marketing = await rows_of(driver, h, b, "marketing-report")
        assert [
            (r["customer_id"], r["utm_source"], r["lead_forms"], r["lead_kind"], r["lead_campaign"], r["lead_ad_set"])
            for r in marketing
        ] == [
            (ids["c1"], "google", 1, "paid", "spring", "set-a"),
            (ids["c2"], None, 0, None, None, None),
            (neha, "facebook", 0, None, None, None),
        ]

        campaigns = await rows_of(driver, h, b, "internal-marketing-report")
        assert [
            (
                r["utm_source"],
                r["utm_medium"],
                r["utm_campaign"],
                r["registrations"],
                r["disbursed_amount"],
                leads_of(r),
            )
            for r in campaigns
        ] == [
            ("(none)", None, None, 1, 50_000_00, (0, 0, 0, 0, 0, 0)),
            ("facebook", "organic", None, 0, 0, (1, 0, 1, 0, 1, 0)),
            ("facebook", "paid", "diwali", 0, 0, (1, 1, 0, 0, 0, 0)),
            ("facebook", "paid", "spring", 1, 0, (2, 2, 0, 1, 0, 1)),  # Neha and two lead forms in one row
            ("google", None, "spring", 1, 50_000_00, (0, 0, 0, 0, 0, 0)),
            ("instagram", "paid", None, 0, 0, (1, 1, 0, 0, 0, 0)),
        ]

        analysis = await rows_of(driver, h, b, "internal-marketing-analysis-report")
        assert [
            (r["utm_source"], r["registrations"], r["applied"], r["disbursed"], r["conversion_pct"], leads_of(r))
            for r in analysis
        ] == [
            ("(none)", 1, 1, 1, "100.00", (0, 0, 0, 0, 0, 0)),
            ("facebook", 1, 0, 0, "0.00", (4, 3, 1, 1, 1, 1)),
            ("google", 1, 1, 1, "100.00", (0, 0, 0, 0, 0, 0)),
            ("instagram", 0, 0, 0, None, (1, 1, 0, 0, 0, 0)),  # no sign-up: no conversion rate
        ]

        mis = {r["day"]: r for r in await rows_of(driver, h, b, "daily-marketing-mis-report")}
        assert len(mis) == 31
        assert (mis["2025-03-01"]["registrations"], leads_of(mis["2025-03-01"])) == (2, (1, 1, 0, 1, 0, 0))
        assert (mis["2025-03-02"]["registrations"], leads_of(mis["2025-03-02"])) == (0, (0, 0, 0, 0, 0, 0))
        assert (mis["2025-03-03"]["registrations"], leads_of(mis["2025-03-03"])) == (1, (1, 0, 1, 0, 1, 0))
        assert leads_of(mis["2025-03-31"]) == (1, 1, 0, 0, 0, 1)
        assert sum(r["leads"] for r in mis.values()) == 5
        assert (mis["2025-03-05"]["disbursed"], mis["2025-03-05"]["leads"]) == (1, 1)  # the other columns still there

        totals = await rows_of(driver, h, b, "lead-total-report")
        assert [(r["origin"], r["stage"], r["leads"], r["paid"], r["organic"], r["with_loan"]) for r in totals] == [
            ("SIGN_UP", "COMPLETED", 1, None, None, 1),
            ("SIGN_UP", "REGISTERED", 2, None, None, 1),
            ("LEAD_FORM", "DUPLICATE", 1, 0, 1, 0),
            ("LEAD_FORM", "FAILED", 1, 1, 0, 0),
            ("LEAD_FORM", "NEW", 2, 2, 0, 0),
            ("LEAD_FORM", "PROCESSED", 1, 1, 0, 1),  # matched to Asha, who has a loan
        ]
    finally:
        await driver.close()
