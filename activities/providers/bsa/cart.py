"""CART bank statement analysis: multipart upload, then the analysis (amounts as rupee strings).

The upload is idempotent by ``Idempotency-Key`` (same key → same statement id, no second analysis)."""

from __future__ import annotations

from typing import Any

from activities.providers.base import HttpProvider, parse_date, rupees_to_paise
from activities.providers.bsa.base import Bounce, BsaReport, EmiDebit, SalaryCredit, poll_until_ready


def cart_report(analysis: dict[str, Any], *, report_id: str, source: str) -> BsaReport:
    """CART's analysis JSON (statements and AA data share it) → :class:`BsaReport`."""
    account = analysis.get("accountDetails", {})
    period = analysis.get("period", {})
    return BsaReport(
        report_id=report_id,
        vendor="cart",
        source=source,
        account_holder=account.get("holderName"),
        bank_name=account.get("bankName"),
        account_number_masked=account.get("accountNumber"),
        period_from=parse_date(period["from"]) if period.get("from") else None,
        period_to=parse_date(period["to"]) if period.get("to") else None,
        salary_credits=tuple(
            SalaryCredit(parse_date(c["date"]), rupees_to_paise(c["amount"]), c.get("narration", ""))
            for c in analysis["salaryCredits"]
        ),
        emi_debits=tuple(
            EmiDebit(parse_date(d["date"]), rupees_to_paise(d["amount"]), d.get("lender", ""))
            for d in analysis["emiDebits"]
        ),
        bounces=tuple(
            Bounce(parse_date(b["date"]), rupees_to_paise(b["amount"]), b.get("reason", ""))
            for b in analysis["bounces"]
        ),
        average_balance=rupees_to_paise(analysis["averageBalance"]),
        raw=analysis,
    )


class CartBsa(HttpProvider):
    async def analyse_statement(
        self, *, pdf: bytes, reference_id: str, idempotency_key: str, password: str | None = None
    ) -> BsaReport:
        """Upload the statement PDF and wait for its analysis. An unreadable or password-protected
        statement is refused (``BusinessRefusal``: STATEMENT_UNREADABLE / STATEMENT_PASSWORD_*)."""
        form = {"reference_id": reference_id, **({"password": password} if password else {})}
        upload = await self.call(
            "POST",
            "/cart/v1/statements",
            files={"file": ("statement.pdf", pdf, "application/pdf")},
            data=form,
            headers={"Idempotency-Key": idempotency_key},
            timeout=60.0,
        )
        with self.reading("CART upload answer"):
            statement_id = str(upload["statementId"])
        body = await poll_until_ready(
            lambda: self.call("GET", f"/cart/v1/statements/{statement_id}/analysis"),
            lambda b: b.get("status") == "COMPLETED",
            config=self.config,
        )
        with self.reading("CART analysis"):
            return cart_report(body["analysis"], report_id=statement_id, source="UPLOAD")
