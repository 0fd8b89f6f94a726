"""What the API fuzzer runs against: a database of its own, the API over real HTTP, a worker in a thread of
its own (the fuzzer's requests are synchronous, so a worker on the test's event loop would stand still
while they wait), a seeded brand, and a credential of each kind, renewed when the fuzzer signs it out."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from db.migrate import upgrade
from db.session import Database
from los.demo import demo_identity
from los.seed import seed_brand, staff_email
from los.settings import Settings, sqlalchemy_url
from tests.conftest import ThreadedServer, free_port


@contextlib.contextmanager
def fresh_database(pg_server_url: str) -> Iterator[str]:
    """A new database on the session's server, migrated to head, dropped afterwards."""
    name = f"los_fuzz_{uuid.uuid4().hex[:10]}"
    admin = create_engine(sqlalchemy_url(pg_server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, query = sqlalchemy_url(pg_server_url).partition("?")
    url = base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class WorkerThread:
    """The loan worker (workflows and activities) on its own event loop in a background thread."""

    def __init__(self, settings: Settings, db: Database, storage_dir: Path):
        self.settings, self.db, self.storage_dir = settings, db, storage_dir
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="fuzz-worker", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        from temporalio.worker import Worker

        from activities.documents import PdfRenderer
        from activities.kyc import KycActivities
        from activities.loan import LoanActivities
        from activities.storage import LocalStorage
        from los.temporal import connect
        from workflows.loan import LoanWorkflow

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        client = await connect(self.settings)
        renderer = PdfRenderer()  # launches Chromium only if a loan gets as far as its agreement
        try:
            async with httpx.AsyncClient(timeout=30) as http:
                store = LocalStorage(self.storage_dir)
                loans = LoanActivities(self.db, http, store, renderer, self.settings.api_url, self.settings.field_key())
                kyc = KycActivities(self.db, http, store, self.settings.api_url, self.settings.field_key())
                async with Worker(
                    client,
                    task_queue=self.settings.task_queue,
                    workflows=[LoanWorkflow],
                    activities=loans.all() + kyc.all(),
                ):
                    self._ready.set()
                    await self._stop.wait()
        finally:
            await renderer.close()

    def __enter__(self) -> WorkerThread:
        self._thread.start()
        if not self._ready.wait(timeout=60) or self._error is not None:
            raise RuntimeError(f"the worker did not start: {self._error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)


#: the staff roles the fuzzer runs as, beside the brand admin (``staff``): who reads loans and reviews them, who
#: collects, and the platform's super admin (``/api/v1/admin``)
STAFF_ROLES = {
    "credit_executive": "CREDIT_EXECUTIVE",
    "collection_executive": "COLLECTION_EXECUTIVE",
    "super_admin": "SUPER_ADMIN",
}


@dataclass
class FuzzTarget:
    """The running API and a credential of each kind for the fuzz runs."""

    url: str
    sandbox_url: str
    brand_id: str
    brand_code: str
    http: httpx.Client
    customer_id: str = ""
    loan_id: str = ""  # the customer's loan, applied for at start (it goes on through KYC and review)
    _customer_refresh: str = ""
    _document: dict[str, Any] = field(default_factory=dict)
    _headers: dict[str, dict[str, str]] = field(default_factory=dict)
    # (who, "METHOD /path template", status) -> how many answers
    answers: Counter[tuple[str, str, int]] = field(default_factory=Counter)

    @property
    def schema_url(self) -> str:
        return f"{self.url}/openapi.json"

    def document(self) -> dict[str, Any]:
        """The app's OpenAPI document, read once: the app builds it on the first request (walking every route's
        code), which on a loaded machine takes longer than the fuzzer's own loader waits."""
        if not self._document:
            resp = self.http.get("/openapi.json", timeout=180)
            resp.raise_for_status()
            self._document = resp.json()
        return self._document

    def headers(self, who: str) -> dict[str, str]:
        """The credential of ``who`` (anonymous, customer, staff — the brand admin —, api_key, or a staff role of
        :data:`STAFF_ROLES`), obtained on first use."""
        if who not in self._headers:
            self._headers[who] = self._sign_in(who)
        return self._headers[who]

    def after(self, who: str, case: Any, response: Any) -> None:
        """Count the answer; a successful sign-out ends the credential, so the next request of the run signs
        in again."""
        self.answers[(who, f"{case.method.upper()} {case.path}", response.status_code)] += 1
        if case.path.endswith("/auth/logout") and response.status_code < 300:
            self._headers.pop(who, None)

    def _sign_in(self, who: str) -> dict[str, str]:
        if who == "anonymous":
            return {}
        if who == "customer":
            return {"Authorization": f"Bearer {self._customer_token()}"}
        if who in STAFF_ROLES:
            return {"Authorization": f"Bearer {self._staff_token(STAFF_ROLES[who])}"}
        staff = {"Authorization": f"Bearer {self._staff_token()}"}
        if who == "staff":
            return staff
        if who == "api_key":
            resp = self.http.post(
                f"/api/v1/partner/brand/{self.brand_id}/api-keys", json={"name": "fuzz"}, headers=staff
            )
            resp.raise_for_status()
            return {"X-API-Key": resp.json()["key"]}
        raise ValueError(who)

    def _staff_token(self, role: str = "ADMIN") -> str:
        body = {"email": staff_email(role, self.brand_code), "password": "demo-password"}
        resp = self.http.post("/api/v1/partner/auth/login", json=body)
        resp.raise_for_status()
        return resp.json()["accessToken"]

    def _customer_token(self) -> str:
        """The same customer again (refresh token) after a sign-out; a new one only if that fails."""
        if self._customer_refresh:
            resp = self.http.post("/api/v1/web/auth/refresh-token", json={"refreshToken": self._customer_refresh})
            if resp.status_code == 200:
                self._customer_refresh = resp.json()["refreshToken"]
                return resp.json()["accessToken"]
        phone, _ = demo_identity(0, "review")
        body = {"phoneNumber": phone, "brand": self.brand_code}
        self.http.post("/api/v1/web/auth/register", json=body).raise_for_status()
        sms = httpx.get(f"{self.sandbox_url}/gupshup/messages", params={"to": phone}, timeout=10).json()
        otp = [m["text"] for m in sms if "verification code" in m["text"]][-1].split()[0]
        resp = self.http.post("/api/v1/web/auth/verify-otp", json={**body, "otp": otp})
        resp.raise_for_status()
        self.customer_id, self._customer_refresh = resp.json()["customerId"], resp.json()["refreshToken"]
        return resp.json()["accessToken"]

    def apply_for_loan(self) -> None:
        """The customer verifies a PAN that leads to manual review and applies: staff routes then have a
        real loan (and customer) of the brand to act on."""
        headers = self.headers("customer")
        _, pan = demo_identity(0, "review")
        self.http.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers).raise_for_status()
        body = {"amount": "50000", "tenure": 3, "productCode": "DEMO-FAST"}
        resp = self.http.post("/api/v1/web/loans", json=body, headers=headers)
        resp.raise_for_status()
        self.loan_id = resp.json()["id"]


@contextlib.contextmanager
def start_target(pg_server_url: str, temporal_target: str, sandbox_url: str, storage_dir: Path) -> Iterator[FuzzTarget]:
    """Database, worker, API, a seeded brand (code ``fz…``, its staff with the demo password) and a
    customer's loan in it."""
    from api.app import create_app

    with fresh_database(pg_server_url) as url:
        db = Database(url, pool_size=5)
        port = free_port()
        settings = Settings(
            database_url=url,
            temporal_address=temporal_target,
            task_queue=f"fuzz-{uuid.uuid4().hex[:8]}",
            api_port=port,
            storage_dir=storage_dir,
        )
        brand = seed_brand(db, sandbox_url, code=f"fz{uuid.uuid4().hex[:6]}", period_seconds=2)
        try:
            with WorkerThread(settings, db, storage_dir), ThreadedServer(create_app(settings), port=port) as api:
                with httpx.Client(base_url=api.url, timeout=30) as http:
                    fuzz = FuzzTarget(api.url, sandbox_url, brand["brand_id"], brand["brand_code"], http)
                    fuzz.apply_for_loan()
                    fuzz.document()  # built now, before any run's clock starts
                    yield fuzz
        finally:
            db.dispose()
