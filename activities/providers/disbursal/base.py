"""What a disbursing bank's adapter offers: send a transfer to a verified beneficiary, ask the bank what became of
a transfer (its status API), and turn the bank's callback into a ``DisbursalEvent``.

A transfer whose outcome is unknown (the request timed out, the worker crashed before recording the answer) is never
sent again, nor to another bank, before ``transfer_status`` has said the bank does not have it or failed it: the
bank is asked by *our* reference (the idempotency key sent with the transfer), which it stores with the transfer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from domain.disbursal import TransferMode  # re-exported: the rail is the domain's rule (domain.disbursal)

__all__ = ["BankTransferState", "Beneficiary", "DisbursalProvider", "Transfer", "TransferMode", "TransferStatusAnswer"]


class BankTransferState(StrEnum):
    """What the bank's status API says of a transfer."""

    NOT_FOUND = "NOT_FOUND"  # the bank never received it: safe to send again (same reference)
    PENDING = "PENDING"  # accepted, not settled yet
    SUCCESS = "SUCCESS"  # credited; the UTR is known
    FAILED = "FAILED"  # failed or reversed; ``reason`` says why


@dataclass(frozen=True)
class Beneficiary:
    """The verified account the money goes to. ``account_number`` is plain only inside the disbursal activity
    (the database keeps it sealed, workflow histories never see it)."""

    name: str  # the account holder's name as the bank holds it (penny drop)
    account_number: str
    ifsc: str
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Transfer:
    """The bank took the transfer: its id at the bank and its state then (usually PENDING)."""

    transfer_id: str
    status: str


@dataclass(frozen=True)
class TransferStatusAnswer:
    """The bank's status API for one transfer (asked by our reference)."""

    state: BankTransferState
    transfer_id: str | None = None
    utr: str | None = None
    reason: str | None = None  # the bank's failure reason, as it words it


class DisbursalProvider(Protocol):
    async def transfer(
        self,
        *,
        amount: int,
        reference_id: str,
        beneficiary: Beneficiary,
        mode: TransferMode,
        callback_url: str,
        idempotency_key: str,
    ) -> Transfer:
        """Send ``amount`` paise to ``beneficiary`` by ``mode``; ``idempotency_key`` is our unique reference for
        this attempt (the same key never moves money twice). ``reference_id`` is the loan id. Raises
        ``BusinessRefusal`` when the bank refuses the request (invalid IFSC or account, ...) and ``ProviderError``
        on a transient fault (then the outcome is unknown: ask ``transfer_status``)."""
        ...

    async def transfer_status(self, *, idempotency_key: str) -> TransferStatusAnswer:
        """The bank's status API for the transfer sent with ``idempotency_key``."""
        ...
