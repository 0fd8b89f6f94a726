"""The loans and the deliveries of the webhook storm (tests/integration/test_webhook_storm.py).

Loans are written straight into servicing, as the disbursal activity leaves them (the way
``bench/collections_day.py`` does): customer, ``loans`` row DISBURSED with its status history, the disbursal's
ledger posting, ``repayment_installments``, and a ``LoanWorkflow`` started with ``servicing`` set. Deliveries are
built in each vendor's documented shape with the sandbox's builders and signed as the vendor signs; a forged one
is signed with another secret, altered after signing, or (Cashfree) stamped more than 5 minutes ago or ahead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from activities.providers import signing
from los.seed import SANDBOX_SECRET
from sandbox import esign, gateway_events
from sandbox.banks import idfc_event
from sandbox.webhooks import EVENT_ID_HEADERS

FORGED_SECRET = "not-the-brand-secret"  # noqa: S105
PRODUCT = "PL-MONTHLY"  # monthly EMIs: nothing falls due while the storm runs
AMOUNT = 30_000_00
TENURE = 3


@dataclass(frozen=True)
class Delivery:
    """One HTTP delivery: where to, the exact bytes and headers, and whether the API must refuse it (401)."""

    vendor: str
    body: bytes
    headers: dict[str, str]
    forged: bool = False
    brand_id: str = ""  # the URL's brand (set by the storm)


@dataclass
class Expected:
    """What the storm's real payments are: (gateway, payment id) → loan id, and the ids that must never credit."""

    credits: dict[tuple[str, str], str] = field(default_factory=dict)
    never: set[tuple[str, str]] = field(default_factory=set)


def seed_servicing_loans(db: Any, brand_id: str, n: int) -> list[Any]:
    """``n`` loans of the brand in servicing (DISBURSED an hour ago), written as the disbursal activity writes them;
    returns each loan's ``LoanWorkflowInput`` (start it to begin servicing)."""
    from sqlalchemy import select

    from activities.loan import queries, schedule_queries
    from api.products import loan_terms, money_in_policy, preview_for
    from db.models import Brand, Customer, Loan, LoanProduct, LoanStatusHistory
    from domain import ledger, schedule
    from domain.brand_config import BrandConfig
    from domain.status import LoanStatus
    from workflows.contracts import InstallmentState, LoanPolicy, LoanWorkflowInput, ServicingState
    from workflows.options import IST

    disbursed_at = datetime.now(UTC) - timedelta(hours=1)
    disbursed_on = disbursed_at.astimezone(IST).date()
    inputs = []
    with db.unit_of_work() as session:
        brand = session.get_one(Brand, brand_id)
        product = session.scalars(
            select(LoanProduct).where(LoanProduct.brand_id == brand_id, LoanProduct.code == PRODUCT)
        ).one()
        read = BrandConfig.of(brand.config)
        terms = loan_terms(session, product, AMOUNT, TENURE)
        preview = preview_for(session, product, AMOUNT, TENURE, disbursed_on)
        policy = LoanPolicy(
            min_credit_score=read.min_credit_score,
            auto_sanction_score=read.auto_sanction_score,
            esign_expiry_seconds=read.esign_expiry_seconds,
            payment_provider="razorpay",
            allocation=dict(read.allocation or {}),
            penal=(product.charges or {}).get("penal"),
            prepayment_mode=read.prepayment_mode,
            npa_days=read.npa_days,
            kyc_timeout_seconds=read.kyc_timeout_seconds,
            **money_in_policy(product.charges, read, preview, TENURE),
        )
        rows = schedule.generate(terms.schedule_terms(disbursed_on)).rows
        installments = [
            InstallmentState(
                r.number,
                datetime.combine(r.due_date + timedelta(days=1), datetime.min.time(), IST),
                r.principal,
                r.interest,
                due_date=r.due_date,
                days=r.days,
                fees=r.fees,
            )
            for r in rows
        ]
        tag = uuid.uuid4().int % 10**4
        for i in range(n):
            loan_id = str(uuid.uuid4())
            customer = Customer(
                brand_id=brand_id, phone=f"7{tag:04d}{i:05d}", phone_verified=True, full_name=f"Storm {i}"
            )
            session.add(customer)
            session.flush()
            session.add(
                Loan(
                    id=loan_id,
                    brand_id=brand_id,
                    customer_id=customer.id,
                    product_id=product.id,
                    workflow_id=f"loan-{loan_id}",
                    amount=AMOUNT,
                    tenure=TENURE,
                    annual_rate_bps=product.annual_rate_bps,
                    status=LoanStatus.DISBURSED.value,
                    upfront_charges=preview["charges"],
                    net_disbursed=terms.net_disbursed,
                    outstanding_principal=AMOUNT,
                    disbursed_at=disbursed_at,
                    disbursal_utr=f"UTRS{tag:04d}{i:08d}",
                    next_due_at=installments[0].due_at,
                )
            )
            session.flush()
            session.add(LoanStatusHistory(loan_id=loan_id, seq=0, to_status=LoanStatus.DISBURSED.value, reason="seed"))
            txn = ledger.disbursal_with_deductions(
                AMOUNT,
                upfront_fees=terms.upfront_fees,
                upfront_fees_gst=terms.upfront_fees_gst,
                third_party=terms.third_party,
            )
            queries.post_ledger(session, loan_id, f"loan-{loan_id}:ledger:disbursal", txn, disbursed_on)
            schedule_queries.add_installments(session, loan_id, installments, AMOUNT)
            servicing = ServicingState(installments=installments, disbursed_at=disbursed_at)
            inputs.append(
                LoanWorkflowInput(
                    loan_id,
                    brand_id,
                    customer.id,
                    terms,
                    policy,
                    status=LoanStatus.DISBURSED,
                    status_seq=0,
                    servicing=servicing,
                )
            )
    return inputs


