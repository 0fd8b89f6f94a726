"""A loan booked with a partner lender, over the real database, the real sandbox's partner twins over HTTP and the
real worker: its KFS fee lines, APR and net disbursal are the accepted offer's; the partner's DISBURSAL SLA is
watched (the scheduled ``PartnerDisbursalWatchWorkflow``): past it the partner's status API is asked, the answer
recorded, the breach marked (SLA report, the loan's routing view) and staff alerted, a recheck then the escalation
per the partner's settings; a late signed UTR callback is applied exactly once; a forged one changes nothing.

The loan is booked through the routing activities themselves (``PartnerActivities``: offers, submission to the
sandbox twin, the record of the acceptance), so no origination journey has to run first.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import select

from activities.partners import PartnerActivities
from activities.providers.partners.base import hmac_hex
from api.products import loan_terms, preview_for
from db import kfs as db_kfs
from db.models import (
    CoLentLoan,
    Customer,
    Loan,
    LoanProduct,
    PartnerDisbursal,
    PartnerLender,
    PartnerOffer,
    StaffNotification,
)
from db.partners import save_rule_table
from domain import schedule as engine
from domain.apr import apr
from domain.charges import ChargeLine, KfsHead, UpfrontCharges
from domain.closure import cooling_off_exit
from domain.kfs import Recurrence
from domain.partners import PartnerPricing
from los.demo import Driver, Journey, demo_identity
from los.demo_partners import partner_body
from tests.conftest import eventually, record_histories
from workflows.contracts.partners import PartnerAttemptRecord, PartnerRouteRequest, PartnerSubmitRequest
from workflows.loan import LoanWorkflow
from workflows.options import IST
from workflows.partner_disbursal_watch import PartnerDisbursalWatchWorkflow

SECRET = "sandbox-partner-secret"  # noqa: S105 - the sandbox twins' published test secret
HEADERS = {"kavach": ("X-Kavach-Timestamp", "X-Kavach-Signature")}


def _partner(db, brand: dict, sandbox_url: str, code: str, name: str) -> str:  # noqa: ANN001
    settings = {"base_url": sandbox_url, "api_key": f"test-{code}-key", "webhook_secret": SECRET,
                "partner_id": "TEST-PARTNER", "disbursal_recheck_seconds": 60, "disbursal_max_checks": 2}  # fmt: skip
    with db.unit_of_work() as s:
        partner = PartnerLender(
            brand_id=brand["brand_id"], code=code, name=name, adapter=code, active=True, priority=10,
            min_amount=1_000_00, max_amount=10_00_000_00, min_tenure=1, max_tenure=36,
            pricing=PartnerPricing(1900, processing_fee_bps=150).as_dict(),
            sla={"DECISION": 20, "DISBURSAL": 3600}, settings=settings, rules_version=0,
        )  # fmt: skip
        s.add(partner)
        s.flush()
        save_rule_table(s, partner, [], "limits only", "test")
        return partner.id


async def _booked_loan(db, brand: dict, http: httpx.AsyncClient, code: str) -> tuple[str, str]:  # noqa: ANN001
    """A PL-MONTHLY loan (₹50,000 over 6 months, a pass-through insurance charge) booked with ``code`` through the
    routing activities; (loan id, accepted offer id)."""
    with db.unit_of_work() as s:
        product = s.scalars(
            select(LoanProduct).where(LoanProduct.brand_id == brand["brand_id"], LoanProduct.code == "PL-MONTHLY")
        ).one()
        customer = Customer(
            brand_id=brand["brand_id"],
            phone=f"9{uuid.uuid4().int % 10**9:09d}",
            pan="ABCDE1234F",
            full_name="Asha Rao",
            dob=date(1990, 5, 17),
            state="Karnataka",
            pincode="560001",
        )
        s.add(customer)
        s.flush()
        terms = loan_terms(s, product, 50_000_00, 6)
        preview = preview_for(s, product, 50_000_00, 6, date.today())
        loan_id = str(uuid.uuid4())
        s.add(
            Loan(
                id=loan_id,
                brand_id=brand["brand_id"],
                customer_id=customer.id,
                product_id=product.id,
                workflow_id=f"loan-{loan_id}",
                amount=50_000_00,
                tenure=6,
                annual_rate_bps=product.annual_rate_bps,
                status="SANCTIONED",
                upfront_charges=preview["charges"],
                net_disbursed=terms.net_disbursed,
            )
        )
    acts = PartnerActivities(db, http)
    key = f"loan-{loan_id}"
    route = await acts.partner_offers(PartnerRouteRequest(loan_id, brand["brand_id"], f"{key}:partners:1", terms, 1))
    (offer,) = [o for o in route.offers if o.partner_code == code]
    attempt_key = f"{key}:partners:1:{code}"
    answer = await acts.partner_submit(
        PartnerSubmitRequest(loan_id, brand["brand_id"], offer.offer_id, attempt_key, 10)
    )
    assert answer.outcome == "ACCEPTED", answer
    await acts.partner_record_attempt(
        PartnerAttemptRecord(loan_id, brand["brand_id"], offer.offer_id, "ACCEPTED", 120, 20, datetime.now(UTC),
                             f"{attempt_key}:record", None, answer.partner_reference)
    )  # fmt: skip
    return loan_id, offer.offer_id


def _disbursed(db, loan_id: str, ago: timedelta) -> None:  # noqa: ANN001
    """The loan's own transfer settled ``ago`` (what ``record_disbursal`` writes, as far as the watch reads)."""
    with db.unit_of_work() as s:
        loan = s.get_one(Loan, loan_id)
        loan.status, loan.disbursed_at, loan.disbursal_utr = "DISBURSED", datetime.now(UTC) - ago, "TESTUTR0001"


