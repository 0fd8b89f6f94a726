"""`los demo --scenario partner-disbursal-sla`: a partner lender misses its DISBURSAL SLA, the watch asks it, re-sends
the disbursal request, and the partner's UTR arrives by its signed callback (docs/partner-lenders.md, "The partner's
disbursal and its SLA").

An admin configures Kavach Finvest as the brand's one active partner, with a 5-second DISBURSAL SLA (Lendbox and
Navodaya switched off), and the sandbox is told that Kavach's disbursal of this loan fails (``POST
/_partners/disbursals``, for its first disbursal only). The borrower applies; Kavach books the loan; the borrower
accepts the KFS at Kavach's terms, signs and is disbursed. Past the SLA the partner disbursal watch (the Temporal
Schedule ``partner-disbursal-watch``, triggered here as the Schedules page's *Trigger* does) asks Kavach's status API:
FAILED, so it re-sends the disbursal request under Kavach's idempotency reference (``retryRef``) and alerts loan ops.
Kavach pays it and sends its signed callback to ``/api/v1/webhooks/{brandId}/partner/kavach``: the UTR is taken,
the case CONFIRMED (the breach stays in the SLA report). The journey's history lists the case's steps; the partner
is switched off again at the end.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from los.demo import DemoError, Driver, Journey, demo_identity, random_account
from los.demo_partners import ADMIN, PARTNERS, _routed, partner_body

SLA_SECONDS = 5  # Kavach's DISBURSAL SLA in this demo
SCHEDULE_ID = "partner-disbursal-watch"
Watch = Callable[[], Awaitable[Any]]


@dataclass
class SlaJourney(Journey):
    """The scenario's journey; its JSON (``los demo --json``) adds ``partner_disbursal``, the case's end state:
    ``state`` and ``confirmed_via`` (CONFIRMED by CALLBACK), the ``utr``, ``breached``, ``resends`` (the RESENT entries
    on the case's log), the re-send's ``resend_status`` and ``resend_reference``, and what the partner's twin counted
    (``partner_resend_calls``, ``partner_resend_payouts``: the re-sent disbursal paid once)."""

    partner_disbursal: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return super().as_json() | {"partner_disbursal": self.partner_disbursal}


def end_state(case: dict[str, Any], booking: dict[str, Any] | None) -> dict[str, Any]:
    """The case (``GET .../partner-lenders/loans/{loanId}`` → ``disbursal``) and the twin's booking
    (``GET /_partners/disbursals``) as the JSON report spells them."""
    resend = case.get("resend") or {}
    return {
        "partner": case["partnerCode"],
        "state": case["state"],
        "confirmed_via": case["confirmedVia"],
        "utr": case["utr"],
        "breached": case["breached"],
        "escalated": case["escalatedAt"] is not None,
        "resends": sum(1 for entry in case["checkLog"] if entry.get("status") == "RESENT"),
        "resend_status": resend.get("status"),
        "resend_reference": resend.get("reference"),
        "partner_resend_calls": (booking or {}).get("resendCalls"),
        "partner_resend_payouts": (booking or {}).get("resendPayouts"),
    }


async def _booking(driver: Driver, loan_id: str) -> dict[str, Any] | None:
    """The partner twin's booking of the loan (its re-send calls and payouts), if it has one."""
    listed = await driver._ok(await driver.sandbox.get("/_partners/disbursals"))
    return next((b for b in listed["bookings"] if b["partner"] == "kavach" and loan_id in b["reference"]), None)


async def trigger_watch() -> None:
    """Run the partner disbursal watch now: trigger its Temporal Schedule (DemoError when the worker has not created
    it, e.g. ``LOS_PARTNER_WATCH_EVERY_SECONDS=0``)."""
    from temporalio.service import RPCError

    from los.settings import get_settings
    from los.temporal import connect

    client = await connect(get_settings())
    try:
        await client.get_schedule_handle(SCHEDULE_ID).trigger()
    except RPCError as exc:
        raise DemoError(f"cannot trigger the schedule {SCHEDULE_ID!r} (is the worker running?): {exc}") from exc


async def _configure(driver: Driver) -> None:
    """Kavach the one active partner, with a short DISBURSAL SLA and its callback secret; the others off."""
    existing = {p["code"] for p in await driver.partner(ADMIN, "GET", "/partner-lenders")}
    base_url = str(driver.sandbox.base_url).rstrip("/")
    for code, name, rate, fee, sla, priority in PARTNERS:
        body = partner_body(code, name, rate, fee, sla, priority, base_url)
        if code == "kavach":
            body["sla"] = {"DECISION": sla, "DISBURSAL": SLA_SECONDS}
            body["settings"] |= {"webhookSecret": "sandbox-partner-secret", "disbursalRecheckSeconds": 60}
        else:
            body["active"] = False
        if code in existing:
            await driver.partner(ADMIN, "PUT", f"/partner-lenders/{code}", json=body)
        else:
            await driver.partner(ADMIN, "POST", "/partner-lenders", json=body)


async def _switch_off(driver: Driver) -> None:
    code, name, rate, fee, sla, priority = next(p for p in PARTNERS if p[0] == "kavach")
    body = partner_body(code, name, rate, fee, sla, priority, str(driver.sandbox.base_url).rstrip("/"))
    await driver.partner(ADMIN, "PUT", "/partner-lenders/kavach", json=body | {"active": False})


async def _case(driver: Driver, loan_id: str) -> dict[str, Any] | None:
    routing = await driver.partner("LOAN_EXECUTIVE", "GET", f"/partner-lenders/loans/{loan_id}")
    return routing.get("disbursal")


async def _until(driver: Driver, loan_id: str, done: Callable[[dict[str, Any]], bool], what: str, deadline: float,
                 nudge: Watch | None = None) -> dict[str, Any]:  # fmt: skip
    """The loan's partner disbursal case once ``done`` says so; ``nudge`` (the watch) run every few seconds."""
    last_nudge = 0.0
    while time.monotonic() < deadline:
        if nudge is not None and time.monotonic() - last_nudge > 4:
            await nudge()
            last_nudge = time.monotonic()
        case = await _case(driver, loan_id)
        if case is not None and done(case):
            return case
        await asyncio.sleep(0.5)
    raise DemoError(f"loan {loan_id}: the partner disbursal case never reached {what}")


def _history(case: dict[str, Any]) -> list[dict[str, Any]]:
    """The case's steps as the demo report prints them (time, from → to, who, what)."""
    rows = [{"at": case["disbursedAt"], "from": None, "to": "PENDING", "actor": "loan disbursed",
             "reason": f"{case['partnerCode']} to confirm within {case['slaSeconds']} s"}]  # fmt: skip
    state = "PENDING"
    for entry in case["checkLog"]:
        if entry.get("resend"):
            said = f"disbursal request re-sent ({entry['status']}), reference {entry['resend']}"
            rows.append({"at": entry["at"], "from": state, "to": state, "actor": "partner-disbursal-watch",
                         "reason": said})  # fmt: skip
            continue
        who = f"callback {entry['callback']}" if entry.get("callback") else "partner-disbursal-watch"
        to = "BREACHED" if state == "PENDING" else state
        rows.append({"at": entry["at"], "from": state, "to": to, "actor": who,
                     "reason": f"{case['partnerCode']} said {entry['status']}"})  # fmt: skip
        state = to
    rows.append({"at": case["confirmedAt"], "from": state, "to": "CONFIRMED",
                 "actor": f"partner {case['confirmedVia']}",
                 "reason": f"UTR {case['utr']} (breach kept: {case['breached']})"})  # fmt: skip
    return rows


async def partner_disbursal_sla(driver: Driver, index: int, watch: Watch | None = None) -> Journey:
    """A partner misses its disbursal SLA: the watch asks, re-sends the disbursal request, and the UTR arrives by the
    signed callback. ``watch`` runs the watch once (default: trigger its Temporal Schedule)."""
    start = time.monotonic()
    deadline = start + driver.timeout
    run_watch = watch or trigger_watch
    await _configure(driver)
    try:
        phone, pan = demo_identity(index, "auto")
        j = SlaJourney(phone=phone, pan=pan)
        headers = await driver.register(phone)
        await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
        await driver.profile(headers, random_account())
        # Real monthly installments: the loan stays DISBURSED while the partner's side is chased (on DEMO-FAST a
        # "month" lasts 5 s, so it would be OVERDUE by the time the case is confirmed).
        body = {"amount": "50000", "tenure": 3, "productCode": "PL-MONTHLY"}
        created = await driver._ok(await driver.api.post("/api/v1/web/loans", json=body, headers=headers))
        j.loan_id, j.workflow_id = created["id"], created["workflowId"]
        # Kavach's first disbursal of this loan fails at its bank (the sandbox's switch, this loan only).
        failed = {"partner": "kavach", "reference": j.loan_id, "status": "FAILED"}
        await driver._ok(await driver.sandbox.post("/_partners/disbursals", json=failed))
        await driver.complete_kyc(headers, j.loan_id, deadline)
        loan = await driver.wait_for(headers, j.loan_id, lambda x: x["status"] != "APPLIED", "a decision", deadline)
        if loan["status"] == "UNDER_REVIEW":
            await driver.sanction_via_hierarchy(j.loan_id, "demo: income verified")
        routing = await _routed(driver, j.loan_id, deadline)
        if [a["partnerCode"] for a in routing["attempts"] if a["outcome"] == "ACCEPTED"] != ["kavach"]:
            raise DemoError(f"loan {j.loan_id}: not booked with Kavach: {routing['attempts']}")
        await driver.accept_kfs(headers, j.loan_id)
        loan = await driver.wait_for(
            headers, j.loan_id, lambda x: x["status"] == "AGREEMENT_PENDING" and x["agreement"], "eSign link", deadline
        )
        await driver.sign(headers, j, loan, deadline)
        loan = await driver.disburse(headers, j, deadline)
        await asyncio.sleep(SLA_SECONDS + 1)  # Kavach lets its SLA pass
        resent = await _until(driver, j.loan_id, lambda c: bool(c.get("resend")) and c["resend"]["status"] != "SENT",
                              "a re-send", deadline, nudge=run_watch)  # fmt: skip
        if resent["resend"]["status"] != "ACCEPTED" or resent["state"] == "ESCALATED":
            raise DemoError(f"loan {j.loan_id}: the re-send was {resent['resend']}, the case {resent['state']}")
        # Kavach pays the re-sent request a second later and sends its signed callback to the webhook route.
        await asyncio.sleep(1.5)
        url = f"{str(driver.api.base_url).rstrip('/')}/api/v1/webhooks/{driver._brand_id}/partner/kavach"
        sent = {"partner": "kavach", "reference": j.loan_id, "url": url}
        await driver._ok(await driver.sandbox.post("/_partners/disbursal-callback", json=sent))
        case = await _until(driver, j.loan_id, lambda c: c["state"] == "CONFIRMED", "CONFIRMED", deadline)
        if case["confirmedVia"] != "CALLBACK":
            raise DemoError(f"loan {j.loan_id}: confirmed via {case['confirmedVia']}, expected the callback")
        j.partner_disbursal = end_state(case, await _booking(driver, j.loan_id))
        loan = await driver.loan(headers, j.loan_id)  # the loan's status once its partner's side is settled
    finally:
        await _switch_off(driver)
        await driver.sandbox.delete("/_partners/disbursals")
    j.status = loan["status"]
    j.history = _history(case)
    j.seconds = time.monotonic() - start
    return j


SCENARIOS: dict[str, Callable[[Driver, int], Awaitable[Journey]]] = {
    "partner-disbursal-sla": partner_disbursal_sla,
}
