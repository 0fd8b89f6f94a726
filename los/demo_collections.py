"""`los demo --scenario NAME`, collections: a loan that falls behind and how it ends — paid after a collector's
promise, settled, written off and then recovered — and a loan closed in good standing that earns a reloan, over the
public API and the sandbox's public pages, as the borrower, the brand's seeded staff and the vendors would play it.

Each scenario answers a :class:`CollectionsJourney`: what :class:`~los.demo_money_in.MoneyInJourney` holds (end
state, ``closedAs``, payments credited, what was checked on the way) and the loan's ledger as staff read it
(``GET .../loans/{loanId}/ledger``): whether its trial balance balances (debits = credits) and what each receivable
account still holds (nothing, for a loan that has ended).

Demo products' periods last seconds, so their DPD stays 0 (it is counted from calendar due dates): an overdue demo
loan sits in the pre-collection queue (``collection/pre``, DPD 0) rather than ``collection`` (DPD 1 and above), no
day-end allocates it, and a manager allocates it by hand; the write-off scenario sets the brand's
``collections.writeOffDpd`` to 0 through the settings API, as an admin would, and puts the setting back after.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from los.demo import TERMINAL, DemoError, Driver, Journey
from los.demo_money_in import MoneyInJourney, _finish, _start, _until
from los.seed import DEMO_PASSWORD, staff_email
from workflows.options import IST

EXECUTIVE, MANAGER, HEAD = "COLLECTION_EXECUTIVE", "COLLECTION_MANAGER", "COLLECTION_HEAD"
ADMIN = "ADMIN"  # staff.manage and settings.manage
EXECUTIVE_PASSWORD = f"{DEMO_PASSWORD}-1"  # a collection executive created by the demo (staff password policy)
RECEIVABLES = ("LOAN_PRINCIPAL_RECEIVABLE", "INTEREST_RECEIVABLE", "FEES_RECEIVABLE", "PENAL_CHARGES_RECEIVABLE")
QUEUES = ("collection/pre", "collection", "collection/post")
PAY = re.compile(r"Pay: (\S+)")


@dataclass
class CollectionsJourney(MoneyInJourney):
    trial_balanced: bool = False
    receivables: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        out = super().as_json()
        out["ledger"] |= {"trial_balanced": self.trial_balanced, "receivables_paise": self.receivables}
        return out

    @property
    def balanced(self) -> bool:
        return self.ledger_entries > 0 and self.ledger_sum == 0 and self.trial_balanced


def _journey(j: Journey) -> CollectionsJourney:
    return CollectionsJourney(**{k: getattr(j, k) for k in MoneyInJourney.__dataclass_fields__})


async def _begin(driver: Driver, index: int, **loan: Any) -> tuple[dict[str, str], CollectionsJourney, float, float]:
    """Apply, answer KYC, sign, disburse: (headers, journey, start, deadline), the loan being repaid."""
    headers, j, start, deadline = await _start(driver, index, **loan)
    journey = _journey(j)
    await driver.disburse(headers, journey, deadline)
    return headers, journey, start, deadline


async def _overdue(driver: Driver, headers: dict[str, str], j: Journey, deadline: float) -> dict[str, Any]:
    """Nobody pays the first installment: its period passes and the loan is OVERDUE."""
    return await driver.wait_for(headers, j.loan_id, lambda x: x["status"] == "OVERDUE", "the loan overdue", deadline)


async def _close(
    driver: Driver, headers: dict[str, str], j: CollectionsJourney, loan: dict, start: float
) -> CollectionsJourney:
    """The journey's summary, with the loan's trial balance and what each receivable account still holds."""
    await _finish(driver, headers, j, loan, start)
    ledger = await driver.partner("LOAN_EXECUTIVE", "GET", f"/loans/{j.loan_id}/ledger")
    lines = {line["account"]: line for line in ledger["trialBalance"]}
    debits = sum(line["debitPaise"] for line in lines.values())
    credits = sum(line["creditPaise"] for line in lines.values())
    j.trial_balanced = bool(ledger["balanced"]) and debits == credits
    j.receivables = {a: lines[a]["balancePaise"] if a in lines else 0 for a in RECEIVABLES}
    j.checks["ledger_kinds"] = sorted({e["kind"] for e in ledger["entries"]})
    j.seconds = time.monotonic() - start
    return j


async def _sms_link(driver: Driver, phone: str, contains: str, deadline: float) -> str:
    """The payment link in the newest SMS to ``phone`` that says ``contains``, as the borrower taps it."""

    async def found() -> str | None:
        msgs = await driver._ok(await driver.sandbox.get("/gupshup/messages", params={"to": phone}))
        for m in reversed(msgs):
            if contains in m["text"] and (match := PAY.search(m["text"])):
                return match.group(1)
        return None

    return await _until(found, f"an SMS with {contains!r} and its link", deadline, pause=0.1)


async def _closed_row(driver: Driver, listing: str, loan_id: str, deadline: float) -> dict[str, Any]:
    """The loan's row in the staff's closed-loan list ``listing`` (completed, completed/settled, completed/writeoff;
    newest closure first), as the fields the checks read."""

    async def look() -> dict | None:
        page = await driver.partner("LOAN_EXECUTIVE", "GET", f"/{listing}", params={"limit": 50})
        return next((r for r in page["items"] if r["id"] == loan_id), None)

    row = await _until(look, f"loan {loan_id} in {listing}", deadline, pause=0.2)
    return {k: row[k] for k in ("status", "closedAs", "bureauFlag", "certificateNo", "maxDpd")}


def _today() -> str:
    return datetime.now(IST).date().isoformat()


# --------------------------------------------------------------------------------------------- staff
async def _collector(driver: Driver) -> tuple[str, str]:
    """The brand's collection executive, signed in: the seeded one when the admin finds them active in the staff
    list; otherwise one the admin creates through the staff-users API (or created so by an earlier run): (id, email)."""
    await driver.staff_headers(ADMIN)
    listed = await driver.partner(ADMIN, "GET", "/user", params={"role": EXECUTIVE, "active": "true", "limit": 200})
    by_email = {u["email"]: u for u in listed["items"]}
    seeded = by_email.get(staff_email(EXECUTIVE, driver.brand))
    if seeded is not None:
        await driver.staff_headers(EXECUTIVE)
        return str(seeded["id"]), str(seeded["email"])
    email = f"collections.demo@{driver.brand}.example"
    member = by_email.get(email)
    if member is None:
        body = {"email": email, "name": "Collections Demo", "role": EXECUTIVE, "password": EXECUTIVE_PASSWORD}
        member = await driver.partner(ADMIN, "POST", "/user/create", json=body)
    signed = await driver._ok(
        await driver.api.post("/api/v1/partner/auth/login", json={"email": email, "password": EXECUTIVE_PASSWORD})
    )
    driver._staff_tokens[EXECUTIVE] = signed["accessToken"]
    return str(member["id"]), email


async def _queued(driver: Driver, role: str, loan_id: str, deadline: float, **filters: Any) -> tuple[str, dict]:
    """Where ``role`` finds the loan among the collection queues: (queue, its row)."""

    async def look() -> tuple[str, dict] | None:
        for queue in QUEUES:
            page = 1
            while True:
                params = {"limit": 200, "page": page, **filters}
                answer = await driver.partner(role, "GET", f"/{queue}", params=params)
                row = next((r for r in answer["items"] if r["loanId"] == loan_id), None)
                if row is not None:
                    return queue, row
                if page * 200 >= answer["total"]:
                    break
                page += 1
        return None

    return await _until(look, f"loan {loan_id} in a collection queue", deadline, pause=0.2)


async def _set_collections(driver: Driver, **changes: Any) -> Any:
    """The brand admin changes keys of the brand's ``collections`` setting (settings API); the setting before."""
    brand = await driver.partner(ADMIN, "GET", "/settings/brand")
    before = (brand.get("config") or {}).get("collections")
    await driver.partner(ADMIN, "PUT", "/settings/brand", json={"collections": {**(before or {}), **changes}})
    return before


