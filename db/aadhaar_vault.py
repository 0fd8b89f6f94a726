"""The Aadhaar Data Vault's SQL: deposit a sealed number, read it back by its reference token, erase it.

UIDAI lets a requesting entity store an Aadhaar number only in an Aadhaar Data Vault: encrypted, reachable only by
the systems that need it, and referenced elsewhere by a token (Aadhaar Act 2016 s.29; Aadhaar (Data Security)
Regulations 2016, reg. 6; UIDAI circular "Circular for implementation of Aadhaar Data Vault", 25 July 2017).
Everywhere else (workflow history, the customer row, logs) the number appears only masked or as the token.

These functions take plain values: the caller seals (the API, ``los.crypto.seal`` with the field key, purpose
``aadhaar``) and opens (the activity that sends the OTP). The vault keeps a number only while its purpose lasts
(:data:`VAULT_LIFETIME` at most): it is erased once the OTP is sent or refused, and a number whose request never
reached the vendor is erased by :func:`erase_expired`, which every deposit runs and the Temporal Schedule
``aadhaar-vault-sweep`` runs periodically (``workflows.aadhaar_vault_sweep``; docs/security.md, "Aadhaar as UIDAI
permits").
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from db.models.aadhaar import AadhaarVaultEntry

TOKEN_PREFIX = "adv_"
EKYC_OTP = "EKYC_OTP"  # the one purpose a number is deposited for: the e-KYC OTP of a loan
# How long a number may stay in the vault if nothing erases it first. It covers the OTP activity and all its
# retries (PROVIDER_RETRY: 8 attempts of at most 30 s, backoff capped at 30 s, about 6 minutes) with room to spare;
# the project has no per-brand retention setting for it.
VAULT_LIFETIME = timedelta(minutes=15)


@dataclass(frozen=True)
class VaultRead:
    """What the OTP activity needs of an entry: the sealed number (None once erased) and, when the OTP was already
    sent, the vendor and its reference (a retried activity answers with them and never needs the number)."""

    token: str
    number_sealed: str | None
    masked: str
    vendor: str | None
    vendor_reference: str | None


def new_token() -> str:
    """A reference token: ``adv_`` and 32 URL-safe characters from ``secrets`` (192 random bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(24)


def deposit(
    session: Session,
    *,
    sealed: str,
    masked: str,
    brand_id: str,
    customer_id: str,
    loan_id: str,
    now: datetime | None = None,
    lifetime: timedelta = VAULT_LIFETIME,
) -> str:
    """Store one sealed number for the e-KYC OTP of ``loan_id``; returns its reference token. Numbers of other
    entries whose lifetime has passed are erased in the same transaction (the vault sweeps itself on every write)."""
    now = now or datetime.now(UTC)
    erase_expired(session, now=now)
    token = new_token()
    session.add(
        AadhaarVaultEntry(
            id=token,
            brand_id=brand_id,
            customer_id=customer_id,
            loan_id=loan_id,
            purpose=EKYC_OTP,
            number_sealed=sealed,
            masked=masked,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return token


def read(session: Session, token: str, *, loan_id: str) -> VaultRead | None:
    """The entry ``token`` names, only for the loan it was deposited for; None when there is none (unknown token,
    another loan's, or discarded). A number past its lifetime reads as erased."""
    row = session.scalars(
        select(AadhaarVaultEntry).where(AadhaarVaultEntry.id == token, AadhaarVaultEntry.loan_id == loan_id)
    ).first()
    if row is None:
        return None
    held = row.number_sealed if row.expires_at > datetime.now(UTC) else None
    return VaultRead(row.id, held, row.masked, row.vendor, row.vendor_reference)


def erase(
    session: Session, token: str, *, vendor: str | None = None, vendor_reference: str | None = None
) -> None:
    """The purpose has ended: the number is erased (the row stays, masked, with what the vendor answered)."""
    values: dict = {"number_sealed": None, "erased_at": datetime.now(UTC)}
    if vendor_reference is not None:
        values |= {"vendor": vendor, "vendor_reference": vendor_reference}
    session.execute(update(AadhaarVaultEntry).where(AadhaarVaultEntry.id == token).values(values))


def discard(session: Session, token: str) -> None:
    """The request the number came with was refused before any use: the entry is removed altogether."""
    session.execute(delete(AadhaarVaultEntry).where(AadhaarVaultEntry.id == token))


def erase_expired(session: Session, *, now: datetime | None = None) -> int:
    """Erase every number past its ``expires_at``; returns how many were erased."""
    now = now or datetime.now(UTC)
    result = session.execute(
        update(AadhaarVaultEntry)
        .where(AadhaarVaultEntry.number_sealed.is_not(None), AadhaarVaultEntry.expires_at <= now)
        .values(number_sealed=None, erased_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
