"""The partner's disbursal of a booked loan, and its SLA: when it falls due, what each status check of the partner
means, when staff are alerted and when the case is escalated, the once-only UTR, and the report per partner.

A loan booked with a partner lender (``domain.partners.routing``: an ACCEPTED attempt) is disbursed to the borrower
by the loan's own transfer; the partner then disburses it on its side (funds the loan it booked: the whole net
disbursal, or its share of a co-lent one) and confirms with its UTR, by its callback or when asked by its status API.
Rules (docs/partner-lenders.md, "The partner's disbursal"):

- The clock starts when the loan is disbursed (``loans.disbursed_at``); the partner has its ``DISBURSAL`` SLA
  (seconds, ``parse_sla``) to confirm: ``due_at = disbursed_at + SLA``.
- Past ``due_at`` with no UTR the case is checked: the partner's transaction status is asked through its adapter
  and the answer recorded. The first check past the SLA marks the breach (for ever: a UTR arriving later confirms
  the case but the breach stays in the report) and alerts loan ops.
- An answer with no UTR is asked again after ``recheck_seconds``; after ``max_checks`` such checks, or at once when
  the partner says its disbursal FAILED, the case is ESCALATED (the brand's admins alerted, once). An escalated case
  is still asked, so a UTR found later confirms it.
- A UTR is taken once: the first one (callback or status answer) confirms the case; any later one changes nothing.

Seed 004: "disbursal tracker with webhook listeners and a failure reconciler". Times are tz-aware instants (UTC);
money is integer paise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.errors import ValidationError


class CaseState(StrEnum):
    """A partner disbursal's state: PENDING (within its SLA, no UTR), BREACHED (past it, asked again and again),
    ESCALATED (checks spent or the partner said FAILED: admins alerted), CONFIRMED (its UTR taken)."""

    PENDING = "PENDING"
    BREACHED = "BREACHED"
    ESCALATED = "ESCALATED"
    CONFIRMED = "CONFIRMED"


class PartnerTxnStatus(StrEnum):
    """What the partner's status API said of its disbursal: DISBURSED (with a UTR), PENDING, FAILED, or UNKNOWN
    (it does not know the loan yet, or could not be asked: its error is the check's detail)."""

    DISBURSED = "DISBURSED"
    PENDING = "PENDING"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"


DEFAULT_RECHECK_SECONDS = 15 * 60
DEFAULT_MAX_CHECKS = 4
MIN_RECHECK_SECONDS, MAX_RECHECK_SECONDS = 60, 24 * 3600
MAX_CHECKS = 50


@dataclass(frozen=True)
class WatchConfig:
    """A partner's follow-up of a late disbursal: ask again every ``recheck_seconds`` (60 s to 1 day), escalate
    after ``max_checks`` answers with no UTR (1 to 50). ValidationError naming the setting (camelCase, as the API
    sends it) for a value out of range."""

    recheck_seconds: int = DEFAULT_RECHECK_SECONDS
    max_checks: int = DEFAULT_MAX_CHECKS

    def __post_init__(self) -> None:
        for name, field, low, high in (
            ("recheck_seconds", "settings.disbursalRecheckSeconds", MIN_RECHECK_SECONDS, MAX_RECHECK_SECONDS),
            ("max_checks", "settings.disbursalMaxChecks", 1, MAX_CHECKS),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValidationError(f"must be a whole number from {low} to {high}", field=field)

    @classmethod
    def of(cls, settings: Mapping[str, Any] | None) -> WatchConfig:
        """From a partner's stored settings (``disbursal_recheck_seconds``, ``disbursal_max_checks``; defaults for
        those not set)."""
        settings = settings or {}
        return cls(
            recheck_seconds=settings.get("disbursal_recheck_seconds") or DEFAULT_RECHECK_SECONDS,
            max_checks=settings.get("disbursal_max_checks") or DEFAULT_MAX_CHECKS,
        )


def due_at(disbursed_at: datetime, sla_seconds: int) -> datetime:
    """The instant the partner's UTR is due: the loan's disbursal plus the partner's DISBURSAL SLA (seconds)."""
    return disbursed_at + timedelta(seconds=sla_seconds)


def is_due(state: str, now: datetime, due: datetime, next_check_at: datetime | None) -> bool:
    """Whether the case is asked about now: a PENDING case once past ``due``; a BREACHED or ESCALATED one once its
    ``next_check_at`` has come; a CONFIRMED one never."""
    if state == CaseState.PENDING:
        return now >= due
    if state in (CaseState.BREACHED, CaseState.ESCALATED):
        return next_check_at is None or now >= next_check_at
    return False


@dataclass(frozen=True)
class CheckOutcome:
    """What one status answer does to the case: its new ``state``, whether the breach is marked now
    (``breach_now``: loan ops alerted), whether it is escalated now (``escalate_now``: admins alerted) and when it
    is asked again (``next_check_at``, None once confirmed)."""

    state: CaseState
    breach_now: bool
    escalate_now: bool
    next_check_at: datetime | None


def after_check(
    state: str, checks_done: int, answer: str, utr: str | None, now: datetime, config: WatchConfig
) -> CheckOutcome:
    """The case after a status ``answer`` (``PartnerTxnStatus``) at ``now``; ``checks_done`` counts this one.

    DISBURSED with a UTR confirms (a breach already marked stays marked). Anything else past the SLA is a breach
    (marked on the first check), asked again after ``recheck_seconds``; FAILED, or ``max_checks`` checks with no
    UTR, escalates (once). ValidationError for an unknown state or answer."""
    try:
        current, said = CaseState(state), PartnerTxnStatus(answer)
    except ValueError as exc:
        raise ValidationError(str(exc), field="state" if state not in CaseState.__members__ else "answer") from exc
    if current == CaseState.CONFIRMED:
        return CheckOutcome(CaseState.CONFIRMED, False, False, None)
    breach_now = current == CaseState.PENDING
    if said == PartnerTxnStatus.DISBURSED and utr:
        return CheckOutcome(CaseState.CONFIRMED, breach_now, False, None)
    escalate = said == PartnerTxnStatus.FAILED or checks_done >= config.max_checks
    again = now + timedelta(seconds=config.recheck_seconds)
    if escalate or current == CaseState.ESCALATED:
        return CheckOutcome(CaseState.ESCALATED, breach_now, current != CaseState.ESCALATED, again)
    return CheckOutcome(CaseState.BREACHED, breach_now, False, again)


def takes_utr(current_utr: str | None, new_utr: str | None) -> bool:
    """Whether a UTR (callback or status answer) is applied: only the first one, and only a non-empty one."""
    return current_utr is None and bool(new_utr)


def breached_by(already: bool, due: datetime | None, confirmed_at: datetime) -> bool:
    """Whether a case confirmed at ``confirmed_at`` breached its SLA: marked before, or its UTR came after ``due``
    (a callback can arrive past the SLA before any check marked it)."""
    return already or (due is not None and confirmed_at > due)


@dataclass(frozen=True)
class DisbursalCase:
    """One tracked disbursal as the report reads it: partner code, state, whether its SLA was breached and whether
    it was ever escalated, and the seconds from the loan's disbursal to the partner's UTR (None while unconfirmed)."""

    partner_code: str
    state: str
    breached: bool
    escalated: bool
    confirm_seconds: int | None


@dataclass(frozen=True)
class DisbursalSummary:
    """One partner's disbursals over a period: tracked, confirmed, still open, SLA breaches, ever escalated, and the
    median and worst seconds to the UTR among the confirmed (0 when none)."""

    partner_code: str
    tracked: int
    confirmed: int
    open: int
    breaches: int
    escalated: int
    median_seconds: int
    max_seconds: int


def disbursal_summary(cases: Iterable[DisbursalCase]) -> dict[str, DisbursalSummary]:
    """Per partner code, from the cases of a period."""
    by_partner: dict[str, list[DisbursalCase]] = {}
    for case in cases:
        by_partner.setdefault(case.partner_code, []).append(case)
    out = {}
    for code in sorted(by_partner):
        items = by_partner[code]
        times = sorted(c.confirm_seconds for c in items if c.confirm_seconds is not None)
        confirmed = sum(1 for c in items if c.state == CaseState.CONFIRMED)
        out[code] = DisbursalSummary(
            partner_code=code,
            tracked=len(items),
            confirmed=confirmed,
            open=len(items) - confirmed,
            breaches=sum(1 for c in items if c.breached),
            escalated=sum(1 for c in items if c.escalated),
            median_seconds=times[(len(times) - 1) // 2] if times else 0,
            max_seconds=times[-1] if times else 0,
        )
    return out
