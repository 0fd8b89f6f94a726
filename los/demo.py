"""`los demo`: drive loans through the public HTTP API as a customer, the staff and the providers would.

The same driver is used by the end-to-end tests, so what the demo shows is what the tests prove.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from los.demo_identities import (  # noqa: F401  (re-exported: the demos and tests import them from here)
    SANDBOX_AADHAAR_OTP,
    demo_aadhaar,
    demo_identity,
    demo_statement_pdf,
    random_account,
)
from los.seed import DEMO_PASSWORD, staff_email

if TYPE_CHECKING:
    from los.settings import Settings

TERMINAL = {"COMPLETED", "REJECTED", "EXPIRED", "CANCELLED", "SETTLED", "WRITTEN_OFF"}
# How the driver polls the loan while it waits for the next step, like an app would: soon after it acted
# (most steps follow within a few hundred ms), then less and less often, never slower than POLL_MAX seconds.
POLL_FIRST = 0.05
POLL_GROWTH = 2.0
POLL_MAX = 0.25
# The longest wait a read asks of the API for the loan to change (Prefer: wait=N; the API allows 20 s).
LONG_POLL_SECONDS = 20


class DemoError(RuntimeError):
    pass


@dataclass
class Journey:
    loan_id: str = ""
    workflow_id: str = ""
    status: str = ""
    phone: str = ""
    pan: str = ""
    installments_paid: int = 0
    total_collected: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "loan_id": self.loan_id,
            "workflow_id": self.workflow_id,
            "final_status": self.status,
            "installments_paid": self.installments_paid,
            "total_collected_paise": self.total_collected,
        }


def kyc_finished(kyc: dict[str, Any]) -> bool:
    """Whether a loan's KYC progress (``GET /web/loans/{id}?include=kyc``'s ``kyc``) has every step's result and waits
    for nothing: what is left is the credit decision."""
    steps, results = kyc.get("steps") or [], kyc.get("results") or {}
    return (
        bool(steps)
        and kyc.get("waitingFor") is None
        and all(results.get(step) not in (None, "WAITING") for step in steps)
    )


class Driver:
    def __init__(
        self, api_url: str, sandbox_url: str, brand: str = "demo", password: str = DEMO_PASSWORD, timeout: float = 180.0
    ):
        self.api = httpx.AsyncClient(base_url=api_url.rstrip("/"), timeout=30.0)
        self.sandbox = httpx.AsyncClient(base_url=sandbox_url.rstrip("/"), timeout=30.0)
        self.brand = brand
        self.password = password
        self.timeout = timeout
        self._staff_tokens: dict[str, str] = {}
        self._sign_in = asyncio.Lock()  # journeys in flight share one sign-in per role (not one each)
        self._seen: dict[str, tuple[str, dict[str, Any]]] = {}  # loan id -> (ETag, detail) last read by wait_for

    async def close(self) -> None:
        await self.api.aclose()
        await self.sandbox.aclose()

    async def _ok(self, resp: httpx.Response) -> Any:
        if resp.status_code >= 400:
            raise DemoError(f"{resp.request.method} {resp.request.url.path} → {resp.status_code}: {resp.text}")
        return resp.json()

    # --- customer -------------------------------------------------------------------------------
    async def latest_sms(self, phone: str, contains: str = "") -> str:
        for _ in range(50):
            msgs = await self._ok(await self.sandbox.get("/gupshup/messages", params={"to": phone}))
            msgs = [m for m in msgs if contains in m["text"]]
            if msgs:
                return msgs[-1]["text"]
            await asyncio.sleep(0.1)
        raise DemoError(f"no SMS to {phone}")

    async def register(self, phone: str) -> dict[str, str]:
        await self._ok(
            await self.api.post("/api/v1/web/auth/register", json={"phoneNumber": phone, "brand": self.brand})
        )
        otp = (await self.latest_sms(phone, "verification code")).split()[0]
        token = await self._ok(
            await self.api.post(
                "/api/v1/web/auth/verify-otp", json={"phoneNumber": phone, "brand": self.brand, "otp": otp}
            )
        )
        return {"Authorization": f"Bearer {token['accessToken']}"}

    async def staff_headers(self, role: str) -> dict[str, str]:
        async with self._sign_in:
            if role in self._staff_tokens:
                return {"Authorization": f"Bearer {self._staff_tokens[role]}"}
            body = await self._ok(
                await self.api.post(
                    "/api/v1/partner/auth/login",
                    json={"email": staff_email(role, self.brand), "password": self.password},
                )
            )
            self._staff_tokens[role] = body["accessToken"]
            self._brand_id = body["user"]["brandId"]
        return {"Authorization": f"Bearer {self._staff_tokens[role]}"}

    async def loan(self, headers: dict[str, str], loan_id: str, kyc: bool = False) -> dict[str, Any]:
        params = {"include": "kyc"} if kyc else None
        return await self._ok(await self.api.get(f"/api/v1/web/loans/{loan_id}", headers=headers, params=params))

    async def wait_for(
        self, headers: dict[str, str], loan_id: str, predicate, what: str, deadline: float
    ) -> dict[str, Any]:
        """Read the loan until ``predicate(loan)`` holds or it ends, as an app waits for its next step: a read sends
        the ``ETag`` of the loan last read (here or by an earlier wait) with ``Prefer: wait=N``, so the API answers
        when the loan changes (or 304 after N seconds) instead of being asked again and again (docs/api.md,
        "Waiting for a loan to change"). Unless the loan last read already satisfies ``predicate`` (or had ended):
        then it is read afresh at once. An API that does not wait is read again after a growing pause, at most
        POLL_MAX."""
        pause = POLL_FIRST
        seen = self._seen.get(loan_id)
        etag = None
        if seen is not None and not predicate(seen[1]) and seen[1]["status"] not in TERMINAL:
            etag = seen[0]
        while time.monotonic() < deadline:
            conditional = dict(headers)
            if etag is not None:
                wait = max(1, min(LONG_POLL_SECONDS, int(deadline - time.monotonic())))
                conditional.update({"If-None-Match": etag, "Prefer": f"wait={wait}"})
            resp = await self.api.get(f"/api/v1/web/loans/{loan_id}", headers=conditional)
            if resp.status_code == 304:
                if "preference-applied" not in resp.headers:
                    await asyncio.sleep(pause)
                    pause = min(pause * POLL_GROWTH, POLL_MAX)
                continue
            loan = await self._ok(resp)
            etag = resp.headers.get("etag")
            if etag is not None:
                self._seen[loan_id] = (etag, loan)
            if predicate(loan):
                return loan
            if loan["status"] in TERMINAL:
                return loan
            if etag is None:
                await asyncio.sleep(pause)
                pause = min(pause * POLL_GROWTH, POLL_MAX)
        raise DemoError(f"loan {loan_id}: timed out waiting for {what}")

    async def staff_action(self, role: str, loan_id: str, action: str, reason: str | None = None) -> dict:
        headers = await self.staff_headers(role)
        return await self._ok(
            await self.api.post(
                f"/api/v1/partner/brand/{self._brand_id}/loans/{loan_id}/{action}",
                headers=headers,
                json={"reason": reason} if reason else {},
            )
        )

    async def sanction_via_hierarchy(self, loan_id: str, note: str | None = None) -> dict:
        """The sanction hierarchy, three different people: credit executive forwards, sanction manager
        approves, sanction head sanctions."""
        await self.staff_action("CREDIT_EXECUTIVE", loan_id, "forward", note)
        await self.staff_action("SANCTION_MANAGER", loan_id, "approve", note)
        return await self.staff_action("SANCTION_HEAD", loan_id, "sanction", note)

    async def accept_kfs(self, headers: dict[str, str], loan_id: str) -> dict:
        """The borrower reads the Key Fact Statement and accepts that version (its hash)."""
        kfs = await self._ok(await self.api.get(f"/api/v1/web/loans/{loan_id}/kfs", headers=headers))
        return await self._ok(
            await self.api.post(
                f"/api/v1/web/loans/{loan_id}/kfs/accept", json={"kfsHash": kfs["kfsHash"]}, headers=headers
            )
        )

    async def add_account(self, headers: dict[str, str], account: str, primary: bool = False) -> dict:
        """The customer adds a bank account (``primary``: the one the loan is disbursed to)."""
        return await self._ok(
            await self.api.post(
                "/api/v1/web/bank/add-account",
                headers=headers,
                json={"accountNumber": account, "ifsc": "HDFC0001234", "primary": primary},
            )
        )

    async def profile(self, headers: dict[str, str], account: str | None = None) -> None:
        """What a customer fills in before applying: personal details, salary account, employer."""
        await self._ok(
            await self.api.post(
                "/api/v1/web/personal-details/update",
                headers=headers,
                json={
                    "firstName": "Demo",
                    "lastName": "Customer",
                    "email": "demo.customer@example.com",
                    "address": "12 MG Road, Bengaluru",
                    "pincode": "560001",
                    "city": "Bengaluru",
                    "state": "Karnataka",
                },
            )
        )
        await self.add_account(headers, account or random_account())
        await self._ok(
            await self.api.post(
                "/api/v1/web/employment/add",
                headers=headers,
                json={"employerName": "Acme Technologies Pvt Ltd", "monthlySalary": "65000"},
            )
        )

    async def complete_kyc(self, headers: dict[str, str], loan_id: str, deadline: float) -> dict[str, Any]:
        """Answer whatever the loan's KYC phase waits for (Aadhaar OTP, bank statement...) until it is done; the loan
        as last read once it is past APPLIED (decided). The KYC progress is read (``include=kyc``, which asks the
        workflow) only while the phase runs: once every step has its result, the decision is waited for with a long
        poll, as an app shows "deciding" and waits for the loan to change."""
        done: set[str] = set()
        pause = POLL_FIRST
        while time.monotonic() < deadline:
            loan = await self.loan(headers, loan_id, kyc=True)
            kyc = loan.get("kyc")
            if loan["status"] != "APPLIED" or not kyc:
                if loan["status"] != "APPLIED":
                    return loan
                await asyncio.sleep(pause)
                pause = min(pause * POLL_GROWTH, POLL_MAX)
                continue
            if kyc_finished(kyc):
                return await self.wait_for(headers, loan_id, lambda x: x["status"] != "APPLIED", "a decision", deadline)
            waiting = kyc.get("waitingFor")
            if waiting == "AADHAAR" and "AADHAAR" not in done:
                await self._ok(
                    await self.api.post(
                        "/api/v1/web/kyc/initiate-aadhaar-otp", headers=headers, json={"aadhaarNumber": demo_aadhaar()}
                    )
                )
                await self._ok(
                    await self.api.post(
                        "/api/v1/web/kyc/submit-aadhaar-otp", headers=headers, json={"otp": SANDBOX_AADHAAR_OTP}
                    )
                )
                done.add("AADHAAR")
            elif waiting == "BANK_STATEMENT" and "BANK_STATEMENT" not in done:
                files = {"file": ("statement.pdf", demo_statement_pdf(), "application/pdf")}
                await self._ok(await self.api.post("/api/v1/web/bank/upload-statement", headers=headers, files=files))
                done.add("BANK_STATEMENT")
            else:
                await asyncio.sleep(pause)
                pause = min(pause * POLL_GROWTH, POLL_MAX)
                continue
            pause = POLL_FIRST  # answered: look again soon
        raise DemoError(f"loan {loan_id}: KYC not completed in time")

    async def journey(
        self, phone: str, pan: str, amount: int = 50_000, tenure: int = 3, product: str | None = "DEMO-FAST"
    ) -> Journey:
        start = time.monotonic()
        deadline = start + self.timeout
        j = Journey(phone=phone, pan=pan)
        headers = await self.register(phone)
        await self._ok(await self.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
        body: dict[str, Any] = {"amount": str(amount), "tenure": tenure}
        if product:
            body["productCode"] = product
        await self.profile(headers)
        created = await self._ok(await self.api.post("/api/v1/web/loans", json=body, headers=headers))
        j.loan_id, j.workflow_id = created["id"], created["workflowId"]
        decided = await self.complete_kyc(headers, j.loan_id, deadline)
        return await self.carry_on(headers, j, start, decided)

    async def carry_on(
        self, headers: dict[str, str], j: Journey, start: float | None = None, decided: dict[str, Any] | None = None
    ) -> Journey:
        """Take an applied loan (KYC answered) on from wherever it is to the end: sanction by the staff
        when it is in review, the KFS accepted, eSign, disbursal, every installment paid. `start` is when the
        journey began (time.monotonic()); the driver's timeout counts from it. `decided`: the loan as last read
        after its decision, if it was (``complete_kyc``'s answer)."""
        start = time.monotonic() if start is None else start
        deadline = start + self.timeout
        loan = await self.to_signature(headers, j, deadline, decided)
        if loan["status"] == "AGREEMENT_PENDING":
            loan = await self.sign(headers, j, loan, deadline)
        if loan["status"] == "AGREEMENT_SIGNED":
            loan = await self.disburse(headers, j, deadline)
        return await self.repay(headers, j, loan, deadline, start)

    async def to_signature(
        self, headers: dict[str, str], j: Journey, deadline: float, decided: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The decision (staff sanction it when it is in review), then the KFS accepted: the agreement's link.
        `decided`: the loan as already read past its decision (not read again for it)."""
        loan = decided
        if loan is None or loan["status"] == "APPLIED":
            loan = await self.wait_for(
                headers, j.loan_id, lambda x: x["status"] not in ("APPLIED",), "a decision", deadline
            )
        if loan["status"] == "UNDER_REVIEW":
            await self.sanction_via_hierarchy(j.loan_id, "demo: income verified")
            loan = await self.wait_for(
                headers, j.loan_id, lambda x: x["status"] not in ("APPLIED", "UNDER_REVIEW"), "sanction", deadline
            )
        if loan["status"] == "SANCTIONED":
            await self.accept_kfs(headers, j.loan_id)
        return await self.wait_for(
            headers, j.loan_id, lambda x: x["status"] == "AGREEMENT_PENDING" and x["agreement"], "eSign link", deadline
        )

    async def sign(
        self, headers: dict[str, str], j: Journey, loan: dict[str, Any], deadline: float, outcome: str = "SIGNED"
    ) -> dict[str, Any]:
        """The customer opens the signing link and signs (or declines: ``outcome`` DECLINED)."""
        signing_url = loan["agreement"]["signingUrl"]
        (await self.sandbox.get(signing_url)).raise_for_status()
        (await self.sandbox.post(signing_url, params={"outcome": outcome})).raise_for_status()
        if outcome != "SIGNED":
            return loan
        return await self.wait_for(
            headers, j.loan_id, lambda x: x["status"] == "AGREEMENT_SIGNED", "signature", deadline
        )

    async def disburse(self, headers: dict[str, str], j: Journey, deadline: float) -> dict[str, Any]:
        """Loan ops approve the disbursal; the bank's transfer settles."""
        await self.staff_action("LOAN_EXECUTIVE", j.loan_id, "approve-disbursal")
        return await self.wait_for(
            headers, j.loan_id, lambda x: x["status"] in ("DISBURSED", "OVERDUE"), "disbursal", deadline
        )

    async def repay(
        self, headers: dict[str, str], j: Journey, loan: dict[str, Any], deadline: float, start: float
    ) -> Journey:
        """Pay each installment's link as it comes, to the end; the journey's summary."""
        paid_links: set[str] = set()
        while loan["status"] not in TERMINAL:
            link = loan.get("paymentLink")
            if link and link["linkId"] not in paid_links:
                (await self.sandbox.get(link["url"])).raise_for_status()
                (await self.sandbox.post(link["url"])).raise_for_status()
                paid_links.add(link["linkId"])
            loan = await self.wait_for(
                headers,
                j.loan_id,
                lambda x: (
                    x["status"] in TERMINAL
                    or (x.get("paymentLink") is not None and x["paymentLink"]["linkId"] not in paid_links)
                ),
                "next payment link",
                deadline,
            )
        j.status = loan["status"]
        j.history = loan["statusHistory"]
        j.installments_paid = sum(1 for row in loan["schedule"] if row["status"] == "PAID")
        j.total_collected = loan["totalCollectedPaise"]
        j.seconds = time.monotonic() - start
        return j

    # --- money in (los/demo_money_in.py) --------------------------------------------------------------
    async def partner(
        self, role: str, method: str, path: str, json: Any = None, files: Any = None, params: Any = None
    ) -> Any:
        """A staff member in ``role`` calls ``/api/v1/partner/brand/{brandId}{path}``; the answer's JSON."""
        headers = await self.staff_headers(role)
        url = f"/api/v1/partner/brand/{self._brand_id}{path}"
        return await self._ok(
            await self.api.request(method, url, headers=headers, json=json, files=files, params=params)
        )

    async def customer_get(self, headers: dict[str, str], loan_id: str, what: str) -> Any:
        """The borrower reads ``/api/v1/web/loans/{loanId}/{what}`` (schedule, payments, mandate...)."""
        return await self._ok(await self.api.get(f"/api/v1/web/loans/{loan_id}/{what}", headers=headers))

    async def pay_link(self, url: str, outcome: str = "success") -> dict[str, Any]:
        """The borrower opens a payment link's page at the gateway and pays (``outcome`` as the sandbox takes it)."""
        (await self.sandbox.get(url)).raise_for_status()
        params = {"outcome": outcome} if outcome != "success" else None
        return await self._ok(await self.sandbox.post(url, params=params))

    async def ledger_sum(self, loan_id: str) -> tuple[int, int]:
        """The loan's ledger as staff read it: (number of entries, their sum in paise; 0 when it balances)."""
        ledger = await self.partner("LOAN_EXECUTIVE", "GET", f"/loans/{loan_id}/ledger")
        return len(ledger["entries"]), sum(e["amountPaise"] for e in ledger["entries"])

    async def pay_links(
        self,
        headers: dict[str, str],
        j: Journey,
        loan: dict[str, Any],
        deadline: float,
        *,
        skip: set[str] | None = None,
        until: frozenset[str] | set[str] = frozenset(TERMINAL),
        twice: Any = None,
    ) -> dict[str, Any]:
        """Pay each new payment link as it comes (none in ``skip``) until the loan's status is in ``until``;
        ``skip`` holds link ids or URLs already paid; ``twice(link, loan)`` true: that link is paid a second time at
        once, as a borrower who taps Pay twice."""
        paid = set(skip or ())  # link ids or URLs
        stop = set(until) | TERMINAL

        def new(link: dict[str, Any] | None) -> bool:
            return link is not None and link["linkId"] not in paid and link["url"] not in paid

        while loan["status"] not in stop:
            link = loan.get("paymentLink")
            if link and new(link):
                await self.pay_link(link["url"])
                if twice is not None and twice(link, loan):
                    await self.pay_link(link["url"])
                paid.add(link["linkId"])
            loan = await self.wait_for(
                headers,
                j.loan_id,
                lambda x: x["status"] in stop or new(x.get("paymentLink")),
                "next payment link",
                deadline,
            )
        return loan


async def run_demo(api_url: str, sandbox_url: str, loans: int, brand: str = "demo") -> list[Journey]:
    driver = Driver(api_url, sandbox_url, brand)
    try:
        scenarios = ["auto", "review"]
        jobs = [driver.journey(*demo_identity(i, scenarios[i % 2])) for i in range(loans)]
        return list(await asyncio.gather(*jobs))
    finally:
        await driver.close()


def text_report(journeys: list[Journey], settings: Settings, seconds: float) -> str:
    """`los demo`'s report: each loan's status history and, when the Temporal UI is known, its page there."""
    lines: list[str] = []
    for j in journeys:
        lines += ["", f"Loan {j.loan_id}  ({j.status}, {j.seconds:.1f}s, phone {j.phone}, PAN {j.pan})"]
        url = settings.workflow_url(j.workflow_id)
        lines.append(f"  Temporal UI: {url}" if url else f"  Workflow: {j.workflow_id}")
        for h in j.history:
            lines.append(
                f"  {h['at'][11:19]}  {(h['from'] or '—'):<18} → {h['to']:<18} {h['actor']:<40} {h['reason'] or ''}"
            )
        lines.append(f"  installments paid: {j.installments_paid}, collected: ₹{j.total_collected / 100:,.2f}")
    lines += ["", f"{len(journeys)} loan(s) in {seconds:.1f}s"]
    return "\n".join(lines)
