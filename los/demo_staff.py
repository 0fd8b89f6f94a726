"""The demo driver's staff steps: the lender's people signing in to the partner API (``/api/v1/partner``) and acting
on a loan, each role as its own seeded person.

Part of ``los.demo.Driver``; import it from ``los.demo``.
"""

from __future__ import annotations

from typing import Any

from los.demo_base import DriverBase
from los.seed import staff_email


class StaffSteps(DriverBase):
    """Staff steps: sign-in per role (shared by the journeys in flight), loan actions, the sanction hierarchy, any
    partner route of the brand."""

    async def staff_headers(self, role: str) -> dict[str, str]:
        """The Authorization header of the brand's seeded staff member in ``role`` (signed in once per role)."""
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

    async def staff_action(self, role: str, loan_id: str, action: str, reason: str | None = None) -> dict:
        """``POST /api/v1/partner/brand/{brandId}/loans/{loanId}/{action}`` as ``role`` (forward, sanction,
        approve-disbursal...), with ``reason`` when given."""
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

    async def partner(
        self, role: str, method: str, path: str, json: Any = None, files: Any = None, params: Any = None
    ) -> Any:
        """A staff member in ``role`` calls ``/api/v1/partner/brand/{brandId}{path}``; the answer's JSON."""
        headers = await self.staff_headers(role)
        url = f"/api/v1/partner/brand/{self._brand_id}{path}"
        return await self._ok(
            await self.api.request(method, url, headers=headers, json=json, files=files, params=params)
        )

    async def ledger_sum(self, loan_id: str) -> tuple[int, int]:
        """The loan's ledger as staff read it: (number of entries, their sum in paise; 0 when it balances)."""
        ledger = await self.partner("LOAN_EXECUTIVE", "GET", f"/loans/{loan_id}/ledger")
        return len(ledger["entries"]), sum(e["amountPaise"] for e in ledger["entries"])
