"""A loan started before ``kyc-activity-per-step-v1`` retries ``kyc_step`` and ``decide_credit``: both still run,
against the real database and sandbox, through the per-step and per-stage code, with the keys they always used."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

from activities.kyc import KycActivities
from activities.storage import LocalStorage
from db.models import LoanDecision, ProviderCall
from los.demo import Driver, demo_identity
from los.seed import seed_brand
from tests.conftest import eventually
from workflows.contracts import DecisionRequest, KycStepRequest


async def test_old_activities_run_the_new_code(app, db, sandbox, storage_dir) -> None:  # noqa: ANN001
    code = f"o{uuid.uuid4().hex[:8]}"
    brand = seed_brand(db, sandbox.url, code=code, name=f"Old {code}", period_seconds=2, kyc_steps=["PAN", "CKYC"])
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        phone, pan = demo_identity(0, "auto")
        headers = await driver.register(phone)
        await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
        await driver.profile(headers)
        loan = await driver._ok(
            await driver.api.post(
                "/api/v1/web/loans", headers=headers, json={"amount": "50000", "tenure": 3, "productCode": "DEMO-FAST"}
            )
        )

        async def decided():  # noqa: ANN202
            current = await driver.loan(headers, loan["id"])
            return current if current["status"] != "APPLIED" else None

        await eventually(decided, timeout=60)
    finally:
        await driver.close()

    kyc = KycActivities(db, app.http, LocalStorage(storage_dir), app.settings.api_url, app.settings.field_key())
    env = ActivityEnvironment()
    old, new = f"old-{loan['id']}", f"new-{loan['id']}"
    ckyc_old = await env.run(kyc.kyc_step, KycStepRequest(loan["id"], brand["brand_id"], "CKYC", f"{old}:ckyc"))
    ckyc_new = await env.run(kyc.kyc_ckyc, KycStepRequest(loan["id"], brand["brand_id"], "CKYC", f"{new}:ckyc"))
    assert (ckyc_old.status, ckyc_old.score) == (ckyc_new.status, ckyc_new.score)
    selfie = await env.run(kyc.kyc_step, KycStepRequest(loan["id"], brand["brand_id"], "SELFIE", f"{old}:selfie"))
    assert selfie.status == "SKIPPED"

    decision = await env.run(kyc.decide_credit, DecisionRequest(loan["id"], brand["brand_id"], f"{old}:decision"))
    assert decision.outcome in ("AUTO_SANCTION", "MANUAL_REVIEW", "REJECT")
    with db.unit_of_work() as s:
        calls = {c.idempotency_key for c in s.scalars(select(ProviderCall).where(ProviderCall.loan_id == loan["id"]))}
        assert {f"{old}:ckyc:ckyc", f"{new}:ckyc:ckyc", f"{old}:decision:bureau"} <= calls
        decisions = {
            d.idempotency_key: d.outcome
            for d in s.scalars(select(LoanDecision).where(LoanDecision.loan_id == loan["id"]))
        }
    # the workflow's own decision (the new path) and the old activity's agree on the same loan
    ours = f"loan-{loan['id']}:decision:rules"
    assert decisions[f"{old}:decision:bre"] == decisions[f"{ours}:bre"] == "PASS"
    assert decisions[f"{old}:decision:evaluation"] == decisions[f"{ours}:evaluation"] == decision.outcome
