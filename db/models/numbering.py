"""Counters of the numbered documents a brand issues (receipts, closure certificates)."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, fk


class DocumentSequence(Base):
    """The last number issued under one of a brand's prefixes: receipts ``DEMO/2026-27/``, certificates
    ``NOC/DEMO/2026-27/`` (a prefix per financial year). Advanced in the issuing transaction by
    :func:`db.numbering.next_number`."""

    __tablename__ = "document_sequences"
    brand_id: Mapped[str] = fk("brands.id", primary_key=True)
    prefix: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_value: Mapped[int] = mapped_column(BigInteger)
