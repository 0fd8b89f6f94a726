"""The re-send of a partner's disbursal request: the domain's rules (``domain.partners.resend``) and each adapter's
re-send call against its sandbox twin, in process (httpx over ASGI): the partner's own idempotency field, one payout
however often it is asked, a booking not failed or lost refused, a partner without the call not asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from activities.providers.base import BusinessRefusal
from domain.partners.disbursal import WatchConfig
from domain.partners.resend import (
    ResendReason,
    after_resend_check,
    resend_reason,
    resend_reference,
    wants_resend,
)
from tests.unit.test_partner_disbursal_adapters import book, partner, sandbox  # noqa: F401  (the fixture)

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_the_answers_that_call_for_a_resend() -> None:
    assert resend_reason("FAILED", False) == ResendReason.FAILED
    assert resend_reason("UNKNOWN", True) == ResendReason.NOT_FOUND
    assert resend_reason("UNKNOWN", False) is None  # the partner could not be asked: no re-send, asked again
    assert resend_reason("PENDING", False) is None and resend_reason("DISBURSED", False) is None


def test_once_per_case_and_only_where_the_partner_has_the_call() -> None:
    assert wants_resend(ResendReason.FAILED, None, True)
    assert wants_resend(ResendReason.FAILED, "ERROR", True)  # never answered: sent again, same reference
    assert wants_resend(ResendReason.NOT_FOUND, "SENT", True)
    assert not wants_resend(ResendReason.FAILED, "ACCEPTED", True)
    assert not wants_resend(ResendReason.FAILED, "REFUSED", True)
    assert not wants_resend(ResendReason.FAILED, None, False)
    assert not wants_resend(None, None, True)
    assert resend_reference("loan-1:partners:1:kavach") == "loan-1:partners:1:kavach:resend"
    assert len(resend_reference("x" * 300)) == 200


def test_the_check_that_leads_to_a_resend_breaches_but_does_not_escalate() -> None:
    config = WatchConfig(recheck_seconds=60, max_checks=2)
    first = after_resend_check("PENDING", 1, NOW, config)
    assert (first.state, first.breach_now, first.escalate_now) == ("BREACHED", True, False)
    assert first.next_check_at == NOW + timedelta(seconds=60)
    spent = after_resend_check("BREACHED", 2, NOW, config)  # its checks spent: escalated as before
    assert (spent.state, spent.escalate_now) == ("ESCALATED", True)


@pytest.mark.parametrize("code", ["kavach", "navodaya"])
async def test_a_failed_disbursal_resent_pays_once(sandbox: httpx.AsyncClient, code: str) -> None:  # noqa: F811
    app, theirs = await book(sandbox, code, f"r{code}")
    await sandbox.post("/_partners/disbursals", json={"partner": code, "reference": app.reference, "status": "FAILED"})
    api = partner(sandbox, code)
    assert api.can_resend
    status = await api.disbursal_status(partner_reference=theirs, reference=app.reference)
    assert status.status == "FAILED"
    ref = resend_reference(app.reference)
    for _ in range(2):  # the same reference twice: one payout
        answer = await api.resend_disbursal(reference=app.reference, partner_reference=theirs, resend_reference=ref,
                                            amount=app.net_disbursed)  # fmt: skip
        assert answer.accepted, answer
    other = await api.resend_disbursal(reference=app.reference, partner_reference=theirs, resend_reference="other",
                                       amount=app.net_disbursed)  # fmt: skip
    assert not other.accepted and "409" in (other.detail or "")
    booking = next(b for b in (await sandbox.get("/_partners/disbursals")).json()["bookings"]
                   if b["reference"] == app.reference)  # fmt: skip
    assert (booking["resendCalls"], booking["resendPayouts"], booking["resend_reference"]) == (3, 1, ref)
    await sandbox.delete("/_partners/disbursals")


async def test_a_lost_disbursal_is_a_404_and_a_disbursed_one_is_not_resent(sandbox: httpx.AsyncClient) -> None:  # noqa: F811
    app, theirs = await book(sandbox, "kavach", "lost")
    lost_switch = {"partner": "kavach", "reference": app.reference, "status": "LOST"}
    await sandbox.post("/_partners/disbursals", json=lost_switch)
    api = partner(sandbox, "kavach")
    with pytest.raises(BusinessRefusal) as lost:
        await api.disbursal_status(partner_reference=theirs, reference=app.reference)
    assert lost.value.status == 404
    await sandbox.delete("/_partners/disbursals")
    app, theirs = await book(sandbox, "kavach", "paid")
    await sandbox.post("/_partners/disbursals", json={"partner": "kavach", "reference": app.reference,
                                                      "status": "DISBURSED"})  # fmt: skip
    answer = await api.resend_disbursal(reference=app.reference, partner_reference=theirs,
                                        resend_reference=resend_reference(app.reference), amount=1)  # fmt: skip
    assert not answer.accepted and "already_disbursed" in (answer.detail or "")
    assert not partner(sandbox, "lendbox").can_resend
    await sandbox.delete("/_partners/disbursals")
