"""The daily jobs' rules (``domain.ops_jobs``): the brand's settings block, who is inactive, when periodic updation of
KYC falls due by risk category (RBI KYC Master Direction, para 38) and whether a refreshed bureau report warns."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain import ops_jobs
from domain.errors import ValidationError
from domain.ops_jobs import BureauView, OpsJobsPolicy, ReKycStage, RiskCategory

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)


def test_policy_defaults_and_both_spellings() -> None:
    assert ops_jobs.policy_of(None) == ops_jobs.policy_of({}) == OpsJobsPolicy()
    assert OpsJobsPolicy() == OpsJobsPolicy(7, True, RiskCategory.LOW, 30, 30, 50, 50)
    read = ops_jobs.policy_of(
        {"ops_jobs": {"inactivityDays": 14, "rekyc_risk": "high", "bureauRefreshDays": 0, "bureau_batch": 5}}
    )
    assert (read.inactivity_days, read.rekyc_risk, read.bureau_refresh_days, read.bureau_batch) == (14, "HIGH", 0, 5)
    assert ops_jobs.policy_of({"ops_jobs": {"inactivityNoteAllocations": False}}).inactivity_note_allocations is False


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"inactivityDays": 0}, "opsJobs.inactivity_days"),
        ({"inactivityDays": "7"}, "opsJobs.inactivity_days"),
        ({"bureauBatch": 1001}, "opsJobs.bureau_batch"),
        ({"bureauScoreDrop": True}, "opsJobs.bureau_score_drop"),
        ({"reKycRisk": "VERY_HIGH"}, "opsJobs.reKycRisk"),
        ({"inactivityNoteAllocations": "yes"}, "opsJobs.inactivityNoteAllocations"),
    ],
)
def test_policy_refuses_bad_values_naming_the_key(raw: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        OpsJobsPolicy.of(raw)
    assert err.value.field == field
    with pytest.raises(ValidationError):
        OpsJobsPolicy.of([1])  # type: ignore[arg-type]


def test_last_seen_is_the_latest_sign_in_or_ping_else_the_account_creation() -> None:
    created = NOW - timedelta(days=40)
    login, ping = NOW - timedelta(days=10), NOW - timedelta(days=3)
    assert ops_jobs.last_seen(created, login, ping) == ping
    assert ops_jobs.last_seen(created, login, None) == login
    assert ops_jobs.last_seen(created, None, None) == created


def test_inactive_only_beyond_the_threshold() -> None:
    assert not ops_jobs.is_inactive(NOW - timedelta(days=7), NOW, 7)  # exactly 7 days: not yet
    assert ops_jobs.is_inactive(NOW - timedelta(days=7, seconds=1), NOW, 7)
    assert not ops_jobs.is_inactive(NOW - timedelta(hours=1), NOW, 1)


def test_rekyc_periods_by_risk_category() -> None:
    kyc = date(2020, 3, 15)
    assert ops_jobs.rekyc_due_on(kyc, RiskCategory.HIGH) == date(2022, 3, 15)
    assert ops_jobs.rekyc_due_on(kyc, RiskCategory.MEDIUM) == date(2028, 3, 15)
    assert ops_jobs.rekyc_due_on(kyc, RiskCategory.LOW) == date(2030, 3, 15)
    assert ops_jobs.rekyc_due_on(date(2024, 2, 29), RiskCategory.HIGH) == date(2026, 2, 28)


def test_rekyc_stage_notice_window_and_overdue() -> None:
    due = date(2026, 12, 31)
    assert ops_jobs.rekyc_stage(date(2026, 11, 30), due, 30) is None
    assert ops_jobs.rekyc_stage(date(2026, 12, 1), due, 30) is ReKycStage.DUE
    assert ops_jobs.rekyc_stage(date(2026, 12, 30), due, 30) is ReKycStage.DUE
    assert ops_jobs.rekyc_stage(due, due, 30) is ReKycStage.OVERDUE
    assert ops_jobs.rekyc_stage(date(2027, 6, 1), due, 0) is ReKycStage.OVERDUE
    assert ops_jobs.rekyc_stage(date(2026, 12, 30), due, 0) is None


def test_kyc_is_as_old_as_its_oldest_step_and_the_latest_kyc_counts() -> None:
    registered = NOW - timedelta(days=4000)
    old_kyc = [NOW - timedelta(days=3000), NOW - timedelta(days=2990)]
    reloan = [NOW - timedelta(days=100), NOW - timedelta(days=2000)]  # a step reused from 2000 days ago
    assert ops_jobs.kyc_done_on([old_kyc, reloan], registered) == NOW - timedelta(days=2000)
    assert ops_jobs.kyc_done_on([], registered) == registered
    assert ops_jobs.kyc_done_on([[]], registered) == registered


def test_ist_date_crosses_midnight_at_1830_utc() -> None:
    assert ops_jobs.ist_date(datetime(2026, 12, 1, 18, 29, tzinfo=UTC)) == date(2026, 12, 1)
    assert ops_jobs.ist_date(datetime(2026, 12, 1, 18, 30, tzinfo=UTC)) == date(2026, 12, 2)


def test_refresh_due_after_the_period_and_off_at_zero() -> None:
    assert ops_jobs.refresh_due(None, NOW, 30)
    assert ops_jobs.refresh_due(NOW - timedelta(days=30), NOW, 30)
    assert not ops_jobs.refresh_due(NOW - timedelta(days=29, hours=23), NOW, 30)
    assert not ops_jobs.refresh_due(None, NOW, 0)


def test_deterioration_score_drop_beyond_the_threshold() -> None:
    before = BureauView(780)
    assert not ops_jobs.deterioration(before, BureauView(730), 50).warning  # exactly 50: no warning
    d = ops_jobs.deterioration(before, BureauView(729), 50)
    assert d.warning and d.score_drop == 51 and d.new_delinquencies == 0
    assert d.reasons == ("score fell 51 points (780 → 729)",)
    assert not ops_jobs.deterioration(before, BureauView(800), 50).warning  # a better score


def test_deterioration_new_delinquent_accounts_and_worse_recent_dpd() -> None:
    clean = BureauView(780, ((0,) * 12, (0,) * 12))
    late = BureauView(780, ((0,) * 12, (30, 0, 0) + (0,) * 9))
    d = ops_jobs.deterioration(clean, late, 50)
    assert d.warning and d.new_delinquencies == 1
    assert d.reasons == ("1 more account(s) past due in the last 3 months",)
    worse = BureauView(780, ((0,) * 12, (60, 30, 0) + (0,) * 9))
    assert ops_jobs.deterioration(late, worse, 50).reasons == ("worst recent DPD rose to 60 (from 30)",)
    old_history = BureauView(780, ((0, 0, 0, 90) + (0,) * 8,))  # a delinquency 4 months back is not recent
    assert old_history.delinquent_accounts == 0
    assert not ops_jobs.deterioration(clean, old_history, 50).warning
    assert not ops_jobs.deterioration(late, late, 50).warning


def test_view_of_a_stored_report() -> None:
    report = {
        "accounts_parsed": [
            {"status": "ACTIVE", "dpd_by_month": [["2026-11-01", 30], ["2026-10-01", 60]]},
            {"status": "ACTIVE", "dpd_by_month": []},
            {"status": "CLOSED"},
        ]
    }
    view = ops_jobs.view_of(700, report)
    assert view == BureauView(700, ((30, 60), (), ()))
    assert (view.delinquent_accounts, view.worst_recent_dpd) == (1, 60)
    assert ops_jobs.view_of(650, {}) == BureauView(650)
