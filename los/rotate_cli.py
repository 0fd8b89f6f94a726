"""`los rotate-field-key`: move every stored sealed value to the current field key (docs/security.md, "Field-encryption
key rotation").

After ``LOS_FIELD_KEY_ID`` points at a new key of ``LOS_FIELD_KEYS`` on every process, new values are sealed under it;
this re-seals the values stored before (under an older ring key, or the legacy key, without an id), so the old key
can leave the ring. Each row is opened with the key its value names and sealed again under the current one, in
batches, each batch its own transaction; a run can stop and start again (rows already moved are skipped). A value
that does not open (sealed under a key no longer held) is counted and left as it is, and the command exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from db.models import AadhaarVaultEntry, BankAccount, CustomerDocument
from db.session import Database
from los.crypto import AADHAAR, BANK_ACCOUNT, PREFIX, STATEMENT_PASSWORD, reseal

# Every column that holds a sealed value at rest, with the purpose it was sealed for (the Aadhaar Data Vault holds a
# number for minutes at most, but one deposited just before a rotation moves too).
SEALED_COLUMNS: tuple[tuple[Any, str, str], ...] = (
    (BankAccount, "account_sealed", BANK_ACCOUNT),
    (CustomerDocument, "password_sealed", STATEMENT_PASSWORD),
    (AadhaarVaultEntry, "number_sealed", AADHAAR),
)


@dataclass
class Moved:
    """What one run did to one column: values re-sealed, already under the current key, and unreadable."""

    resealed: int = 0
    current: int = 0
    unreadable: int = 0


def reseal_column(
    db: Database, key: bytes, model: Any, column: str, purpose: str, *, batch: int = 500, where: Any = None
) -> Moved:
    """Re-seal every value of ``model.column`` (of the rows ``where`` selects, default all) not yet under the
    current key of ``key`` (a ``FieldKeys``)."""
    current = getattr(key, "current", None)
    if current is None:
        raise ValueError("no current field key: set LOS_FIELD_KEYS and LOS_FIELD_KEY_ID first")
    col, done, after = getattr(model, column), Moved(), None
    prefix = f"{PREFIX}:{current}:"
    while True:
        with db.unit_of_work() as s:
            query = select(model.id, col).where(col.is_not(None)).order_by(model.id).limit(batch)
            if where is not None:
                query = query.where(where)
            if after is not None:
                query = query.where(model.id > after)
            rows = s.execute(query.with_for_update()).all()
            for row_id, token in rows:
                if token.startswith(prefix):
                    done.current += 1
                    continue
                try:
                    new = reseal(key, purpose, token)
                except ValueError:
                    done.unreadable += 1
                    continue
                if new is not None:
                    s.execute(update(model).where(model.id == row_id, col == token).values({column: new}))
                    done.resealed += 1
        if len(rows) < batch:
            return done
        after = rows[-1][0]


def reseal_all(db: Database, key: bytes, *, batch: int = 500) -> dict[str, Moved]:
    """:func:`reseal_column` for every column of :data:`SEALED_COLUMNS`, by ``table.column``."""
    return {
        f"{model.__tablename__}.{column}": reseal_column(db, key, model, column, purpose, batch=batch)
        for model, column, purpose in SEALED_COLUMNS
    }


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The command's options (``los rotate-field-key``)."""
    p.add_argument("--batch", type=int, default=500, help="rows per transaction (default 500)")


def run(args: argparse.Namespace) -> int:
    """Re-seal everything under the configured current key; print what moved as JSON; 1 if a value did not open."""
    from los.settings import get_settings

    settings = get_settings()
    db = Database(settings.sqlalchemy_url, pool_size=1)
    try:
        moved = reseal_all(db, settings.field_key(), batch=args.batch)
    finally:
        db.dispose()
    print(json.dumps({name: vars(m) for name, m in moved.items()}, indent=2))
    return 1 if any(m.unreadable for m in moved.values()) else 0


if __name__ == "__main__":  # python3 -m los.rotate_cli, until the `los` command registers it
    parser = argparse.ArgumentParser(prog="los rotate-field-key", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))
