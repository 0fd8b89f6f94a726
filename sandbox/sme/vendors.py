"""The SME vendors' endpoints in their documented shapes (see ``activities/providers/sme`` for the sources)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import FastAPI, Header, Request

from sandbox.context import Sandbox

VALID, INVALID, NO_RECORD = 101, 102, 103


def _pan(gstin: str) -> str:
    return gstin[2:12] if len(gstin) == 15 else ""


def _karza(result: dict[str, Any] | None, code: int = VALID) -> dict[str, Any]:
    return {"requestId": "sandbox", "statusCode": code if result is not None else NO_RECORD, "result": result}


def _periods(today: date) -> list[tuple[str, date]]:
    """The last 12 GSTR-3B periods before ``today``'s month: (MMYYYY, the period's first day), oldest first."""
    first = today.replace(day=1)
    out = []
    for _ in range(12):
        first = (first - timedelta(days=1)).replace(day=1)
        out.append((f"{first.month:02d}{first.year}", first))
    return list(reversed(out))


def returns_for(gstin: str, today: date) -> list[dict[str, Any]]:
    """GSTR-3B filings: a regular, growing business; a weak one (PAN ``L``) missed three and filed others late."""
    weak = _pan(gstin).startswith("L")
    filings = []
    for i, (period, first) in enumerate(_periods(today)):
        due = (first + timedelta(days=32)).replace(day=20)
        turnover = 20_00_000 + i * 50_000 if not weak else 20_00_000 - i * 60_000
        if weak and i % 4 == 0:
            filings.append({"ret_prd": period, "rtntype": "GSTR3B", "status": "Not Filed", "txval": 0})
            continue
        filed_on = due - timedelta(days=3) if not weak else due + timedelta(days=9)
        filings.append(
            {
                "ret_prd": period,
                "rtntype": "GSTR3B",
                "status": "Filed",
                "dof": filed_on.strftime("%d-%m-%Y"),
                "arn": f"AA{gstin[:2]}{period}{i:06d}",
                "mof": "ONLINE",
                "valid": "Y",
                "txval": f"{turnover}.00",
            }
        )
    return filings


def register(app: FastAPI, sbx: Sandbox) -> None:
    """Add the SME vendors' endpoints to the sandbox ``app``."""

    @app.post("/karza/v3/gst-verification")
    async def karza_gstin(request: Request) -> Any:
        """GSTN taxpayer search through Karza: ``lgnm``, ``sts``, ``ctb``, ``rgdt`` (DD/MM/YYYY)."""
        gstin = str((await sbx.json_body(request)).get("gstin", "")).upper()
        if len(gstin) != 15:
            return _karza({}, INVALID)
        pan = _pan(gstin)
        status = "Cancelled" if pan.startswith("Z") else "Active"
        constitution = {"C": "Private Limited Company", "F": "Partnership", "P": "Proprietorship"}.get(pan[3], "Others")
        return _karza(
            {
                "gstin": gstin,
                "lgnm": f"{pan[:5].title()} Trading {'Private Limited' if pan[3] == 'C' else 'Enterprises'}",
                "tradeNam": f"{pan[:5].title()} Traders",
                "sts": status,
                "ctb": constitution,
                "rgdt": "01/07/2017",
                "pradr": {"addr": {"stcd": gstin[:2], "pncd": "400001"}},
            }
        )

    @app.post("/karza/v3/gst-returns")
    async def karza_returns(request: Request) -> Any:
        """GSTR-3B filing status for the last 12 periods (``ret_prd``, ``status``, ``dof``, ``txval`` rupees)."""
        gstin = str((await sbx.json_body(request)).get("gstin", "")).upper()
        if len(gstin) != 15:
            return _karza({}, INVALID)
        return _karza({"gstin": gstin, "filings": returns_for(gstin, sbx.today())})

    @app.post("/karza/v2/mca-details")
    async def karza_mca(request: Request) -> Any:
        """MCA master data: company name, status, date of incorporation (DD/MM/YYYY), directors with DIN."""
        cin = str((await sbx.json_body(request)).get("cin", "")).upper()
        if len(cin) != 21:
            return _karza(None)
        status = "Strike Off" if cin.startswith("X") else "Active"
        return _karza(
            {
                "cin": cin,
                "companyName": f"{cin[8:11]} Industries Private Limited",
                "companyStatus": status,
                "dateOfIncorporation": f"15/04/{cin[8:12] if cin[8:12].isdigit() else '2015'}",
                "directors": [
                    {"din": "0" + cin[-7:].replace("0", "1")[:7], "name": "Asha Mehta"},
                    {"din": "1" + cin[-7:].replace("0", "2")[:7], "name": "Ravi Mehta"},
                ],
            }
        )

    @app.post("/karza/v3/gstr1-invoice")
    async def karza_invoice(request: Request) -> Any:
        """GSTR-1 B2B search: is invoice ``inum`` to ``ctin`` in the seller's returns?"""
        body = await sbx.json_body(request)
        buyer = str(body.get("ctin", "")).upper()
        if _pan(buyer).startswith("Z"):
            return _karza({"found": False, "reason": "the buyer's GSTIN is cancelled"})
        if _pan(buyer).startswith("Y"):
            return _karza({"found": False, "reason": "the buyer has not accepted this invoice in GSTR-2B"})
        return _karza({"found": True, "ctin": buyer, "inum": body.get("inum"), "val": body.get("val")})

    @app.post("/perfios/v1/statement-summary")
    async def perfios_summary(request: Request) -> Any:
        """Statement summary: average balance (rupees), inward cheque and ECS bounces, months analysed."""
        gstin = str((await sbx.json_body(request)).get("gstin", "")).upper()
        weak = _pan(gstin).startswith("L")
        info = {"avgBalance": "15000.00" if weak else "500000.00", "months": 6}
        info |= {"inwChqBounces": 3 if weak else 0, "inwEcsBounces": 1 if weak else 0}
        return {"txnId": sbx.new_id("perfios"), "summaryInfo": info}

    @app.post("/crif/commercial/report")
    async def crif_report(request: Request, idempotency_key: str | None = Header(None)) -> Any:
        """CRIF commercial report: ``score`` 300-900, or ``NH`` (no history). Same key → the same report."""
        if (done := sbx.idempotent(idempotency_key, "crif")) is not None:
            return done
        pan = str((await sbx.json_body(request)).get("pan", "")).upper()
        report = {"reportId": sbx.new_id("crif"), "pan": pan, "score": "NH" if pan.startswith("L") else 760}
        return sbx.remember(idempotency_key, "crif", report)
