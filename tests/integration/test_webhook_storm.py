"""A webhook storm over the real stack (API over HTTP, worker, Temporal, PostgreSQL): 1,000 provider deliveries,
shuffled and sent concurrently, mixing each gateway's payment events (Razorpay ``payment.captured`` /
``payment_link.paid`` / ``payment.failed``, also failed after captured; Cashfree payment webhooks; Paytring
callbacks), bank transfer callbacks, eSign callbacks and dialer events; repeated deliveries (same event id, same
payment id under another event), forged signatures, bodies altered after signing, Cashfree deliveries stamped
more than 5 minutes ago or ahead, unknown loans, and another brand's loans sent to this brand's URL.

What must hold: no answer is a 5xx; every forged or stale delivery is refused (401), logged, and leaves no row;
every genuine one is answered 200; each real payment id is credited exactly once to its loan; a failed
payment changes no dues; the other brand's loans are untouched; every ledger transaction balances.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from db.models import (
    LedgerEntry,
    LedgerTransaction,
    Loan,
    PaymentAttempt,
    PaymentTransaction,
    RepaymentInstallment,
    WebhookEvent,
)
from los.seed import seed_brand
from tests.conftest import eventually
from tests.integration import webhook_storm_events as ev

TOTAL = 1_000
CONCURRENCY = 24
PAYING, FAILING_ONLY, OTHER_BRAND = 16, 4, 4  # loans of the brand paid in the storm, loans that only see failures
PAISE = 1_000_00  # each real payment


def _storm(
    paying: list[str], failing: list[str], others: list[str], brand_id: str, rng: random.Random
) -> tuple[list[ev.Delivery], ev.Expected]:
    """The deliveries (before padding and shuffling) and the payments they must credit."""
    out: list[ev.Delivery] = []
    want = ev.Expected()

    def failures(loan: str, n: int) -> None:
        """Failed attempts, duplicated; forged, tampered and stale deliveries of payments that never happened."""
        fail_r, fail_c, fail_p = f"pay_F{n:03d}{uuid.uuid4().hex[:8]}", f"88{n:03d}{rng.randrange(10**8)}", f"ptF{n}"
        failed_r = ev.razorpay_failed(loan, fail_r, PAISE)
        out.extend([failed_r, failed_r])
        failed_c = ev.cashfree(ev.cashfree_payment(loan, "FAILED", fail_c, PAISE))
        out.extend([failed_c, failed_c])
        out.append(ev.paytring(ev.paytring_payment(loan, "failed", fail_p, PAISE)))
        forged_r, stale_c = f"pay_X{n:03d}{uuid.uuid4().hex[:8]}", f"99{n:03d}{rng.randrange(10**8)}"
        forged_p = f"ptX{n}"
        genuine = ev.razorpay_captured(loan, forged_r, PAISE)
        out.append(ev.tampered(genuine))
        payment = ev.gateway_events.razorpay_payment(forged_r, PAISE, None, {"loan_id": loan}, "order_f")
        out.append(ev.signed("razorpay", ev.gateway_events.razorpay_payment_captured(payment), ev.FORGED_SECRET))
        success_c = ev.cashfree_payment(loan, "SUCCESS", stale_c, PAISE)
        out.append(ev.cashfree(success_c, skew_seconds=-(5 * 60 + 30)))  # stale: older than 5 minutes
        out.append(ev.cashfree(success_c, skew_seconds=5 * 60))  # stamped ahead
        out.append(ev.cashfree(success_c, secret=ev.FORGED_SECRET))
        out.append(ev.paytring(ev.paytring_payment(loan, "success", forged_p, PAISE), ev.FORGED_SECRET))
        out.append(ev.idfc_payout(loan, f"pout_X{n:04d}", secret=ev.FORGED_SECRET))
        out.append(ev.signdesk_signed(loan, f"dkt_X{n:04d}", secret=ev.FORGED_SECRET))
        out.append(ev.acefone_event(f"17000{n:05d}.9", loan, token="guessed"))
        out.append(ev.acefone_event(f"17000{n:05d}.8", loan, token=None))
        out.append(ev.stringee_forged(f"call-x-{n}"))
        want.never |= {("razorpay", fail_r), ("cashfree", fail_c), ("paytring", fail_p)}
        want.never |= {("razorpay", forged_r), ("cashfree", stale_c), ("paytring", forged_p)}

    for n, loan in enumerate(paying):
        pay_r, pay_c, pay_p = f"pay_S{n:03d}{uuid.uuid4().hex[:8]}", f"77{n:03d}{rng.randrange(10**8)}", f"ptS{n}"
        captured = ev.razorpay_captured(loan, pay_r, PAISE)
        out.extend([captured, captured, captured])  # the same delivery retried
        out.append(ev.razorpay_link_paid(loan, pay_r, PAISE))  # the same payment under its other event
        out.append(ev.razorpay_failed(loan, pay_r, PAISE))  # failed after captured (or before: shuffled)
        success_c = ev.cashfree_payment(loan, "SUCCESS", pay_c, PAISE)
        out.extend([ev.cashfree(success_c), ev.cashfree(success_c)])  # a retry, signed afresh
        out.append(ev.cashfree(ev.cashfree_payment(loan, "FAILED", pay_c, PAISE)))  # the same payment, failed
        success_p = ev.paytring(ev.paytring_payment(loan, "success", pay_p, PAISE))
        out.extend([success_p, success_p])
        transfer = ev.idfc_payout(loan, f"pout_S{n:04d}")  # a bank's transfer callback the loan never asked for
        docket = ev.signdesk_signed(loan, f"dkt_S{n:04d}")  # an eSign callback for a docket it never opened
        call = ev.acefone_event(f"17001{n:05d}.1", loan)  # a call event for no call of the brand
        out.extend([transfer, transfer, docket, docket, call, call])
        want.credits |= {("razorpay", pay_r): loan, ("cashfree", pay_c): loan, ("paytring", pay_p): loan}
        failures(loan, n)
    for n, loan in enumerate(failing, start=len(paying)):
        failures(loan, n)
    for n, loan in enumerate(others):  # another brand's loans, this brand's URL and secret: matched to nothing
        pay_r, pay_c = f"pay_O{n:03d}{uuid.uuid4().hex[:8]}", f"66{n:03d}{rng.randrange(10**8)}"
        captured = ev.razorpay_captured(loan, pay_r, PAISE)
        out.extend([captured, captured, ev.cashfree(ev.cashfree_payment(loan, "SUCCESS", pay_c, PAISE))])
        out.append(ev.paytring(ev.paytring_payment(loan, "success", f"ptO{n}", PAISE)))
        want.never |= {("razorpay", pay_r), ("cashfree", pay_c), ("paytring", f"ptO{n}")}
    n = 0
    while len(out) < TOTAL:  # unknown loans (a random id, or not an id at all), and repeats of what was sent
        n += 1
        loan = str(uuid.uuid4()) if n % 3 else f"LN-{n}"
        pay = f"pay_U{n:04d}{uuid.uuid4().hex[:6]}"
        out.append(ev.razorpay_captured(loan, pay, PAISE) if n % 4 else rng.choice(out))
        want.never.add(("razorpay", pay))
    return [ev.Delivery(d.vendor, d.body, d.headers, d.forged, brand_id) for d in out[:TOTAL]], want


async def _send(url: str, deliveries: list[ev.Delivery]) -> list[httpx.Response]:
    gate = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:

        async def one(d: ev.Delivery) -> httpx.Response:
            async with gate:
                return await http.post(f"/api/v1/webhooks/{d.brand_id}/{d.vendor}", content=d.body, headers=d.headers)

        return await asyncio.gather(*(one(d) for d in deliveries))


def _dues(db, loan_ids: list[str]) -> dict[str, Any]:  # noqa: ANN001
    """What each loan owes and has paid: status, principal outstanding, collected, and each installment's state."""
    with db.unit_of_work() as s:
        loans = {
            loan.id: (loan.status, loan.outstanding_principal, loan.total_collected)
            for loan in s.scalars(select(Loan).where(Loan.id.in_(loan_ids)))
        }
        rows = s.scalars(select(RepaymentInstallment).where(RepaymentInstallment.loan_id.in_(loan_ids))).all()
        return {
            loan_id: (
                loans[loan_id],
                sorted(
                    (r.installment_no, r.status, r.principal, r.interest, r.penal, r.principal_paid, r.interest_paid)
                    for r in rows
                    if r.loan_id == loan_id
                ),
            )
            for loan_id in loan_ids
        }


