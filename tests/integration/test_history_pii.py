"""Nothing personal in Temporal history: after a whole loan (full KYC, manual review, eSign, disbursal,
repayments to closure) driven through the public API, every run of the loan's workflow is read raw from
the server. Every payload is encrypted there (search attributes excepted, and they are readable); decoded
with the codec, and with the codec endpoint the Temporal UI uses, no payload holds the Aadhaar, PAN or bank
account number the customer gave, nor anything of their shape, nor an Aadhaar number sealed with the field key
(the update carries the Aadhaar Data Vault's reference token instead)."""

from __future__ import annotations

import base64
import json
import os
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from google.protobuf.message import Message
from sqlalchemy import select
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import History

import los.demo_customer
from activities.kyc import AADHAAR, BANK_ACCOUNT
from db.models import AadhaarVaultEntry, BankAccount, Customer, Disbursal, Loan, PaymentTransaction
from los.codec import ENCODING, KEY_ID
from los.crypto import unseal
from los.demo import Driver, demo_identity
from los.seed import FULL_KYC, seed_brand
from los.temporal import payload_codec
from tests.conftest import record_histories

# A run of digits inside a vendor id (trf_00002808136836, a hex id that drew only digits) is no identifier.
AADHAAR_RE = re.compile(r"(?<![0-9A-Za-z_-])[0-9]{12}(?![0-9A-Za-z_-])")
GROUPED_AADHAAR_RE = re.compile(r"(?<![0-9])[0-9]{4} [0-9]{4} [0-9]{4}(?![0-9])")
PAN_RE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{5}[0-9]{4}[A-Z](?![A-Za-z0-9])")
ACCOUNT_RE = re.compile(r"(?<![0-9A-Za-z_-])[0-9]{9,18}(?![0-9A-Za-z_-])")  # Indian account numbers: 9-18 digits


def payloads_in(msg: Message, path: str = "") -> Iterator[tuple[str, Payload]]:
    """Every ``Payload`` anywhere in a protobuf message, with its path (maps and lists walked)."""
    if isinstance(msg, Payload):
        yield path, msg
        return
    for field, value in msg.ListFields():
        if field.message_type is None:
            continue
        name = f"{path}.{field.name}"
        if field.message_type.GetOptions().map_entry:
            for key, item in value.items():
                if isinstance(item, Message):
                    yield from payloads_in(item, f"{name}[{key}]")
        elif isinstance(value, Message):
            yield from payloads_in(value, name)
        else:
            for i, item in enumerate(value):
                yield from payloads_in(item, f"{name}[{i}]")


async def all_runs(client: Any, workflow_id: str) -> list[Any]:
    """Every run of a workflow, first to last, following continue-as-new back from the latest run."""
    runs, run_id = [], None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        runs.append(history)
        run_id = history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id
        if not run_id:
            return list(reversed(runs))


# What the SDK writes, unencoded, in a local activity's marker (details[data]): no payload of the workflow's own.
LOCAL_ACTIVITY_MARKER_KEYS = frozenset(
    {"seq", "attempt", "activity_id", "activity_type", "complete_time", "backoff", "original_schedule_time",
     "activation_index"}
)  # fmt: skip
FERNET_RE = re.compile(r"(?:fk1:[A-Za-z0-9_.-]{1,40}:)?gAAAAA[A-Za-z0-9_=-]{40,}")


def sealed_aadhaars(text: str, key: bytes) -> list[str]:
    """Every value in ``text`` sealed with the field key (``los.crypto.seal``, legacy or ring key) for the Aadhaar
    purpose: a full Aadhaar number kept in history, only encrypted. UIDAI allows it only in an Aadhaar Data Vault."""
    return [token for token in FERNET_RE.findall(text) if unseal(key, AADHAAR, token) is not None]


def shapes_in(text: str, phone: str, known: frozenset[str] = frozenset()) -> dict[str, list[str]]:
    """Numbers shaped like an Aadhaar, a PAN or an account number in ``text`` (``known``: values that are none of
    them, such as an IMPS UTR, which is a 12-digit RRN)."""
    found = {
        "aadhaar": [m for m in AADHAAR_RE.findall(text) + GROUPED_AADHAAR_RE.findall(text) if m not in known],
        "pan": PAN_RE.findall(text),
        "account": [m for m in ACCOUNT_RE.findall(text) if m not in known],
    }
    if phone in text:  # the customer's mobile number is personal data too
        found["phone"] = [phone]
    return {k: v for k, v in found.items() if v}


