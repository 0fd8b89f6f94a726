"""The rules of three daily jobs (docs/operations.md, "Scheduled jobs"): who among the staff is inactive, which
customers are due for periodic updation of their KYC, and whether a refreshed bureau report shows deterioration.
Pure (standard library only); instants are aware datetimes, days are IST calendar dates, scores bureau points.

The brand's settings for them are one block of ``Brand.config``, ``ops_jobs`` (camelCase or snake_case keys),
read by :func:`policy_of`::

    inactivityDays            a staff member with no sign-in and no activity for more than this many days is
                              flagged to the brand's admins (7; 1-365)
    inactivityNoteAllocations the alert lists the loans and customers allocated to them (true); nothing is
                              reassigned by the job
    reKycRisk                 the risk category the brand's customers are held in for periodic updation: LOW,
                              MEDIUM or HIGH (LOW: every 10 years; RBI KYC Master Direction, para 38)
    reKycNoticeDays           a customer is told this many days before the due date (30; 0-365)
    bureauRefreshDays         an active loan's bureau report older than this is pulled again (30; 0 switches the
                              refresh off; 0-365)
    bureauScoreDrop           a refreshed score this many points below the previous one is an early warning (50)
    bureauBatch               loans refreshed per brand per run, the oldest report first (50; 1-1000)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from domain.errors import ValidationError

SETTINGS_KEY = "ops_jobs"  # the block of Brand.config these settings live in
IST = timezone(timedelta(hours=5, minutes=30), "IST")  # no daylight saving


def ist_date(instant: datetime) -> date:
    """The IST calendar date of an aware instant."""
    return instant.astimezone(IST).date()


class RiskCategory(StrEnum):
    """A customer's risk category for KYC (RBI KYC Master Direction, 2016: risk-based approach)."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


#: Years between periodic updations of KYC by risk category: RBI Master Direction - Know Your Customer (KYC)
#: Direction, 2016 (as amended), para 38: "at least once in every two years for high risk customers, once in
#: every eight years for medium risk customers and once in every ten years for low risk customers", counted from
#: the opening of the account or the last KYC updation.
REKYC_YEARS: Mapping[RiskCategory, int] = {RiskCategory.HIGH: 2, RiskCategory.MEDIUM: 8, RiskCategory.LOW: 10}

#: Months of a bureau report's DPD history read for current delinquency (most recent first).
RECENT_MONTHS = 3


def _get(raw: Mapping[str, Any], snake: str) -> Any:
    camel = snake.split("_")[0] + "".join(p.title() for p in snake.split("_")[1:])
    return raw.get(camel, raw.get(snake))