async def _watch(app) -> dict:  # noqa: ANN001
    return await app.client.execute_workflow(
        PartnerDisbursalWatchWorkflow.run,
        id=f"partner-disbursal-watch-{uuid.uuid4().hex[:8]}",
        task_queue=app.task_queue,
    )


def _case(db, loan_id: str) -> PartnerDisbursal:  # noqa: ANN001
    with db.unit_of_work() as s:
        case = s.scalars(select(PartnerDisbursal).where(PartnerDisbursal.loan_id == loan_id)).one()
        s.expunge(case)
        return case


def _alerts(db, brand_id: str, loan_id: str) -> list[str]:  # noqa: ANN001
    with db.unit_of_work() as s:
        rows = s.scalars(select(StaffNotification).where(StaffNotification.brand_id == brand_id)).all()
        return sorted(r.meta["alert"] for r in rows if r.meta.get("loanId") == loan_id)


async def test_the_kfs_of_a_booked_loan_carries_the_accepted_offers_fees(app, brand, sandbox, db) -> None:  # noqa: ANN001
    _partner(db, brand, sandbox.url, "kavach", "Kavach Finvest")
    async with httpx.AsyncClient(timeout=30) as http:
        loan_id, offer_id = await _booked_loan(db, brand, http, "kavach")
    today = datetime.now(IST).date()
    with db.unit_of_work() as s:
        offer, loan = s.get_one(PartnerOffer, offer_id), s.get_one(Loan, loan_id)
        kfs, as_dict = db_kfs.loan_kfs(s, loan_id, today)
        product = s.get_one(LoanProduct, loan.product_id)
        terms = db_kfs.product_terms(product, loan.amount, loan.tenure, db_kfs.brand_holidays(s, loan.brand_id, today),
                                     annual_rate_bps=loan.annual_rate_bps)  # fmt: skip
        plan = engine.generate(db_kfs.schedule_terms(terms, today))
    assert offer.status == "ACCEPTED" and (offer.fees, offer.gst, offer.third_party) == (750_00, 135_00, 300_00)
    # The KFS's fee rows are the offer's: the processing fee under its head, its GST, the pass-through insurance.
    assert kfs.processing_fees == offer.fees and kfs.gst == offer.gst and kfs.insurance_charges == offer.third_party
    assert kfs.other_charges == 0
    assert kfs.upfront_charges == offer.fees + offer.gst + offer.third_party
    assert kfs.net_disbursed == offer.net_disbursed == loan.net_disbursed
    one_time = [f for f in kfs.fees if f.recurrence == Recurrence.ONE_TIME]
    assert sorted((f.name, f.amount) for f in one_time) == [
        ("Credit life insurance", 300_00),
        ("GST on Processing fee (Kavach Finvest)", 135_00),
        ("Processing fee (Kavach Finvest)", 750_00),
    ]
    assert {f.name: f.head for f in one_time}["Processing fee (Kavach Finvest)"] == KfsHead.PROCESSING_FEE
    # The APR recomputed from those lines is the KFS's, the offer's and the loan's.
    charges = UpfrontCharges(loan.amount, tuple(ChargeLine(f.name, f.kind, f.amount, f.head) for f in one_time))
    assert apr(plan, charges) == kfs.apr == offer.apr == loan.apr
    assert kfs.interest_rate == Decimal(19) and as_dict["net_disbursed_paise"] == offer.net_disbursed
    # The loan row keeps the same lines (the disbursal and the agreement read it).
    assert [(c["name"], c["amount"]) for c in loan.upfront_charges] == [
        ("Processing fee (Kavach Finvest)", "750.00"),
        ("GST on Processing fee (Kavach Finvest)", "135.00"),
        ("Credit life insurance", "300.00"),
    ]


