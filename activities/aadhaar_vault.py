"""The Aadhaar Data Vault's sweep activity (``workflows.aadhaar_vault_sweep``): every number whose lifetime
(``db.aadhaar_vault.VAULT_LIFETIME``, 15 minutes) has passed is erased, in one transaction
(``db.aadhaar_vault.erase_expired``; the row stays with its masked form and ``erased_at``).

UIDAI permits an Aadhaar number to be kept only in an Aadhaar Data Vault and only while its purpose lasts (Aadhaar
Act 2016 s.29; Aadhaar (Data Security) Regulations 2016, reg. 6; UIDAI circular "Circular for implementation of
Aadhaar Data Vault", 25 July 2017). The OTP activity erases a number as soon as the vendor answers, and every deposit
sweeps the vault; this run is for the numbers whose request never reached the vendor while no one deposits another.
An erase is idempotent: a retried or repeated run erases nothing twice (docs/security.md, "Aadhaar as UIDAI
permits")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity

from activities.base import DbActivities
from db import aadhaar_vault
from db.session import Database


class AadhaarVaultActivities(DbActivities):
    """The sweep's one activity; ``all()`` lists it for the worker."""

    def __init__(self, db: Database):
        self.db = db

    def all(self) -> list[Callable[..., Any]]:
        return [self.sweep_aadhaar_vault]

    @activity.defn
    async def sweep_aadhaar_vault(self) -> int:
        """Erase every number past its ``expires_at`` (the database's rows, compared with this worker's UTC clock);
        returns how many were erased (0 when none were held past their lifetime)."""
        return await self._tx(lambda session: aadhaar_vault.erase_expired(session))
