"""Sandbox twin of Lendbox's co-lending lifecycle (``activities/providers/partners/lendbox_colending.py``): the same
calls with the same auth (``X-Api-Key`` + ``X-Partner-Id``), answers in Lendbox's shape (rupee strings), and its
callbacks (ESIGN, DISBURSED, CREDIT_ORDER, LOAN_STATUS) sent to the loan's ``callback_url`` signed with the
partner's webhook secret (``LOS_SANDBOX_PARTNER_SECRET``, default ``sandbox-partner-secret``): hex HMAC-SHA256 of
``"{timestamp}.{body}"`` in ``X-Lendbox-Signature``, signed afresh on each attempt and retried on any non-2xx
answer (``sandbox.webhooks.Outbox``). The same event keeps its ``event_id`` across retries.

``GET /_partners/lendbox/colending`` shows the borrowers, loans and wallet orders it holds. Failure drills:
``POST /_partners/lendbox/colending/refuse`` with ``{"call": "wallet_order" | "schedule", "times": n}`` makes the
next ``n`` wallet orders (or repayment-schedule syncs) answer 422 as a refusal (``DELETE`` clears them). A schedule
is accepted when its principal is Lendbox's share (the first sync) or its principal still outstanding, the share
less what its wallet orders repaid (a restructured schedule sent again).
"""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from activities.providers.partners.base import percent, rupees
from activities.providers.partners.lendbox_colending import paise, sign
from sandbox.context import Sandbox

DEFAULT_SECRET = "sandbox-partner-secret"  # noqa: S105 - the sandbox's published test secret
BASE = "/lendbox/v1/colending"


def _num(seed: str, digits: int) -> str:
    return str(int(hashlib.sha256(seed.encode()).hexdigest(), 16) % 10**digits).zfill(digits)


