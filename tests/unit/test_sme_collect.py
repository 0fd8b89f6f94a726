"""SME collection without services: the UTR rules and credit keys (``domain.sme.credits``); Razorpay Smart Collect's
``virtual_account.credited`` read from a body with the documented structure and field names
(``tests/fixtures/vendors/razorpay_virtual_account_credited.json``: the event, payment, virtual account and bank
transfer entities of https://razorpay.com/docs/payments/smart-collect/va-vpa-qr/notification/, with illustrative
values) and every malformed field refused by name; the sandbox's webhook shaped like it; the adapter opening and
closing an account at the sandbox's twin; the brand's ``sme.virtualAccounts`` switch."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from activities.providers.base import ProviderConfig
from activities.sme.collect import RazorpaySmartCollect, collections_vendor
from api.webhooks.sme_collect import parse_credit, stored_payload
from domain.errors import ValidationError
from domain.sme.credits import check_utr, credit_key, mode_of, source, utr_of
from domain.sme.settings import sme_settings
from sandbox.app import create_app
from sandbox.sme.collect import credited_event

FIXTURE = Path(__file__).parents[1] / "fixtures" / "vendors" / "razorpay_virtual_account_credited.json"


def _body() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text())


def test_the_documented_credit_is_read_to_the_paisa() -> None:
    credit = parse_credit(_body())
    assert (credit.account_id, credit.payment_id, credit.utr, credit.mode, credit.amount) == (
        "va_SmeInvoice0001", "pay_SmeCollect0001", "HDFCN52025120100", "NEFT", 1_25_000_00
    )
    assert credit.paid_at == datetime.fromtimestamp(1764576000, UTC)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("bank_transfer", "bank_reference", None), "payload.bank_transfer.entity.bank_reference"),
        (("bank_transfer", "mode", "CHEQUE"), "payload.bank_transfer.entity.mode"),
        (("bank_transfer", "amount", 100), "payload.bank_transfer.entity.amount"),
        (("bank_transfer", "virtual_account_id", ""), "payload.bank_transfer.entity.virtual_account_id"),
        (("payment", "amount", 125000.5), "payload.payment.entity.amount"),
        (("payment", "amount", "12500000"), "payload.payment.entity.amount"),
        (("payment", "currency", "USD"), "payload.payment.entity.currency"),
        (("payment", "status", "failed"), "payload.payment.entity.status"),
        (("payment", "id", None), "payload.payment.entity.id"),
    ],
)
def test_a_malformed_credit_is_refused_naming_the_field(change: tuple[str, str, Any], field: str) -> None:
    entity, key, value = change
    body = _body()
    body["payload"][entity]["entity"][key] = value
    with pytest.raises(ValidationError) as refused:
        parse_credit(body)
    assert refused.value.field == field


def test_a_credit_without_its_bank_transfer_is_refused() -> None:
    body = _body()
    del body["payload"]["bank_transfer"]
    with pytest.raises(ValidationError) as refused:
        parse_credit(body)
    assert refused.value.field == "payload.bank_transfer"


def _shape(value: Any) -> Any:  # noqa: ANN401
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value[:1]]
    return type(value).__name__ if value is not None else None


def _same_keys(ours: Any, theirs: Any, path: str = "") -> None:  # noqa: ANN401
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and set(ours) == set(theirs), (path, set(ours) ^ set(theirs or {}))
        for key in theirs:
            _same_keys(ours[key], theirs[key], f"{path}.{key}")
    elif isinstance(theirs, list) and theirs and isinstance(theirs[0], dict):
        _same_keys(ours[0], theirs[0], f"{path}[0]")
    elif theirs is not None and ours is not None and key_typed(path):
        assert type(ours) is type(theirs), path


def key_typed(path: str) -> bool:
    """Fields whose type must match (nullable ones may be null on either side)."""
    return not path.endswith(("notes", "customer_id", "contact", "email", "description", "close_by"))


def test_the_sandbox_sends_the_documented_shape_and_it_reads_back() -> None:
    documented = _body()
    account = copy.deepcopy(documented["payload"]["virtual_account"]["entity"])
    account["receivers"][0]["notes"] = []  # the created account carries notes; the credited event does not
    ours = credited_event(account, "pay_X", "bt_X", 5_000_00, "RTGS", "HDFCR0000000000000001")
    _same_keys(ours, documented)
    credit = parse_credit(ours)
    assert (credit.utr, credit.mode, credit.amount, credit.account_id) == (
        "HDFCR0000000000000001", "RTGS", 5_000_00, "va_SmeInvoice0001"
    )


def test_utr_rules_keys_and_sources() -> None:
    assert check_utr("NEFT", "hdfc n520 2512 0100") == "HDFCN52025120100"
    assert check_utr("RTGS", "ICICR" + "0" * 17) == "ICICR" + "0" * 17
    assert check_utr("IMPS", "123456789012") == check_utr("UPI", "123456789012")
    for mode, utr, field in (("NEFT", "12345", "utr"), ("RTGS", "HDFCN52025120100", "utr"),
                             ("IMPS", "HDFCN52025120100", "utr"), ("CASH", "1", "mode")):  # fmt: skip
        with pytest.raises(ValidationError) as refused:
            check_utr(mode, utr)
        assert refused.value.field == field
    assert credit_key(" hdfcn52025120100 ") == "UTR:HDFCN52025120100" == credit_key("HDFCN 5202 5120 100")
    assert utr_of("UTR:HDFCN52025120100") == "HDFCN52025120100" and utr_of("pay_123") is None
    assert source("VA", "NEFT") == "VA:NEFT" and mode_of("OFFLINE:RTGS") == "RTGS" and mode_of("PAYMENT_LINK") is None


def test_the_brand_may_switch_virtual_accounts_off() -> None:
    assert sme_settings(None).virtual_accounts is True
    assert sme_settings({"sme": {"virtualAccounts": False}}).virtual_accounts is False
    config = {"providers": {"payments": [{"vendor": "cashfree", "base_url": "x"}, {"vendor": "razorpay",
                                                                                    "base_url": "y"}]}}  # fmt: skip
    found = collections_vendor(config)
    assert found is not None and (found.kind, found.vendor, found.base_url) == ("payments", "razorpay", "y")
    assert collections_vendor({"providers": {"payments": [{"vendor": "cashfree", "base_url": "x"}]}}) is None


async def test_the_adapter_opens_and_closes_an_account_at_the_sandbox() -> None:
    transport = httpx.ASGITransport(app=create_app(delay_seconds=0))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        adapter = RazorpaySmartCollect(http, ProviderConfig("payments", "razorpay", "http://sandbox", "key"))
        opened = await adapter.create(description="Invoice 1", close_by=1780000000, notes={"request_id": "r-1"})
        assert opened.id.startswith("va_") and opened.status == "active"
        assert len(opened.account_number) == 16 and opened.account_number.startswith("2223330")
        assert (opened.ifsc, opened.bank_name) == ("RATN0VAAPIS", "RBL Bank")
        test_payment = f"/razorpay/_test/virtual_accounts/{opened.id}/payments"
        body = {"amount": 100, "method": "IMPS", "webhook_url": "http://127.0.0.1:9/nowhere"}
        paid = await http.post(test_payment, json=body)
        assert paid.status_code == 200 and len(paid.json()["utr"]) == 12
        closed = await adapter.close(opened.id)
        assert closed.status == "closed"
        assert (await http.post(test_payment, json=body)).status_code == 400  # the bank returns it


def test_the_stored_event_masks_the_payers_account_number() -> None:
    body = _body()
    kept = stored_payload(body)
    assert kept["payload"]["bank_transfer"]["entity"]["payer_bank_account"]["account_number"] == "XXXXXXXXXX5432"
    assert body["payload"]["bank_transfer"]["entity"]["payer_bank_account"]["account_number"] == "50200098765432"
    assert stored_payload({"event": "virtual_account.closed"}) == {"event": "virtual_account.closed"}