async def start_servicing(client: Any, task_queue: str, inputs: list[Any]) -> None:
    """Start each loan's workflow in servicing, as the origination run's continue-as-new does."""
    from temporalio.common import SearchAttributePair, TypedSearchAttributes

    from domain.status import LoanStatus
    from workflows.loan import BRAND_ID, LOAN_AMOUNT, LOAN_STATUS, LoanWorkflow

    for inp in inputs:
        attributes = [
            SearchAttributePair(LOAN_STATUS, LoanStatus.DISBURSED.value),
            SearchAttributePair(BRAND_ID, inp.brand_id),
            SearchAttributePair(LOAN_AMOUNT, AMOUNT),
        ]
        await client.start_workflow(
            LoanWorkflow.run,
            inp,
            id=f"loan-{inp.loan_id}",
            task_queue=task_queue,
            search_attributes=TypedSearchAttributes(attributes),
        )


# --- signed deliveries, as each vendor sends them ---------------------------------------------------------------
def signed(vendor: str, payload: dict, secret: str = SANDBOX_SECRET, event_id: str | None = None) -> Delivery:
    """Razorpay, IDFC, SignDesk: hex HMAC-SHA256 of the body (and the event id header where the vendor sends one)."""
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", signing.SIGNATURE_HEADERS[vendor]: signing.sign(body, secret)}
    if vendor in EVENT_ID_HEADERS:
        headers[EVENT_ID_HEADERS[vendor]] = event_id or f"evt_{uuid.uuid4().hex[:14]}"
    return Delivery(vendor, body, headers, forged=secret != SANDBOX_SECRET)


def cashfree(payload: dict, secret: str = SANDBOX_SECRET, skew_seconds: float = 0) -> Delivery:
    """Cashfree: base64 HMAC-SHA256 of ``x-webhook-timestamp`` + body; a skew beyond 5 min back or 1 min ahead
    is refused."""
    body = json.dumps(payload).encode()
    stamp = str(int((time.time() + skew_seconds) * 1000))
    digest = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
    headers = {
        "Content-Type": "application/json",
        "x-webhook-timestamp": stamp,
        "x-webhook-signature": base64.b64encode(digest).decode(),
    }
    return Delivery("cashfree", body, headers, forged=secret != SANDBOX_SECRET or not -240 < skew_seconds < 30)


def paytring(payload: dict, secret: str = SANDBOX_SECRET) -> Delivery:
    """Paytring: SHA-512 of the values and the secret."""
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", **gateway_events.paytring_headers(body, secret)}
    return Delivery("paytring", body, headers, forged=secret != SANDBOX_SECRET)


def tampered(delivery: Delivery) -> Delivery:
    """The same signature over a body changed after signing (the amount doubled)."""
    body = delivery.body.replace(b'"amount": ', b'"amount": 2', 1)
    return Delivery(delivery.vendor, body, delivery.headers, forged=True)