# --------------------------------------------------------------------------------------------- scenarios
async def overdue_then_paid(driver: Driver, index: int) -> CollectionsJourney:
    """A missed installment collected on a promise to pay, then the loan repaid to the end: the first installment is
    missed and the loan is OVERDUE; a collection manager allocates it to a collection executive, who finds it in
    their queue and logs a promise to pay today; the borrower pays the collector's payment link and the promise is
    KEPT; the loan is back to DISBURSED, the rest is paid by link; COMPLETED, and the borrower downloads the
    no-dues certificate."""
    staff_id, email = await _collector(driver)
    headers, j, start, deadline = await _begin(driver, index)
    await _overdue(driver, headers, j, deadline)
    moved = await driver.partner(MANAGER, "POST", "/collection/allocate", json={
        "loanIds": [j.loan_id], "staffId": staff_id, "reason": "overdue: first installment missed",
    })  # fmt: skip
    queue, row = await _queued(driver, EXECUTIVE, j.loan_id, deadline, agentId="me")
    j.checks["queue"] = {"queue": queue, "collector": row["collectorId"], "status": row["status"], "dpd": row["dpd"]}
    j.checks["allocated_to"] = moved["allocated"][0]["staffId"]
    j.checks["collector"] = staff_id
    j.checks["collector_email"] = email
    promised = row["overduePaise"]
    if promised <= 0:
        raise DemoError(f"nothing overdue on the queue's row: {row}")
    ptp = await driver.partner(EXECUTIVE, "POST", f"/collection/{j.loan_id}/follow-ups", json={
        "disposition": "PROMISE_TO_PAY", "ptpDate": _today(), "ptpAmount": promised,
        "remarks": "will pay today by the link",
    })  # fmt: skip
    sent = await _collector_link_paid(driver, headers, j, deadline)

    async def kept() -> dict | None:
        promises = await driver.partner(EXECUTIVE, "GET", f"/collection/{j.loan_id}/promises")
        mine = next(p for p in promises["items"] if p["id"] == ptp["id"])
        return mine if mine["ptpStatus"] != "PENDING" else None

    promise = await _until(kept, "the promise resolved", deadline, pause=0.1)
    j.checks["promise"] = {
        "amount_paise": promised,
        "status": promise["ptpStatus"],
        "paid_paise": promise["ptpPaidPaise"],
    }
    j.checks["link"] = {"amount_paise": sent[0]["amountPaise"], "purpose": sent[0].get("purpose")}
    loan = await driver.wait_for(headers, j.loan_id, _cleared_or_behind, "the arrears cleared", deadline)
    while not _cleared(loan) and loan["status"] == "OVERDUE":
        # the next installment fell due before the payment was applied: the collector sends the new overdue amount
        sent += await _collector_link_paid(driver, headers, j, deadline)
        loan = await driver.wait_for(headers, j.loan_id, _cleared_or_behind, "the arrears cleared", deadline)
    j.checks["back_to_disbursed"] = _cleared(loan)
    j.checks["collector_links"] = len(sent)
    loan = await driver.pay_links(headers, j, loan, deadline, skip={link["url"] for link in sent})
    j.checks["noc"] = await _certificate(driver, headers, j, deadline)
    j.checks["closed_list"] = await _closed_row(driver, "completed", j.loan_id, deadline)
    return await _close(driver, headers, j, loan, start)


