"""ScoreMe BSA: base64 upload, then the report (``responseCode`` SRC001 ready / SRC002 in progress;
dates DD-MM-YYYY; amounts rupee strings). Upload idempotent by ``Idempotency-Key``."""

from __future__ import annotations

import base64

from activities.providers.base import HttpProvider, parse_date, rupees_to_paise
from activities.providers.bsa.base import Bounce, BsaReport, EmiDebit, SalaryCredit, poll_until_ready

READY, IN_PROGRESS = "SRC001", "SRC002"
DMY = "%d-%m-%Y"


class ScoremeBsa(HttpProvider):
    async def analyse_statement(
        self, *, pdf: bytes, reference_id: str, idempotency_key: str, password: str | None = None
    ) -> BsaReport:
        """Upload the statement and wait for ScoreMe's report (see :class:`BsaProvider`)."""
        upload = await self.call(
            "POST",
            "/scoreme/bsa/v1/upload",
            json={"referenceId": reference_id, "fileData": base64.b64encode(pdf).decode(), "filePassword": password},
            headers={"Idempotency-Key": idempotency_key},
            timeout=60.0,
        )
        with self.reading("ScoreMe upload answer"):
            ref = str(upload["data"]["referenceId"])
        body = await poll_until_ready(
            lambda: self.call("GET", f"/scoreme/bsa/v1/report/{ref}"),
            lambda b: b.get("responseCode") == READY,
            config=self.config,
        )
        with self.reading("ScoreMe report"):
            data = body["data"]
            period = data.get("statementPeriod", {})
            return BsaReport(
                report_id=ref,
                vendor="scoreme",
                source="UPLOAD",
                account_holder=data.get("accountHolderName"),
                bank_name=data.get("bankName"),
                account_number_masked=data.get("accountNumber"),
                period_from=parse_date(period["fromDate"], DMY) if period.get("fromDate") else None,
                period_to=parse_date(period["toDate"], DMY) if period.get("toDate") else None,
                salary_credits=tuple(
                    SalaryCredit(parse_date(s["creditDate"], DMY), rupees_to_paise(s["amount"]), s.get("narration", ""))
                    for s in data["salaryDetails"]
                ),
                emi_debits=tuple(
                    EmiDebit(parse_date(e["debitDate"], DMY), rupees_to_paise(e["amount"]), e.get("lenderName", ""))
                    for e in data["emiDetails"]
                ),
                bounces=tuple(
                    Bounce(parse_date(b["date"], DMY), rupees_to_paise(b["amount"]), b.get("reason", ""))
                    for b in data["bounceDetails"]
                ),
                average_balance=rupees_to_paise(data["averageMonthlyBalance"]),
                raw=body,
            )