@pytest.fixture
def kyc_brand(db, sandbox) -> dict:  # noqa: ANN001
    code = f"p{uuid.uuid4().hex[:8]}"
    return seed_brand(db, sandbox.url, code=code, name=f"PII {code}", period_seconds=2, kyc_steps=FULL_KYC)


async def test_full_journey_leaves_no_identifier_in_history(app, kyc_brand, sandbox, db, monkeypatch) -> None:  # noqa: ANN001, PLR0915
    aadhaars: list[str] = []
    make_aadhaar = los.demo_customer.demo_aadhaar

    def remembered_aadhaar() -> str:  # the numbers the journey gives, so the scan looks for exactly them
        aadhaars.append(make_aadhaar())
        return aadhaars[-1]

    monkeypatch.setattr(los.demo_customer, "demo_aadhaar", remembered_aadhaar)
    phone, pan = demo_identity(0, "review")  # manual review: staff updates through the sanction hierarchy too
    driver = Driver(app.api.url, sandbox.url, kyc_brand["brand_code"])
    try:
        journey = await driver.journey(phone, pan)
        admin = await driver.staff_headers("SUPER_ADMIN")
    finally:
        await driver.close()
    assert journey.status == "COMPLETED", journey.history
    assert journey.installments_paid == 3 and len(aadhaars) == 1
    aadhaar = aadhaars[0]
    with db.unit_of_work() as s:
        customer = s.get_one(Customer, s.get_one(Loan, journey.loan_id).customer_id)
        assert customer.pan == pan and customer.aadhaar_verified
        sealed_account = s.scalars(select(BankAccount).where(BankAccount.customer_id == customer.id)).one()
        account = unseal(app.settings.field_key(), BANK_ACCOUNT, sealed_account.account_sealed)
        utrs = frozenset(d.utr for d in s.scalars(select(Disbursal).where(Disbursal.loan_id == journey.loan_id)))
        # the payments' bank references (a UPI/IMPS RRN is 12 digits) are the gateway's, not the customer's
        utrs |= frozenset(
            r
            for r in s.scalars(
                select(PaymentTransaction.reference).where(PaymentTransaction.loan_id == journey.loan_id)
            )
            if r
        )
    assert account and ACCOUNT_RE.fullmatch(account)
    identifiers = {"aadhaar": aadhaar, "pan": pan, "account": account}

    runs = await all_runs(app.client, journey.workflow_id)
    assert len(runs) == 2  # origination, then servicing after continue-as-new
    if os.environ.get("LOS_RECORD_HISTORIES"):  # refresh tests/histories (aadhaar_vault_*: the vault's reference)
        await record_histories(app.client, journey.workflow_id, "aadhaar_vault")

    codec = payload_codec(app.settings)
    raw: list[tuple[str, Payload]] = []
    attributes: list[tuple[str, Payload]] = []
    for n, history in enumerate(runs):
        for path, p in payloads_in(History(events=history.events), f"run{n}"):
            (attributes if "search_attributes" in path else raw).append((path, p))
        # --- raw: what the server stores and shows without the codec -------------------------------------
        text = history.to_json()
        for name, value in identifiers.items():
            assert value not in text, f"{name} in the raw history of run {n}"
        assert not shapes_in(text, phone, utrs), f"run {n}: {shapes_in(text, phone, utrs)}"
        for event in history.events:  # failure text travels in the encrypted attributes, not in the message
            if event.HasField("activity_task_failed_event_attributes"):
                failure = event.activity_task_failed_event_attributes.failure
                assert failure.message == "Encoded failure" and failure.HasField("encoded_attributes")

    assert len(raw) > 100  # the walk saw the whole journey's inputs, results, updates and signals
    # The SDK writes its patch markers (the ids given to workflow.patched) itself, without the codec: only
    # those may be plain, and they hold nothing but a patch id.
    patches = [(path, p) for path, p in raw if "marker_recorded_event_attributes.details[patch-data]" in path]
    assert patches and all(set(json.loads(p.data)) == {"id", "deprecated"} for _, p in patches)
    raw = [(path, p) for path, p in raw if "[patch-data]" not in path]
    # Likewise the SDK's own record of each local activity (sequence, attempt, type, times) is plain; its input and
    # result travel encrypted beside it (details[result]) and stay in the scan.
    local = [(path, p) for path, p in raw if "marker_recorded_event_attributes.details[data]" in path]
    assert all(set(json.loads(p.data)) <= LOCAL_ACTIVITY_MARKER_KEYS for _, p in local), local[:1]
    raw = [(path, p) for path, p in raw if "marker_recorded_event_attributes.details[data]" not in path]
    unencrypted = [path for path, p in raw if p.metadata.get("encoding") != ENCODING]
    assert not unencrypted, f"plain payloads in history: {unencrypted[:5]}"
    assert {p.metadata[KEY_ID] for _, p in raw} == {codec.key_id.encode()}
    assert not any(b'"loan_id"' in p.data or b"json/plain" in p.data for _, p in raw)
    # search attributes are never encrypted: the UI still lists and filters loans by them
    statuses = {json.loads(p.data) for path, p in attributes if path.endswith("[LoanStatus]")}
    assert {"APPLIED", "UNDER_REVIEW", "DISBURSED", "COMPLETED"} <= statuses
    assert all(p.metadata["encoding"] in (b"json/plain", b"binary/null") for _, p in attributes)

    # --- decoded: what a super admin sees through the codec ---------------------------------------------
    decoded = await codec.decode([p for _, p in raw])
    texts = [p.data.decode() for p in decoded]
    blob = "\n".join(texts)
    assert not any(p.metadata.get("encoding") == ENCODING for p in decoded)
    assert f'"loan_id":"{journey.loan_id}"' in blob  # really decoded: the inputs are there
    for name, value in identifiers.items():
        hits = [raw[i][0] for i, t in enumerate(texts) if value in t]
        assert not hits, f"the full {name} is in decoded history at {hits}"
    assert not shapes_in(blob, phone, utrs), shapes_in(blob, phone, utrs)
    # the update carries the Aadhaar Data Vault's reference and the masked number, nothing the number opens from:
    # no value in history, sealed under any key the field key ring holds, opens to an Aadhaar number
    assert f"XXXX XXXX {aadhaar[-4:]}" in blob
    assert not sealed_aadhaars(blob, app.settings.field_key()), "a sealed Aadhaar number is in history"
    refs = sorted(set(re.findall(r'"aadhaar_ref":"(adv_[^"]+)"', blob)))  # the update's and the activity's input
    assert len(refs) == 1 and aadhaar not in refs[0]
    with db.unit_of_work() as s:  # and the vault no longer holds it: the OTP was sent, its purpose ended
        entry = s.get_one(AadhaarVaultEntry, refs[0])
        assert entry.loan_id == journey.loan_id and entry.number_sealed is None and entry.erased_at

    # --- the same through the codec endpoint the Temporal UI calls ---------------------------------------
    body = {
        "payloads": [{"metadata": {k: _b64(v) for k, v in p.metadata.items()}, "data": _b64(p.data)} for _, p in raw]
    }
    async with httpx.AsyncClient(base_url=app.api.url, timeout=60) as api:
        resp = await api.post("/api/v1/codec/decode", json=body, headers={**admin, "X-Namespace": "default"})
    assert resp.status_code == 200, resp.text
    via_ui = [
        Payload(metadata={k: _unb64(v) for k, v in p.get("metadata", {}).items()}, data=_unb64(p.get("data", "")))
        for p in resp.json()["payloads"]
    ]
    assert via_ui == decoded


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text)


def test_the_scan_finds_an_aadhaar_sealed_under_any_field_key() -> None:
    """The check above would fail on a history recorded before the vault (the update's ``aadhaar_sealed``), under
    the legacy key and under a ring key alike; other sealed values (an account number) are no finding."""
    from los.crypto import seal
    from los.settings import Settings

    number = "234567890124"
    legacy = Settings().field_key()
    ring = Settings(field_keys={"r1": "ring-secret-one"}, field_key_id="r1").field_key()
    for key in (legacy, ring):
        old_update = json.dumps({"aadhaar_number": "", "aadhaar_sealed": seal(key, AADHAAR, number)})
        assert sealed_aadhaars(f"[{old_update}]", key), key
        assert not sealed_aadhaars(json.dumps({"account": seal(key, BANK_ACCOUNT, "123456789012")}), key)
