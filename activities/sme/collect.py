"""The collection account of a financed invoice: a virtual account at Razorpay Smart Collect the buyer pays into
by NEFT, RTGS or IMPS (docs/invoice-financing.md, "Collection").

Sources (Razorpay docs):
- create, fetch and close a virtual account (Customer Identifier): https://razorpay.com/docs/api/payments/smart-collect/
  (``POST /v1/virtual_accounts`` with ``receivers.types`` ``["bank_account"]``, ``description``, ``close_by`` a unix
  time, ``notes``; the answer ``{"id": "va_...", "entity": "virtual_account", "status": "active", "receivers":
  [{"id": "ba_...", "entity": "bank_account", "account_number", "ifsc", "bank_name", "name"}], ...}``;
  ``POST /v1/virtual_accounts/{id}/close`` → ``status`` "closed");
- the credit webhook ``virtual_account.credited`` and its signature: https://razorpay.com/docs/webhooks/smart-collect/
  and https://razorpay.com/docs/payments/smart-collect/va-vpa-qr/notification/ (read by ``api.webhooks.sme_collect``).

- fetch all virtual accounts: https://razorpay.com/docs/sg/api/payments/smart-collect/fetch-all (the same call
  in India's API reference: ``GET /v1/virtual_accounts`` with ``from``, ``to`` (unix times), ``count`` (at most 100)
  and ``skip``; the answer ``{"entity": "collection", "count", "items": [<virtual account>, ...]}``, each account
  with the ``notes`` it was created with).

Smart Collect is a product of the brand's Razorpay account: the adapter uses the brand's ``payments`` vendor
``razorpay`` (its key and base URL; the webhook secret verifies the credits).

**Idempotency.** Razorpay's create call takes no idempotency key: its idempotency header is documented for the
Create Payout and Composite APIs only (https://razorpay.com/docs/api/x/payout-idempotency/make-request: "Currently,
idempotency is supported only on the Create Payout API and the Composite APIs"), and the Smart Collect reference
above lists none. So a retry after a lost answer could open a second account. The guard: every account is created
with our request id in its ``notes`` (``request_id``), and before creating one the activity lists the brand's
accounts created since the request was funded (:meth:`RazorpaySmartCollect.find`, the fetch-all call above) and
reuses an active one carrying that request id; only when there is none is one created.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio import activity

from activities.providers.base import BusinessRefusal, HttpProvider, ProviderConfig
from activities.sme.common import SmeBase, loaded
from db.models import SmeVirtualAccount
from domain.sme.settings import sme_settings
from workflows.contracts.sme import SmeRequestRef
from workflows.invoice_contracts import VirtualAccountOpened
from workflows.options import IST

VENDOR = "razorpay"
#: how long after the due date the account stays open at the latest (it is closed when the request closes)
CLOSE_AFTER_DUE = timedelta(days=180)
#: how far back an account opened by an earlier attempt (its answer lost) is looked for: the activity's retries
#: span minutes, so a day is ample
LOOK_BACK = timedelta(days=1)


@dataclass(frozen=True)
class VirtualAccount:
    """A virtual account as Razorpay answers it: its id (``va_...``), status, and its bank account receiver."""

    id: str
    status: str
    account_number: str
    ifsc: str
    bank_name: str | None
    name: str | None


def collections_vendor(brand_config: dict[str, Any]) -> ProviderConfig | None:
    """The brand's Razorpay account (its first configured ``payments`` vendor ``razorpay``, active or not), or
    None when it has none."""
    return next((c for c in ProviderConfig.configured(brand_config, "payments") if c.vendor == VENDOR), None)


class RazorpaySmartCollect(HttpProvider):
    """Razorpay Smart Collect: open and close a request's virtual account (see the module's sources)."""

    async def create(self, *, description: str, close_by: int, notes: dict[str, str]) -> VirtualAccount:
        """Open a virtual account with a bank account receiver; ``close_by`` a unix time (seconds). Raises
        ``BusinessRefusal`` on a 4xx (the vendor said no), ``ProviderError`` on a fault (retried)."""
        body = await self.call(
            "POST",
            "/razorpay/virtual_accounts",
            json={
                "receivers": {"types": ["bank_account"]},
                "description": description[:2048],
                "close_by": close_by,
                "notes": notes,
            },
        )
        return self._account(body)

    async def find(self, request_id: str, *, since: int, pages: int = 10) -> VirtualAccount | None:
        """The active account created since ``since`` (a unix time, seconds) whose ``notes.request_id`` is
        ``request_id``, or None: Razorpay's fetch-all, 100 a page, at most ``pages`` pages (newest first). Raises
        ``ProviderError`` on a fault (retried), ``BusinessRefusal`` on a 4xx."""
        for page in range(pages):
            body = await self.call(
                "GET", "/razorpay/virtual_accounts", params={"from": since, "count": 100, "skip": page * 100}
            )
            with self.reading("Razorpay virtual accounts"):
                items = list(body["items"])
            for item in items:
                notes = item.get("notes")
                if isinstance(notes, dict) and notes.get("request_id") == request_id and item.get("status") == "active":
                    return self._account(item)
            if len(items) < 100:
                return None
        return None

    async def close(self, account_id: str) -> VirtualAccount:
        """Close the account: later transfers into it are returned by the bank."""
        return self._account(await self.call("POST", f"/razorpay/virtual_accounts/{account_id}/close"))

    def _account(self, body: dict[str, Any]) -> VirtualAccount:
        with self.reading("Razorpay virtual account"):
            receiver = next(r for r in body["receivers"] if r["entity"] == "bank_account")
            return VirtualAccount(
                str(body["id"]), str(body["status"]), str(receiver["account_number"]), str(receiver["ifsc"]),
                receiver.get("bank_name"), receiver.get("name"),
            )  # fmt: skip


class SmeCollect(SmeBase):
    """``sme_open_virtual_account`` and ``sme_close_virtual_account``."""

    def smart_collect(self, brand_config: dict[str, Any]) -> RazorpaySmartCollect | None:
        """The brand's Smart Collect adapter, or None without a Razorpay account or with ``sme.virtualAccounts``
        false."""
        config = collections_vendor(brand_config)
        if config is None or not sme_settings(brand_config).virtual_accounts:
            return None
        return RazorpaySmartCollect(self.http, config)

    @activity.defn(name="sme_open_virtual_account")
    async def open_virtual_account(self, ref: SmeRequestRef) -> VirtualAccountOpened:
        """The request's virtual account, opened once (an account already recorded is answered again; one opened at
        Razorpay by an attempt whose answer was lost is found by its ``notes.request_id`` and reused, never a
        second one opened); none (all None) when the brand has no Razorpay account or the vendor refuses. A vendor
        fault raises (retried)."""
        ctx = await self._tx(loaded(ref.request_id))
        known = await self._tx(lambda s: _account_of(s, ref.request_id))
        if known is not None:
            return VirtualAccountOpened(known.account_number, known.ifsc, known.bank_name)
        adapter = self.smart_collect(dict(ctx.brand.config or {}))
        if adapter is None:
            return VirtualAccountOpened()
        due_end = datetime.combine(ctx.invoice.due_date + CLOSE_AFTER_DUE, time(), IST)
        since = int((datetime.now(UTC) - LOOK_BACK).timestamp())
        try:
            account = await adapter.find(ref.request_id, since=since) or await adapter.create(
                description=f"Invoice {ctx.invoice.number} of {ctx.business.legal_name}",
                close_by=int(due_end.timestamp()),
                notes={"request_id": ref.request_id, "purpose": "sme-collection"},
            )
        except BusinessRefusal as exc:
            activity.logger.warning("request %s: no virtual account: %s", ref.request_id, exc)
            return VirtualAccountOpened()

        def write(session: Session) -> SmeVirtualAccount:
            row = loaded(ref.request_id, lock=True)(session).request
            existing = _account_of(session, row.id)
            if existing is not None:  # opened meanwhile by an earlier attempt
                return existing
            new = SmeVirtualAccount(
                brand_id=row.brand_id, request_id=row.id, vendor=VENDOR, vendor_account_id=account.id,
                account_number=account.account_number, ifsc=account.ifsc, bank_name=account.bank_name,
                name=account.name, status="ACTIVE",
            )  # fmt: skip
            session.add(new)
            session.flush()
            return new

        row = await self._tx(write)
        return VirtualAccountOpened(row.account_number, row.ifsc, row.bank_name)

    @activity.defn(name="sme_close_virtual_account")
    async def close_virtual_account(self, ref: SmeRequestRef) -> str:
        """Close the request's virtual account at the vendor and mark it CLOSED; answers its status (NONE when the
        request has none). The vendor refusing (already closed there) still marks it CLOSED."""
        ctx = await self._tx(loaded(ref.request_id))
        row = await self._tx(lambda s: _account_of(s, ref.request_id))
        if row is None:
            return "NONE"
        if row.status == "ACTIVE":
            config = collections_vendor(dict(ctx.brand.config or {}))
            if config is not None:
                try:
                    await RazorpaySmartCollect(self.http, config).close(row.vendor_account_id)
                except BusinessRefusal as exc:
                    activity.logger.warning("request %s: closing %s: %s", ref.request_id, row.vendor_account_id, exc)

            def write(session: Session) -> None:
                account = _account_of(session, ref.request_id)
                if account is not None and account.status == "ACTIVE":
                    account.status, account.closed_at = "CLOSED", datetime.now(UTC)

            await self._tx(write)
        return "CLOSED"


def _account_of(session: Session, request_id: str) -> SmeVirtualAccount | None:
    return session.scalars(select(SmeVirtualAccount).where(SmeVirtualAccount.request_id == request_id)).first()


__all__ = ["RazorpaySmartCollect", "SmeCollect", "VirtualAccount", "collections_vendor"]
