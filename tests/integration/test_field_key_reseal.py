"""`los rotate-field-key` against the database: bank account numbers and statement passwords sealed under the
legacy key and under an old ring key are moved to the current key in batches; values already under it are left;
a value whose key left the ring is counted as unreadable and left as it was."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from db.models import BankAccount, Customer, CustomerDocument
from los.crypto import BANK_ACCOUNT, STATEMENT_PASSWORD, fingerprint, key_id, seal, unseal
from los.rotate_cli import reseal_column
from los.settings import Settings


def test_reseal_moves_stored_values_to_the_current_key(db, brand) -> None:  # noqa: ANN001
    legacy = Settings().field_key()
    old = Settings(field_keys={"old": "old-ring-secret"}).field_key()
    gone = Settings(field_keys={"gone": "a-key-no-longer-held"}).field_key()
    key = Settings(field_keys={"old": "old-ring-secret", "new": "new-ring-secret"}, field_key_id="new").field_key()
    numbers = {"111122223333": legacy, "444455556666": old, "777788889999": key, "000011112222": gone}
    with db.unit_of_work() as s:
        customer = Customer(brand_id=brand["brand_id"], phone=f"9{uuid.uuid4().int % 10**9:09d}")
        s.add(customer)
        s.flush()
        cid = customer.id
        for number, sealing in numbers.items():
            s.add(
                BankAccount(
                    customer_id=cid,
                    account_sealed=seal(sealing, BANK_ACCOUNT, number),
                    account_fingerprint=fingerprint(legacy, BANK_ACCOUNT, number),
                    account_last4=number[-4:],
                    ifsc="HDFC0000001",
                )
            )
        s.add(
            CustomerDocument(
                brand_id=brand["brand_id"],
                customer_id=cid,
                doc_type="BANK_STATEMENT",
                storage_key=f"statements/{uuid.uuid4()}.pdf",
                file_name="statement.pdf",
                content_type="application/pdf",
                size_bytes=10,
                sha256="0" * 64,
                password_sealed=seal(legacy, STATEMENT_PASSWORD, "pdf-pass"),
            )
        )

    accounts = reseal_column(
        db, key, BankAccount, "account_sealed", BANK_ACCOUNT, batch=1, where=BankAccount.customer_id == cid
    )
    docs = reseal_column(
        db, key, CustomerDocument, "password_sealed", STATEMENT_PASSWORD, where=CustomerDocument.customer_id == cid
    )
    assert (accounts.resealed, accounts.current, accounts.unreadable) == (2, 1, 1)
    assert (docs.resealed, docs.current, docs.unreadable) == (1, 0, 0)

    only_new = Settings(field_keys={"new": "new-ring-secret"}).field_key()
    with db.unit_of_work() as s:
        stored = s.scalars(select(BankAccount.account_sealed).where(BankAccount.customer_id == cid)).all()
        password = s.scalars(select(CustomerDocument.password_sealed).where(CustomerDocument.customer_id == cid)).one()
    opened = {unseal(only_new, BANK_ACCOUNT, t) for t in stored}
    assert opened == {"111122223333", "444455556666", "777788889999", None}  # the one under 'gone' stays as it was
    assert sorted(key_id(t) or "" for t in stored) == ["gone", "new", "new", "new"]
    assert key_id(password or "") == "new" and unseal(only_new, STATEMENT_PASSWORD, password or "") == "pdf-pass"
    again = reseal_column(db, key, BankAccount, "account_sealed", BANK_ACCOUNT, where=BankAccount.customer_id == cid)
    assert (again.resealed, again.current, again.unreadable) == (0, 3, 1)  # a second run moves nothing