def _int(value: Any, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValidationError(f"must be a whole number between {lo} and {hi}", field=f"opsJobs.{name}")
    return value


@dataclass(frozen=True)
class OpsJobsPolicy:
    """The brand's settings for the three jobs (module docstring for each key, its unit and default)."""

    inactivity_days: int = 7
    inactivity_note_allocations: bool = True
    rekyc_risk: RiskCategory = RiskCategory.LOW
    rekyc_notice_days: int = 30
    bureau_refresh_days: int = 30
    bureau_score_drop: int = 50
    bureau_batch: int = 50

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> OpsJobsPolicy:
        """From the ``ops_jobs`` block (None or {} → the defaults). A bad value → ``ValidationError`` naming
        ``opsJobs.<key>``."""
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise ValidationError("must be an object", field="opsJobs")
        values: dict[str, Any] = {}
        for key, lo, hi in (
            ("inactivity_days", 1, 365),
            ("rekyc_notice_days", 0, 365),
            ("bureau_refresh_days", 0, 365),
            ("bureau_score_drop", 1, 900),
            ("bureau_batch", 1, 1000),
        ):
            if (value := _get(raw, key)) is not None:
                values[key] = _int(value, key, lo, hi)
        if (note := _get(raw, "inactivity_note_allocations")) is not None:
            if not isinstance(note, bool):
                raise ValidationError("must be true or false", field="opsJobs.inactivityNoteAllocations")
            values["inactivity_note_allocations"] = note
        risk = raw.get("reKycRisk", raw.get("rekyc_risk"))
        if risk is not None:
            try:
                values["rekyc_risk"] = RiskCategory(str(risk).upper())
            except ValueError:
                raise ValidationError("must be LOW, MEDIUM or HIGH", field="opsJobs.reKycRisk") from None
        return cls(**values)


def policy_of(config: Mapping[str, Any] | None) -> OpsJobsPolicy:
    """The jobs' settings of a brand, from its whole stored configuration (``Brand.config``)."""
    return OpsJobsPolicy.of((config or {}).get(SETTINGS_KEY))


# ------------------------------------------------------------------------------------------- staff inactivity
def last_seen(created_at: datetime, *activity: datetime | None) -> datetime:
    """When a staff member was last seen: the latest of their sign-ins and activity pings (``last_login_at``,
    each session's ``last_active_at``), or the account's creation when they never signed in."""
    return max((a for a in activity if a is not None), default=created_at)


def is_inactive(seen: datetime, now: datetime, days: int) -> bool:
    """True when ``seen`` is more than ``days`` whole days before ``now`` (seed 001: partner user inactivity)."""
    return now - seen > timedelta(days=days)


# ------------------------------------------------------------------------------------------- periodic re-KYC
def add_years(day: date, years: int) -> date:
    """``day`` moved ``years`` years on; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def kyc_done_on(results: Iterable[Sequence[datetime]], fallback: datetime) -> datetime:
    """When the customer's KYC was last done: of each passed KYC (its steps' verification instants), the oldest
    step counts, since a KYC is as old as its oldest document (a step reused from an earlier loan keeps its
    first verification); the latest such KYC wins. ``fallback`` (the customer's registration) when none."""
    done = [min(steps) for steps in results if steps]
    return max(done, default=fallback)


def rekyc_due_on(kyc_on: date, risk: RiskCategory) -> date:
    """The date periodic updation of KYC falls due (RBI KYC Master Direction, para 38; :data:`REKYC_YEARS`)."""
    return add_years(kyc_on, REKYC_YEARS[risk])


class ReKycStage(StrEnum):
    """Where a customer stands against the due date: told ahead (DUE), or past it (OVERDUE)."""

    DUE = "DUE"
    OVERDUE = "OVERDUE"


def rekyc_stage(today: date, due_on: date, notice_days: int) -> ReKycStage | None:
    """OVERDUE on and after ``due_on``; DUE within ``notice_days`` before it (RBI's amendment of 2024 asks for
    intimations ahead of the due date and reminders after it); None otherwise."""
    if today >= due_on:
        return ReKycStage.OVERDUE
    if today >= due_on - timedelta(days=notice_days):
        return ReKycStage.DUE
    return None


# ------------------------------------------------------------------------------------------- bureau refresh
def refresh_due(last_pull: datetime | None, now: datetime, days: int) -> bool:
    """True when the loan's latest bureau report (``None``: none at all) is at least ``days`` days old;
    ``days`` 0 switches the refresh off."""
    if days <= 0:
        return False
    return last_pull is None or now - last_pull >= timedelta(days=days)


@dataclass(frozen=True)
class BureauView:
    """What the early warning compares of a report: the score (points) and each account's DPD history (days past
    due by month, most recent first)."""

    score: int
    dpd_histories: tuple[tuple[int, ...], ...] = ()

    @property
    def delinquent_accounts(self) -> int:
        """Accounts with any DPD in the :data:`RECENT_MONTHS` most recent months."""
        return sum(1 for h in self.dpd_histories if any(d > 0 for d in h[:RECENT_MONTHS]))

    @property
    def worst_recent_dpd(self) -> int:
        """The highest DPD of any account in the :data:`RECENT_MONTHS` most recent months."""
        return max((max(h[:RECENT_MONTHS], default=0) for h in self.dpd_histories), default=0)


@dataclass(frozen=True)
class Deterioration:
    """The early warning of a refresh: ``score_drop`` points (negative: it rose), ``new_delinquencies`` accounts
    delinquent now beyond those before, and the reasons in words (empty: no warning)."""

    score_drop: int
    new_delinquencies: int
    reasons: tuple[str, ...]

    @property
    def warning(self) -> bool:
        return bool(self.reasons)


def deterioration(before: BureauView, after: BureauView, score_drop: int) -> Deterioration:
    """Compare a refreshed report with the previous one: a score lower by more than ``score_drop`` points, more
    accounts in recent delinquency, or a worse recent DPD is an early warning (RBI's framework for early
    recognition of financial distress: SMA signals, and the credit information a lender reviews)."""
    drop = before.score - after.score
    new = max(0, after.delinquent_accounts - before.delinquent_accounts)
    reasons = []
    if drop > score_drop:
        reasons.append(f"score fell {drop} points ({before.score} → {after.score})")
    if new:
        reasons.append(f"{new} more account(s) past due in the last {RECENT_MONTHS} months")
    elif after.worst_recent_dpd > before.worst_recent_dpd:
        reasons.append(f"worst recent DPD rose to {after.worst_recent_dpd} (from {before.worst_recent_dpd})")
    return Deterioration(drop, new, tuple(reasons))


def view_of(score: int, report: Mapping[str, Any]) -> BureauView:
    """A stored report's view: ``report["accounts_parsed"]``, each with ``dpd_by_month`` as ``[month, dpd]``
    pairs most recent first (as the credit decision stores it); accounts without it count as never late."""
    histories = []
    for account in report.get("accounts_parsed") or []:
        months = account.get("dpd_by_month") if isinstance(account, Mapping) else None
        histories.append(tuple(int(m[1]) for m in months or [] if isinstance(m, list | tuple) and len(m) == 2))
    return BureauView(int(score), tuple(histories))
