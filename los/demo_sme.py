"""`los demo --scenario invoice-financing` and `--scenario duplicate-invoice`: SME invoice financing over the
public API, as a business, the staff and the buyer would play it (docs/invoice-financing.md).

- invoice-financing: a business signs in by OTP, adds its bank account, onboards (PAN, GSTIN), uploads an invoice
  PDF due in 30 days, asks for financing, accepts the best offer; a credit executive recommends it (maker), a
  sanction manager approves it (checker); the advance goes out; the buyer pays the payment link; the reserve
  (invoice − advance − discount) is released and the request CLOSED.
- duplicate-invoice: the same invoice uploaded twice; the second's request is REFUSED, its reason said in words.
- invoice-virtual-account: as invoice-financing, but the buyer pays into the invoice's virtual account (Razorpay
  Smart Collect) by NEFT, in two transfers; each reaches the request by the signed ``virtual_account.credited``
  webhook; the second pays it in full: the reserve released, CLOSED, the account closed.

The brand must list the SME vendors under ``providers.sme`` (Karza, Perfios, CRIF: the sandbox's twins).
"""

from __future__ import annotations

import asyncio
import json
import random
import string
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.sme.ids import make_gstin
from los.demo import DemoError, Driver, Journey, random_account

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
FINAL = frozenset({"CLOSED", "REFUSED", "REJECTED", "EXPIRED", "CANCELLED"})


@dataclass
class SmeJourney(Journey):
    """One financing request: its id, final status, the money (paise) and the refusal reason."""

    advance: int = 0
    discount: int = 0
    release: int = 0
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "request_id": self.loan_id,
            "workflow_id": self.workflow_id,
            "final_status": self.status,
            "advance_paise": self.advance,
            "discount_paise": self.discount,
            "release_paise": self.release,
            "collected_paise": self.total_collected,
            "reason": self.reason,
        }


def business_pan(status: str = "F", first: str = "A") -> str:
    """A fresh business PAN (holder status ``status``) whose first letter picks the sandbox's branch (A: good)."""
    letters = "".join(random.choices("ABCDEGHKMNPRSTUVW", k=3))
    tail = f"{random.randrange(1000, 10000)}{random.choice(string.ascii_uppercase)}"
    return f"{first}{letters[:2]}{status}{letters[2]}{tail}"


class SmeDriver:
    """The business's and staff's calls of the SME API through a demo ``Driver``."""

    def __init__(self, driver: Driver) -> None:
        self.d = driver

    async def onboard(self, phone: str, pan: str) -> tuple[dict[str, str], dict[str, Any]]:
        """Sign in by OTP, add the payout account, onboard the business: (headers, business)."""
        headers = await self.d.register(phone)
        await self.d.add_account(headers, random_account(), primary=True)
        body = {"legalName": f"{pan[:5]} Traders", "pan": pan, "gstin": make_gstin("27", pan),
                "directors": [{"name": "Asha Mehta", "din": f"{random.randrange(10**7, 10**8)}"}]}  # fmt: skip
        business = await self.d._ok(await self.d.api.post("/api/v1/sme/business", json=body, headers=headers))
        return headers, business

    async def upload(self, headers: dict[str, str], number: str, rupees: str, days: int = 30) -> dict[str, Any]:
        """Upload an invoice PDF to a regular buyer, due in ``days``."""
        today = (datetime.now(UTC) + timedelta(hours=5, minutes=30)).date()
        fields = {"number": number, "buyerGstin": make_gstin("29", business_pan("C", "B")), "buyerName": "Buyer Ltd",
                  "amount": rupees, "invoiceDate": today.isoformat(),
                  "dueDate": (today + timedelta(days=days)).isoformat()}  # fmt: skip
        files = {"file": ("invoice.pdf", PDF, "application/pdf"), "invoice": (None, json.dumps(fields))}
        return await self.d._ok(await self.d.api.post("/api/v1/sme/invoices", files=files, headers=headers))

    async def request(self, headers: dict[str, str], invoice_id: str) -> dict[str, Any]:
        body = {"invoiceId": invoice_id}
        return await self.d._ok(await self.d.api.post("/api/v1/sme/requests", json=body, headers=headers))

    async def get(self, headers: dict[str, str], request_id: str) -> dict[str, Any]:
        return await self.d._ok(await self.d.api.get(f"/api/v1/sme/requests/{request_id}", headers=headers))

    async def until(self, headers: dict[str, str], request_id: str, statuses: set[str], deadline: float) -> dict:
        """Read the request until its status is one of ``statuses`` (or final)."""
        pause = 0.1
        while time.monotonic() < deadline:
            row = await self.get(headers, request_id)
            if row["status"] in statuses or row["status"] in FINAL:
                return row
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, 1.0)
        raise DemoError(f"request {request_id}: timed out waiting for {statuses}")

    async def staff(self, role: str, request_id: str, action: str) -> dict[str, Any]:
        headers = await self.d.staff_headers(role)
        url = f"/api/v1/partner/brand/{self.d._brand_id}/sme/requests/{request_id}/{action}"
        return await self.d._ok(await self.d.api.post(url, headers=headers, json={}))