def _cleared(loan: dict) -> bool:
    """The loan went back from OVERDUE to DISBURSED (its arrears paid)."""
    return any(h["from"] == "OVERDUE" and h["to"] == "DISBURSED" for h in loan["statusHistory"])


def _cleared_or_behind(loan: dict) -> bool:
    """Cleared, or still OVERDUE with an installment overdue and unpaid after the payment was applied."""
    return _cleared(loan) or (loan["status"] == "OVERDUE" and any(r["status"] == "OVERDUE" for r in loan["schedule"]))


async def _collector_link_paid(driver: Driver, headers: dict[str, str], j: Journey, deadline: float) -> list[dict]:
    """The collector sends the payment link for what is overdue; the borrower finds it in their SMS and pays it;
    once the loan has the payment (or has no arrears left): [the link as the collector's answer gave it]."""
    before = len((await driver.loan(headers, j.loan_id))["payments"])
    sent = await driver.partner(EXECUTIVE, "POST", f"/collection/{j.loan_id}/payment-link")
    url = await _sms_link(driver, j.phone, sent["url"], deadline)
    await driver.pay_link(url)
    await driver.wait_for(
        headers, j.loan_id, lambda x: len(x["payments"]) > before or _cleared(x), "the payment credited", deadline
    )
    return [sent]


async def _certificate(driver: Driver, headers: dict[str, str], j: Journey, deadline: float) -> dict[str, Any]:
    """The borrower downloads the loan's closure certificate (PDF) once it is issued."""

    async def issued() -> dict | None:
        resp = await driver.api.get(f"/api/v1/web/loans/{j.loan_id}/noc", headers=headers)
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise DemoError(f"GET noc → {resp.status_code}: {resp.text}")
        return {
            "number": resp.headers.get("x-certificate-no"),
            "version": resp.headers.get("x-certificate-version"),
            "pdf": resp.content.startswith(b"%PDF"),
        }

    return await _until(issued, "the closure certificate", deadline, pause=0.25)


