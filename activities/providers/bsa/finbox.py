"""Finbox BankConnect: base64 upload, then insights (amounts as JSON numbers in rupees, converted to
paise through ``str`` so no binary-float error reaches money). Upload idempotent by ``Idempotency-Key``."""

from __future__ import annotations

import base64

from activities.providers.base import HttpProvider, parse_date, rupees_to_paise
from activities.providers.bsa.base import Bounce, BsaReport, EmiDebit, SalaryCredit, poll_until_ready


class FinboxBsa(HttpProvider):
    async def analyse_statement(
        self, *, pdf: bytes, reference_id: str, idempotency_key: str, password: str | None = None
    ) -> BsaReport:
        """Upload the statement and wait for Finbox's insights (see :class:`BsaProvider`)."""
        upload = await self.call(
            "POST",
            "/finbox/bankconnect/v1/statement/upload",
            json={"link_id": reference_id, "file": base64.b64encode(pdf).decode(), "pdf_password": password},
            headers={"Idempotency-Key": idempotency_key},
            timeout=60.0,
        )
        with self.reading("Finbox upload answer"):
            entity_id = str(upload["entity_id"])
        body = await poll_until_ready(
            lambda: self.call("GET", f"/finbox/bankconnect/v1/entity/{entity_id}/insights"),
            lambda b: b.get("progress") == "completed",
            config=self.config,
        )
        with self.reading("Finbox insights"):
            account, period = body.get("account", {}), body.get("period", {})
            return BsaReport(
                report_id=entity_id,
                vendor="finbox",
                source="UPLOAD",
                account_holder=account.get("account_holder"),
                bank_name=account.get("bank"),
                account_number_masked=account.get("account_number"),
                period_from=parse_date(period["start"]) if period.get("start") else None,
                period_to=parse_date(period["end"]) if period.get("end") else None,
                salary_credits=tuple(
                    SalaryCredit(
                        parse_date(t["transaction_date"]), rupees_to_paise(t["amount"]), t.get("description", "")
                    )
                    for t in body["salary"]["transactions"]
                ),
                emi_debits=tuple(
                    EmiDebit(parse_date(t["transaction_date"]), rupees_to_paise(t["amount"]), t.get("merchant", ""))
                    for t in body["recurring_debits"]["emi"]
                ),
                bounces=tuple(
                    Bounce(parse_date(t["transaction_date"]), rupees_to_paise(t["amount"]), t.get("description", ""))
                    for t in body["bounces"]
                ),
                average_balance=rupees_to_paise(body["average_balance"]),
                raw=body,
            )
