"""Cashfree bank account verification (Payouts "bankDetails" validation): ₹1 and the name at the bank.

A GET with the account details: the same account gives the same answer (the sandbox, like Cashfree,
caches a validation for a while), so repeating it is harmless."""

from __future__ import annotations

from activities.providers.base import HttpProvider, rupees_to_paise
from activities.providers.matching import name_match_score
from activities.providers.pennydrop.base import FAILED, VERIFIED, PennyDropResult


class CashfreePennyDrop(HttpProvider):
    async def verify_account(
        self, *, account_number: str, ifsc: str, name: str | None, reference_id: str, idempotency_key: str
    ) -> PennyDropResult:
        """Validate ``account_number``/``ifsc`` (see :class:`PennyDropProvider`)."""
        body = await self.call(
            "GET",
            "/cashfree/payout/v1.2/validation/bankDetails",
            params={"bankAccount": account_number, "ifsc": ifsc, "name": name or "", "remarks": reference_id},
            headers={"X-Idempotency-Key": idempotency_key},
        )
        with self.reading("Cashfree bank validation"):
            data = body["data"]
            exists = data["accountExists"] == "YES"
            registered = data.get("nameAtBank") or None
            return PennyDropResult(
                status=VERIFIED if exists else FAILED,
                account_exists=exists,
                beneficiary_name=registered,
                name_match_score=name_match_score(name, registered) if name and registered else None,
                validation_id=str(data["refId"]),
                utr=data.get("utr"),
                bank_name=data.get("bankName"),
                amount=rupees_to_paise(data.get("amountDeposited", "1")),
                reason=None if exists else body.get("message"),
                raw=body,
            )
