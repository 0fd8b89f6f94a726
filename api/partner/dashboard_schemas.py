"""Dashboards: the answers of /api/v1/partner/brand/{brandId}/dashboard (``api/partner/dashboard.py``), one model a
route (docs/dashboards.md). Amounts in integer paise, percentages as decimal strings with 2 decimals or null, dates
ISO (IST)."""

from __future__ import annotations

from pydantic import Field

from api.responses import ApiModel


class StatusCount(ApiModel):
    status: str
    count: int


class TodayMonth(ApiModel):
    today: int
    this_month: int


class Disbursed(ApiModel):
    count: int
    amount_paise: int = Field(description="principal disbursed")
    net_paise: int = Field(description="what reached the borrowers' banks (after upfront deductions)")


class Collected(ApiModel):
    count: int
    amount_paise: int


class DisbursedTodayMonth(ApiModel):
    today: Disbursed
    this_month: Disbursed


class CollectedTodayMonth(ApiModel):
    today: Collected
    this_month: Collected


class DashboardStats(ApiModel):
    as_of: str = Field(description="today, IST")
    total_loans: int
    by_status: list[StatusCount]
    applications: TodayMonth
    sanctioned: TodayMonth = Field(description="loans moved to SANCTIONED")
    disbursed: DisbursedTodayMonth
    collections: CollectedTodayMonth = Field(description="payments received")


class AtRisk(ApiModel):
    loans: int
    principal_paise: int
    percent: str | None = Field(description="of AUM, 2 decimals; null when AUM is 0")


class Efficiency(ApiModel):
    """Current collection efficiency: of the installments due in the period, collected towards them ÷ billed."""

    billed_paise: int = Field(description="principal + interest + fees of the installments due in the period")
    collected_paise: int = Field(description="collected towards those installments")
    percent: str | None


class OverallEfficiency(ApiModel):
    """Overall collection efficiency (ICRA / CRISIL): collected towards dues in the period ÷ due in the period
    (opening arrears plus the period's billing, net of anything paid ahead), by amount; penal and prepayments out."""

    due_paise: int = Field(
        description="per loan: principal + interest + fees due by the period's end, less paid before"
    )
    collected_paise: int = Field(description="principal, interest and fees parts of payments in the period, capped")
    percent: str | None


class WrittenOff(ApiModel):
    loans: int
    principal_paise: int


class Settled(ApiModel):
    loans: int
    principal_written_off_paise: int


class PortfolioSummary(ApiModel):
    brand_id: str
    source: str = Field(description="live, or snapshot (asOf)")
    as_of: str = Field(description="IST date: today (live) or the snapshot's day")
    taken_at: str | None = Field(description="when the snapshot was written")
    from_date: str
    to_date: str
    aum_paise: int = Field(description="principal outstanding of loans being repaid")
    loans_on_book: int
    disbursals: Disbursed
    collections: Collected
    collection_efficiency: Efficiency
    overall_collection_efficiency: OverallEfficiency | None = Field(
        description="null in a snapshot written before the overall efficiency was computed"
    )
    par30: AtRisk
    par60: AtRisk
    par90: AtRisk
    gnpa: AtRisk
    written_off: WrittenOff
    settled: Settled


class SourceLine(ApiModel):
    source: str = Field(description="utm_source, or direct")
    customers: int
    applied: int
    disbursed: int


class UsersBySubdomain(ApiModel):
    brand_id: str
    subdomain: str = Field(description="the brand's web app (its code)")
    from_date: str | None
    to_date: str | None
    customers: int
    applied: int
    disbursed: int
    by_source: list[SourceLine]


class BucketLine(ApiModel):
    bucket: str
    loans: int
    principal_paise: int
    overdue_paise: int


class CollectorLine(ApiModel):
    staff_id: str
    name: str | None
    role: str | None
    cases: int = Field(description="loans being repaid allocated to them now")
    overdue_paise: int
    promises: int = Field(description="promises to pay dated in the period")
    promises_kept: int
    promises_broken: int
    promises_pending: int
    recovered_paise: int = Field(description="paid in the period while the loan was allocated to them")
    recovery_rate: str | None = Field(description="recovered ÷ (recovered + overdue now), percent")


class CollectionAnalysis(ApiModel):
    from_date: str
    to_date: str
    by_bucket: list[BucketLine]
    by_collector: list[CollectorLine]
    recovered_paise: int
    overdue_paise: int
    recovery_rate: str | None


class DayLine(ApiModel):
    day: str
    count: int
    amount_paise: int
    net_paise: int


class ProductLine(ApiModel):
    product_code: str
    name: str
    count: int
    amount_paise: int
    net_paise: int


class BandLine(ApiModel):
    band: str
    count: int
    amount_paise: int
    net_paise: int


class DisbursementAnalysis(ApiModel):
    from_date: str
    to_date: str
    count: int
    amount_paise: int
    net_paise: int
    by_day: list[DayLine]
    by_product: list[ProductLine]
    by_amount_band: list[BandLine]


class StaffLeadLine(ApiModel):
    staff_id: str
    name: str
    role: str
    assigned_customers: int
    assigned_loans: int
    sanctioned: int = Field(description="loans they moved to SANCTIONED in the period")
    disbursed: int = Field(description="loans disbursed in the period that they worked")
    disbursed_amount_paise: int


class StaffLeads(ApiModel):
    from_date: str
    to_date: str
    items: list[StaffLeadLine]


class VintagePoint(ApiModel):
    months_on_book: int
    loans: int
    principal_paise: int
    percent_principal: str | None
    percent_loans: str | None


class Cohort(ApiModel):
    month: str = Field(description="YYYY-MM of disbursal")
    loans: int
    principal_paise: int
    dpd30: list[VintagePoint] = Field(description="cumulative share that went above DPD 30")
    dpd90: list[VintagePoint] = Field(description="cumulative share that went above DPD 90")


class Vintage(ApiModel):
    as_of: str
    cohorts: list[Cohort]
