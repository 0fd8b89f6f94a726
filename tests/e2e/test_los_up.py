"""The whole stack as a newcomer runs it: `los up` (embedded PostgreSQL, Temporal dev server, worker, API,
sandbox as separate processes), driven over HTTP by `los demo` and by the same driver for a rejection;
then stopped with Ctrl-C and started again with a loan in flight."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from db.models import LedgerEntry, LedgerTransaction, Loan, LoanStatusHistory, RepaymentInstallment
from los.demo import Driver, demo_identity
from tests.conftest import eventually, free_port

pytestmark = pytest.mark.e2e


class UpProcess:
    def __init__(self, home: Path, ports: dict[str, int]):
        self.home = home
        self.ports = ports
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")}
        self.env.update(
            {
                "LOS_HOME": str(home),
                "LOS_API_PORT": str(ports["api"]),
                "LOS_SANDBOX_PORT": str(ports["sandbox"]),
                "LOS_TEMPORAL_PORT": str(ports["temporal"]),
                "LOS_TEMPORAL_UI_PORT": str(ports["ui"]),
                "LOS_TEMPORAL_UI_URL": f"http://localhost:{ports['ui']}",
            }
        )
        self.proc: subprocess.Popen | None = None
        self.log = home / "up.out"

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    @property
    def sandbox(self) -> str:
        return f"http://127.0.0.1:{self.ports['sandbox']}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "los.cli", "up"], env=self.env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT
        )  # noqa: SIM115
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"los up exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.api}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"los up not healthy in time: {self.log.read_text()[-3000:]}")

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        code = self.proc.wait(timeout=60)
        self.proc = None
        return code

    def db(self) -> Session:
        engine = create_engine(f"postgresql+psycopg://postgres@/postgres?host={self.home / 'pgdata'}")
        return Session(engine)


@pytest.fixture(scope="module")
def stack() -> Iterator[UpProcess]:
    home = Path(tempfile.mkdtemp(prefix="los-e2e-"))
    up = UpProcess(home, {name: free_port() for name in ("api", "sandbox", "temporal", "ui")})
    up.start()
    try:
        yield up
    finally:
        if up.proc is not None:
            up.stop()


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

    async def pending():  # noqa: ANN202
        detail = await driver.loan(headers, loan["id"])
        return detail if detail["status"] == "AGREEMENT_PENDING" and detail["agreement"] else None

    detail = await eventually(pending, timeout=60)
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
