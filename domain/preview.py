"""The schedule preview shown by `los schedule`, the customer EMI preview and the staff preview:
amounts as rupee decimal strings ("305.00"), APR as a percent string."""

from __future__ import annotations

from typing import Any

from domain.apr import apr
from domain.charges import UpfrontCharges
from domain.money import to_rupees
from domain.product import Schedule


def rupees(paise: int) -> str:
    return str(to_rupees(paise))


def schedule_preview(schedule: Schedule, charges: UpfrontCharges | None = None) -> dict[str, Any]:
    """``{"emi", "installments": [...], "totals", "apr", "net_disbursed", "charges"}`` for one schedule;
    without charges the net disbursed amount is the principal."""
    principal = schedule.terms.principal
    net = charges.net_disbursed if charges is not None else principal
    return {
        "emi": rupees(schedule.emi),
        "installments": [
            {
                "number": r.number,
                "due_date": r.due_date.isoformat(),
                "days": r.days,
                "principal": rupees(r.principal),
                "interest": rupees(r.interest),
                "fees": rupees(r.fees),
                "total": rupees(r.total),
                "balance": rupees(r.balance),
            }
            for r in schedule.rows
        ],
        "totals": {
            "principal": rupees(schedule.total_principal),
            "interest": rupees(schedule.total_interest),
            "fees": rupees(schedule.total_fees),
            "total": rupees(schedule.total_due),
            "upfront_charges": rupees(principal - net),
        },
        "apr": str(apr(schedule, charges if charges is not None else principal)),
        "net_disbursed": rupees(net),
        "charges": []
        if charges is None
        else [
            {"name": line.name, "kind": str(line.kind), "amount": rupees(line.amount), "basis": line.basis}
            for line in charges.lines
        ],
    }
