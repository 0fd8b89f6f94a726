"""The Aadhaar Data Vault's periodic sweep (workflows/aadhaar_vault_sweep.py, schedule ``aadhaar-vault-sweep``) on the
real database and Temporal dev server: a number past its lifetime is erased by the workflow's run, one within it is
kept; the worker's schedule starts the same run; ``LOS_AADHAAR_VAULT_SWEEP_EVERY_SECONDS=0`` registers no schedule."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from temporalio.client import ScheduleOverlapPolicy
from temporalio.worker import Worker

from activities.aadhaar_vault import AadhaarVaultActivities
from db import aadhaar_vault
from db.models import AadhaarVaultEntry, Customer, Loan, LoanProduct
from los.crypto import AADHAAR, seal
from los.demo import demo_aadhaar
from los.schedules import ensure_schedule
from los.settings import Settings
from tests.conftest import eventually
from worker import scheduled_job
from workflows.aadhaar_vault_sweep import SCHEDULE_ID, AadhaarVaultSweepWorkflow


@pytest.fixture
def a_loan(db, brand) -> Loan:  # noqa: ANN001
    """A loan row of a customer of its own (the vault needs only the row)."""
    with db.unit_of_work() as s:
        customer = Customer(brand_id=brand["brand_id"], phone=f"9{uuid.uuid4().int % 10**9:09d}")
        s.add(customer)
        s.flush()
        product = s.scalars(select(LoanProduct).where(LoanProduct.brand_id == brand["brand_id"])).first()
        assert product is not None
        loan = Loan(
            brand_id=brand["brand_id"], customer_id=customer.id, product_id=product.id,
            workflow_id=f"loan-sweep-{uuid.uuid4()}", amount=5_000_000, tenure=3, annual_rate_bps=2400,
            status="APPLIED",
        )  # fmt: skip
        s.add(loan)
        s.flush()
        return loan


def _deposit(db, loan: Loan, now: datetime | None = None) -> str:  # noqa: ANN001
    """A number deposited for ``loan`` at ``now`` (default: now); its token."""
    number = demo_aadhaar()
    with db.unit_of_work() as s:
        return aadhaar_vault.deposit(
            s, sealed=seal(Settings().field_key(), AADHAAR, number), masked="XXXX XXXX " + number[-4:],
            brand_id=loan.brand_id, customer_id=loan.customer_id, loan_id=loan.id, now=now,
        )  # fmt: skip


def _held(db, token: str) -> tuple[bool, datetime | None]:  # noqa: ANN001
    """(the vault still holds the number, when it was erased)."""
    with db.unit_of_work() as s:
        row = s.get_one(AadhaarVaultEntry, token)
        return row.number_sealed is not None, row.erased_at


async def test_the_sweep_erases_numbers_past_their_lifetime_and_keeps_the_others(dev_env, db, a_loan) -> None:  # noqa: ANN001
    live = _deposit(db, a_loan)
    # deposited an hour ago (lifetime 15 minutes): left behind by a request that never reached the vendor
    stale = _deposit(db, a_loan, now=datetime.now(UTC) - timedelta(hours=1))
    assert _held(db, stale)[0] and _held(db, live)[0]  # no deposit came after it: nothing has swept it yet

    queue = f"vault-{uuid.uuid4().hex[:8]}"
    activities = AadhaarVaultActivities(db).all()
    async with Worker(dev_env.client, task_queue=queue, workflows=[AadhaarVaultSweepWorkflow], activities=activities):
        out = await dev_env.client.execute_workflow(
            AadhaarVaultSweepWorkflow.run, id=f"vault-sweep-{uuid.uuid4().hex[:8]}", task_queue=queue
        )
        assert out["erased"] >= 1  # this test's number, and any other test's left past its lifetime
        held, erased_at = _held(db, stale)
        assert not held and erased_at is not None
        assert _held(db, live) == (True, None)

        # run again: nothing of ours left to erase, the live number still kept
        await dev_env.client.execute_workflow(
            AadhaarVaultSweepWorkflow.run, id=f"vault-sweep-{uuid.uuid4().hex[:8]}", task_queue=queue
        )
        assert _held(db, stale)[1] == erased_at and _held(db, live) == (True, None)

        # the worker's schedule starts the same workflow: triggered now, it erases the next number left behind
        later = _deposit(db, a_loan, now=datetime.now(UTC) - timedelta(minutes=20))
        settings = Settings(task_queue=queue)
        schedule_id = f"{SCHEDULE_ID}-{uuid.uuid4().hex[:8]}"
        await ensure_schedule(dev_env.client, settings, scheduled_job(SCHEDULE_ID), schedule_id)
        handle = dev_env.client.get_schedule_handle(schedule_id)
        try:
            desc = await handle.describe()
            (interval,) = desc.schedule.spec.intervals
            assert interval.every == timedelta(hours=1)  # LOS_AADHAAR_VAULT_SWEEP_EVERY_SECONDS' default
            assert desc.schedule.action.workflow == "AadhaarVaultSweepWorkflow"
            assert desc.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
            await handle.trigger()
            await eventually(lambda: not _held(db, later)[0], timeout=20)
            assert _held(db, live) == (True, None)
        finally:
            await handle.delete()


def test_the_sweep_can_be_switched_off() -> None:
    job = scheduled_job(SCHEDULE_ID)
    assert job.spec(Settings(aadhaar_vault_sweep_every_seconds=0)) is None  # no schedule (an existing one deleted)
    (interval,) = job.spec(Settings(aadhaar_vault_sweep_every_seconds=600)).intervals  # type: ignore[union-attr]
    assert interval.every == timedelta(minutes=10)