async def test_a_late_partner_disbursal_is_asked_marked_alerted_escalated_and_its_late_utr_taken_once(  # noqa: PLR0915
    app,
    brand,
    sandbox,
    db,  # noqa: ANN001
) -> None:
    _partner(db, brand, sandbox.url, "kavach", "Kavach Finvest")
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=30) as box:
        loan_id, _ = await _booked_loan(db, brand, box, "kavach")
        held = await box.post(
            "/_partners/disbursals", json={"partner": "kavach", "reference": loan_id, "status": "PENDING"}
        )
        assert held.status_code == 200
        # Disbursed 30 minutes ago: within Kavach's 1 h DISBURSAL SLA, nothing is asked.
        _disbursed(db, loan_id, timedelta(minutes=30))
        await _watch(app)
        case = _case(db, loan_id)
        assert (case.state, case.checks, case.breached, case.amount) == (
            "PENDING",
            0,
            False,
            50_000_00 - 885_00 - 300_00,
        )
        assert case.due_at - case.disbursed_at == timedelta(hours=1)
        # Past it: asked (PENDING at Kavach), recorded, the breach marked and loan ops and admins alerted.
        _disbursed(db, loan_id, timedelta(hours=2))
        with db.unit_of_work() as s:
            row = s.get_one(PartnerDisbursal, case.id)
            row.disbursed_at, row.due_at = (
                datetime.now(UTC) - timedelta(hours=2),
                datetime.now(UTC) - timedelta(hours=1),
            )
        await _watch(app)
        case = _case(db, loan_id)
        assert (case.state, case.checks, case.breached) == ("BREACHED", 1, True)
        assert case.check_log[-1]["status"] == "PENDING" and case.utr is None
        assert case.next_check_at is not None and case.next_check_at > datetime.now(UTC)
        assert set(_alerts(db, brand["brand_id"], loan_id)) == {"partner_disbursal_breach"}
        before = len(_alerts(db, brand["brand_id"], loan_id))
        await _watch(app)  # not due again before its recheck time: nothing asked, nobody alerted twice
        assert _case(db, loan_id).checks == 1 and len(_alerts(db, brand["brand_id"], loan_id)) == before
        # Its recheck comes (Kavach's settings: 2 checks): still no UTR → escalated to the admins.
        with db.unit_of_work() as s:
            s.get_one(PartnerDisbursal, case.id).next_check_at = datetime.now(UTC) - timedelta(seconds=1)
        await _watch(app)
        case = _case(db, loan_id)
        assert (case.state, case.checks, case.escalated_at is not None) == ("ESCALATED", 2, True)
        assert "partner_disbursal_escalation" in _alerts(db, brand["brand_id"], loan_id)
        driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
        try:
            routing = await driver.partner("LOAN_EXECUTIVE", "GET", f"/partner-lenders/loans/{loan_id}")
            assert (routing["disbursal"]["state"], routing["disbursal"]["breached"]) == ("ESCALATED", True)
            assert [c["status"] for c in routing["disbursal"]["checkLog"]] == ["PENDING", "PENDING"]
            url = f"{app.api.url}/api/v1/partner/partner-lenders/callbacks/{brand['brand_id']}/kavach/disbursal"
            # A callback with no UTR yet (still in progress): kept on the case's log once, nothing else changes.
            pending = json.dumps({"eventId": "evt_pending_1", "eventType": "DISBURSEMENT_STATUS",
                                  "externalRef": f"loan-{loan_id}:partners:1:kavach", "applicationId": "KVF-1",
                                  "disbursementStatus": "IN_PROGRESS", "utrNumber": None}).encode()  # fmt: skip
            for expected in ("recorded", "duplicate"):
                answer = await driver.api.post(url.removeprefix(app.api.url), content=pending, headers=_signed(pending))
                assert answer.status_code == 200 and answer.json()["status"] == expected, answer.text
            assert (_case(db, loan_id).state, _case(db, loan_id).check_log[-1]["callback"]) == (
                "ESCALATED",
                "evt_pending_1",
            )
            # The partner disburses at last and its callback arrives, signed: the UTR is taken, the breach stays.
            disbursed = {"partner": "kavach", "reference": loan_id, "status": "DISBURSED"}
            assert (await box.post("/_partners/disbursals", json=disbursed)).status_code == 200
            sent = (await box.post("/_partners/disbursal-callback",
                                   json={"partner": "kavach", "reference": loan_id, "url": url})).json()  # fmt: skip
            assert sent["payload"]["disbursementStatus"] == "SUCCESS", sent
            try:
                case = await eventually(lambda: _confirmed(db, loan_id), timeout=30, interval=0.2)
            except AssertionError as late:  # say what the partner's deliveries were answered
                deliveries = [w for w in (await box.get("/_webhooks")).json() if "disbursal" in str(w.get("vendor"))]
                raise AssertionError(f"callback not applied; deliveries: {deliveries[-3:]}") from late
            assert (case.confirmed_via, case.breached, case.callback_event_id) == ("CALLBACK", True, sent["eventId"])
            assert case.utr and case.utr.startswith("KVFD")
            # The same callback again, or another UTR: nothing changes.
            raw = json.dumps(sent["payload"]).encode()
            again = await driver.api.post(url.removeprefix(app.api.url), content=raw, headers=_signed(raw))
            assert again.status_code == 200 and again.json()["status"] == "duplicate", again.text
            other = json.dumps({**sent["payload"], "eventId": "evt_other", "utrNumber": "KVFD999999999999"}).encode()
            answer = await driver.api.post(url.removeprefix(app.api.url), content=other, headers=_signed(other))
            assert answer.json()["status"] == "duplicate"
            assert _case(db, loan_id).utr == case.utr
            # A forged or malformed callback: refused, nothing stored.
            forged = await driver.api.post(url.removeprefix(app.api.url), content=other,
                                           headers=_signed(other, secret="not-the-secret"))  # fmt: skip
            assert forged.status_code == 401
            bad = json.dumps({"eventType": "DISBURSEMENT_STATUS", "eventId": "e1"}).encode()
            malformed = await driver.api.post(url.removeprefix(app.api.url), content=bad, headers=_signed(bad))
            assert malformed.status_code == 422 and "disbursementStatus" in malformed.text
            unknown = await driver.api.post(url.removeprefix(app.api.url).replace("/kavach/", "/nobody/"),
                                            content=raw, headers=_signed(raw))  # fmt: skip
            assert unknown.status_code == 404
            # Confirmed: never asked again; the SLA report counts the breach and the escalation.
            await _watch(app)
            assert _case(db, loan_id).checks == 2
            today = datetime.now(IST).date()
            report = await driver.partner("ADMIN", "GET", "/partner-lenders/sla", params={
                "fromDate": (today - timedelta(days=1)).isoformat(), "toDate": today.isoformat()})  # fmt: skip
            row = next(r for r in report if r["partnerCode"] == "kavach")
            assert (row["disbursals"], row["disbursalsConfirmed"], row["disbursalBreaches"],
                    row["disbursalsEscalated"]) == (1, 1, 1, 1)  # fmt: skip
            assert row["disbursalMedianSeconds"] >= 2 * 3600 - 60
        finally:
            await driver.close()