async def test_a_storm_of_1000_webhooks_credits_each_payment_once(app, brand, sandbox, db, caplog) -> None:  # noqa: ANN001
    """The storm, then what the database says of every loan and every payment id."""
    started = time.monotonic()
    brand_id = brand["brand_id"]
    other = seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:8]}", period_seconds=2)
    ours = ev.seed_servicing_loans(db, brand_id, PAYING + FAILING_ONLY)
    theirs = ev.seed_servicing_loans(db, other["brand_id"], OTHER_BRAND)
    await ev.start_servicing(app.client, app.task_queue, ours + theirs)
    paying = [i.loan_id for i in ours[:PAYING]]
    failing = [i.loan_id for i in ours[PAYING:]]
    others = [i.loan_id for i in theirs]
    before = _dues(db, failing + others)

    deliveries, want = _storm(paying, failing, others, brand_id, random.Random(17))
    random.Random(2026).shuffle(deliveries)
    assert len(deliveries) == TOTAL
    caplog.set_level(logging.WARNING, logger="los.webhooks")
    answers = await _send(app.api.url, deliveries)
    sent_in = time.monotonic() - started

    server_errors = [
        (d.vendor, r.status_code, r.text[:200])
        for d, r in zip(deliveries, answers, strict=True)
        if r.status_code >= 500
    ]
    assert not server_errors, server_errors[:5]
    wrong = [
        (d.vendor, d.forged, r.status_code, r.text[:200])
        for d, r in zip(deliveries, answers, strict=True)
        if r.status_code != (401 if d.forged else 200)
    ]
    assert not wrong, wrong[:5]
    forged = sum(d.forged for d in deliveries)
    refused = [r for r in caplog.records if r.name.startswith("los.webhooks") and "does not verify" in r.getMessage()]
    assert forged > 100 and len(refused) == forged  # every refusal left its line
    statuses = {r.json()["status"] for d, r in zip(deliveries, answers, strict=True) if not d.forged}
    assert {"delivered", "duplicate", "unmatched", "ignored"} <= statuses, statuses

    def credited() -> list[tuple[str, str, str, int]] | None:
        with db.unit_of_work() as s:
            rows = s.execute(
                select(PaymentTransaction.gateway, PaymentTransaction.gateway_payment_id, PaymentTransaction.loan_id,
                       PaymentTransaction.amount)
                .where(PaymentTransaction.loan_id.in_(paying + failing + others))
            ).all()  # fmt: skip
        return [tuple(r) for r in rows] if len(rows) >= len(want.credits) else None

    await eventually(credited, timeout=60, interval=0.25)
    await asyncio.sleep(1.0)  # a late duplicate credit would show now
    rows = credited() or []
    assert sorted((g, p) for g, p, _, _ in rows) == sorted(want.credits)  # each real payment, exactly once
    assert all(want.credits[(g, p)] == loan and amount == PAISE for g, p, loan, amount in rows)
    with db.unit_of_work() as s:
        collected = dict(s.execute(select(Loan.id, Loan.total_collected).where(Loan.id.in_(paying))).all())
        assert collected == dict.fromkeys(paying, 3 * PAISE)
        never = [p for _, p in want.never]
        assert not s.scalars(select(PaymentTransaction).where(PaymentTransaction.gateway_payment_id.in_(never))).all()
        attempts = s.execute(
            select(PaymentAttempt.gateway, PaymentAttempt.gateway_payment_id, PaymentAttempt.status).where(
                PaymentAttempt.gateway_payment_id.in_(never + [p for _, p in want.credits])
            )
        ).all()
        kept = {(g, p): status for g, p, status in attempts}
        assert all(kept[key] == "CAPTURED" for key in want.credits)  # a failure after the capture changed nothing
        forged_ids = {p for d in deliveries if d.forged for p in _ids(d)}
        assert not forged_ids & {p for _, p in kept}, "a forged delivery's payment was kept"
        assert not s.scalar(  # nothing of a forged delivery was stored
            select(func.count()).select_from(WebhookEvent).where(WebhookEvent.event_id.in_(_event_ids(deliveries)))
        )
        assert not s.scalar(select(func.count()).select_from(WebhookEvent).where(WebhookEvent.loan_id.in_(others)))
        sums = s.execute(
            select(LedgerTransaction.loan_id, LedgerEntry.transaction_id, func.sum(LedgerEntry.amount))
            .join(LedgerTransaction)
            .where(LedgerTransaction.loan_id.in_(paying + failing + others))
            .group_by(LedgerTransaction.loan_id, LedgerEntry.transaction_id)
        ).all()
        assert {loan for loan, _, _ in sums} == set(paying + failing + others)
        assert all(total == 0 for _, _, total in sums), [row for row in sums if row[2]]
    assert _dues(db, failing + others) == before  # failed, forged and stale events changed no dues
    assert sent_in < 90 and time.monotonic() - started < 120, (sent_in, time.monotonic() - started)


def _ids(d: ev.Delivery) -> set[str]:
    """The payment ids a delivery names (Paytring's, Cashfree's, Razorpay's)."""
    body = json.loads(d.body)
    found = {
        body.get("pg_transaction_id"),
        ((body.get("data") or {}).get("payment") or {}).get("cf_payment_id"),
        ((((body.get("payload") or {}).get("payment") or {}).get("entity")) or {}).get("id"),
    }
    return {str(p) for p in found if p}


def _event_ids(deliveries: list[ev.Delivery]) -> list[str]:
    """The event id headers of the forged deliveries (Razorpay's and IDFC's), none of which may be stored."""
    return [v for d in deliveries if d.forged for k, v in d.headers.items() if k.endswith("-Event-Id")]