def _journey(row: dict[str, Any], phone: str, pan: str, started: float) -> SmeJourney:
    history, last = [], None
    for h in row["history"]:
        if h["kind"] == "STATUS":
            actor = "system"
            history.append(
                {"at": h["at"] or "", "from": last, "to": h["status"], "actor": actor, "reason": h["reason"]}
            )
            last = h["status"]
        else:
            history.append(
                {"at": h["at"] or "", "from": last, "to": h["kind"], "actor": h["staffId"] or "", "reason": None}
            )
    return SmeJourney(
        loan_id=row["id"], workflow_id=f"invoice-{row['id']}", status=row["status"], phone=phone, pan=pan,
        total_collected=row["collectedPaise"], history=history, seconds=time.monotonic() - started,
        advance=row["advancePaise"], discount=row["discountPaise"], release=row["releasePaise"],
        reason=row["reasonText"],
    )  # fmt: skip


def _phone(index: int) -> str:
    return f"7{index % 10**9:09d}"


async def invoice_financing(driver: Driver, index: int) -> SmeJourney:
    """An invoice financed, paid by the buyer on time, the reserve released: CLOSED."""
    started = time.monotonic()
    deadline = started + driver.timeout
    sme, pan, phone = SmeDriver(driver), business_pan(), _phone(index)
    headers, _ = await sme.onboard(phone, pan)
    invoice = await sme.upload(headers, f"INV-{index}", "250000.00")
    req = await sme.request(headers, invoice["id"])
    offered = await sme.until(headers, req["id"], {"OFFERED"}, deadline)
    if offered["status"] != "OFFERED":
        raise DemoError(f"request {req['id']} is {offered['status']}: {offered['reasonText']}")
    best = offered["offers"][0]["lenderId"]
    await driver._ok(
        await driver.api.post(f"/api/v1/sme/requests/{req['id']}/accept", json={"lenderId": best}, headers=headers)
    )
    await sme.staff("CREDIT_EXECUTIVE", req["id"], "recommend")  # the maker
    await sme.staff("SANCTION_MANAGER", req["id"], "approve")  # the checker, another person
    funded = await sme.until(headers, req["id"], {"FUNDED"}, deadline)
    if funded["status"] != "FUNDED" or not funded["collectionUrl"]:
        raise DemoError(f"request {req['id']} is {funded['status']}, not funded with a payment link")
    await driver.pay_link(funded["collectionUrl"])  # the buyer pays the invoice
    closed = await sme.until(headers, req["id"], {"CLOSED"}, deadline)
    expected = closed["amountPaise"] - closed["advancePaise"] - closed["discountPaise"]
    if closed["status"] != "CLOSED" or closed["releasePaise"] != expected:
        raise DemoError(f"request {req['id']}: {closed['status']}, release {closed['releasePaise']} ≠ {expected}")
    return _journey(closed, phone, pan, started)


