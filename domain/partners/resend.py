"""The re-send of a partner's disbursal request: when the partner's status API says its disbursal of a booked loan
FAILED, or that it has no such disbursal (NOT_FOUND: its 404), the watch asks it once per case to disburse again,
under an idempotency reference of the partner's own that is the same on every retry, so the partner never pays
twice (docs/partner-lenders.md, "The partner's disbursal and its SLA").

Rules:

- A re-send is wanted for a FAILED or NOT_FOUND answer, by a partner whose adapter has the call, on a case that has
  had none answered yet (one per case: a re-send whose answer was lost is sent again under the same reference).
- The check that leads to a re-send marks the breach as any check past the SLA does, but does not escalate the case:
  the re-send is its follow-up. The case is asked again after the partner's ``recheck_seconds``; from then on the
  checks count as before, so a partner that still fails (FAILED again, or ``max_checks`` answers with no UTR) is
  escalated to the admins as it would have been.

Pure: standard library and ``domain`` only. Times are tz-aware instants (UTC).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from domain.partners.disbursal import CheckOutcome, PartnerTxnStatus, WatchConfig, after_check


class ResendReason(StrEnum):
    """Why a disbursal request is re-sent: the partner said it FAILED, or it has no such disbursal (NOT_FOUND)."""

    FAILED = "FAILED"
    NOT_FOUND = "NOT_FOUND"


class ResendStatus(StrEnum):
    """A re-send's record: SENT (reserved before the partner is asked), ACCEPTED, REFUSED (the partner's 4xx) or
    ERROR (the partner could not be asked; sent again, same reference, by a later run)."""

    SENT = "SENT"
    ACCEPTED = "ACCEPTED"
    REFUSED = "REFUSED"
    ERROR = "ERROR"


#: the re-sends that were answered: a case with one of these is never re-sent again
ANSWERED = frozenset({ResendStatus.ACCEPTED, ResendStatus.REFUSED})


def resend_reason(answer: str, not_found: bool) -> ResendReason | None:
    """The reason to re-send for a status ``answer`` (``PartnerTxnStatus``) or a 404 from the partner's status API
    (``not_found``); None when the answer calls for none (DISBURSED, PENDING, an UNKNOWN that was no 404)."""
    if not_found:
        return ResendReason.NOT_FOUND
    return ResendReason.FAILED if answer == PartnerTxnStatus.FAILED else None


def wants_resend(reason: ResendReason | None, previous: str | None, partner_can: bool) -> bool:
    """Whether the case's disbursal request is re-sent now: a ``reason``, a partner that has the call, and no
    re-send answered before (``previous``: the status of the case's re-send record, None when it has none)."""
    return reason is not None and partner_can and previous not in ANSWERED


def resend_reference(our_reference: str) -> str:
    """The idempotency reference a case's re-send carries (the same on every retry): our booking reference with
    ``:resend``, at most 200 characters."""
    return f"{our_reference}:resend"[-200:]


def after_resend_check(state: str, checks_done: int, now: datetime, config: WatchConfig) -> CheckOutcome:
    """The case after the check that leads to a re-send (``checks_done`` counts it): as a PENDING answer would leave
    it (the breach marked on a first check past the SLA, asked again after ``recheck_seconds``, escalated only when
    ``max_checks`` are spent or it was escalated before), never escalated by the failure the re-send answers.
    ValidationError for an unknown state."""
    return after_check(state, checks_done, PartnerTxnStatus.PENDING.value, None, now, config)
