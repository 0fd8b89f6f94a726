"""No full identifier anywhere a person other than the customer reads: a representative set of the demo scenarios
(a full lifecycle with every KYC step and manual review, an offline payment, a settlement, a reloan) runs at once
over the real stack with the API's and the worker's JSON log lines captured; then the log lines, every error answer
the scenarios got, the audit table, every report's CSV, the customer messages log and every run of every loan's
decoded history are scanned for the exact Aadhaar numbers, PANs, bank account numbers and mobile numbers the
scenarios used. Masked forms (``XXXX XXXX 1234``, ``ABXXXXX34F``, ``XXXXXX1234``) are allowed; the full values are
not. Known values, not shapes: a UTR or a vendor id shaped like an account number is no finding. An Aadhaar number
sealed with the field key counts as a full one, in history and in every table (the Aadhaar Data Vault included,
once its purpose has ended)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from temporalio.api.history.v1 import History

import los.demo_customer
from activities.kyc import BANK_ACCOUNT
from db.models import BankAccount, Customer, CustomerMessage, Loan
from los.crypto import AADHAAR, unseal
from los.demo import Driver, Journey, demo_identity
from los.demo_scenarios import SCENARIOS
from los.observability import JsonFormatter
from los.seed import FULL_KYC, seed_brand
from los.temporal import payload_codec
from reports import CATALOGUE
from tests.integration.test_history_pii import all_runs, payloads_in, sealed_aadhaars

SCENARIO_SET = ("offline-payment", "settlement", "reloan")
TIMEOUT = 150.0  # each journey's bound; they run side by side, so the whole scan stays within a few minutes


class Captured(logging.Handler):
    """Every log record of the process (API and worker run in it), formatted as the project's JSON lines."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is still scanned by its text
            self.lines.append(str(record.msg) + " " + repr(record.args))


@pytest.fixture
def captured_logs() -> Any:
    handler, root = Captured(), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def errors_answered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every 4xx/5xx answer any demo driver got from the API or the sandbox: method, path, status and body."""
    answers: list[str] = []
    made = Driver.__init__

    async def keep(resp: httpx.Response) -> None:
        if resp.status_code >= 400:
            await resp.aread()
            answers.append(f"{resp.request.method} {resp.request.url} {resp.status_code} {resp.text}")

    def init(self: Driver, *args: Any, **kwargs: Any) -> None:
        made(self, *args, **kwargs)
        for client in (self.api, self.sandbox):
            client.event_hooks["response"].append(keep)

    monkeypatch.setattr(Driver, "__init__", init)
    return answers


@pytest.fixture
def aadhaars(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The Aadhaar numbers the journeys give, remembered as they are made."""
    given: list[str] = []
    make = los.demo_customer.demo_aadhaar

    def remembered() -> str:
        given.append(make())
        return given[-1]

    monkeypatch.setattr(los.demo_customer, "demo_aadhaar", remembered)
    return given


def masked_forms(kind: str, value: str) -> list[str]:
    """The spellings of one full identifier a scan must not find (plain and as people group them)."""
    forms = [value]
    if kind == "aadhaar":
        forms.append(f"{value[:4]} {value[4:8]} {value[8:]}")
        forms.append(f"{value[:4]}-{value[4:8]}-{value[8:]}")
    if kind == "phone":
        forms.append(f"{value[:5]} {value[5:]}")
    return forms


def leaks(where: str, texts: list[str], identifiers: dict[str, set[str]]) -> list[str]:
    """``where: kind value … excerpt`` for each full identifier found in ``texts``."""
    found = []
    for t in texts:
        for kind, values in identifiers.items():
            for value in values:
                for form in masked_forms(kind, value):
                    at = t.find(form)
                    if at >= 0:
                        found.append(f"{where}: {kind} {value} in …{t[max(0, at - 120) : at + 60]}…")
    return found


