"""The disbursing banks' adapters (IDFC FIRST Bank, ICICI Bank) against their sandbox twins, in process: the
request each bank takes or refuses, idempotency on our reference, every scenario prefix
(sandbox/bank_scenarios.py), the status API, the signed callbacks and their parsing."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from activities.providers.base import BusinessRefusal, ProviderConfig, ProviderError
from activities.providers.disbursal import icici
from activities.providers.disbursal.base import BankTransferState, Beneficiary, TransferMode
from activities.providers.disbursal.icici import IciciDisbursal
from activities.providers.disbursal.idfc import IdfcDisbursal
from domain.errors import ValidationError
from sandbox import bank_scenarios as bs
from sandbox.app import create_app
from workflows.contracts import DisbursalEvent

SECRET = "whsec-bank-test"
DELAY = 0.05
LOAN = "3f1c2a9e-8b7d-4c6e-9f00-112233445566"
CALLBACK = "http://lender.test/api/v1/webhooks/brand/bank"
ICICI_OPTIONS = {
    "aggr_id": "AGGR0001",
    "aggr_name": "LOSDEMO",
    "corp_id": "CIBDEMO01",
    "user_id": "USER1",
    "urn": "URNDEMO01",
    "debit_account": "000405001234",
    "bank_public_key": bs.public_pem(bs.ICICI_BANK_PRIVATE_PEM),
    "client_private_key": bs.ICICI_CLIENT_PRIVATE_PEM,
}
OPTIONS = {"idfc": {"account_number": "7878780080316316"}, "icici": ICICI_OPTIONS}
CLASSES = {"idfc": IdfcDisbursal, "icici": IciciDisbursal}


@dataclass
class Bank:
    adapter: Any
    app: Any
    hooks: list[httpx.Request]

    async def send(self, account: str = "123456789012", key: str | None = None, **kw: Any) -> Any:
        args = {"amount": 150_000_00, "reference_id": LOAN, "mode": TransferMode.IMPS, "callback_url": CALLBACK}
        beneficiary = Beneficiary(kw.pop("name", "Aarav Sharma"), account, kw.pop("ifsc", "HDFC0001234"))
        return await self.adapter.transfer(
            **{**args, **kw}, beneficiary=beneficiary, idempotency_key=key or f"{LOAN}:disbursal:{uuid.uuid4().hex[:6]}"
        )

    async def callbacks(self, n: int = 1) -> list[httpx.Request]:
        for _ in range(150):
            if len(self.hooks) >= n:
                return self.hooks
            await asyncio.sleep(0.02)
        raise AssertionError(f"{len(self.hooks)} callbacks, wanted {n}")

    def event(self, hook: httpx.Request) -> Any:
        assert self.adapter.verify_webhook(hook.content, hook.headers)
        return self.adapter.parse_webhook(json.loads(hook.content), hook.headers)


@pytest.fixture(params=["idfc", "icici"])
async def bank(request: pytest.FixtureRequest) -> AsyncIterator[Bank]:
    vendor = request.param
    app = create_app(webhook_secret=SECRET, delay_seconds=DELAY, hang_seconds=0.2)
    hooks: list[httpx.Request] = []

    def capture(req: httpx.Request) -> httpx.Response:
        hooks.append(req)
        return httpx.Response(200, json={"ok": True})

    app.state.outbox._client = httpx.AsyncClient(transport=httpx.MockTransport(capture))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        config = ProviderConfig(
            kind="disbursal",
            vendor=vendor,
            base_url="http://sandbox",
            api_key=f"sandbox-{vendor}-key",
            webhook_secret=SECRET,
            options=OPTIONS[vendor],
        )
        yield Bank(CLASSES[vendor](http, config), app, hooks)
        await asyncio.gather(*app.state.outbox.tasks, return_exceptions=True)


# --- what the bank takes and refuses --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "change",
    [
        {"ifsc": "HDFC1001234"},  # fifth character must be 0
        {"ifsc": "hdfc0001234"},
        {"account": "12345678"},  # 8 digits
        {"account": "1234567890123456789"},  # 19 digits
        {"account": "12345678901A"},
        {"name": ""},
        {"amount": 0},
        {"amount": -100},
        {"amount": 5_00_000_01, "mode": TransferMode.IMPS},  # above ₹5 lakh by IMPS
        {"amount": 1_99_999_99, "mode": TransferMode.RTGS},  # below ₹2 lakh by RTGS
    ],
)
async def test_bank_refuses_a_bad_transfer(bank: Bank, change: dict) -> None:
    with pytest.raises(BusinessRefusal) as refused:
        await bank.send(**change)
    assert refused.value.status == 400
    assert bank.app.state.sandbox["transfers"] == {}


@pytest.mark.parametrize(
    "mode,amount",
    [(TransferMode.IMPS, 5_00_000_00), (TransferMode.NEFT, 10_00_000_00), (TransferMode.RTGS, 2_00_000_00)],
)
async def test_bank_takes_each_mode_at_its_limits(bank: Bank, mode: TransferMode, amount: int) -> None:
    transfer = await bank.send(mode=mode, amount=amount)
    assert transfer.status == "PENDING"
    held = bank.app.state.sandbox["transfers"][transfer.transfer_id]
    assert (held["mode"], held["amount"]) == (mode.value, amount)


async def test_same_reference_is_the_same_transfer(bank: Bank) -> None:
    key = f"{LOAN}:disbursal:1"
    first = await bank.send(key=key)
    again = await bank.send(key=key)
    assert again.transfer_id == first.transfer_id
    assert len(bank.app.state.sandbox["transfers"]) == 1
    await bank.callbacks()
    await asyncio.sleep(DELAY * 4)
    assert len(bank.hooks) == 1  # one transfer, one callback


async def test_status_of_an_unknown_reference_is_not_found(bank: Bank) -> None:
    answer = await bank.adapter.transfer_status(idempotency_key="never-sent-1")
    assert answer.state is BankTransferState.NOT_FOUND


# --- scenarios ------------------------------------------------------------------------------------------------
async def test_transfer_settles_and_calls_back_signed(bank: Bank) -> None:
    key = "plain-0001"
    transfer = await bank.send(key=key)
    assert (await bank.adapter.transfer_status(idempotency_key=key)).state is BankTransferState.PENDING
    (hook,) = await bank.callbacks()
    event = bank.event(hook)
    assert (event.loan_ref, event.signal) == (LOAN, "disbursal_settled")
    assert isinstance(event.arg, DisbursalEvent)
    assert (event.arg.transfer_id, event.arg.status, event.arg.reason) == (transfer.transfer_id, "SUCCESS", None)
    assert event.arg.utr and event.arg.event_id == event.event_id
    status = await bank.adapter.transfer_status(idempotency_key=key)
    assert (status.state, status.transfer_id, status.utr) == ("SUCCESS", transfer.transfer_id, event.arg.utr)
    # a forged or altered callback does not verify
    assert not bank.adapter.verify_webhook(hook.content + b" ", hook.headers)
    forged = {k: v for k, v in hook.headers.items() if "signature" not in k.lower()}
    assert not bank.adapter.verify_webhook(hook.content, forged)
    other = {**forged, bank.adapter.signature_header: "c2lnbmF0dXJl"}
    assert not bank.adapter.verify_webhook(hook.content, other)


async def test_1111_settles_but_the_callback_is_lost(bank: Bank) -> None:
    await bank.send(account="111100001234", key="lost-0001")
    await asyncio.sleep(DELAY * 5)
    assert bank.hooks == []
    status = await bank.adapter.transfer_status(idempotency_key="lost-0001")
    assert status.state is BankTransferState.SUCCESS and status.utr


async def test_2222_times_out_then_succeeds(bank: Bank) -> None:
    key = f"{LOAN}:disbursal:7"
    with pytest.raises(ProviderError):
        await bank.send(account="222200001234", key=key)
    held = await bank.adapter.transfer_status(idempotency_key=key)
    assert held.state in (BankTransferState.PENDING, BankTransferState.SUCCESS)
    again = await bank.send(account="222200001234", key=key)  # the retry: the same transfer, not a second one
    assert again.transfer_id == held.transfer_id
    assert len(bank.app.state.sandbox["transfers"]) == 1
    (hook,) = await bank.callbacks()
    assert bank.event(hook).arg.status == "SUCCESS"
    assert (await bank.adapter.transfer_status(idempotency_key=key)).state is BankTransferState.SUCCESS


async def test_5555_first_transfer_fails_later_ones_settle(bank: Bank) -> None:
    await bank.send(account="555500001234", key="down-0001")
    (hook,) = await bank.callbacks()
    event = bank.event(hook)
    assert (event.arg.status, event.arg.reason, event.arg.utr) == ("FAILED", bs.BANK_DOWN, None)
    status = await bank.adapter.transfer_status(idempotency_key="down-0001")
    assert (status.state, status.reason) == (BankTransferState.FAILED, bs.BANK_DOWN)
    await bank.send(account="555500001234", key="down-0002")
    hooks = await bank.callbacks(2)
    assert bank.event(hooks[1]).arg.status == "SUCCESS"


async def test_6666_every_transfer_fails_account_closed(bank: Bank) -> None:
    for n, key in enumerate(("closed-0001", "closed-0002"), start=1):
        await bank.send(account="666600001234", key=key)
        hooks = await bank.callbacks(n)
        event = bank.event(hooks[-1])
        assert (event.arg.status, event.arg.reason) == ("FAILED", bs.ACCOUNT_CLOSED)
        status = await bank.adapter.transfer_status(idempotency_key=key)
        assert (status.state, status.reason) == (BankTransferState.FAILED, bs.ACCOUNT_CLOSED)


# --- callbacks at the door ------------------------------------------------------------------------------------
async def test_callback_parsing_refuses_bad_fields(bank: Bank) -> None:
    await bank.send(key="parse-0001")
    (hook,) = await bank.callbacks()
    body = json.loads(hook.content)
    if bank.adapter.vendor == "idfc":
        body["payload"]["payout"]["entity"]["amount"] = "100"
        field = "payload.payout.entity.amount"
    else:
        body["encryptedData"] = body["encryptedData"][:-8] + "AAAAAAA="
        field = "encryptedData"
    with pytest.raises(ValidationError) as bad:
        bank.adapter.parse_webhook(body, hook.headers)
    assert field in str(bad.value)


def test_icici_envelope_round_trip_and_signature() -> None:
    bank_key = icici.private_key(bs.ICICI_BANK_PRIVATE_PEM)
    # a reference with "-" in it: base64 ciphertext never contains one, so finding it would mean plain text
    sealed = icici.seal({"UNIQUEID": "U-1-REF", "AMOUNT": "1.00"}, bank_key.public_key())
    assert sealed["oaepHashingAlgorithm"] == "NONE" and "U-1-REF" not in json.dumps(sealed)
    assert icici.unseal(sealed, bank_key) == {"UNIQUEID": "U-1-REF", "AMOUNT": "1.00"}
    client_key = icici.private_key(bs.ICICI_CLIENT_PRIVATE_PEM)
    with pytest.raises(ValueError):
        icici.unseal(sealed, client_key)  # sealed to the bank, not to us
    signature = icici.sign(b"body", bank_key)
    assert icici.signature_valid(b"body", bank_key.public_key(), signature)
    assert not icici.signature_valid(b"body", client_key.public_key(), signature)


# --- fault drills reach the bank's paths ----------------------------------------------------------------------
async def test_fault_injection_on_the_idfc_paths() -> None:
    app = create_app(webhook_secret=SECRET, delay_seconds=DELAY)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        config = ProviderConfig("disbursal", "idfc", "http://sandbox", "k", SECRET, OPTIONS["idfc"])
        bank = Bank(IdfcDisbursal(http, config), app, [])
        assert (
            await http.post("/_faults", json={"vendor": "idfc", "mode": "503", "path": "/idfc/v1"})
        ).status_code == 200
        with pytest.raises(ProviderError):
            await bank.send(key="fault-0001")
        assert (await bank.send(key="fault-0001")).status == "PENDING"  # the fault was for one call