async def duplicate_invoice(driver: Driver, index: int) -> SmeJourney:
    """The same invoice (seller GSTIN, number, amount) uploaded twice: the second request is REFUSED, with why."""
    started = time.monotonic()
    deadline = started + driver.timeout
    sme, pan, phone = SmeDriver(driver), business_pan(), _phone(index)
    headers, _ = await sme.onboard(phone, pan)
    await sme.upload(headers, f"INV/{index}", "120000.00")
    again = await sme.upload(headers, f"inv-{index}", "120000.00")  # the same number, written differently
    req = await sme.request(headers, again["id"])
    refused = await sme.until(headers, req["id"], {"REFUSED"}, deadline)
    if refused["status"] != "REFUSED" or refused["reason"] != "DUPLICATE_INVOICE":
        raise DemoError(f"request {req['id']} is {refused['status']} ({refused['reason']}), not refused as a duplicate")
    return _journey(refused, phone, pan, started)


async def invoice_virtual_account(driver: Driver, index: int) -> SmeJourney:
    """An invoice financed and paid by the buyer into its virtual account by NEFT, in two transfers: CLOSED."""
    started = time.monotonic()
    deadline = started + driver.timeout
    sme, pan, phone = SmeDriver(driver), business_pan(), _phone(index)
    headers, _ = await sme.onboard(phone, pan)
    invoice = await sme.upload(headers, f"VA-{index}", "300000.00")
    req = await sme.request(headers, invoice["id"])
    offered = await sme.until(headers, req["id"], {"OFFERED"}, deadline)
    if offered["status"] != "OFFERED":
        raise DemoError(f"request {req['id']} is {offered['status']}: {offered['reasonText']}")
    accept = {"lenderId": offered["offers"][0]["lenderId"]}
    await driver._ok(await driver.api.post(f"/api/v1/sme/requests/{req['id']}/accept", json=accept, headers=headers))
    await sme.staff("CREDIT_EXECUTIVE", req["id"], "recommend")
    await sme.staff("SANCTION_MANAGER", req["id"], "approve")
    funded = await sme.until(headers, req["id"], {"FUNDED"}, deadline)
    account = funded.get("virtualAccount")
    if funded["status"] != "FUNDED" or not account:
        raise DemoError(f"request {req['id']} is {funded['status']}, not funded with a virtual account")
    # the buyer's bank sends two NEFTs to the account number; the brand's Razorpay dashboard sends the webhook to
    # the SME collection route (the sandbox's test payment plays both)
    va_id = await _va_id(driver, account["accountNumber"])
    hook = f"{str(driver.api.base_url).rstrip('/')}/api/v1/sme/webhooks/{driver._brand_id}/virtual-accounts/razorpay"
    half = funded["amountPaise"] // 2
    for amount in (half, funded["amountPaise"] - half):
        body = {"amount": amount, "method": "NEFT", "webhook_url": hook}
        await driver._ok(await driver.sandbox.post(f"/razorpay/_test/virtual_accounts/{va_id}/payments", json=body))
    closed = await sme.until(headers, req["id"], {"CLOSED"}, deadline)
    expected = closed["amountPaise"] - closed["advancePaise"] - closed["discountPaise"]
    if closed["status"] != "CLOSED" or closed["releasePaise"] != expected or len(closed["payments"]) != 2:
        raise DemoError(f"request {req['id']}: {closed['status']}, release {closed['releasePaise']} ≠ {expected}")
    return _journey(closed, phone, pan, started)


async def _va_id(driver: Driver, number: str) -> str:
    """The Smart Collect id of the account numbered ``number`` (the buyer knows only the number; the sandbox's
    dashboard, searched by it, knows the id)."""
    found = await driver._ok(await driver.sandbox.get("/razorpay/_test/virtual_accounts", params={"number": number}))
    return str(found["id"])


SCENARIOS = {
    "invoice-financing": invoice_financing,
    "duplicate-invoice": duplicate_invoice,
    "invoice-virtual-account": invoice_virtual_account,
}
