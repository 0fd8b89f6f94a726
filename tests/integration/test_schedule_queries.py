"""``schedule_queries`` on PostgreSQL: a payment's parts are added to the installment in one statement, which marks it
PAID only once every part of it (penal, fees, interest, principal) is paid; a link asked for meanwhile waits for it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import OperationalError

from activities.loan import schedule_queries
from db.models import PaymentLink, RepaymentInstallment
from tests.integration import webhook_storm_events as ev


def _row(db, loan_id: str, number: int) -> RepaymentInstallment:  # noqa: ANN001
    with db.unit_of_work() as s:
        return s.scalars(
            select(RepaymentInstallment).where(
                RepaymentInstallment.loan_id == loan_id, RepaymentInstallment.installment_no == number
            )
        ).one()


def _pay(db, loan_id: str, number: int, at: datetime, **parts: int) -> bool:  # noqa: ANN001
    amounts = {"penal": 0, "fees": 0, "interest": 0, "principal": 0} | parts
    with db.unit_of_work() as s:
        paid = schedule_queries.pay_installment(s, loan_id, number, now=at, **amounts)
        s.commit()
    return paid


def test_an_installment_is_paid_only_when_every_part_of_it_is(db, brand) -> None:  # noqa: ANN001
    (loan,) = ev.seed_servicing_loans(db, brand["brand_id"], 1)
    first = _row(db, loan.loan_id, 1)
    status_before, interest, principal, fees = first.status, first.interest, first.principal, first.fees
    assert status_before != "PAID" and interest > 0 and principal > 0
    with db.unit_of_work() as s:
        schedule_queries.add_penal(s, loan.loan_id, 1, 50_000)
        s.commit()
    at = datetime(2026, 12, 3, 6, 30, tzinfo=UTC)

    # fees, interest and principal in full, the penal charge not yet: the parts are added, the status stays
    assert _pay(db, loan.loan_id, 1, at, interest=interest, principal=principal, fees=fees) is False
    now = _row(db, loan.loan_id, 1)
    assert (now.interest_paid, now.principal_paid, now.fees_paid, now.penal_paid) == (interest, principal, fees, 0)
    assert (now.status, now.paid_at) == (status_before, None)

    # part of the penal charge: still not paid
    assert _pay(db, loan.loan_id, 1, at, penal=20_000) is False
    assert (_row(db, loan.loan_id, 1).penal_paid, _row(db, loan.loan_id, 1).status) == (20_000, status_before)

    # the rest of it: PAID at that moment, every paid amount the sum of the parts
    assert _pay(db, loan.loan_id, 1, at, penal=30_000) is True
    paid = _row(db, loan.loan_id, 1)
    assert (paid.status, paid.paid_at) == ("PAID", at)
    assert (paid.interest_paid, paid.principal_paid, paid.penal_paid, paid.fees_paid) == (
        interest, principal, 50_000, fees,
    )  # fmt: skip

    # a penal charge levied later leaves it PAID, and a payment of part of that charge does not settle it
    with db.unit_of_work() as s:
        schedule_queries.add_penal(s, loan.loan_id, 1, 10_000)
        s.commit()
    assert _pay(db, loan.loan_id, 1, at, penal=4_000) is False
    assert _pay(db, loan.loan_id, 1, at, penal=6_000) is True

    # the next installment is untouched
    second = _row(db, loan.loan_id, 2)
    assert second.status == status_before and second.interest_paid == second.principal_paid == 0


def test_a_locking_status_read_waits_for_a_payment_being_recorded_on_the_installment(db, brand) -> None:  # noqa: ANN001
    """The read ``ensure_payment_link`` makes before locking the installment's links (``share=True``, FOR SHARE):
    while a payment has paid the installment but not committed, it waits (here: until its lock timeout) instead of
    seeing it still due; after the commit it sees PAID. A plain read does not wait and sees the status before."""
    (loan,) = ev.seed_servicing_loans(db, brand["brand_id"], 1)
    first = _row(db, loan.loan_id, 1)
    at = datetime(2026, 12, 3, 6, 30, tzinfo=UTC)
    with db.unit_of_work() as paying:
        assert schedule_queries.pay_installment(
            paying, loan.loan_id, 1, penal=0, fees=first.fees, interest=first.interest, principal=first.principal,
            now=at,
        )  # fmt: skip
        with db.unit_of_work() as asking:
            assert schedule_queries.installment_status(asking, loan.loan_id, 1) == first.status  # not waiting
            asking.execute(text("SET LOCAL lock_timeout = '300ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                schedule_queries.installment_status(asking, loan.loan_id, 1, share=True)
        paying.commit()
    with db.unit_of_work() as asking:
        assert schedule_queries.installment_status(asking, loan.loan_id, 1, share=True) == "PAID"


def test_links_paid_marks_the_link_paid_and_every_link_of_an_installment_paid_in_full(db, brand) -> None:  # noqa: ANN001
    """The paid link reads PAID whatever its status; an installment paid in full takes its ACTIVE and HELD links with
    it, never a SUPERSEDED or CANCELLED one nobody paid."""
    (loan,) = ev.seed_servicing_loans(db, brand["brand_id"], 1)
    ref = uuid.uuid4().hex[:10]
    links = {  # link id: (installment, amount)
        f"plink_{ref}_a": (1, 100), f"plink_{ref}_b": (1, 200), f"plink_{ref}_c": (2, 300), f"plink_{ref}_d": (3, 400),
        f"plink_{ref}_e": (1, 150), f"plink_{ref}_f": (1, 250), f"plink_{ref}_g": (1, 50), f"plink_{ref}_h": (3, 450),
    }  # fmt: skip
    was = {"e": "SUPERSEDED", "f": "CANCELLED", "g": "HELD", "h": "SUPERSEDED"}
    with db.unit_of_work() as s:
        for link_id, (number, amount) in links.items():
            schedule_queries.insert_payment_link(
                s, loan_id=loan.loan_id, installment_no=number, provider="razorpay", link_id=link_id,
                url=f"https://rzp.io/i/{link_id}", amount=amount, purpose="INSTALLMENT",
            )  # fmt: skip
        for key, status in was.items():
            s.execute(update(PaymentLink).where(PaymentLink.link_id == f"plink_{ref}_{key}").values(status=status))
        s.commit()

    def statuses() -> dict[str, str]:
        with db.unit_of_work() as s:
            rows = s.scalars(select(PaymentLink).where(PaymentLink.loan_id == loan.loan_id)).all()
            return {row.link_id: row.status for row in rows}

    with db.unit_of_work() as s:  # neither a link nor an installment paid in full: nothing changes
        schedule_queries.links_paid(s, loan.loan_id, link_id=None, installments=[])
        s.commit()
    assert statuses() == {link_id: was.get(link_id[-1], "ACTIVE") for link_id in links}
    with db.unit_of_work() as s:  # link c paid, installment 1 paid in full (by another payment's parts)
        schedule_queries.links_paid(s, loan.loan_id, link_id=f"plink_{ref}_c", installments=[1])
        s.commit()
    assert statuses() == {
        f"plink_{ref}_a": "PAID", f"plink_{ref}_b": "PAID", f"plink_{ref}_c": "PAID", f"plink_{ref}_d": "ACTIVE",
        f"plink_{ref}_e": "SUPERSEDED", f"plink_{ref}_f": "CANCELLED", f"plink_{ref}_g": "PAID",
        f"plink_{ref}_h": "SUPERSEDED",
    }  # fmt: skip
    with db.unit_of_work() as s:  # a superseded link paid all the same (the borrower had it open) was paid
        schedule_queries.links_paid(s, loan.loan_id, link_id=f"plink_{ref}_h", installments=[])
        s.commit()
    assert statuses()[f"plink_{ref}_h"] == "PAID" and statuses()[f"plink_{ref}_e"] == "SUPERSEDED"
