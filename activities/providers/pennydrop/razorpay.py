"""Razorpay fund account validation (RazorpayX): ₹1 to the account, the registered name back.

Idempotent by ``Idempotency-Key``: the same key returns the same validation (one rupee sent, not two)."""

from __future__ import annotations

from activities.providers.base import HttpProvider
from activities.providers.matching import name_match_score
from activities.providers.pennydrop.base import FAILED, VERIFIED, PennyDropResult


class RazorpayPennyDrop(HttpProvider):
    async def verify_account(
        self, *, account_number: str, ifsc: str, name: str | None, reference_id: str, idempotency_key: str
    ) -> PennyDropResult:
        """Validate ``account_number``/``ifsc``; ``name`` (the PAN name) is only used to score the match.
        A malformed IFSC or account number is refused (``BusinessRefusal``, code INVALID_IFSC/…)."""
        body = await self.call(
            "POST",
            "/razorpay/fund_accounts/validations",
            json={
                "account_number": self.config.options.get("source_account", "SANDBOX0000001"),
                "fund_account": {
                    "account_type": "bank_account",
                    "bank_account": {"name": name or "", "ifsc": ifsc, "account_number": account_number},
                },
                "amount": 100,
                "currency": "INR",
                "notes": {"reference_id": reference_id},
            },
            headers={"Idempotency-Key": idempotency_key},
        )
        with self.reading("Razorpay fund account validation"):
            results = body["results"]
            active = results["account_status"] == "active"
            registered = results.get("registered_name")
            return PennyDropResult(
                status=VERIFIED if active else FAILED,
                account_exists=active,
                beneficiary_name=registered,
                name_match_score=name_match_score(name, registered) if name and registered else None,
                validation_id=str(body["id"]),
                utr=body.get("utr"),
                bank_name=results.get("bank_name"),
                amount=int(body["amount"]),
                reason=None if active else results.get("reason", "account invalid"),
                raw=body,
            )
