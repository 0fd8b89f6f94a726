"""TransUnion CIBIL consumer report (amounts in whole rupees on the wire).

A pull is a hard enquiry on the customer's file: send an ``Idempotency-Key`` so a retried activity gets
the same report back instead of a second enquiry."""

from __future__ import annotations

from activities.providers.base import HttpProvider, ProviderError, parse_date, rupees_to_paise
from activities.providers.bureau.base import BureauAccount, BureauReport


class CibilBureau(HttpProvider):
    async def pull(self, pan: str, name: str | None, idempotency_key: str) -> BureauReport:
        """The customer's CIBIL report by PAN: score, accounts with 12-month DPD, active loans, enquiries."""
        body = await self.call(
            "POST", "/cibil/report", json={"pan": pan, "name": name}, headers={"Idempotency-Key": idempotency_key}
        )
        score = body.get("score")
        if not isinstance(score, int):
            raise ProviderError("cibil: malformed report: no score", vendor="cibil")
        with self.reading("CIBIL report"):
            accounts = tuple(
                BureauAccount(
                    account_type=str(a["type"]),
                    lender=str(a.get("member", "")),
                    status=str(a["status"]),
                    sanctioned_amount=rupees_to_paise(a.get("sanctioned_amount", 0)),
                    current_balance=rupees_to_paise(a.get("current_balance", 0)),
                    overdue_amount=rupees_to_paise(a.get("overdue_amount", 0)),
                    opened_on=parse_date(a["opened_on"]) if a.get("opened_on") else None,
                    dpd_history=tuple(int(d) for d in a.get("dpd_history", [a.get("dpd_max_12m", 0)])),
                    account_number=a.get("account_number"),
                )
                for a in body.get("accounts", [])
            )
            active = body.get("active_loans")
            return BureauReport(
                score=score,
                raw=body,
                report_id=body.get("report_id"),
                accounts=accounts,
                active_loans=int(active)
                if active is not None
                else sum(1 for a in accounts if a.status == "ACTIVE" and a.account_type != "CREDIT_CARD"),
                enquiries_30d=int(body.get("enquiries_30d", 0)),
                bureau="cibil",
            )
