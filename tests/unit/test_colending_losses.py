"""Co-lending's losses, default-loss guarantee and escrow (domain.colending): waivers, settlements' waivers and
write-offs split with the repayments to the paisa (hypothesis: any loan, agreement and sequence of payments and
losses), each lender's sub-ledger balanced and its principal zero once the loan is resolved; the DLG's cap, cover,
invocation day and no reinstatement (RBI DLG guidelines, 8 June 2023); the escrow's payable and maker-checker."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.colending import COMPONENTS, Agreement, Parts, Rule, Splitter, principal_split
from domain.colending import ledger as cl
from domain.colending.dlg import OVERDUE, WRITE_OFF, Dlg, Form
from domain.colending.escrow import Position, check_decision, check_remittance
from domain.colending.recovery import split_recovery
from domain.colending.reports import Book, Statement, add_loan
from domain.errors import Conflict, PermissionDenied, ValidationError
from domain.ledger import balances


def test_a_loss_posts_a_balanced_transaction_principal_out_of_the_book_income_as_memo() -> None:
    txn = cl.lost(cl.CL_WRITE_OFF, Parts(principal=800_00, interest=50_00, fees=10_00, penal=3_00))
    assert txn is not None and txn.kind == "CL_WRITE_OFF"
    assert balances([txn]) == {"CL_LOSS": 863_00, "CL_PRINCIPAL": -800_00, "CL_INTEREST_FORGONE": -50_00,
                               "CL_FEE_FORGONE": -10_00, "CL_PENAL_FORGONE": -3_00}  # fmt: skip
    assert sum(balances([txn]).values()) == 0
    assert cl.lost(cl.CL_WAIVER, Parts()) is None
    with pytest.raises(ValueError):
        cl.lost("CL_GIFT", Parts(penal=1))
    with pytest.raises(ValueError):
        cl.lost(cl.CL_SETTLEMENT, Parts(interest=-1))
    assert cl.resolved_component("CL_REPAYMENT", "CL_INTEREST_INCOME") == "interest"
    assert cl.resolved_component("CL_SETTLEMENT", "CL_INTEREST_FORGONE") == "interest"
    assert cl.resolved_component("CL_WRITE_OFF", "CL_PRINCIPAL") == "principal"
    assert cl.resolved_component("CL_WRITE_OFF", "CL_LOSS") is None
    assert cl.resolved_component("CL_DISBURSAL", "CL_PRINCIPAL") is None


def test_an_eighty_twenty_write_off_after_a_payment_leaves_each_principal_at_zero() -> None:
    agreement = Agreement(partner_share_bps=2000, partner_rate_bps=1200)
    mine, theirs = principal_split(agreement, 50_000_01)
    splitter = Splitter(agreement, 1600)
    paid = splitter.split(Parts(principal=16_000_00, interest=600_00))
    gone = splitter.split(Parts(principal=34_000_01, interest=100_00, penal=7))
    assert paid.partner.principal + gone.partner.principal == theirs == 10_000_00
    assert paid.originator.principal + gone.originator.principal == mine
    txns = [cl.funded(cl.PARTNER, theirs), cl.partner_funded(theirs), cl.collected(paid.partner),
            cl.lost(cl.CL_WRITE_OFF, gone.partner)]  # fmt: skip
    book = balances([t for t in txns if t is not None])
    assert "CL_PRINCIPAL" not in book and sum(book.values()) == 0


COMPONENT = st.sampled_from(("principal", "interest", "fees", "penal"))


@settings(max_examples=300, deadline=None)
@given(
    amount=st.integers(1, 10**9),
    share=st.integers(1, 9000),
    partner_rate=st.integers(0, 3600),
    blended=st.integers(0, 3600),
    fees=st.sampled_from(list(Rule)),
    penal=st.sampled_from(list(Rule)),
    events=st.lists(
        st.tuples(st.sampled_from(("CL_REPAYMENT", *cl.LOSS_KINDS)), st.integers(0, 10**8), st.integers(0, 10**6),
                  st.integers(0, 10**5), st.integers(0, 10**5)),
        max_size=12,
    ),  # fmt: skip
    final=st.sampled_from(cl.LOSS_KINDS),
    recoveries=st.lists(st.integers(0, 10**9), max_size=6),
    dlg=st.integers(0, 10**8),
)
def test_payments_and_losses_split_to_the_paisa_and_each_book_balances(
    amount: int, share: int, partner_rate: int, blended: int, fees: Rule, penal: Rule,
    events: list[tuple[str, int, int, int, int]], final: str, recoveries: list[int], dlg: int,
) -> None:  # fmt: skip
    agreement = Agreement(share, partner_rate, fees, penal)
    if partner_rate * share > blended * 10_000:
        return  # an agreement the loan's rate cannot carry does not co-lend the loan
    mine, theirs = principal_split(agreement, amount)
    splitter = Splitter(agreement, blended)
    books: dict[str, list] = {cl.ORIGINATOR: [cl.funded(cl.ORIGINATOR, mine)],
                              cl.PARTNER: [cl.funded(cl.PARTNER, theirs), cl.partner_funded(theirs)]}  # fmt: skip
    left = amount
    for kind, principal, interest, fee, pen in [*events, (final, amount, 0, 0, 0)]:
        take = min(principal, left)
        left -= take
        parts = Parts(take, interest, fee, pen)
        split = splitter.split(parts)
        for c in ("principal", "interest", "fees", "penal"):  # each event's parts sum to its figure
            assert split.originator.get(c) + split.partner.get(c) == parts.get(c)
            assert split.originator.get(c) >= 0 and split.partner.get(c) >= 0
        post = cl.collected if kind == "CL_REPAYMENT" else (lambda p, k=kind: cl.lost(k, p))
        books[cl.ORIGINATOR].append(post(split.originator))
        books[cl.PARTNER].append(post(split.partner))
    if final == cl.CL_WRITE_OFF:  # written off: the DLG invoked, then recoveries split as the write-off was
        lost = {cl.ORIGINATOR: split.originator, cl.PARTNER: split.partner}
        invoked = min(dlg, split.partner.total)
        for lender in cl.LENDERS:
            books[lender].append(cl.dlg_invoked(lender, invoked))
        _recover(books, lost, recoveries, invoked)
    for lender, principal in ((cl.ORIGINATOR, mine), (cl.PARTNER, theirs)):
        book = balances([t for t in books[lender] if t is not None])
        assert sum(book.values()) == 0, lender  # each lender's sub-ledger balances on its own
        assert book.get("CL_PRINCIPAL", 0) == 0, lender  # resolved: nothing of its principal outstanding
        assert book.get("CL_FUNDING", 0) == -principal
    assert splitter.collected.principal == amount


def _recover(books: dict[str, list], lost: dict[str, Parts], recoveries: list[int], invoked: int) -> None:
    """Post ``recoveries`` on a loan whose write-off each lender lost ``lost`` of, the DLG having paid the partner
    ``invoked``; check each recovery's split against the rules of ``domain.colending.recovery``."""
    before, repaid = 0, 0
    got = {lender: Parts() for lender in cl.LENDERS}
    whole = sum(p.total for p in lost.values())
    for amount in recoveries:
        split = split_recovery(lost, before, amount, invoked - repaid)
        assert split.total == amount and split.excess >= 0  # its parts sum to the recovery
        assert all(p.get(c) >= 0 for p in (split.originator, split.partner) for c in COMPONENTS)
        assert 0 <= split.dlg_repaid <= split.partner.total
        assert split.net(cl.ORIGINATOR) + split.net(cl.PARTNER) == amount
        books[cl.ORIGINATOR].append(cl.recovered(split.originator, split.excess))
        books[cl.PARTNER].append(cl.recovered(split.partner))
        for lender in cl.LENDERS:
            books[lender].append(cl.dlg_repaid(lender, split.dlg_repaid))
        got = {cl.ORIGINATOR: got[cl.ORIGINATOR].plus(split.originator),
               cl.PARTNER: got[cl.PARTNER].plus(split.partner)}  # fmt: skip
        before, repaid = before + amount, repaid + split.dlg_repaid
    for lender in cl.LENDERS:  # never more than it lost; all of it once everything written off came back
        for c in COMPONENTS:
            assert got[lender].get(c) <= lost[lender].get(c)
            if before >= whole:
                assert got[lender].get(c) == lost[lender].get(c)
    # the DLG is paid back from the partner's recoveries, first, up to what it paid
    assert repaid == min(invoked, got[cl.PARTNER].total)