async def settlement(driver: Driver, index: int) -> CollectionsJourney:
    """An overdue loan settled for less than it owes, by two people: a collection manager proposes a settlement below
    what is owed, a collection head (a second person) approves it and the borrower is sent its link; paid before the
    deadline, the loan ends SETTLED, the rest waived in the ledger; the borrower downloads the settlement letter."""
    headers, j, start, deadline = await _begin(driver, index)
    await _overdue(driver, headers, j, deadline)
    quote = await driver.partner(MANAGER, "GET", f"/loans/{j.loan_id}/foreclosure-quote")
    amount = quote["principal"] * 3 // 5 // 100 * 100  # 60 % of the principal owed, whole rupees
    proposed = await driver.partner(MANAGER, "POST", f"/collection/{j.loan_id}/settlement", json={
        "amount": amount, "reason": "job loss; one-time settlement offered",
    })  # fmt: skip
    approved = await driver.partner(HEAD, "POST", f"/collection/{j.loan_id}/settlement/approve", json={
        "reason": "within policy",
    })  # fmt: skip
    url = await _sms_link(driver, j.phone, "settle loan", deadline)
    await driver.pay_link(url)
    loan = await driver.wait_for(headers, j.loan_id, lambda x: False, "the loan settled", deadline)
    rows = await driver.partner(MANAGER, "GET", f"/collection/{j.loan_id}/settlements")
    row = next(r for r in rows if r["id"] == proposed["id"])
    j.checks["settlement"] = {
        "id": row["id"],
        "amount_paise": row["amount"],
        "outstanding_paise": row["outstanding"],
        "waiver_paise": row["waiver"],
        "status": row["status"],
        "proposed_by": row["proposedBy"],
        "decided_by": row["decidedBy"],
        "approved": approved["result"],
        "deadline": row["deadline"],
        "paid_on": _today(),
    }
    if loan["status"] == "SETTLED":
        j.checks["certificate"] = await _certificate(driver, headers, j, deadline)
        j.checks["closed_list"] = await _closed_row(driver, "completed/settled", j.loan_id, deadline)
    return await _close(driver, headers, j, loan, start)


async def write_off_then_recovery(driver: Driver, index: int) -> CollectionsJourney:
    """An overdue loan written off, and money arriving later recorded as a recovery: the brand's admin lets loans in
    arrears be written off at any DPD (``writeOffDpd`` 0, as a demo product's DPD stays 0) and a collection head
    writes it off: WRITTEN_OFF. The borrower later pays the link they were sent; the gateway's webhook is answered
    ``recorded_as_recovery`` and the money is recovery income in the ledger. The setting is put back after."""
    headers, j, start, deadline = await _begin(driver, index)
    await _overdue(driver, headers, j, deadline)
    before = await _set_collections(driver, writeOffDpd=0)
    try:
        written = await driver.partner(HEAD, "POST", f"/collection/{j.loan_id}/writeoff", json={
            "reason": "unreachable; recovery unlikely",
        })  # fmt: skip
    finally:
        await driver.partner(ADMIN, "PUT", "/settings/brand", json={"collections": before})
    j.checks["write_off"] = written["result"]
    j.checks["closed_list"] = await _closed_row(driver, "completed/writeoff", j.loan_id, deadline)
    loan = await driver.wait_for(headers, j.loan_id, lambda x: False, "the loan written off", deadline)
    if loan["status"] != "WRITTEN_OFF":
        raise DemoError(f"loan {j.loan_id} is {loan['status']}, not WRITTEN_OFF")
    first = await driver.ledger_sum(j.loan_id)
    # the installment's link the borrower was last sent (it stays open at the gateway)
    url = (loan.get("paymentLink") or {}).get("url") or await _sms_link(driver, j.phone, "overdue", deadline)
    paid = await driver.pay_link(url)
    payment_id = _payment_id(paid)

    async def answered() -> list[dict] | None:
        sent = await driver._ok(await driver.sandbox.get("/_webhooks"))
        mine = [w for w in sent if j.loan_id in str(w["payload"]) and (payment_id is None or payment_id in str(w))]
        done = [w for w in mine if w.get("answer")]
        return done if done and len(done) == len(mine) else None

    hooks = await _until(answered, "the gateway's webhooks answered", deadline, pause=0.2)
    j.checks["webhook_answers"] = sorted(w["answer"].get("status") for w in hooks)

    async def posted() -> dict | None:
        ledger = await driver.partner("LOAN_EXECUTIVE", "GET", f"/loans/{j.loan_id}/ledger")
        rec = [e for e in ledger["entries"] if e["kind"] == "WRITE_OFF_RECOVERY"]
        return {e["account"]: e["amountPaise"] for e in rec} if rec else None

    j.checks["recovery"] = await _until(posted, "the recovery in the ledger", deadline, pause=0.2)
    j.checks["recovered_paise"] = _amount(paid)
    j.checks["ledger_before_recovery"] = {"entries": first[0], "sum_paise": first[1]}
    loan = await driver.loan(headers, j.loan_id)
    return await _close(driver, headers, j, loan, start)


