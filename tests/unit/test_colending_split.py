"""The co-lending split to the paisa (domain.colending): largest remainder, the cumulative split of a whole
schedule under any payment pattern, the agreement's checks and each lender's ledger sub-accounts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import product, schedule
from domain.colending import Agreement, Parts, Rule, Splitter, largest_remainder, principal_split, schedule_split
from domain.colending import ledger as cl
from domain.errors import ValidationError
from domain.ledger import balances


def test_largest_remainder_gives_leftover_paise_to_largest_remainders_ties_to_first() -> None:
    assert largest_remainder(100, [1, 1, 1]) == [34, 33, 33]
    assert largest_remainder(10, [8000, 2000]) == [8, 2]
    assert largest_remainder(1, [5, 5]) == [1, 0]  # a tie goes to the first (the originator)
    assert largest_remainder(7, [Fraction(2, 3), Fraction(1, 3)]) == [5, 2]  # 4.67, 2.33
    with pytest.raises(ValueError):
        largest_remainder(-1, [1, 1])
    with pytest.raises(ValueError):
        largest_remainder(5, [0, 0])


def test_eighty_twenty_principal_and_interest_at_each_lenders_rate() -> None:
    # Loan at 20 % blended; partner holds 20 % of principal at 12 %: originator's rate = (20 - 0.2×12)/0.8 = 22 %.
    agreement = Agreement(partner_share_bps=2000, partner_rate_bps=1200)
    assert agreement.originator_rate(2000) == Fraction(2200)
    assert principal_split(agreement, 1_00_000_01) == (80_000_01, 20_000_00)
    split = Splitter(agreement, 2000).split(Parts(principal=10_000_00, interest=1_000_00, fees=500_00, penal=100_00))
    # interest: partner 0.2×12 / 20 = 12 % of it; fees all to the originator (default); penal by share
    assert split.partner == Parts(principal=2_000_00, interest=120_00, fees=0, penal=20_00)
    assert split.originator == Parts(principal=8_000_00, interest=880_00, fees=500_00, penal=80_00)


def test_agreement_checks_name_the_field() -> None:
    with pytest.raises(ValidationError) as err:
        Agreement(partner_share_bps=9500, partner_rate_bps=1000).check(2000)  # originator keeps 5 % < 10 %
    assert err.value.field == "partnerShareBps"
    with pytest.raises(ValidationError) as err:
        Agreement(partner_share_bps=8001, partner_rate_bps=2000, min_originator_share_bps=2000).check(2000)
    assert err.value.field == "partnerShareBps"  # CLM 2020: at least 20 % with the NBFC; 80 % is the most
    Agreement(partner_share_bps=8000, partner_rate_bps=2000, min_originator_share_bps=2000).check(2000)
    with pytest.raises(ValidationError) as err:
        Agreement(partner_share_bps=5000, partner_rate_bps=4100).check(2000)  # 0.5 × 41 > 20
    assert err.value.field == "partnerRateBps"


def _schedule(amount: int, rate_bps: int, tenure: int) -> list[Parts]:
    terms = product.LoanTerms(
        principal=amount, annual_rate=Decimal(rate_bps) / 100, installments=tenure, disbursed_on=date(2026, 1, 5)
    )
    return [Parts(principal=i.principal, interest=i.interest, fees=i.fees) for i in schedule.generate(terms).rows]


def _pay(lines: list[Parts], cuts: list[int], penal: int) -> list[Parts]:
    """The schedule's dues (plus ``penal``) paid in arbitrary pieces: each cut takes that much in waterfall order
    (penal, fees, interest, principal of the oldest line first); the last payment clears everything left."""
    dues = [[0, line.fees, line.interest, line.principal] for line in lines]
    if dues:
        dues[0][0] = penal
    payments: list[Parts] = []
    names = ("penal", "fees", "interest", "principal")
    for n, cut in enumerate([*cuts, 10**15]):
        left, got = cut, dict.fromkeys(names, 0)
        for row in dues:
            for k in range(4):
                take = min(left, row[k])
                row[k] -= take
                got[names[k]] += take
                left -= take
        payments.append(Parts(**got))
        if n == len(cuts):
            break
    return payments


amounts = st.integers(min_value=1, max_value=5_00_00_000_00)
rates = st.integers(min_value=0, max_value=4_800)


@settings(max_examples=250, deadline=None)
@given(
    amount=amounts,
    blended=rates,
    partner_rate_frac=st.fractions(min_value=0, max_value=1),
    share=st.integers(min_value=1, max_value=9_000),
    tenure=st.integers(min_value=1, max_value=36),
    cuts=st.lists(st.integers(min_value=1, max_value=50_00_000_00), max_size=40),
    penal=st.integers(min_value=0, max_value=10_000_00),
    fees=st.sampled_from(list(Rule)),
    penal_rule=st.sampled_from(list(Rule)),
)
def test_shares_always_sum_to_the_loans_figures(  # noqa: PLR0913
    amount: int, blended: int, partner_rate_frac: Fraction, share: int, tenure: int, cuts: list[int], penal: int,
    fees: Rule, penal_rule: Rule,
) -> None:  # fmt: skip
    # the partner's rate: any, up to what its share can carry at the blended rate (the agreement's own check)
    partner_rate = int(partner_rate_frac * blended * 10_000 / share) if share else 0
    agreement = Agreement(share, partner_rate, fees=fees, penal=penal_rule)
    agreement.check(blended)
    lines = _schedule(amount, blended, tenure)
    # the partner's schedule and the originator's add up to the loan's, line by line
    for line, split in zip(lines, schedule_split(agreement, blended, lines), strict=True):
        assert split.originator.plus(split.partner) == line
    originator_principal, partner_principal = principal_split(agreement, amount)
    assert originator_principal + partner_principal == amount
    splitter = Splitter(agreement, blended)
    books: dict[str, list] = {cl.ORIGINATOR: [cl.funded(cl.ORIGINATOR, originator_principal)],
                              cl.PARTNER: [cl.funded(cl.PARTNER, partner_principal)]}  # fmt: skip
    totals = {cl.ORIGINATOR: Parts(), cl.PARTNER: Parts()}
    for payment in _pay(lines, cuts, penal):
        split = splitter.split(payment)
        assert split.originator.plus(split.partner) == payment  # every payment, every component, to the paisa
        for lender, part in ((cl.ORIGINATOR, split.originator), (cl.PARTNER, split.partner)):
            assert min(part.principal, part.interest, part.fees, part.penal) >= 0
            books[lender].append(cl.collected(part))
            totals[lender] = totals[lender].plus(part)
    whole = Parts(penal=penal)
    for line in lines:
        whole = whole.plus(line)
    assert totals[cl.ORIGINATOR].plus(totals[cl.PARTNER]) == whole
    # the whole schedule paid: each lender got back exactly the principal it funded
    assert totals[cl.PARTNER].principal == partner_principal
    assert totals[cl.ORIGINATOR].principal == originator_principal
    if fees == Rule.ORIGINATOR:
        assert totals[cl.PARTNER].fees == 0
    # each lender's sub-ledger balances on its own; its principal outstanding is zero once repaid
    per_lender = {lender: balances(t for t in txns if t is not None) for lender, txns in books.items()}
    for lender, bal in per_lender.items():
        assert sum(bal.values()) == 0
        assert bal.get(cl.CL_PRINCIPAL, 0) == 0
        assert bal.get(cl.CL_COLLECTIONS, 0) == totals[lender].total
    assert sum(b.get(cl.CL_COLLECTIONS, 0) for b in per_lender.values()) == whole.total


def test_partner_funding_clears_its_due() -> None:
    txns = [cl.funded(cl.PARTNER, 20_000_00), cl.partner_funded(20_000_00)]
    assert balances(t for t in txns if t is not None) == {cl.CL_PRINCIPAL: 20_000_00, cl.CL_FUNDING: -20_000_00}
    assert cl.funded(cl.PARTNER, 0) is None
    with pytest.raises(ValueError):
        cl.collected(Parts(principal=-1))
