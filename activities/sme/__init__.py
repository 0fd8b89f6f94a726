"""SME invoice financing's activities (``workflows.invoice_financing``), thin: checks and score (``checks``),
transfers and the collection link (``money``), the request's facts and messages (``records``), the virtual account
the buyer pays into (``collect``), a credit that arrives once the invoice is settled (``late_credits``).
``SmeActivities``
has them all; ``all()`` lists them for the worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.sme.checks import SmeChecks
from activities.sme.collect import SmeCollect
from activities.sme.late_credits import SmeLateCredits
from activities.sme.money import SmeMoney
from activities.sme.records import SmeRecords


class SmeActivities(SmeChecks, SmeMoney, SmeRecords, SmeCollect, SmeLateCredits):
    """Every SME activity; built with ``(db, http, api_url, field_key)``."""

    def all(self) -> list[Callable[..., Any]]:
        """The activities to register with the worker."""
        return [
            self.check_duplicate,
            self.verify_business,
            self.verify_buyer,
            self.score,
            self.terms,
            self.send_transfer,
            self.check_transfer,
            self.record_transfer,
            self.open_collection,
            self.record_status,
            self.record_offers,
            self.record_acceptance,
            self.record_approval,
            self.record_funded,
            self.record_payment,
            self.record_settlement,
            self.mark_overdue,
            self.notify,
            self.open_virtual_account,
            self.close_virtual_account,
            self.record_late_credit,
        ]


__all__ = ["SmeActivities"]