async def _journeys(app: Any, sandbox: Any, brand_code: str) -> list[Journey]:
    """The full lifecycle with manual review, and the scenario set, side by side."""

    async def full_lifecycle() -> Journey:
        driver = Driver(app.api.url, sandbox.url, brand_code, timeout=TIMEOUT)
        try:
            return await driver.journey(*demo_identity(0, "review"))
        finally:
            await driver.close()

    async def scenario(name: str, index: int) -> Journey:
        driver = Driver(app.api.url, sandbox.url, brand_code, timeout=TIMEOUT)
        try:
            return await SCENARIOS[name](driver, index)
        finally:
            await driver.close()

    return list(await asyncio.gather(full_lifecycle(), *(scenario(n, i + 1) for i, n in enumerate(SCENARIO_SET))))


def _identifiers(app: Any, db: Any, brand_id: str, aadhaars: list[str]) -> dict[str, set[str]]:
    """The exact values the scenarios used, read back from the brand's customers (accounts unsealed)."""
    with db.unit_of_work() as s:
        customers = s.scalars(select(Customer).where(Customer.brand_id == brand_id)).all()
        ids = [c.id for c in customers]
        accounts = s.scalars(select(BankAccount.account_sealed).where(BankAccount.customer_id.in_(ids))).all()
        found = {
            "phone": {c.phone for c in customers if c.phone},
            "pan": {c.pan for c in customers if c.pan},
            "account": {unseal(app.settings.field_key(), BANK_ACCOUNT, a) or "" for a in accounts} - {""},
            "aadhaar": set(aadhaars),
        }
    return found


async def _an_account(app: Any, db: Any, brand_id: str) -> str:
    """One account number the scenarios gave (unsealed)."""
    with db.unit_of_work() as s:
        sealed = s.scalars(
            select(BankAccount.account_sealed).join(Customer).where(Customer.brand_id == brand_id).limit(1)
        ).one()
    return unseal(app.settings.field_key(), BANK_ACCOUNT, sealed) or ""


