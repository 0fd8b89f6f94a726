"""`los demo`'s text report (``los.demo.text_report``): a scenario's own results (how the loan closed, its
payments, the ledger, what it checked) are printed under the loan, one line each, cut with a pointer to --json; a
plain journey prints none."""

from __future__ import annotations

from los.demo import REPORT_WIDTH, Journey, text_report
from los.demo_money_in import MoneyInJourney
from los.settings import Settings


def test_a_scenarios_results_are_printed_and_a_plain_journey_adds_nothing() -> None:
    plain = Journey(loan_id="L1", workflow_id="loan-L1", status="COMPLETED", installments_paid=3, total_collected=1)
    foreclosed = MoneyInJourney(
        loan_id="L2", workflow_id="loan-L2", status="COMPLETED", installments_paid=6, total_collected=43_066_64,
        closed_as="FORECLOSED", ledger_entries=14, ledger_sum=0,
        payments=[{"gateway": "offline", "mode": "NEFT", "amount_paise": 43_066_64, "payment_id": "p1"}],
        checks={"offline": {"approved_by": "collection.manager@demo", "notes": "x" * 400}},
    )  # fmt: skip
    report = text_report([plain, foreclosed], Settings(), 2.0)
    first, second = report.split("Loan L2")
    assert "installments settled: 3" in first and "closed_as" not in first and "ledger" not in first
    assert "installments settled: 6, collected: ₹43,066.64" in second
    assert "  closed_as: FORECLOSED\n" in second
    assert '  payments: [{"gateway": "offline", "mode": "NEFT", "amount_paise": 4306664' in second
    assert '  ledger: {"entries": 14, "sum_paise": 0, "balanced": true}' in second
    assert "credit_balance_paise" not in second  # nothing kept: not printed
    (checks,) = [line for line in second.splitlines() if line.startswith("  checks: ")]
    assert len(checks) == len("  checks: ") + REPORT_WIDTH and checks.endswith("… (--json for all)")