async def test_the_status_api_confirms_a_utr_the_callback_never_brought(app, brand, sandbox, db) -> None:  # noqa: ANN001
    _partner(db, brand, sandbox.url, "navodaya", "Navodaya Credit")
    async with httpx.AsyncClient(timeout=30) as http:
        loan_id, _ = await _booked_loan(db, brand, http, "navodaya")
    await asyncio.sleep(1.1)  # the twin disburses a second after booking; no callback is sent
    _disbursed(db, loan_id, timedelta(hours=3))
    await _watch(app)
    case = _case(db, loan_id)
    # Navodaya's signed status API answered DISBURSED with its UTR: confirmed by the watch, late (a breach), and
    # nobody chased (the check that found the UTR raises no alert).
    assert (case.state, case.confirmed_via, case.breached, case.checks) == ("CONFIRMED", "STATUS_API", True, 1)
    assert case.utr and case.utr.startswith("NAVD")
    assert _alerts(db, brand["brand_id"], loan_id) == []


def _confirmed(db, loan_id: str) -> PartnerDisbursal | None:  # noqa: ANN001
    with db.unit_of_work() as s:
        case = s.scalars(select(PartnerDisbursal).where(PartnerDisbursal.loan_id == loan_id)).first()
        if case is None or case.state != "CONFIRMED":
            return None
        s.expunge(case)
        return case