def test_a_recovery_after_a_write_off_is_split_as_it_and_pays_the_dlg_back_first() -> None:
    lost = {cl.ORIGINATOR: Parts(principal=32_000_00, interest=900_00, penal=50_00),
            cl.PARTNER: Parts(principal=8_000_00, interest=150_00, penal=13_00)}  # fmt: skip
    first = split_recovery(lost, 0, 10_000_00, dlg_unpaid=400_00)
    # penal first, then fees (none), interest, the rest principal by the lenders' shares of it
    assert (first.originator.penal, first.partner.penal) == (50_00, 13_00)
    assert (first.originator.interest, first.partner.interest) == (900_00, 150_00)
    assert first.originator.principal + first.partner.principal == 10_000_00 - 63_00 - 1_050_00
    assert first.dlg_repaid == 400_00 and first.net(cl.PARTNER) == first.partner.total - 400_00
    rest = split_recovery(lost, 10_000_00, 40_000_00, dlg_unpaid=0)
    assert rest.excess == 10_000_00 - 63_00 - 1_050_00  # beyond what was written off: the originator's
    assert first.partner.plus(rest.partner) == lost[cl.PARTNER]
    assert first.originator.plus(rest.originator) == lost[cl.ORIGINATOR]
    book = balances([t for t in (cl.recovered(first.partner), cl.dlg_invoked(cl.PARTNER, 400_00),
                                 cl.dlg_repaid(cl.PARTNER, 400_00)) if t is not None])  # fmt: skip
    assert sum(book.values()) == 0 and book.get("CL_LOSS_COVERED", 0) == 0  # the cover's part of its loss paid back
    assert book["CL_COLLECTIONS"] == first.partner.total - 400_00
    invoked = balances([cl.dlg_invoked(cl.ORIGINATOR, 400_00)])  # type: ignore[list-item]
    assert invoked == {"CL_DLG_PAID": 400_00, "CL_DLG_COVER": -400_00}
    with pytest.raises(ValueError):
        split_recovery(lost, 0, -1)
    with pytest.raises(ValueError):
        cl.dlg_invoked("BANK", 1)
    assert cl.recovered(Parts()) is None and cl.dlg_repaid(cl.PARTNER, 0) is None


