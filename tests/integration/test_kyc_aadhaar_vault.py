"""The Aadhaar Data Vault (db/aadhaar_vault.py): the number is deposited sealed, the loan's workflow gets only a
reference token and the masked number, the OTP activity reads it by token and erases it once the vendor answered;
a refused request leaves no entry; numbers past their lifetime are erased; rotation re-seals what is held."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

from db import aadhaar_vault
from db.models import AadhaarVaultEntry, Customer, Loan, LoanProduct
from los.crypto import AADHAAR, key_id, seal, unseal
from los.demo import SANDBOX_AADHAAR_OTP, Driver, demo_aadhaar, demo_identity
from los.rotate_cli import SEALED_COLUMNS, reseal_column
from los.seed import FULL_KYC, seed_brand
from los.settings import Settings
from los.temporal import payload_codec
from tests.conftest import eventually


@pytest.fixture
def kyc_brand(db, sandbox) -> dict:  # noqa: ANN001
    code = f"v{uuid.uuid4().hex[:8]}"
    return seed_brand(db, sandbox.url, code=code, name=f"Vault {code}", period_seconds=2, kyc_steps=FULL_KYC)


async def _applied(driver: Driver, phone: str, pan: str) -> tuple[dict, dict]:
    headers = await driver.register(phone)
    await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
    await driver.profile(headers)
    loan = await driver._ok(
        await driver.api.post(
            "/api/v1/web/loans", headers=headers, json={"amount": "50000", "tenure": 3, "productCode": "DEMO-FAST"}
        )
    )

    async def waiting() -> dict | None:
        seen = await driver.loan(headers, loan["id"], kyc=True)
        return seen if (seen.get("kyc") or {}).get("waitingFor") == "AADHAAR" else None

    await eventually(waiting, timeout=60)
    return headers, loan


async def _kyc_activities_on_an_applied_loan(app, kyc_brand, sandbox, db, storage_dir, n: int) -> tuple[dict, Any]:  # noqa: ANN001
    """A loan of demo identity ``n``, APPLIED and waiting for its Aadhaar OTP, and the KYC activities as the worker
    builds them (the app's database, HTTP client, storage and field key), to run one by one."""
    from activities.kyc import KycActivities
    from activities.storage import LocalStorage

    driver = Driver(app.api.url, sandbox.url, kyc_brand["brand_code"])
    try:
        _, loan = await _applied(driver, *demo_identity(n, "auto"))
    finally:
        await driver.close()
    kyc = KycActivities(db, app.http, LocalStorage(storage_dir), app.settings.api_url, app.settings.field_key())
    return loan, kyc


async def _update_inputs(app, workflow_id: str, name: str) -> list[dict]:  # noqa: ANN001
    """The decoded inputs of every accepted ``name`` update in the workflow's history."""
    history = await app.client.get_workflow_handle(workflow_id).fetch_history()
    codec = payload_codec(app.settings)
    found = []
    for event in history.events:
        if event.HasField("workflow_execution_update_accepted_event_attributes"):
            accepted = event.workflow_execution_update_accepted_event_attributes.accepted_request
            if accepted.input.name == name:
                (payload,) = await codec.decode(list(accepted.input.args.payloads))
                found.append(json.loads(payload.data))
    return found


async def test_the_update_carries_a_vault_reference_and_the_number_is_erased_once_sent(
    app,
    kyc_brand,
    sandbox,
    db,  # noqa: ANN001
) -> None:
    driver = Driver(app.api.url, sandbox.url, kyc_brand["brand_code"])
    aadhaar = demo_aadhaar()
    try:
        headers, loan = await _applied(driver, *demo_identity(0, "auto"))
        sent = await driver._ok(
            await driver.api.post(
                "/api/v1/web/kyc/initiate-aadhaar-otp", headers=headers, json={"aadhaarNumber": aadhaar}
            )
        )
        assert sent["status"] == "OTP_SENT"
        with db.unit_of_work() as s:
            (entry,) = s.scalars(select(AadhaarVaultEntry).where(AadhaarVaultEntry.loan_id == loan["id"])).all()
            workflow_id = s.get_one(Loan, loan["id"]).workflow_id
            # the purpose (sending the OTP) has ended: the number is gone, what the vendor answered stays
            assert entry.number_sealed is None and entry.erased_at is not None
            assert entry.vendor_reference and entry.masked == f"XXXX XXXX {aadhaar[-4:]}"
            assert entry.id.startswith("adv_") and aadhaar not in entry.id
        (update,) = await _update_inputs(app, workflow_id, "aadhaar_initiate")
        assert update["aadhaar_ref"] == entry.id and update["aadhaar_masked"] == entry.masked
        assert not update["aadhaar_sealed"] and not update["aadhaar_number"]
        assert aadhaar not in json.dumps(update)

        ok = await driver.api.post(
            "/api/v1/web/kyc/submit-aadhaar-otp", headers=headers, json={"otp": SANDBOX_AADHAAR_OTP}
        )
        assert ok.status_code == 200 and ok.json()["status"] == "VERIFIED", ok.text
        with db.unit_of_work() as s:
            customer = s.get_one(Customer, s.get_one(Loan, loan["id"]).customer_id)
            assert customer.aadhaar_verified and customer.aadhaar_masked == entry.masked

        # Aadhaar is no longer awaited: the update is refused (409) and the number it came with is not kept
        again = await driver.api.post(
            "/api/v1/web/kyc/initiate-aadhaar-otp", headers=headers, json={"aadhaarNumber": aadhaar}
        )
        assert again.status_code == 409, again.text
        with db.unit_of_work() as s:
            rows = s.scalars(select(AadhaarVaultEntry.id).where(AadhaarVaultEntry.loan_id == loan["id"])).all()
        assert rows == [entry.id]
    finally:
        await driver.close()


async def test_a_malformed_number_is_refused_before_the_vault(app, kyc_brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, kyc_brand["brand_code"])
    try:
        headers, loan = await _applied(driver, *demo_identity(1, "auto"))
        bad = await driver.api.post(
            "/api/v1/web/kyc/initiate-aadhaar-otp", headers=headers, json={"aadhaarNumber": "234567890123"}
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "aadhaarNumber"
        with db.unit_of_work() as s:
            assert s.scalars(select(AadhaarVaultEntry).where(AadhaarVaultEntry.loan_id == loan["id"])).all() == []
    finally:
        await driver.close()


@pytest.fixture
def a_loan(db, brand) -> Loan:  # noqa: ANN001
    """A loan row of a customer of its own (no workflow: the vault functions need only the row)."""
    with db.unit_of_work() as s:
        customer = Customer(brand_id=brand["brand_id"], phone=f"9{uuid.uuid4().int % 10**9:09d}")
        s.add(customer)
        s.flush()
        product = s.scalars(select(LoanProduct).where(LoanProduct.brand_id == brand["brand_id"])).first()
        assert product is not None
        loan = Loan(
            brand_id=brand["brand_id"], customer_id=customer.id, product_id=product.id,
            workflow_id=f"loan-vault-{uuid.uuid4()}", amount=5_000_000, tenure=3, annual_rate_bps=2400,
            status="APPLIED",
        )  # fmt: skip
        s.add(loan)
        s.flush()
        return loan


def test_read_is_per_loan_and_expired_numbers_are_erased(db, a_loan) -> None:  # noqa: ANN001
    loan = a_loan
    key = Settings().field_key()
    number = demo_aadhaar()
    past = datetime.now(UTC) - timedelta(hours=1)
    with db.unit_of_work() as s:
        live = aadhaar_vault.deposit(
            s, sealed=seal(key, AADHAAR, number), masked="XXXX XXXX " + number[-4:],
            brand_id=loan.brand_id, customer_id=loan.customer_id, loan_id=loan.id,
        )  # fmt: skip
        stale = aadhaar_vault.deposit(
            s, sealed=seal(key, AADHAAR, number), masked="XXXX XXXX " + number[-4:],
            brand_id=loan.brand_id, customer_id=loan.customer_id, loan_id=loan.id, now=past,
        )  # fmt: skip
    with db.unit_of_work() as s:
        entry = aadhaar_vault.read(s, live, loan_id=loan.id)
        assert entry and unseal(key, AADHAAR, entry.number_sealed or "") == number
        assert aadhaar_vault.read(s, live, loan_id=str(uuid.uuid4())) is None  # another loan's token reads nothing
        assert aadhaar_vault.read(s, "adv_unknown", loan_id=loan.id) is None
        expired = aadhaar_vault.read(s, stale, loan_id=loan.id)
        assert expired and expired.number_sealed is None  # past its lifetime it reads as erased at once
        assert aadhaar_vault.erase_expired(s) >= 1
    with db.unit_of_work() as s:
        assert s.get_one(AadhaarVaultEntry, stale).number_sealed is None
        assert s.get_one(AadhaarVaultEntry, live).number_sealed is not None
        aadhaar_vault.erase(s, live)
        aadhaar_vault.discard(s, stale)
    with db.unit_of_work() as s:
        assert s.get_one(AadhaarVaultEntry, live).number_sealed is None
        assert s.get(AadhaarVaultEntry, stale) is None


def test_rotation_reseals_the_numbers_the_vault_holds(db, a_loan) -> None:  # noqa: ANN001
    assert (AadhaarVaultEntry, "number_sealed", AADHAAR) in SEALED_COLUMNS  # `los rotate-field-key` moves it
    loan = a_loan
    old = Settings(field_keys={"k-old": "old-ring-secret"}).field_key()
    both = {"k-old": "old-ring-secret", "k-new": "new-ring-secret"}
    new = Settings(field_keys=both, field_key_id="k-new").field_key()
    number = demo_aadhaar()
    with db.unit_of_work() as s:
        token = aadhaar_vault.deposit(
            s, sealed=seal(old, AADHAAR, number), masked="XXXX XXXX " + number[-4:],
            brand_id=loan.brand_id, customer_id=loan.customer_id, loan_id=loan.id,
        )  # fmt: skip
    moved = reseal_column(db, new, AadhaarVaultEntry, "number_sealed", AADHAAR, where=AadhaarVaultEntry.id == token)
    assert (moved.resealed, moved.unreadable) == (1, 0)
    with db.unit_of_work() as s:
        sealed = s.get_one(AadhaarVaultEntry, token).number_sealed or ""
        assert key_id(sealed) == "k-new" and unseal(new, AADHAAR, sealed) == number
        aadhaar_vault.discard(s, token)


async def test_the_otp_activity_reads_by_token_answers_retries_and_still_takes_sealed_numbers(
    app,
    kyc_brand,
    sandbox,
    db,
    storage_dir,  # noqa: ANN001
) -> None:
    """The ``aadhaar_initiate`` activity itself: by token (a retry after the number was erased answers with the
    vendor's reference it kept; another loan's token reads nothing), and the sealed number of an update recorded
    before the vault (a loan in flight) still sends the OTP."""
    from workflows.contracts import KycStepRequest

    loan, kyc = await _kyc_activities_on_an_applied_loan(app, kyc_brand, sandbox, db, storage_dir, 2)
    key = app.settings.field_key()
    env = ActivityEnvironment()
    number = demo_aadhaar()
    with db.unit_of_work() as s:
        row = s.get_one(Loan, loan["id"])
        token = aadhaar_vault.deposit(
            s, sealed=seal(key, AADHAAR, number), masked="XXXX XXXX " + number[-4:],
            brand_id=row.brand_id, customer_id=row.customer_id, loan_id=row.id,
        )  # fmt: skip

    def request(n: int, **kw: str) -> KycStepRequest:
        return KycStepRequest(loan["id"], kyc_brand["brand_id"], "AADHAAR", f"vault-test-{n}", **kw)

    first = await env.run(kyc.aadhaar_initiate, request(1, aadhaar_ref=token))
    assert first.status == "WAITING" and first.reference
    retried = await env.run(kyc.aadhaar_initiate, request(2, aadhaar_ref=token))  # the number is gone by now
    assert (retried.status, retried.reference, retried.provider) == ("WAITING", first.reference, first.provider)
    with db.unit_of_work() as s:
        assert s.get_one(AadhaarVaultEntry, token).number_sealed is None
    elsewhere = await env.run(kyc.aadhaar_initiate, request(3, aadhaar_ref="adv_" + "y" * 32))
    assert elsewhere.status == "FAILED" and "enter it again" in (elsewhere.reason or "")
    in_flight = await env.run(kyc.aadhaar_initiate, request(4, aadhaar_sealed=seal(key, AADHAAR, number)))
    assert in_flight.status == "WAITING" and in_flight.reference


async def test_the_otp_check_run_again_with_its_key_answers_from_its_record(
    app,
    kyc_brand,
    sandbox,
    db,
    storage_dir,  # noqa: ANN001
) -> None:
    """``aadhaar_submit`` runs as a local activity, which runs again when its workflow task is lost: with the same
    key it answers from the VERIFIED check it recorded, without asking the vendor (here the second request carries a
    wrong OTP, which the vendor would refuse); a new key asks the vendor."""
    from db.models import ProviderCall
    from workflows.contracts import KycStepRequest

    loan, kyc = await _kyc_activities_on_an_applied_loan(app, kyc_brand, sandbox, db, storage_dir, 3)
    env = ActivityEnvironment()
    brand_id = kyc_brand["brand_id"]
    sent = await env.run(
        kyc.aadhaar_initiate,
        KycStepRequest(loan["id"], brand_id, "AADHAAR", "otp-test-send", aadhaar_number=demo_aadhaar()),
    )
    assert sent.status == "WAITING" and sent.reference

    def check(idempotency_key: str, otp: str) -> KycStepRequest:
        return KycStepRequest(loan["id"], brand_id, "AADHAAR", idempotency_key, reference=sent.reference, otp=otp)

    first = await env.run(kyc.aadhaar_submit, check("otp-test-check", SANDBOX_AADHAAR_OTP))
    assert first.status == "PASSED" and first.provider
    again = await env.run(kyc.aadhaar_submit, check("otp-test-check", "000000"))  # the same key: not sent again
    assert (again.status, again.provider, again.score) == ("PASSED", first.provider, first.score)
    assert again.facts == first.facts
    other = await env.run(kyc.aadhaar_submit, check("otp-test-other", "000000"))  # a new check: the vendor's answer
    assert other.status == "FAILED"
    with db.unit_of_work() as s:
        calls = s.scalars(select(ProviderCall.idempotency_key).where(ProviderCall.loan_id == loan["id"])).all()
    assert calls.count("otp-test-check:aadhaar") == 1