def _signed(raw: bytes, secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(time.time()))
    stamp_header, signature_header = HEADERS["kavach"]
    return {"content-type": "application/json", stamp_header: stamp, signature_header: hmac_hex(secret, stamp, raw)}


async def test_a_co_lent_loans_partner_funding_confirms_its_disbursal(app, brand, sandbox, db) -> None:  # noqa: ANN001
    partner_id = _partner(db, brand, sandbox.url, "kavach", "Kavach Finvest")
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=30) as box:
        loan_id, _ = await _booked_loan(db, brand, box, "kavach")
        await box.post("/_partners/disbursals", json={"partner": "kavach", "reference": loan_id, "status": "PENDING"})
        _disbursed(db, loan_id, timedelta(minutes=90))
        due = datetime.now(UTC) - timedelta(minutes=30)
        with db.unit_of_work() as s:  # co-lent, and its share funded (the co-lending callback's record) in time
            s.add(CoLentLoan(brand_id=brand["brand_id"], loan_id=loan_id, partner_id=partner_id, partner_code="kavach",
                             partner_share_bps=2000, partner_rate_bps=1200, blended_rate_bps=1900,
                             fees_rule="ORIGINATOR", penal_rule="SHARE", principal=50_000_00,
                             originator_principal=40_000_00, partner_principal=10_000_00,
                             disbursed_on=due.astimezone(IST).date(), partner_utr="LBXN000000000001",
                             partner_funded_on=due.astimezone(IST).date()))  # fmt: skip
        await _watch(app)
        case = _case(db, loan_id)
        # Confirmed by the funding's UTR: the partner (held PENDING at the twin) was not asked, no breach.
        assert (case.state, case.confirmed_via, case.utr) == ("CONFIRMED", "CO_LENDING", "LBXN000000000001")
        assert (case.checks, case.breached) == (0, False)
        await box.delete("/_partners/disbursals")


async def test_a_callback_within_the_sla_confirms_before_any_watch_run(app, brand, sandbox, db) -> None:  # noqa: ANN001
    _partner(db, brand, sandbox.url, "kavach", "Kavach Finvest")
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=30) as box:
        loan_id, _ = await _booked_loan(db, brand, box, "kavach")
        _disbursed(db, loan_id, timedelta(minutes=5))  # no watch has run: no case yet
        disbursed = {"partner": "kavach", "reference": loan_id, "status": "DISBURSED"}
        await box.post("/_partners/disbursals", json=disbursed)
        url = f"{app.api.url}/api/v1/partner/partner-lenders/callbacks/{brand['brand_id']}/kavach/disbursal"
        await box.post("/_partners/disbursal-callback", json={"partner": "kavach", "reference": loan_id, "url": url})
        case = await eventually(lambda: _confirmed(db, loan_id), timeout=30, interval=0.2)
    # The callback opened the loan's case and confirmed it within the SLA: no breach, nobody alerted, never asked.
    assert (case.confirmed_via, case.breached, case.checks) == ("CALLBACK", False, 0)
    assert _alerts(db, brand["brand_id"], loan_id) == []