def _payment_id(answer: Any) -> str | None:
    """The gateway's payment id in the sandbox's pay-page answer, when it gives one."""
    if isinstance(answer, dict):
        for key in ("payment_id", "paymentId", "razorpay_payment_id", "cf_payment_id"):
            if answer.get(key):
                return str(answer[key])
        for value in answer.values():
            if (found := _payment_id(value)) is not None:
                return found
    if isinstance(answer, list):
        for value in answer:
            if (found := _payment_id(value)) is not None:
                return found
    return None


def _amount(answer: Any) -> int | None:
    if isinstance(answer, dict):
        for key in ("amount", "amount_paid"):
            if isinstance(answer.get(key), int):
                return int(answer[key])
    return None


async def reloan(driver: Driver, index: int) -> CollectionsJourney:
    """A loan repaid in good standing earns a reloan that reuses its KYC: it closes COMPLETED, the borrower sees a
    reloan offer, applies again, and the new loan reuses the KYC results still valid (REUSED in its KYC results, no
    step asked again) and goes straight to the credit decision. Both loans' statuses are shown."""
    headers, j, start, deadline = await _begin(driver, index)
    loan = await driver.wait_for(headers, j.loan_id, lambda x: x["status"] in TERMINAL or x.get("paymentLink"),
                                 "the first payment link", deadline)  # fmt: skip
    loan = await driver.pay_links(headers, j, loan, deadline)
    if loan["status"] != "COMPLETED":
        raise DemoError(f"loan {j.loan_id} ended {loan['status']}, not COMPLETED")

    async def offered() -> list | None:
        offers = await driver._ok(await driver.api.get("/api/v1/web/reloan-offers", headers=headers))
        return [o for o in offers if o["previousLoanId"] == j.loan_id] or None

    (offer,) = await _until(offered, "the reloan offer", deadline, pause=0.25)
    body = {"amount": str(offer["amountPaise"] // 100), "tenure": 3, "productCode": "DEMO-FAST"}
    new = await driver._ok(await driver.api.post("/api/v1/web/loans", json=body, headers=headers))
    asked: set[str] = set()
    seen_results: dict[str, str] = {}

    async def decision() -> dict | None:
        seen = await driver.loan(headers, new["id"], kyc=True)
        kyc = seen.get("kyc") or {}
        if kyc.get("waitingFor"):
            asked.add(kyc["waitingFor"])
        seen_results.update(kyc.get("results") or {})
        return seen if seen["status"] != "APPLIED" else None

    second = await _until(decision, "the reloan's decision", deadline, pause=0.05)

    async def kyc_recorded() -> list | None:
        review = await driver.partner("CREDIT_EXECUTIVE", "GET", f"/loans/{new['id']}/review")
        return next((d["details"] for d in review["decisions"] if d["stage"] == "KYC"), None)

    recorded = await _until(kyc_recorded, "the reloan's KYC results", deadline, pause=0.1)
    j.checks["offer"] = {"id": offer["id"], "amount_paise": offer["amountPaise"], "expires_on": offer["expiresOn"]}
    j.checks["reloan"] = {
        "loan_id": new["id"],
        "status": second["status"],
        "kyc_results": {e["step"]: e["status"] for e in recorded},
        "kyc_sources": sorted({e.get("sourceLoanId") for e in recorded if e.get("sourceLoanId")}),
        "kyc_seen_by_borrower": seen_results,
        "kyc_asked": sorted(asked),
    }
    j.checks["first_loan_status"] = loan["status"]
    j.checks["noc"] = await _certificate(driver, headers, j, deadline)
    out = await _close(driver, headers, j, loan, start)
    # the text report shows the journey's history: the reloan's moves follow the first loan's, named as such
    out.history = [*out.history, *({**h, "reason": f"reloan {new['id']}: {h.get('reason') or ''}".rstrip()}
                                   for h in second["statusHistory"])]  # fmt: skip
    return out


SCENARIOS: dict[str, Callable[[Driver, int], Awaitable[Journey]]] = {
    "overdue-then-paid": overdue_then_paid,
    "settlement": settlement,
    "write-off-then-recovery": write_off_then_recovery,
    "reloan": reloan,
}
