"""`los demo`: drive loans through the public HTTP API as a customer, the staff and the providers would.

The same driver is used by the end-to-end tests, so what the demo shows is what the tests prove. ``Driver`` is a
customer's steps (``los.demo_customer``) and the staff's (``los.demo_staff``) on one footing (``los.demo_base``: the
HTTP clients and the waits); here are the journeys that string them together. Import all of it from here.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from los.demo_base import (  # noqa: F401  (re-exported: the demos and tests import them from here)
    LONG_POLL_SECONDS,
    POLL_FIRST,
    POLL_GROWTH,
    POLL_MAX,
    TERMINAL,
    DemoError,
    kyc_finished,
)
from los.demo_customer import CustomerSteps
from los.demo_identities import (  # noqa: F401  (re-exported: the demos and tests import them from here)
    SANDBOX_AADHAAR_OTP,
    demo_aadhaar,
    demo_identity,
    demo_statement_pdf,
    random_account,
)
from los.demo_staff import StaffSteps

if TYPE_CHECKING:
    from los.settings import Settings


@dataclass
class Journey:
    """One loan driven by the demo: its ids, the customer's phone and PAN, and how it ended (final status, its
    status history, installments paid, paise collected, seconds taken)."""

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


class Driver(CustomerSteps, StaffSteps):
    """Drives loans end to end over the public API: ``journey`` from sign-up to the last installment, or
    ``carry_on`` from wherever an applied loan is. ``Driver(api_url, sandbox_url, brand="demo", password=...,
    timeout=180.0)``; ``close()`` when done."""

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
        # installments whose row reads PAID: a foreclosure or a cooling-off exit settles every row with one payment
        lines.append(f"  installments settled: {j.installments_paid}, collected: ₹{j.total_collected / 100:,.2f}")
        lines += [f"  {name}: {_brief(value)}" for name, value in _scenario_results(j).items()]
    lines += ["", f"{len(journeys)} loan(s) in {seconds:.1f}s"]
    return "\n".join(lines)


REPORT_WIDTH = 200  # characters of a scenario result on its line; `los demo --json` gives it whole


def _scenario_results(j: Journey) -> dict[str, Any]:
    """What a scenario's journey adds to the plain one (how the loan closed, its payments, the ledger, what it
    checked on the way): its JSON's keys beyond :meth:`Journey.as_json`'s, those with a value (not 0 or empty)."""
    plain = Journey.as_json(j)
    return {k: v for k, v in j.as_json().items() if k not in plain and v not in (None, "", [], {}, 0)}


def _brief(value: Any) -> str:
    """One line of ``value`` (JSON for a list or a mapping), cut at :data:`REPORT_WIDTH` with a pointer to --json."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    more = "… (--json for all)"
    return text if len(text) <= REPORT_WIDTH else text[: REPORT_WIDTH - len(more)] + more
