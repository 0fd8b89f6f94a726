"""Business metrics by brand (Prometheus): one function per fact, called where that fact is recorded.

The API counts applications; the worker's activities count status moves (decisions, disbursals, overdue),
and payments credited. Each process exposes its own counters: the API on ``GET /metrics``, the worker on
``LOS_WORKER_METRICS_PORT + 1`` (docs/observability.md). Loans by status (the overdue gauge among them) are
read from the database when the API is scraped, so they are right whichever process moved the loan.

Labels stay bounded: ``brand`` is the brand's id, statuses and outcomes are the lifecycle's, ``gateway`` the
configured payment gateways. Amounts are integer paise."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import Counter, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

disable_created_metrics()  # no ``*_created`` series beside every counter: half the series, nothing lost

APPLICATIONS = Counter("los_applications", "Loan applications started (a loan and its workflow created)", ["brand"])
STATUS_MOVES = Counter(
    "los_loan_status_moves", "Loan status moves recorded, by target status", ["brand", "from_status", "to_status"]
)
DECISIONS = Counter(
    "los_decisions", "Credit decisions: sanctioned, rejected, or sent to manual review", ["brand", "outcome"]
)
DISBURSALS = Counter("los_disbursals", "Loans disbursed (the money reached the borrower)", ["brand"])
DISBURSED_PAISE = Counter("los_disbursed_principal_paise", "Principal of the loans disbursed, in paise", ["brand"])
OVERDUE_MOVES = Counter("los_loans_went_overdue", "Loans moved to OVERDUE (an installment unpaid past due)", ["brand"])
PAYMENTS = Counter("los_payments_credited", "Payments credited to loans (newly recorded)", ["brand", "gateway"])
COLLECTED_PAISE = Counter("los_collected_paise", "Amount of the payments credited, in paise", ["brand", "gateway"])

#: decisions as the status moves that record them (from a pre-sanction status)
_PRE_SANCTION = frozenset({"APPLIED", "UNDER_REVIEW"})
_OUTCOMES = {"SANCTIONED": "sanctioned", "REJECTED": "rejected", "UNDER_REVIEW": "manual_review"}
#: DISBURSED reached from these is a repayment catching up or a refund, not a disbursal
_SERVICING = frozenset({"DISBURSED", "OVERDUE", "OVERPAID"})


def application_started(brand_id: str) -> None:
    APPLICATIONS.labels(brand_id).inc()


def status_moved(brand_id: str, from_status: str | None, to_status: str, principal_paise: int = 0) -> None:
    """A status move recorded once (not a retried activity): counts the move, and what it means."""
    frm = str(from_status or "")
    to = str(to_status)
    STATUS_MOVES.labels(brand_id, frm, to).inc()
    if frm == to:  # a staff action or a review stage that keeps the status
        return
    if frm in _PRE_SANCTION and to in _OUTCOMES:
        DECISIONS.labels(brand_id, _OUTCOMES[to]).inc()
    elif to == "DISBURSED" and frm not in _SERVICING:
        DISBURSALS.labels(brand_id).inc()
        DISBURSED_PAISE.labels(brand_id).inc(max(principal_paise, 0))
    elif to == "OVERDUE":
        OVERDUE_MOVES.labels(brand_id).inc()


def payment_credited(brand_id: str, gateway: str | None, amount_paise: int) -> None:
    """A payment newly credited to a loan (a replay of the same payment id is not counted again)."""
    gw = (gateway or "unknown")[:32]
    PAYMENTS.labels(brand_id, gw).inc()
    COLLECTED_PAISE.labels(brand_id, gw).inc(max(amount_paise, 0))


class LoansByStatus(Collector):
    """``los_loans{brand,status}`` and ``los_overdue_loans{brand}`` read from the loans table at scrape time
    (one grouped count on the (brand_id, status) index)."""

    def __init__(self, db: object) -> None:
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from sqlalchemy import text

        loans = GaugeMetricFamily("los_loans", "Loans by brand and current status", labels=["brand", "status"])
        overdue = GaugeMetricFamily("los_overdue_loans", "Loans currently OVERDUE, by brand", labels=["brand"])
        with self.db.engine.connect() as conn:  # type: ignore[attr-defined]
            rows = conn.execute(text("select brand_id, status, count(*) from loans group by brand_id, status"))
            for brand_id, status, count in rows:
                loans.add_metric([str(brand_id), str(status)], count)
                if status == "OVERDUE":
                    overdue.add_metric([str(brand_id)], count)
        yield loans
        yield overdue