def _aadhaar_in_tables(db: Any, numbers: set[str]) -> list[str]:
    """UIDAI lets a lender keep an Aadhaar number only masked, with a reference (here a keyed hash): every row of
    every table, as text, is searched for the full numbers."""
    found = []
    with db.unit_of_work() as s:
        tables = s.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).all()
        for table in tables:
            for number in numbers:
                for form in masked_forms("aadhaar", number):
                    hits = s.scalar(text(f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE :v'), {"v": f"%{form}%"})
                    if hits:
                        found.append(f"table {table}: aadhaar {number} in {hits} rows")
    return found


def _sealed_aadhaar_in_tables(db: Any, key: bytes, numbers: list[str]) -> list[str]:
    """An Aadhaar number sealed with the field key is a stored number too: every row of every table holding a sealed
    value is opened for the Aadhaar purpose. Only the Aadhaar Data Vault may hold one, and only while its purpose
    lasts: once the journeys are done, it holds none of ``numbers`` (the scenarios' own; the database is shared
    with other tests, whose vault rows may still be within their lifetime)."""
    found = []
    with db.unit_of_work() as s:
        tables = s.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).all()
        for table in tables:
            rows = s.scalars(text(f'SELECT t::text FROM "{table}" t WHERE t::text LIKE :v'), {"v": "%gAAAAA%"}).all()
            hits = sum(1 for row in rows if any(unseal(key, AADHAAR, t) in numbers for t in sealed_aadhaars(row, key)))
            if hits:
                found.append(f"table {table}: a sealed aadhaar in {hits} rows")
    return found


async def _reports(api_url: str, brand_id: str, headers: dict[str, str]) -> dict[str, str]:
    """Every report of the catalogue as CSV, over the days the scenarios ran in (IST dates around today)."""
    today = date.today()
    params = {"fromDate": (today - timedelta(days=2)).isoformat(), "toDate": (today + timedelta(days=2)).isoformat()}
    out = {}
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as api:
        for name in CATALOGUE:
            resp = await api.get(f"/api/v1/partner/brand/{brand_id}/report/{name}/csv", params=params, headers=headers)
            assert resp.status_code == 200, f"{name}: {resp.status_code} {resp.text[:300]}"
            out[name] = resp.text
    return out


async def _histories(app: Any, loan_ids: list[str]) -> list[str]:
    """Every run of every loan's workflow, each payload decoded with the codec (what a super admin can read)."""
    codec = payload_codec(app.settings)
    texts = []
    for loan_id in loan_ids:
        for n, history in enumerate(await all_runs(app.client, f"loan-{loan_id}")):
            payloads = [p for path, p in payloads_in(History(events=history.events)) if "[patch-data]" not in path]
            decoded = await codec.decode(payloads)
            texts.append(f"loan-{loan_id} run {n}: " + "\n".join(p.data.decode(errors="replace") for p in decoded))
    return texts


async def test_no_full_identifier_in_logs_errors_audit_reports_messages_or_history(  # noqa: PLR0913
    app,
    db,
    sandbox,
    captured_logs,
    errors_answered,
    aadhaars,  # noqa: ANN001
) -> None:
    code = f"x{uuid.uuid4().hex[:8]}"
    brand = seed_brand(db, sandbox.url, code=code, name=f"PII {code}", period_seconds=5, kyc_steps=FULL_KYC)
    brand_id = brand["brand_id"]
    journeys = await _journeys(app, sandbox, code)
    ends = {j.loan_id: j.status for j in journeys}
    assert all(status in ("COMPLETED", "SETTLED") for status in ends.values()), ends

    driver = Driver(app.api.url, sandbox.url, code)
    try:
        admin = await driver.staff_headers("SUPER_ADMIN")
        # error answers about a customer's own identifiers: a mistyped PAN, a mistyped account number
        other = await driver.register(demo_identity(9, "auto")[0])
        pan, account = journeys[0].pan, await _an_account(app, db, brand_id)
        wrong = [
            await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan + "9"}, headers=other),
            await driver.api.post(
                "/api/v1/web/bank/add-account",
                json={"accountNumber": account + "12345678", "ifsc": "HDFC0000001"},
                headers=other,
            ),
        ]
        assert [r.status_code for r in wrong] == [422, 422], [r.text for r in wrong]
    finally:
        await driver.close()

    identifiers = _identifiers(app, db, brand_id, aadhaars)
    assert len(identifiers["phone"]) >= len(journeys) and len(identifiers["pan"]) >= len(journeys)
    assert identifiers["account"] and len(identifiers["aadhaar"]) >= len(journeys)

    with db.unit_of_work() as s:
        loan_ids = list(s.scalars(select(Loan.id).where(Loan.brand_id == brand_id)))
        audit = [
            json.dumps(dict(row._mapping), default=str)
            for row in s.execute(
                text(
                    "SELECT action, entity_type, entity_id, path, before, after FROM audit_logs "
                    "WHERE brand_id = :b OR (brand_id IS NULL AND created_at > now() - interval '30 minutes')"
                ),
                {"b": brand_id},
            )
        ]
        messages = [
            json.dumps({"recipient": m.recipient, "attempts": m.attempts, "error": m.error}, default=str)
            for m in s.scalars(select(CustomerMessage).where(CustomerMessage.brand_id == brand_id))
        ]
    assert len(loan_ids) >= len(journeys) and audit and messages
    assert len(errors_answered) >= len(wrong)
    reports = await _reports(app.api.url, brand_id, admin)
    assert any(len(list(csv.reader(io.StringIO(body)))) > 1 for body in reports.values())  # rows, not just headers
    histories = await _histories(app, loan_ids)
    # the demo driver reads the sandbox's SMS inbox by phone (GET /gupshup/messages?to=…): a harness call, in this
    # process only because the test drives the journeys here; no process of the system makes it
    logs = [line for line in captured_logs.lines if "/gupshup/messages?to=" not in line]
    assert len(logs) > 10, "the scan saw the process's log lines"

    found = (
        leaks("log", logs, identifiers)
        + leaks("error answer", errors_answered, identifiers)
        + leaks("audit_logs", audit, identifiers)
        + [hit for name, body in reports.items() for hit in leaks(f"report {name}", [body], identifiers)]
        + leaks("customer_messages", messages, identifiers)
        + leaks("history", histories, identifiers)
    )
    found += _aadhaar_in_tables(db, identifiers["aadhaar"])
    key = app.settings.field_key()
    found += _sealed_aadhaar_in_tables(db, key, identifiers["aadhaar"])
    found += [f"history: a sealed aadhaar in {h[:60]}" for h in histories if sealed_aadhaars(h, key)]
    summary = sorted({f.split(" in …")[0].rsplit(" ", 1)[0] for f in found})
    assert not found, "\n".join(summary + found[:20])