def _pdf(text: str) -> bytes:
    """A minimal one-page PDF saying ``text`` (the NOC)."""
    stream = f"BT /F1 14 Tf 72 720 Td ({text}) Tj ET".encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def register(app: FastAPI, sbx: Sandbox) -> None:
    """Lendbox's co-lending endpoints on ``app`` and its signer on the outbox."""
    book: dict[str, Any] = sbx.state.setdefault("lendbox_colending", {"borrowers": {}, "loans": {}, "orders": {}})
    refusals: dict[str, int] = {}
    secret = os.environ.get("LOS_SANDBOX_PARTNER_SECRET", DEFAULT_SECRET)

    def signer(body: bytes, _secret: str, _event_id: str | None) -> dict[str, str]:
        stamp = str(int(time.time()))
        return {"X-Lendbox-Timestamp": stamp, "X-Lendbox-Signature": sign(secret, stamp, body)}

    sbx.outbox.sign_with("lendbox", signer, attempt_header="X-Lendbox-Attempt")

    def authorised(request: Request) -> None:
        if not request.headers.get("x-api-key") or not request.headers.get("x-partner-id"):
            raise HTTPException(401, "X-Api-Key and X-Partner-Id are required")

    def refused(call: str) -> bool:
        if refusals.get(call, 0) <= 0:
            return False
        refusals[call] -= 1
        return True

    def loan_of(loan_id: str) -> dict[str, Any]:
        loan = book["loans"].get(loan_id)
        if loan is None:
            raise HTTPException(404, f"loan {loan_id} not found")
        return loan

    def callback(loan: dict[str, Any], event: str, data: dict[str, Any], key: str) -> None:
        event_id = "lbx_evt_" + _num(str(loan["loan_id"]) + ":" + key, 12)
        payload = {
            "event_id": event_id,
            "event": event,
            "partner_loan_id": loan["partner_loan_id"],
            "lendbox_loan_id": loan["loan_id"],
            "occurred_at": datetime.now(UTC).isoformat(),
            "data": data,
        }
        if loan.get("callback_url"):
            sbx.send_later("lendbox", loan["callback_url"], payload, min(sbx.delay, 0.3), event_id)

    @app.post(f"{BASE}/borrowers")
    async def borrower(request: Request) -> dict:
        authorised(request)
        body = await sbx.json_body(request)
        ref = body.get("partner_customer_id")
        if not ref or not body.get("name") or not body.get("pan"):
            raise HTTPException(400, "partner_customer_id, name and pan are required")
        borrower_id = f"LBB{_num(str(ref), 9)}"
        book["borrowers"][borrower_id] = {"borrower_id": borrower_id, **body}
        return {"borrower_id": borrower_id}

    @app.post(f"{BASE}/loans")
    async def create_loan(request: Request) -> dict:
        authorised(request)
        body = await sbx.json_body(request)
        ref, who = body.get("partner_loan_id"), body.get("borrower_id")
        if not ref or who not in book["borrowers"]:
            raise HTTPException(400, "partner_loan_id and a known borrower_id are required")
        try:
            share = paise(body["lendbox_share"])
            paise(body["principal"])
        except (KeyError, ValueError) as exc:
            raise HTTPException(400, "principal and lendbox_share must be rupee amounts") from exc
        loan_id = f"LBCL{_num(str(ref), 10)}"
        loan = book["loans"].setdefault(loan_id, {"loan_id": loan_id, "status": "CREATED", "documents": [],
                                                  "schedule": [], "repaid_principal": 0})  # fmt: skip
        loan.update({"partner_loan_id": ref, "borrower_id": who, "share": share, "roi": body.get("roi_lendbox"),
                     "callback_url": body.get("callback_url")})  # fmt: skip
        return {"loan_id": loan_id, "status": loan["status"]}

    @app.get(f"{BASE}/loans/{{loan_id}}")
    def loan_status(loan_id: str, request: Request) -> dict:
        authorised(request)
        loan = loan_of(loan_id)
        return {"loan_id": loan_id, "status": loan["status"],
                "principal_outstanding": rupees(loan["share"] - loan["repaid_principal"])}  # fmt: skip

    @app.post(f"{BASE}/loans/{{loan_id}}/documents")
    async def document(loan_id: str, request: Request) -> dict:
        authorised(request)
        body = await sbx.json_body(request)
        loan = loan_of(loan_id)
        if not body.get("doc_type") or not body.get("content_base64") or not body.get("sha256"):
            raise HTTPException(400, "doc_type, content_base64 and sha256 are required")
        doc_id = "LBD" + _num(loan_id + ":" + str(body["doc_type"]), 8)
        if doc_id not in {d["document_id"] for d in loan["documents"]}:
            loan["documents"].append({"document_id": doc_id, "doc_type": body["doc_type"], "sha256": body["sha256"]})
        return {"document_id": doc_id}

    @app.post(f"{BASE}/loans/{{loan_id}}/esign")
    async def esign(loan_id: str, request: Request) -> dict:
        authorised(request)
        loan = loan_of(loan_id)
        esign_id = f"LBE{_num(loan_id, 8)}"
        callback(loan, "ESIGN", {"esign_id": esign_id, "status": "SIGNED"}, "esign")
        return {"esign_id": esign_id, "sign_url": f"{sbx.base(request)}/lendbox/sign/{esign_id}", "status": "PENDING"}

    @app.put(f"{BASE}/loans/{{loan_id}}/repayment-schedule")
    async def schedule(loan_id: str, request: Request) -> dict:
        authorised(request)
        body = await sbx.json_body(request)
        loan = loan_of(loan_id)
        lines = body.get("installments")
        if not isinstance(lines, list) or not lines:
            raise HTTPException(400, "installments are required")
        try:
            principal = sum(paise(x["principal"]) for x in lines)
        except (KeyError, TypeError, ValueError) as exc:
            raise HTTPException(400, "each installment needs a rupee principal") from exc
        if refused("schedule"):
            return JSONResponse({"status": "ERROR", "reason": "schedule sync refused (drill)"}, status_code=422)
        outstanding = loan["share"] - loan["repaid_principal"]
        if principal not in (loan["share"], outstanding):
            raise HTTPException(
                422,
                f"schedule principal {rupees(principal)} is neither Lendbox's share {rupees(loan['share'])} "
                f"nor its outstanding {rupees(outstanding)}",
            )
        loan["schedule"] = lines
        loan.setdefault("schedules", []).append(lines)
        return {"status": "ACCEPTED", "installments": len(lines)}

    @app.post(f"{BASE}/loans/{{loan_id}}/disbursal")
    async def disbursal(loan_id: str, request: Request) -> dict:
        authorised(request)
        body = await sbx.json_body(request)
        loan = loan_of(loan_id)
        if paise(body.get("amount", "0")) != loan["share"]:
            raise HTTPException(422, "amount is not Lendbox's share")
        loan["status"] = "ACTIVE"
        request_id = f"LBR{_num(loan_id, 8)}"
        utr = f"LBXN{_num(loan_id + ':utr', 12)}"
        callback(
            loan, "DISBURSED", {"request_id": request_id, "utr": utr, "amount": rupees(loan["share"])}, "disbursed"
        )
        return {"request_id": request_id, "status": "PENDING"}

    @app.post(f"{BASE}/wallet/orders")
    async def wallet_order(request: Request) -> dict:
        authorised(request)
        body = await sbx.json_body(request)
        loan = loan_of(str(body.get("loan_id")))
        order_id = body.get("order_id")
        if not order_id:
            raise HTTPException(400, "order_id is required")
        known = book["orders"].get(order_id)
        if known is None and refused("wallet_order"):
            return JSONResponse({"status": "ERROR", "reason": "wallet limit exceeded (drill)"}, status_code=422)
        if known is not None:  # idempotent by the partner's order id
            return {"wallet_order_id": known["wallet_order_id"], "status": known["status"]}
        wallet_id = f"LBW{_num(str(order_id), 10)}"
        order = {"order_id": order_id, "wallet_order_id": wallet_id, "status": "SUCCESS", "loan_id": loan["loan_id"],
                 "amount": body.get("amount"), "utr": f"LBXW{_num(str(order_id), 12)}"}  # fmt: skip
        book["orders"][order_id] = order
        loan["repaid_principal"] += paise(body.get("principal", "0"))
        callback(loan, "CREDIT_ORDER", {k: order[k] for k in ("order_id", "wallet_order_id", "status", "utr")},
                 f"order:{order_id}")  # fmt: skip
        if loan["repaid_principal"] >= loan["share"] and loan["status"] != "CLOSED":
            loan["status"] = "CLOSED"
            callback(loan, "LOAN_STATUS", {"status": "CLOSED"}, "closed")
        return {"wallet_order_id": wallet_id, "status": "PENDING"}

    @app.get(f"{BASE}/transactions/{{order_id}}")
    def transaction(order_id: str, request: Request) -> dict:
        authorised(request)
        order = book["orders"].get(order_id)
        if order is None:
            raise HTTPException(404, f"order {order_id} not found")
        return {"order_id": order_id, "status": order["status"], "utr": order["utr"]}

    @app.get(f"{BASE}/loans/{{loan_id}}/foreclosure")
    def foreclosure(loan_id: str, request: Request, date: str | None = None) -> dict:
        authorised(request)
        loan = loan_of(loan_id)
        left = loan["share"] - loan["repaid_principal"]
        interest = left * int(str(loan.get("roi") or "0").replace(".", "")) // 120_000  # a month's interest
        return {"foreclosure_amount": rupees(left + interest), "principal": rupees(left), "interest": rupees(interest),
                "as_of": date, "roi": loan.get("roi") or percent(0)}  # fmt: skip

    @app.get(f"{BASE}/loans/{{loan_id}}/noc")
    def noc(loan_id: str, request: Request) -> Response:
        authorised(request)
        loan = loan_of(loan_id)
        if loan["status"] != "CLOSED":
            return JSONResponse({"status": "ERROR", "reason": "loan is not closed"}, status_code=409)
        return Response(_pdf(f"Lendbox NOC: loan {loan_id} closed"), media_type="application/pdf")

    @app.get("/_partners/lendbox/colending")
    def state() -> dict:
        return book

    @app.post("/_partners/lendbox/colending/refuse")
    async def refuse(request: Request) -> dict:
        """Refuse (422) the next ``times`` calls of ``call`` (``wallet_order`` or ``schedule``)."""
        body = await sbx.json_body(request)
        call, times = body.get("call"), body.get("times", 1)
        if call not in ("wallet_order", "schedule"):
            raise HTTPException(400, "call must be wallet_order or schedule")
        if isinstance(times, bool) or not isinstance(times, int) or times < 0:
            raise HTTPException(400, "times must be a non-negative integer")
        refusals[call] = times
        return {"call": call, "times": times}

    @app.delete("/_partners/lendbox/colending/refuse")
    def clear_refusals() -> dict:
        cleared = sum(refusals.values())
        refusals.clear()
        return {"cleared": cleared}