def razorpay_captured(loan_ref: str, payment_id: str, paise: int, event_id: str | None = None) -> Delivery:
    payment = gateway_events.razorpay_payment(payment_id, paise, "+919876543210", {"loan_id": loan_ref}, "order_s")
    return signed("razorpay", gateway_events.razorpay_payment_captured(payment), event_id=event_id)


def razorpay_link_paid(loan_ref: str, payment_id: str, paise: int) -> Delivery:
    payment = gateway_events.razorpay_payment(payment_id, paise, "+919876543210", {"loan_id": loan_ref}, "order_s")
    link = {"id": f"plink_{payment_id[4:]}", "amount": paise, "amount_paid": paise, "notes": {"loan_id": loan_ref},
            "reference_id": f"ref_{payment_id}", "status": "paid"}  # fmt: skip
    return signed("razorpay", gateway_events.razorpay_payment_link_paid(link, payment, "https://rzp.io/i/s"))


def razorpay_failed(loan_ref: str, payment_id: str, paise: int) -> Delivery:
    payment = gateway_events.razorpay_payment(payment_id, paise, "+919876543210", {"loan_id": loan_ref}, "order_s")
    return signed("razorpay", gateway_events.razorpay_payment_failed(payment))


def cashfree_payment(loan_ref: str, status: str, payment_id: str, paise: int) -> dict:
    order = {"order_id": f"CF_{payment_id}", "amount": paise, "tags": {"loan_id": loan_ref}}
    attempt = {"cf_payment_id": payment_id, "status": status, "amount": paise, "message": "declined by the bank"}
    return gateway_events.cashfree_payment_webhook(order, attempt, "9876543210")


def paytring_payment(loan_ref: str, status: str, payment_id: str, paise: int) -> dict:
    order = {"order_id": f"pt_order_{payment_id}", "receipt_id": f"r_{payment_id}", "notes": {"udf1": loan_ref}}
    return gateway_events.paytring_callback(order, {"id": payment_id, "status": status, "amount": paise})


def idfc_payout(loan_ref: str, transfer_id: str, secret: str = SANDBOX_SECRET) -> Delivery:
    transfer = {"transfer_id": transfer_id, "account": "50100012345678", "amount": AMOUNT, "loan_id": loan_ref,
                "utr": f"UTR{transfer_id[-10:]}", "mode": "IMPS", "reference": loan_ref, "created_at": int(time.time()),
                "outcome": "SUCCESS", "settle_at": 0, "reason": ""}  # fmt: skip
    return signed("idfc", idfc_event(transfer), secret=secret)


def signdesk_signed(loan_ref: str, docket_id: str, secret: str = SANDBOX_SECRET) -> Delivery:
    docket = {"docket_id": docket_id, "document_id": f"doc_{docket_id}", "reference": loan_ref, "signer_id": "s1",
              "loan_ref": loan_ref, "status": "SIGNED", "signed_at": "2026-01-01T10:00:00+05:30"}  # fmt: skip
    return signed("signdesk", esign.signdesk_callback(docket), secret=secret)


def acefone_event(call_id: str, ref: str, token: str | None = SANDBOX_SECRET) -> Delivery:
    """Acefone signs nothing: the brand's secret rides in the header the lender set in Acefone's form."""
    body = {"uuid": f"{call_id}-u", "call_id": call_id, "direction": "clicktocall", "call_to_number": "9876543210",
            "caller_id_number": "8062451617", "start_stamp": "2026-01-01 10:00:00", "answer_stamp": "",
            "end_stamp": "2026-01-01 10:00:30", "hangup_cause": "NO_ANSWER", "billsec": "0", "duration": "30",
            "answered_agent_number": "1001", "call_status": "missed", "recording_url": "",
            "custom_identifier": ref}  # fmt: skip
    headers = {"Content-Type": "application/json", **({"X-Webhook-Token": token} if token else {})}
    return Delivery("acefone", json.dumps(body).encode(), headers, forged=token != SANDBOX_SECRET)


def stringee_forged(call_id: str) -> Delivery:
    body = json.dumps({"call_status": "ended", "call_id": call_id, "timestamp_ms": 1}).encode()
    headers = {"Content-Type": "application/json", "X-STRINGEE-SIGNATURE": base64.b64encode(b"forged").decode()}
    return Delivery("stringee", body, headers, forged=True)
