"""`los demo --scenario NAME`, money in: how a borrower repays besides paying each installment's link, over the
public API and the sandbox's public pages, as the borrower, the staff and the vendors would play it.

Each scenario ends as its name says and answers a :class:`MoneyInJourney`: the end state, ``closedAs``, the payments
credited (gateway, mode, amount) and the loan's ledger as staff read it (``ledger_sum`` 0 when it balances), with
what the scenario checked on the way (``checks``). The roles are the brand's seeded staff, one person each: the maker
of an offline payment or a refund is never its checker.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from los.demo import DemoError, Driver, Journey, demo_statement_pdf, random_account

IST = timezone(timedelta(hours=5, minutes=30), "IST")

MAKER, CHECKER = "COLLECTION_EXECUTIVE", "COLLECTION_MANAGER"  # offline payments (docs/money-in.md)
REFUND_MAKER, REFUND_CHECKER = "LOAN_EXECUTIVE", "COLLECTION_MANAGER"  # refunds
SETTINGS_ROLE = "ADMIN"  # settings.manage


@dataclass
class MoneyInJourney(Journey):
    closed_as: str | None = None
    credit_balance: int = 0
    payments: list[dict[str, Any]] = field(default_factory=list)
    ledger_entries: int = 0
    ledger_sum: int = 0
    checks: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            **super().as_json(),
            "closed_as": self.closed_as,
            "credit_balance_paise": self.credit_balance,
            "payments": self.payments,
            "ledger": {"entries": self.ledger_entries, "sum_paise": self.ledger_sum, "balanced": self.balanced},
            "checks": self.checks,
        }

    @property
    def balanced(self) -> bool:
        return self.ledger_entries > 0 and self.ledger_sum == 0


async def _until(probe: Callable[[], Awaitable[Any]], what: str, deadline: float, pause: float = 0.1) -> Any:
    """Ask ``probe`` again and again until it answers something truthy (the borrower's app refreshing)."""
    while time.monotonic() < deadline:
        if answer := await probe():
            return answer
        await asyncio.sleep(pause)
    raise DemoError(f"timed out waiting for {what}")


async def _start(driver: Driver, index: int, **loan: Any) -> tuple[dict[str, str], MoneyInJourney, float, float]:
    """Apply, answer KYC, sign: (headers, journey, start, deadline) with the loan AGREEMENT_SIGNED."""
    from los.demo_scenarios import _begin, _signed  # that module lists these scenarios with its own

    headers, j, start, deadline = await _begin(driver, index, random_account(), **loan)
    await _signed(driver, headers, j, deadline)
    journey = MoneyInJourney(**{k: getattr(j, k) for k in Journey.__dataclass_fields__})
    return headers, journey, start, deadline


async def _finish(
    driver: Driver, headers: dict[str, str], j: MoneyInJourney, loan: dict[str, Any], start: float
) -> MoneyInJourney:
    """The journey's summary: end state, closedAs, payments credited and the ledger as staff read it."""
    j.status = loan["status"]
    j.history = loan["statusHistory"]
    j.installments_paid = sum(1 for row in loan["schedule"] if row["status"] == "PAID")
    j.total_collected = loan["totalCollectedPaise"]
    j.closed_as = loan.get("closedAs")
    paid = await driver.customer_get(headers, j.loan_id, "payments")
    j.credit_balance = paid["creditBalancePaise"]
    j.payments = [
        {"gateway": p["gateway"], "mode": p["mode"], "amount_paise": p["amountPaise"], "payment_id": p["paymentId"]}
        for p in paid["payments"]
    ]
    j.checks["failed_attempts"] = len(paid["failedAttempts"])
    j.ledger_entries, j.ledger_sum = await driver.ledger_sum(j.loan_id)
    j.seconds = time.monotonic() - start
    return j


async def _link_paid_off(driver: Driver, headers: dict[str, str], j: Journey, url: str, deadline: float) -> None:
    """Pay a one-off link (prepayment, foreclosure, cooling-off exit) and wait until the loan has credited it."""
    before = len((await driver.customer_get(headers, j.loan_id, "payments"))["payments"])
    await driver.pay_link(url)

    async def credited() -> bool:
        loan = await driver.loan(headers, j.loan_id)
        payments = (await driver.customer_get(headers, j.loan_id, "payments"))["payments"]
        return len(payments) > before or loan["status"] in ("COMPLETED", "CANCELLED")

    await _until(credited, "the payment credited", deadline)


# --------------------------------------------------------------------------------------------- autopay
async def _mandate(driver: Driver, headers: dict[str, str], j: Journey) -> dict[str, Any]:
    """After signing: register UPI Autopay and authorise it on the gateway's page. The mandate as the borrower
    then reads it, with the gateway's ``tokenId`` (the authorisation's answer)."""
    url = f"/api/v1/web/loans/{j.loan_id}/mandate"
    created = await driver._ok(await driver.api.post(url, json={"method": "UPI"}, headers=headers))
    page = created["registrationUrl"]
    (await driver.sandbox.get(page)).raise_for_status()
    answer = await driver._ok(await driver.sandbox.post(f"{page}/authorize", params={"outcome": "approve"}))
    await asyncio.sleep(0.5)  # the gateway's token.confirmed webhook goes out after its delay
    mandate = await driver.customer_get(headers, j.loan_id, "mandate")
    return {**mandate, "tokenId": mandate["tokenId"] or answer["token_id"]}


async def _active(driver: Driver, headers: dict[str, str], j: Journey, deadline: float) -> dict[str, Any]:
    async def active() -> dict[str, Any] | None:
        mandate = await driver.customer_get(headers, j.loan_id, "mandate")
        return mandate if mandate["status"] == "ACTIVE" else None

    return await _until(active, "the mandate confirmed", deadline)


async def autopay(driver: Driver, index: int) -> MoneyInJourney:
    """UPI Autopay set up after signing: every installment is debited by the mandate on its due instant after a
    pre-debit notice, no link is paid; COMPLETED."""
    headers, j, start, deadline = await _start(driver, index)
    mandate = await _mandate(driver, headers, j)
    j.checks["mandate_before_disbursal"] = mandate["status"]
    await driver.disburse(headers, j, deadline)
    await _active(driver, headers, j, deadline)
    loan = await driver.wait_for(headers, j.loan_id, lambda x: False, "every installment debited", deadline)
    debits = (await driver.customer_get(headers, j.loan_id, "mandate"))["debits"]
    j.checks["mandate"] = mandate["mandateId"]
    j.checks["debits"] = sorted((d["installmentNo"], d["attempt"], d["status"]) for d in debits)
    j.checks["debited_payments"] = sorted(d["paymentId"] for d in debits if d["status"] == "CAPTURED")
    return await _finish(driver, headers, j, loan, start)


async def autopay_failure(driver: Driver, index: int) -> MoneyInJourney:
    """The first autopay debit fails at the bank ("Insufficient funds"): the borrower pays that installment by its
    payment link; the mandate debits the rest; COMPLETED. The brand's retry of the failed debit may get there first
    (the loan then cancels the link), or reach the bank while the borrower pays: both payments are credited, the
    second as an advance."""
    headers, j, start, deadline = await _start(driver, index)
    mandate = await _mandate(driver, headers, j)
    await driver._ok(await driver.sandbox.post("/razorpay/_autopay/fail_next", params={"token_id": mandate["tokenId"]}))
    await driver.disburse(headers, j, deadline)
    await _active(driver, headers, j, deadline)

    async def failed() -> dict[str, Any] | None:
        debits = (await driver.customer_get(headers, j.loan_id, "mandate"))["debits"]
        return next((d for d in debits if d["status"] == "FAILED"), None)

    debit = await _until(failed, "the failed debit", deadline, pause=0.05)
    number = debit["installmentNo"]

    async def its_link() -> dict[str, Any] | None:
        loan = await driver.loan(headers, j.loan_id)
        row = next(r for r in loan["schedule"] if r["installmentNo"] == number)
        if row["status"] == "PAID":
            return {"paid": True}  # the retry's debit got there first
        link = loan.get("paymentLink")
        return link if link and link["installmentNo"] == number else None

    link = await _until(its_link, f"installment {number}'s payment link", deadline, pause=0.05)
    paid_by_link = "url" in link
    if paid_by_link:
        try:
            await driver.pay_link(link["url"])
        except DemoError as exc:  # the retry's debit was captured meanwhile and the loan cancelled the link
            if "cancelled" not in str(exc):
                raise
            paid_by_link = False
    j.checks["paid_by_link"] = paid_by_link
    loan = await driver.wait_for(headers, j.loan_id, lambda x: False, "the rest debited", deadline)
    debits = (await driver.customer_get(headers, j.loan_id, "mandate"))["debits"]
    j.checks["failed_debit"] = {"installment": number, "reason": debit["failureReason"]}
    j.checks["debits"] = sorted((d["installmentNo"], d["attempt"], d["status"]) for d in debits)
    j.checks["debited_payments"] = sorted(d["paymentId"] for d in debits if d["status"] == "CAPTURED")
    return await _finish(driver, headers, j, loan, start)


async def autopay_lost_webhook(driver: Driver, index: int) -> MoneyInJourney:
    """The first autopay debit is captured but its webhook never reaches the lender (the sandbox's ``lose_next``):
    at the debit's first look-up the loan asks the gateway, finds the payment captured and credits it, and
    debits no installment twice; the mandate debits the rest; COMPLETED."""
    headers, j, start, deadline = await _start(driver, index)
    mandate = await _mandate(driver, headers, j)
    await driver._ok(await driver.sandbox.post("/razorpay/_autopay/lose_next", params={"token_id": mandate["tokenId"]}))
    await driver.disburse(headers, j, deadline)
    await _active(driver, headers, j, deadline)
    loan = await driver.wait_for(headers, j.loan_id, lambda x: False, "every installment debited", deadline)
    debits = (await driver.customer_get(headers, j.loan_id, "mandate"))["debits"]
    charges = await driver._ok(
        await driver.sandbox.get("/razorpay/_autopay/charges", params={"token_id": mandate["tokenId"]})
    )
    j.checks["debits"] = sorted((d["installmentNo"], d["attempt"], d["status"]) for d in debits)
    j.checks["debited_payments"] = sorted(d["paymentId"] for d in debits if d["status"] == "CAPTURED")
    j.checks["charged_at_gateway"] = sorted(c["id"] for c in charges if c["status"] == "captured")
    return await _finish(driver, headers, j, loan, start)


# --------------------------------------------------------------------------------------------- offline
def _rrn() -> str:
    """A 12-digit UPI reference (NPCI RRN) as the borrower's bank app shows it."""
    return f"{random.randrange(10**11, 10**12)}"


async def offline_payment(driver: Driver, index: int) -> MoneyInJourney:
    """The borrower pays the first installment by UPI straight to the lender's account: a collection executive
    records it with the bank's screenshot, the collection manager approves it and it is credited; the rest by
    link; COMPLETED."""
    headers, j, start, deadline = await _start(driver, index)
    await driver.disburse(headers, j, deadline)
    loan = await driver.wait_for(
        headers, j.loan_id, lambda x: x.get("paymentLink") is not None, "the first payment link", deadline
    )
    first = loan["paymentLink"]
    due = next(r for r in loan["schedule"] if r["installmentNo"] == first["installmentNo"])["duePaise"]
    body = {
        "amount": f"{due / 100:.2f}",
        "paidOn": datetime.now(IST).date().isoformat(),  # the lender's day (IST), as the API judges it
        "mode": "UPI",
        "reference": _rrn(),
        "remarks": "UPI to the collection account",
    }
    recorded = await driver.partner(MAKER, "POST", f"/loans/{j.loan_id}/payments/offline", json=body)
    proof = {"file": ("upi-confirmation.pdf", demo_statement_pdf(), "application/pdf")}
    await driver.partner(MAKER, "POST", f"/payment/proof/{recorded['id']}", files=proof)
    queue = await driver.partner(CHECKER, "GET", "/payment/approval", params={"loanId": j.loan_id})
    if recorded["id"] not in {row["id"] for row in queue["items"]}:
        raise DemoError("the offline payment is not in the approval queue")
    approved = await driver.partner(CHECKER, "POST", f"/payment/approve/{recorded['id']}")

    async def credited() -> bool:
        payments = (await driver.customer_get(headers, j.loan_id, "payments"))["payments"]
        return any(p["gateway"] == "offline" for p in payments)

    await _until(credited, "the offline payment credited", deadline)
    j.checks["offline"] = {
        "id": recorded["id"],
        "amount_paise": due,
        "recorded_by": recorded["recordedBy"],
        "decided_by": approved["decidedBy"],
        "status": approved["status"],
        "credited_as": approved.get("creditedAs"),
    }
    loan = await driver.loan(headers, j.loan_id)
    loan = await driver.pay_links(headers, j, loan, deadline, skip={first["linkId"]})
    return await _finish(driver, headers, j, loan, start)


# --------------------------------------------------------------------------------------------- prepayment
def _pending_rows(schedule: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(r["installmentNo"], r["totalPaise"]) for r in schedule if r["status"] != "PAID" and r["totalPaise"]]


async def part_prepayment(driver: Driver, index: int) -> MoneyInJourney:
    """Right after disbursal the borrower pays part of the principal ahead (`pay`, less than the foreclosure quote):
    the schedule is re-amortised (shorter tenure or smaller EMI); the rest by link; COMPLETED."""
    headers, j, start, deadline = await _start(driver, index, tenure=6)
    await driver.disburse(headers, j, deadline)
    before = (await driver.customer_get(headers, j.loan_id, "schedule"))["installments"]
    quote = await driver.customer_get(headers, j.loan_id, "foreclosure-quote")
    amount = quote["principal"] * 2 // 5 // 100 * 100  # 40 % of the principal, whole rupees
    link = await driver._ok(
        await driver.api.post(
            f"/api/v1/web/loans/{j.loan_id}/pay", json={"amount": str(amount // 100)}, headers=headers
        )
    )
    if link["purpose"] != "PREPAYMENT":
        raise DemoError(f"a part payment made a {link['purpose']} link")
    await _link_paid_off(driver, headers, j, link["url"], deadline)
    after = (await driver.customer_get(headers, j.loan_id, "schedule"))["installments"]
    payments = (await driver.customer_get(headers, j.loan_id, "payments"))["payments"]
    j.checks["prepayment"] = {
        "amount_paise": amount,
        "advance_paise": sum(p["allocation"]["advancePaise"] for p in payments),
        "pending_before": _pending_rows(before),
        "pending_after": _pending_rows(after),
    }
    loan = await driver.loan(headers, j.loan_id)
    loan = await driver.pay_links(headers, j, loan, deadline, skip={link["url"]})  # never the prepayment again
    return await _finish(driver, headers, j, loan, start)


async def foreclosure(driver: Driver, index: int) -> MoneyInJourney:
    """A monthly loan closed early: the borrower asks for today's foreclosure quote and pays exactly that through
    `pay`; COMPLETED, closedAs FORECLOSED."""
    headers, j, start, deadline = await _start(driver, index, product="PL-MONTHLY", tenure=6)
    await driver.disburse(headers, j, deadline)
    quote = await driver.customer_get(headers, j.loan_id, "foreclosure-quote")
    link = await driver._ok(
        await driver.api.post(
            f"/api/v1/web/loans/{j.loan_id}/pay", json={"amount": f"{quote['total'] / 100:.2f}"}, headers=headers
        )
    )
    j.checks["quote"] = {k: quote[k] for k in ("principal", "interest", "charge", "chargeGst", "total")}
    j.checks["link_purpose"] = link["purpose"]
    await _link_paid_off(driver, headers, j, link["url"], deadline)
    loan = await driver.wait_for(headers, j.loan_id, lambda x: False, "the loan closed", deadline)
    return await _finish(driver, headers, j, loan, start)


async def pay_twice(driver: Driver, index: int) -> MoneyInJourney:
    """The borrower pays the last installment's link twice: the second payment is a credit balance and the loan
    waits OVERPAID; a loan executive asks for the refund, the collection manager approves it, the bank sends it;
    COMPLETED."""
    headers, j, start, deadline = await _start(driver, index)
    loan = await driver.disburse(headers, j, deadline)
    loan = await driver.pay_links(
        headers,
        j,
        loan,
        deadline,
        until={"OVERPAID"},
        twice=lambda link, loan: link["installmentNo"] == max(r["installmentNo"] for r in loan["schedule"]),
    )
    j.checks["overpaid"] = loan["status"] == "OVERPAID"
    j.checks["credit_before_refund"] = loan["creditBalancePaise"]
    asked = await driver.partner(
        REFUND_MAKER, "POST", f"/loans/{j.loan_id}/refunds", json={"reason": "last installment paid twice"}
    )
    await driver.partner(REFUND_CHECKER, "POST", f"/refunds/{asked['id']}/approve")

    async def processed() -> dict[str, Any] | None:
        view = await driver.partner(REFUND_CHECKER, "GET", f"/loans/{j.loan_id}/refunds")
        row = next(r for r in view["refunds"] if r["id"] == asked["id"])
        return row if row["status"] in ("PROCESSED", "FAILED") else None

    refund = await _until(processed, "the refund sent", deadline, pause=0.25)
    j.checks["refund"] = {"amount_paise": refund["amountPaise"], "status": refund["status"], "utr": refund["utr"]}
    loan = await driver.wait_for(headers, j.loan_id, lambda x: False, "the loan completed", deadline)
    return await _finish(driver, headers, j, loan, start)


async def cooling_off(driver: Driver, index: int) -> MoneyInJourney:
    """Right after disbursal the borrower leaves the loan within the cooling-off period: the principal plus the
    proportionate APR cost, no penalty, paid by link; CANCELLED."""
    headers, j, start, deadline = await _start(driver, index, product="PL-MONTHLY")
    await driver.disburse(headers, j, deadline)
    offer = await driver.customer_get(headers, j.loan_id, "cooling-off-exit")
    if not offer["available"]:
        raise DemoError(f"the cooling-off exit is not open: {offer['reason']}")
    link = await driver._ok(await driver.api.post(f"/api/v1/web/loans/{j.loan_id}/cooling-off-exit", headers=headers))
    j.checks["exit"] = {k: offer[k] for k in ("principal", "aprCost", "amount", "lastDay")}
    j.checks["link_purpose"] = link["purpose"]
    await _link_paid_off(driver, headers, j, link["url"], deadline)
    loan = await driver.wait_for(headers, j.loan_id, lambda x: False, "the loan cancelled", deadline)
    return await _finish(driver, headers, j, loan, start)


# --------------------------------------------------------------------------------------------- gateways
async def _primary_gateway(driver: Driver, vendor: str) -> str:
    """Make ``vendor`` the brand's primary payment gateway (staff settings API); the previous primary."""
    providers = await driver.partner(SETTINGS_ROLE, "GET", "/settings/providers")
    vendors = providers["payments"]["vendors"]
    previous = next((v["vendor"] for v in vendors if v["primary"]), vendors[0]["vendor"])
    order = sorted(vendors, key=lambda v: v["vendor"] != vendor)
    body = {"vendors": [{"vendor": v["vendor"], "active": v["active"]} for v in order], "primary": vendor}
    await driver.partner(SETTINGS_ROLE, "PUT", "/settings/providers/payments", json=body)
    return previous


async def cashfree(driver: Driver, index: int) -> MoneyInJourney:
    """The brand's admin makes Cashfree the primary payment gateway (settings API): every installment is paid on
    Cashfree's pay page and comes back by its webhook; COMPLETED. The previous primary is restored after."""
    await driver.staff_headers(SETTINGS_ROLE)
    previous = await _primary_gateway(driver, "cashfree")
    try:
        headers, j, start, deadline = await _start(driver, index)
        loan = await driver.disburse(headers, j, deadline)
        loan = await driver.pay_links(headers, j, loan, deadline)
    finally:
        if previous != "cashfree":
            await _primary_gateway(driver, previous)
    j.checks["previous_primary"] = previous
    return await _finish(driver, headers, j, loan, start)


SCENARIOS: dict[str, Callable[[Driver, int], Awaitable[Journey]]] = {
    "autopay": autopay,
    "autopay-failure": autopay_failure,
    "autopay-lost-webhook": autopay_lost_webhook,
    "offline-payment": offline_payment,
    "part-prepayment": part_prepayment,
    "foreclosure": foreclosure,
    "pay-twice": pay_twice,
    "cooling-off-exit": cooling_off,
    "cashfree": cashfree,
}
