"""The demo driver's customer steps: what a borrower does in the app, over the public API (``/api/v1/web``), and at
the vendors' pages the sandbox serves (eSign, payment links).

Part of ``los.demo.Driver``; import it from ``los.demo``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from los.demo_base import (
    LONG_POLL_SECONDS,
    POLL_FIRST,
    POLL_GROWTH,
    POLL_MAX,
    DemoError,
    DriverBase,
    kyc_finished,
)
from los.demo_identities import SANDBOX_AADHAAR_OTP, demo_aadhaar, demo_statement_pdf, random_account

# The KYC steps whose input the borrower gives in the demo (the others pass on what was given before applying).
ANSWERED = frozenset({"AADHAAR", "BANK_STATEMENT"})


class CustomerSteps(DriverBase):
    """A borrower's steps: sign up by OTP, profile, accounts, KYC answers, the KFS, eSign, paying a link."""

    async def latest_sms(self, phone: str, contains: str = "") -> str:
        """The last SMS the sandbox's SMS vendor delivered to ``phone`` whose text holds ``contains`` (waits ~5 s)."""
        for _ in range(50):
            msgs = await self._ok(await self.sandbox.get("/gupshup/messages", params={"to": phone}))
            msgs = [m for m in msgs if contains in m["text"]]
            if msgs:
                return msgs[-1]["text"]
            await asyncio.sleep(0.1)
        raise DemoError(f"no SMS to {phone}")

    async def register(self, phone: str) -> dict[str, str]:
        """Sign up (or in) with ``phone`` and the OTP sent by SMS; the customer's Authorization header."""
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
        workflow) only while the phase runs, each read after the first a long poll (``If-None-Match`` and ``Prefer:
        wait``) that the API answers when the progress moves, so the next step is answered the moment it is asked
        for. The bank statement offered ahead (``acceptsAhead``) is given beside the Aadhaar OTP the loan waits for, as
        the app shows both: the OTP is asked for and, while its SMS is on the way, the statement uploaded (the two
        requests overlap, as a borrower's do); with no Aadhaar step to wait for, it is uploaded at once.
        Once every step has its result, or the borrower has given everything theirs need (``ANSWERED``), the decision is
        waited for on the loan itself, as an app shows "deciding" and waits for the loan to change."""
        done: set[str] = set()
        pause = POLL_FIRST
        etag: str | None = None
        while time.monotonic() < deadline:
            conditional = dict(headers)
            if etag is not None:
                wait = max(1, min(LONG_POLL_SECONDS, int(deadline - time.monotonic())))
                conditional.update({"If-None-Match": etag, "Prefer": f"wait={wait}"})
            resp = await self.api.get(f"/api/v1/web/loans/{loan_id}", headers=conditional, params={"include": "kyc"})
            if resp.status_code == 304:
                if "preference-applied" not in resp.headers:  # an API that does not wait: look again after a pause
                    await asyncio.sleep(pause)
                    pause = min(pause * POLL_GROWTH, POLL_MAX)
                continue
            loan = await self._ok(resp)
            etag = resp.headers.get("etag")
            kyc = loan.get("kyc")
            if loan["status"] != "APPLIED":
                return loan
            if not kyc:  # the workflow did not answer: no progress to wait on, so read it again after a pause
                etag = None
                await asyncio.sleep(pause)
                pause = min(pause * POLL_GROWTH, POLL_MAX)
                continue
            if kyc_finished(kyc):
                return await self.wait_for(headers, loan_id, lambda x: x["status"] != "APPLIED", "a decision", deadline)
            waiting = kyc.get("waitingFor")
            ahead = "BANK_STATEMENT" in kyc.get("acceptsAhead", []) and "BANK_STATEMENT" not in done
            if waiting == "AADHAAR" and "AADHAAR" not in done:
                # the OTP is asked for first; the statement offered ahead is uploaded while its SMS is on the way
                await asyncio.gather(self.aadhaar_otp(headers), *([self.upload_statement(headers)] if ahead else []))
                done.update({"AADHAAR", *(["BANK_STATEMENT"] if ahead else [])})
            elif ahead:  # offered ahead, as the app shows it beside what is awaited: given now, read at once
                await self.upload_statement(headers)
                done.add("BANK_STATEMENT")
            elif waiting == "BANK_STATEMENT" and "BANK_STATEMENT" not in done:
                await self.upload_statement(headers)
                done.add("BANK_STATEMENT")
            elif waiting is None and ANSWERED.intersection(kyc.get("steps", [])) <= done:
                # all the borrower has to give is given: the checks and the decision are the workflow's, so the loan
                # itself is waited on (no workflow asked), one long poll at a time; the progress is read again after
                # each (a loan that came to wait for something else is then reported as not completed in time)
                soon = min(deadline, time.monotonic() + LONG_POLL_SECONDS)
                try:
                    return await self.wait_for(headers, loan_id, lambda x: x["status"] != "APPLIED", "a decision", soon)
                except DemoError:
                    if time.monotonic() < soon:
                        raise  # the API refused a read: not a wait that ran out
                etag = None
                continue
            elif etag is None:  # an API that gives no ETag: read again after a pause
                await asyncio.sleep(pause)
                pause = min(pause * POLL_GROWTH, POLL_MAX)
                continue
            pause = POLL_FIRST
        raise DemoError(f"loan {loan_id}: KYC not completed in time")

    async def aadhaar_otp(self, headers: dict[str, str]) -> None:
        """The borrower asks for the Aadhaar OTP on their number and enters it (the sandbox's fixed OTP)."""
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

    async def upload_statement(self, headers: dict[str, str]) -> dict[str, Any]:
        """The borrower uploads the demo bank statement (a PDF) for the statement step of their loan's KYC."""
        files = {"file": ("statement.pdf", demo_statement_pdf(), "application/pdf")}
        return await self._ok(await self.api.post("/api/v1/web/bank/upload-statement", headers=headers, files=files))

    async def customer_get(self, headers: dict[str, str], loan_id: str, what: str) -> Any:
        """The borrower reads ``/api/v1/web/loans/{loanId}/{what}`` (schedule, payments, mandate...)."""
        return await self._ok(await self.api.get(f"/api/v1/web/loans/{loan_id}/{what}", headers=headers))

    async def pay_link(self, url: str, outcome: str = "success") -> dict[str, Any]:
        """The borrower opens a payment link's page at the gateway and pays (``outcome`` as the sandbox takes it)."""
        (await self.sandbox.get(url)).raise_for_status()
        params = {"outcome": outcome} if outcome != "success" else None
        return await self._ok(await self.sandbox.post(url, params=params))
