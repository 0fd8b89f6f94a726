"""The whole stack as a newcomer runs it: `los up` (embedded PostgreSQL, Temporal dev server, worker, API,
sandbox as separate processes), driven over HTTP by `los demo` and by the same driver for a rejection;
then stopped with Ctrl-C and started again with a loan in flight."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import func, select

from db.models import LedgerEntry, LedgerTransaction, Loan, LoanStatusHistory, RepaymentInstallment
from los.demo import Driver, Journey, demo_identity
from tests.conftest import eventually
from tests.e2e.conftest import UpProcess

pytestmark = pytest.mark.e2e


def test_demo_takes_loans_to_completed(stack: UpProcess) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "los.cli",
            "demo",
            "--loans",
            "2",
            "--json",
            "--api",
            stack.api,
            "--sandbox",
            stack.sandbox,
        ],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout)
    assert len(report["loans"]) == 2
    with stack.db() as s:
        for item in report["loans"]:
            assert item["final_status"] == "COMPLETED" and item["installments_paid"] == 3
            assert item["workflow_id"] == f"loan-{item['loan_id']}"
            loan = s.get_one(Loan, item["loan_id"])
            assert loan.status == "COMPLETED" and loan.total_collected == item["total_collected_paise"]
            rows = s.scalars(select(RepaymentInstallment).where(RepaymentInstallment.loan_id == loan.id)).all()
            assert sum(r.total for r in rows) == item["total_collected_paise"]
            history = s.scalars(
                select(LoanStatusHistory.to_status)
                .where(LoanStatusHistory.loan_id == loan.id)
                .order_by(LoanStatusHistory.seq)
            ).all()
            assert history[0] == "APPLIED" and history[-1] == "COMPLETED" and "DISBURSED" in history
            unbalanced = s.execute(
                select(LedgerEntry.transaction_id)
                .join(LedgerTransaction)
                .where(LedgerTransaction.loan_id == loan.id)
                .group_by(LedgerEntry.transaction_id)
                .having(func.sum(LedgerEntry.amount) != 0)
            ).all()
            assert unbalanced == []
    wf = subprocess.run(
        [
            "temporal",
            "workflow",
            "list",
            "--address",
            f"127.0.0.1:{stack.ports['temporal']}",
            "--query",
            "LoanStatus='COMPLETED'",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert wf.returncode == 0, wf.stderr
    listed = {w["execution"]["workflowId"] for w in json.loads(wf.stdout or "[]")}
    assert {item["workflow_id"] for item in report["loans"]} <= listed


async def test_rejected_loan_and_search_attributes(stack: UpProcess) -> None:
    from temporalio.client import Client

    from workflows.loan import BRAND_ID, LOAN_STATUS

    driver = Driver(stack.api, stack.sandbox)
    try:
        journey = await driver.journey(*demo_identity(0, "reject"))
    finally:
        await driver.close()
    assert journey.status == "REJECTED"
    client = await Client.connect(f"127.0.0.1:{stack.ports['temporal']}")
    desc = await client.get_workflow_handle(journey.workflow_id).describe()
    assert desc.typed_search_attributes.get(LOAN_STATUS) == "REJECTED"
    with stack.db() as s:
        loan = s.get_one(Loan, journey.loan_id)
        assert loan.status == "REJECTED" and "BRE_MIN_BUREAU_SCORE" in (loan.status_reason or "")
        assert desc.typed_search_attributes.get(BRAND_ID) == loan.brand_id


async def test_loan_in_flight_survives_a_restart(stack: UpProcess) -> None:
    driver = Driver(stack.api, stack.sandbox)
    phone, pan = demo_identity(0, "auto")
    headers = await driver.register(phone)
    await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
    await driver.profile(headers)
    loan = await driver._ok(
        await driver.api.post(
            "/api/v1/web/loans", json={"amount": "30000", "tenure": 3, "productCode": "DEMO-FAST"}, headers=headers
        )
    )
    await driver.complete_kyc(headers, loan["id"], time.monotonic() + 90)  # the demo brand's full KYC

    journey = Journey(loan_id=loan["id"], workflow_id=loan["workflowId"])
    detail = await driver.to_signature(headers, journey, time.monotonic() + 60)  # the KFS accepted
    await driver.close()

    assert stack.stop() == 0
    stack.start()

    driver = Driver(stack.api, stack.sandbox)
    try:
        # the customer's access token from before the restart is still good
        (await driver.sandbox.post(detail["agreement"]["signingUrl"])).raise_for_status()

        async def signed():  # noqa: ANN202
            return (await driver.loan(headers, loan["id"]))["status"] == "AGREEMENT_SIGNED"

        await eventually(signed, timeout=60)
    finally:
        await driver.close()


def test_the_banner_shows_the_temporal_ui_on_its_port(stack: UpProcess) -> None:
    ui = f"http://localhost:{stack.ports['ui']}"
    banner = stack.output()
    assert f"Temporal UI    {ui} " in banner and ":8233" not in banner
    assert httpx.get(ui, timeout=10).status_code == 200  # and the UI is really there
    # ...decoding payloads through the API's codec endpoint
    codec = httpx.get(f"{ui}/api/v1/settings", timeout=10).json()["Codec"]
    assert codec["Endpoint"] == f"http://localhost:{stack.ports['api']}/api/v1/codec"  # the UI's own site


def test_the_banner_shows_the_console_and_the_app_and_they_are_served(stack: UpProcess) -> None:
    api = f"http://localhost:{stack.ports['api']}"
    banner = stack.output()
    assert f":{stack.ports['api']}/console" in banner and f":{stack.ports['api']}/app " in banner, banner
    for page in ("/console", "/app"):
        answer = httpx.get(f"{api}{page}", timeout=10)
        assert answer.status_code == 200 and '<script type="module"' in answer.text
    assert httpx.get(f"{api}/ui/vendor/preact-htm.js", timeout=10).status_code == 200  # no CDN: served here
    # the console's workflow links open this stack's Temporal UI, on its port (not 8233)
    console = httpx.get(f"{api}/console", timeout=10).text
    assert f'<meta name="los-temporal-ui-port" content="{stack.ports["ui"]}">' in console