async def test_a_routed_loan_end_to_end_kfs_cooling_off_and_disbursal_case(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """Over the public API and the loan's own workflow: the KFS the borrower accepts, the cooling-off exit's cost
    (the policy APR, ``partner-offer-apr-v1``) and the disbursal case all carry the booked offer's terms."""
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        await driver.partner("ADMIN", "POST", "/partner-lenders",
                             json=partner_body("kavach", "Kavach Finvest", 1900, 150, 20, 10, sandbox.url))  # fmt: skip
        phone, pan = demo_identity(23, "auto")
        headers = await driver.register(phone)
        await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
        await driver.profile(headers)
        body = {"amount": "50000", "tenure": 6, "productCode": "PL-MONTHLY"}
        created = await driver._ok(await driver.api.post("/api/v1/web/loans", json=body, headers=headers))
        loan_id, deadline = created["id"], time.monotonic() + 120
        await driver.complete_kyc(headers, loan_id, deadline)
        booked = await eventually(lambda: _booked(driver, loan_id), timeout=90, interval=0.25)
        offer = next(o for o in booked["offers"] if o["partnerCode"] == "kavach")
        kfs = await driver._ok(await driver.api.get(f"/api/v1/web/loans/{loan_id}/kfs", headers=headers))
        annex = kfs.get("kfs", kfs)
        assert (annex["processing_fees_paise"], annex["gst_paise"], annex["net_disbursed_paise"]) == (
            offer["fees"], offer["gst"], offer["netDisbursed"],
        )  # fmt: skip
        assert annex["apr_percent"] == offer["apr"]
        await driver.accept_kfs(headers, loan_id)
        j = Journey(phone=phone, pan=pan)
        j.loan_id = loan_id
        loan = await driver.wait_for(headers, loan_id, lambda x: x["status"] == "AGREEMENT_PENDING" and x["agreement"],
                                     "eSign link", deadline)  # fmt: skip
        await driver.sign(headers, j, loan, deadline)
        await driver.disburse(headers, j, deadline)
        tomorrow = (datetime.now(IST).date() + timedelta(days=1)).isoformat()
        quote = await app.client.get_workflow_handle(f"loan-{loan_id}").query(LoanWorkflow.quote_cooling_off, tomorrow)
        on, disbursed_on = date.fromisoformat(tomorrow), datetime.now(IST).date()
        expected = cooling_off_exit(50_000_00, offer["apr"], disbursed_on, on, int(quote.get("daysHeld", 1)) + 30)
        with db.unit_of_work() as s:  # the product's APR at application would have cost something else
            product_apr = s.get_one(LoanProduct, s.get_one(Loan, loan_id).product_id).annual_rate_bps
        assert quote["available"] and quote["aprCost"] == expected.apr_cost, (quote, expected)
        assert (
            quote["aprCost"] != cooling_off_exit(50_000_00, Decimal(product_apr) / 100, disbursed_on, on, 30).apr_cost
        )
        if os.environ.get("LOS_RECORD_HISTORIES"):  # refresh tests/histories/partner_offer_apr_* (the replay suite)
            await record_histories(app.client, f"loan-{loan_id}", "partner_offer_apr")
        await _watch(app)
        routing = await driver.partner("LOAN_EXECUTIVE", "GET", f"/partner-lenders/loans/{loan_id}")
        assert routing["disbursal"]["amount"] == offer["netDisbursed"]
        assert routing["disbursal"]["state"] in ("PENDING", "CONFIRMED")
    finally:
        await driver.close()


async def _booked(driver: Driver, loan_id: str) -> dict | None:
    routing = await driver.partner("LOAN_EXECUTIVE", "GET", f"/partner-lenders/loans/{loan_id}")
    return routing if any(a["outcome"] == "ACCEPTED" for a in routing["attempts"]) else None