def test_the_book_and_the_statement_carry_the_losses() -> None:
    legs = [("CL_DISBURSAL", "CL_PRINCIPAL", 1_000_00), ("CL_REPAYMENT", "CL_PRINCIPAL", -300_00),
            ("CL_REPAYMENT", "CL_INTEREST_INCOME", -20_00), ("CL_WRITE_OFF", "CL_PRINCIPAL", -700_00),
            ("CL_WRITE_OFF", "CL_INTEREST_FORGONE", -15_00), ("CL_WAIVER", "CL_PENAL_FORGONE", -2_00)]  # fmt: skip
    book = Book(cl.PARTNER)
    add_loan(book, legs, Parts(), 0)
    assert (book.disbursed, book.outstanding) == (1_000_00, 0)
    assert book.collected == Parts(principal=300_00, interest=20_00)
    assert book.lost == Parts(principal=700_00, interest=15_00, penal=2_00)
    s = Statement(cl.PARTNER, collected=Parts(principal=300_00), remitted=100_00, lost=Parts(principal=700_00))
    assert s.owed == 200_00  # a loss moves no money: never owed


def test_dlg_rules_follow_the_rbi_guidelines() -> None:
    dlg = Dlg(cover_bps=500, set_aside=60_000_00, form=Form.BANK_GUARANTEE, invoke_dpd=120)
    dlg.check()
    assert dlg.cap(10_00_000_00) == 50_000_00  # 5 % of the disbursed portfolio
    assert dlg.cover(10_00_000_00) == 50_000_00  # set aside beyond the cap does not count
    assert dlg.cover(1_00_000_00) == 5_000_00
    assert dlg.left(10_00_000_00, 45_000_00) == 5_000_00
    assert dlg.invocation(8_000_00, 10_00_000_00, 45_000_00) == 5_000_00  # no more than the cover left
    assert dlg.invocation(1_000_00, 10_00_000_00, 45_000_00) == 1_000_00
    assert dlg.left(10_00_000_00, 60_000_00) == 0 and dlg.invocation(1, 10_00_000_00, 60_000_00) == 0
    assert dlg.due(119) is None and dlg.due(120) == OVERDUE and dlg.due(0, written_off=True) == WRITE_OFF
    assert Dlg(100, 0, invoke_dpd=90).due(89) is None  # regularised before the day: not invoked
    with pytest.raises(ValueError):
        dlg.invocation(-1, 1, 0)
    bad_ones = ((Dlg(501, 1), "coverBps"), (Dlg(0, 1), "coverBps"), (Dlg(100, -1), "setAside"),
                (Dlg(100, 1, invoke_dpd=121), "invokeDpd"), (Dlg(100, 1, invoke_dpd=0), "invokeDpd"))  # fmt: skip
    for bad, name in bad_ones:
        with pytest.raises(ValidationError) as err:
            bad.check()
        assert err.value.field == name


@settings(max_examples=200, deadline=None)
@given(cover=st.integers(1, 500), set_aside=st.integers(0, 10**10), disbursed=st.integers(0, 10**11),
       losses=st.lists(st.integers(0, 10**9), max_size=20))  # fmt: skip
def test_dlg_invocations_never_exceed_five_percent_of_the_portfolio(
    cover: int, set_aside: int, disbursed: int, losses: list[int]
) -> None:
    dlg, used = Dlg(cover, set_aside), 0
    for loss in losses:
        paid = dlg.invocation(loss, disbursed, used)
        assert 0 <= paid <= loss
        used += paid
    assert used <= min(set_aside, disbursed * 500 // 10_000)


def test_escrow_remittances_within_what_it_owes_and_maker_checker() -> None:
    assert Position(1_000_00, 400_00).payable == 600_00 and Position(1, 5).payable == 0
    check_remittance(600_00, 600_00)
    for amount, pending in ((600_01, 0), (0, 0), (True, 0), (500_01, 100_00)):
        with pytest.raises(ValidationError) as err:
            check_remittance(amount, 600_00, pending)  # type: ignore[arg-type]
        assert err.value.field == "amount"
    check_decision("PENDING", "maker", "checker")
    with pytest.raises(PermissionDenied):
        check_decision("PENDING", "maker", "maker")
    with pytest.raises(Conflict):
        check_decision("APPROVED", "maker", "checker")

