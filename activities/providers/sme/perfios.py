"""Perfios bank statement analysis: the summary of a business's current account.

Follows Perfios's statement analysis report as its documentation describes it (the ``summaryInfo`` block: average
balance, cheque and ECS bounces ("inward returns"), months analysed; amounts in rupees). The sandbox imitates it
for the business's GSTIN.
"""

from __future__ import annotations

from activities.providers.base import HttpProvider, rupees_to_paise
from activities.providers.sme.base import StatementSummary


class PerfiosStatement(HttpProvider):
    """Perfios's statement summary for a business, by GSTIN (the statement the business linked at onboarding)."""

    async def summary(self, gstin: str, reference: str) -> StatementSummary:
        """The last 6 months' summary: average balance (paise), bounces, months."""
        body = await self.call("POST", "/perfios/v1/statement-summary", json={"gstin": gstin, "txnId": reference})
        with self.reading("statement summary"):
            info = body["summaryInfo"]
            bounces = int(info.get("inwChqBounces", 0)) + int(info.get("inwEcsBounces", 0))
            return StatementSummary(rupees_to_paise(info["avgBalance"]), bounces, int(info["months"]))
