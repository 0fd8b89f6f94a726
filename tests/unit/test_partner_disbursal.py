"""Partner lenders, pure parts added for a booked loan: the KFS fee lines from the accepted offer
(``domain.partners.offer_charges``: fee rows, APR and net disbursal are the offer's) and the partner's DISBURSAL SLA
(``domain.partners.disbursal``: due time, what each status answer does, the once-only UTR, the report)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from domain.apr import apr
from domain.charges import ChargeKind, ChargeLine, KfsHead
from domain.errors import ValidationError
from domain.kfs import build_kfs
from domain.partners import PartnerPricing, compute_offer, offer_charges, stored_lines
from domain.partners.disbursal import (
    CaseState,
    CheckOutcome,
    DisbursalCase,
    WatchConfig,
    after_check,
    breached_by,
    disbursal_summary,
    due_at,
    is_due,
    takes_utr,
)
from domain.product import LoanTerms
from domain.schedule import generate

TERMS = LoanTerms(principal=1_00_000_00, annual_rate=Decimal(20), installments=12, disbursed_on=date(2026, 1, 10))
INSURANCE = ChargeLine("Insurance premium", ChargeKind.THIRD_PARTY, 300_00, KfsHead.INSURANCE)


def test_the_kfs_of_a_booked_loan_has_the_offers_fees_apr_and_net_disbursal() -> None:
    pricing = PartnerPricing(1900, processing_fee_bps=150)
    offer = compute_offer(pricing, TERMS, {"INSURANCE_PREMIUM_PAYABLE": 300_00})
    charges = offer_charges(
        offer.amount, offer.fees, offer.gst, lender="Kavach Finvest", third_party=[INSURANCE],
        third_party_total=offer.third_party,
    )  # fmt: skip
    schedule = generate(replace(TERMS, annual_rate=Decimal(19)))
    kfs = build_kfs(schedule, charges)
    assert kfs.processing_fees == offer.fees == 1_500_00
    assert kfs.gst == offer.gst == 270_00
    assert kfs.insurance_charges == offer.third_party == 300_00  # the product's pass-through, under its own head
    assert kfs.other_charges == 0
    assert kfs.net_disbursed == offer.net_disbursed
    assert kfs.apr == offer.apr == apr(schedule, charges)
    fee_rows = {(f.name, f.amount) for f in kfs.fees}
    assert ("Processing fee (Kavach Finvest)", 1_500_00) in fee_rows
    assert ("GST on Processing fee (Kavach Finvest)", 270_00) in fee_rows


def test_pass_through_lines_that_do_not_add_up_give_way_to_the_offers_total() -> None:
    charges = offer_charges(50_000_00, 750_00, 135_00, lender="X", third_party=[INSURANCE], third_party_total=500_00)
    assert [(line.name, line.amount) for line in charges.lines if line.kind == ChargeKind.THIRD_PARTY] == [
        ("Third-party charges", 500_00)
    ]
    assert charges.net_disbursed == 50_000_00 - 750_00 - 135_00 - 500_00


def test_no_fee_means_no_fee_line_and_nothing_left_is_refused() -> None:
    assert offer_charges(10_000_00, 0, 0, lender="X").lines == ()
    with pytest.raises(ValidationError) as err:
        offer_charges(10_000_00, 9_000_00, 1_000_00, lender="X")
    assert err.value.field == "pricing"


def test_stored_lines_are_rupee_strings() -> None:
    charges = offer_charges(50_000_00, 750_05, 135_01, lender="X")
    assert [(line["kind"], line["amount"]) for line in stored_lines(charges)] == [
        ("LENDER_FEE", "750.05"), ("GST", "135.01"),
    ]  # fmt: skip


T0 = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
CONFIG = WatchConfig(recheck_seconds=600, max_checks=3)


def test_the_utr_is_due_at_disbursal_plus_the_sla_and_checked_only_then() -> None:
    due = due_at(T0, 4 * 3600)
    assert due == T0 + timedelta(hours=4)
    assert not is_due("PENDING", due - timedelta(seconds=1), due, None)
    assert is_due("PENDING", due, due, None)
    assert not is_due("BREACHED", due, due, due + timedelta(minutes=10))
    assert is_due("ESCALATED", due + timedelta(minutes=10), due, due + timedelta(minutes=10))
    assert not is_due("CONFIRMED", due + timedelta(days=9), due, None)


def test_the_first_check_past_the_sla_marks_the_breach_once_then_rechecks() -> None:
    first = after_check("PENDING", 1, "PENDING", None, T0, CONFIG)
    assert first == CheckOutcome(CaseState.BREACHED, True, False, T0 + timedelta(seconds=600))
    second = after_check("BREACHED", 2, "UNKNOWN", None, T0, CONFIG)
    assert (second.state, second.breach_now, second.escalate_now) == (CaseState.BREACHED, False, False)


def test_checks_spent_or_a_failed_disbursal_escalate_once_and_keep_asking() -> None:
    spent = after_check("BREACHED", 3, "PENDING", None, T0, CONFIG)
    assert (spent.state, spent.escalate_now, spent.next_check_at) == (
        CaseState.ESCALATED, True, T0 + timedelta(seconds=600),
    )  # fmt: skip
    again = after_check("ESCALATED", 4, "PENDING", None, T0, CONFIG)
    assert (again.state, again.escalate_now) == (CaseState.ESCALATED, False)
    failed = after_check("PENDING", 1, "FAILED", None, T0, CONFIG)
    assert (failed.state, failed.breach_now, failed.escalate_now) == (CaseState.ESCALATED, True, True)


def test_a_utr_confirms_even_after_escalation_and_only_the_first_counts() -> None:
    assert after_check("ESCALATED", 9, "DISBURSED", "UTR1", T0, CONFIG).state == CaseState.CONFIRMED
    late = after_check("PENDING", 1, "DISBURSED", "UTR1", T0, CONFIG)
    assert (late.state, late.breach_now) == (CaseState.CONFIRMED, True)  # asked past the SLA: a breach
    assert after_check("BREACHED", 2, "DISBURSED", None, T0, CONFIG).state == CaseState.BREACHED  # no UTR, no
    assert after_check("CONFIRMED", 5, "FAILED", None, T0, CONFIG).state == CaseState.CONFIRMED
    assert takes_utr(None, "UTR1") and not takes_utr("UTR1", "UTR2") and not takes_utr(None, "")
    assert breached_by(False, T0, T0 + timedelta(seconds=1)) and not breached_by(False, T0, T0)
    assert breached_by(True, None, T0)


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"disbursal_recheck_seconds": 10}, "settings.disbursalRecheckSeconds"),
        ({"disbursal_max_checks": 51}, "settings.disbursalMaxChecks"),
        ({"disbursal_max_checks": True}, "settings.disbursalMaxChecks"),
    ],
)
def test_watch_settings_out_of_range_are_refused_naming_the_field(settings: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        WatchConfig.of(settings)
    assert err.value.field == field


def test_watch_settings_default() -> None:
    assert WatchConfig.of({}) == WatchConfig(900, 4)
    with pytest.raises(ValidationError):
        after_check("LOST", 1, "PENDING", None, T0, CONFIG)


def test_the_report_counts_per_partner() -> None:
    rows = disbursal_summary(
        [
            DisbursalCase("kavach", "CONFIRMED", False, False, 600),
            DisbursalCase("kavach", "CONFIRMED", True, True, 20_000),
            DisbursalCase("kavach", "ESCALATED", True, True, None),
            DisbursalCase("navodaya", "PENDING", False, False, None),
        ]
    )
    k = rows["kavach"]
    assert (k.tracked, k.confirmed, k.open, k.breaches, k.escalated) == (3, 2, 1, 2, 2)
    assert (k.median_seconds, k.max_seconds) == (600, 20_000)
    assert (rows["navodaya"].open, rows["navodaya"].median_seconds) == (1, 0)
