"""Partners' books and settlement statements (domain.colending.reports): overdue on a date from a schedule and
what was collected by it, its DPD bucket, each lender's part of it, and a book built from sub-ledger legs."""

from __future__ import annotations

from datetime import date

from domain.colending import Agreement, Parts
from domain.colending import ledger as cl
from domain.colending.reports import BUCKETS, Book, Due, Statement, add_loan, bucket_of, lender_part, overdue_on

SCHEDULE = [Due(date(2026, 1, 5), 10_000_00, 1_000_00), Due(date(2026, 2, 5), 10_000_00, 800_00),
            Due(date(2026, 3, 5), 10_000_00, 600_00)]  # fmt: skip


def test_buckets_follow_the_sma_classes() -> None:
    assert [bucket_of(d) for d in (0, 1, 30, 31, 60, 61, 90, 91, 400)] == [
        None, "1-30", "1-30", "31-60", "31-60", "61-90", "61-90", "90+", "90+"
    ]  # fmt: skip
    assert BUCKETS == ("1-30", "31-60", "61-90", "90+")


def test_overdue_on_a_date_counts_from_the_oldest_installment_not_covered() -> None:
    # nothing paid: on 10 Feb the first two are due; DPD from 5 Jan
    assert overdue_on(SCHEDULE, 0, 0, date(2026, 2, 10)) == (Parts(principal=20_000_00, interest=1_800_00), 36)
    # the first installment paid: DPD from 5 Feb
    assert overdue_on(SCHEDULE, 10_000_00, 1_000_00, date(2026, 2, 10)) == (Parts(10_000_00, 800_00), 5)
    # on the due date itself nothing is overdue yet (it falls due at the day's end)
    assert overdue_on(SCHEDULE, 0, 0, date(2026, 1, 5)) == (Parts(), 0)
    # paid ahead: nothing overdue
    assert overdue_on(SCHEDULE, 30_000_00, 2_400_00, date(2026, 6, 1)) == (Parts(), 0)


def test_each_lenders_part_of_an_overdue_sums_to_it() -> None:
    agreement = Agreement(2000, 1200)
    whole = Parts(principal=20_000_01, interest=1_800_01)
    mine, theirs = (lender_part(agreement, 1800, whole, lender) for lender in (cl.ORIGINATOR, cl.PARTNER))
    assert mine.plus(theirs) == whole
    assert theirs.principal == 4_000_00 and theirs.interest == 240_00  # 20 %; 0.2 × 12 / 18 of the interest


def test_a_book_from_legs_and_a_statement() -> None:
    book = Book(cl.PARTNER)
    funded, paid = cl.funded(cl.PARTNER, 12_000_00), cl.collected(Parts(principal=2_000_00, interest=120_00))
    assert funded is not None and paid is not None
    legs = [(t.kind, leg.account, leg.amount) for t in (funded, paid) for leg in t.legs]
    add_loan(book, legs, Parts(principal=2_000_00, interest=100_00), dpd=45)
    assert (book.loans, book.disbursed, book.outstanding) == (1, 12_000_00, 10_000_00)
    assert book.collected == Parts(principal=2_000_00, interest=120_00)
    assert book.overdue["31-60"] == 2_100_00 and book.overdue_total == 2_100_00
    statement = Statement(cl.PARTNER, Parts(principal=2_000_00, interest=120_00), remitted=1_000_00)
    assert statement.owed == 1_120_00
    assert Statement(cl.PARTNER, Parts(principal=1), remitted=5).owed == 0
