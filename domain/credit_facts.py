"""The facts a credit decision sees, built one way for the decision itself (``activities/kyc/decision.py``) and for
the policy routes that explain a past decision or simulate a draft (``api/partner/policy.py``).

What the caller gathers (the I/O, ``db/credit_policy.py``) is an :class:`ApplicationRecord`: the application's
date, the bureau report as stored, the customer's identifiers and date of birth as they stood, the KYC steps'
facts, the declared salary, the last rejection and the other brands' live loans. :func:`build_facts` turns it into
:class:`CreditFacts`: the BRE's ``domain.bre.BreInput`` and the evaluation facts (``bureau.*``, ``kyc.*``). The
decision stores what it built (:meth:`CreditFacts.to_json`), and explain and simulation read that back
(:meth:`CreditFacts.from_json`), so they re-run exactly the facts the decision saw, not today's customer.

Money is integer paise; dates are ``date`` values; a decimal fact stays a ``Decimal`` through the JSON form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from domain import bre

FACTS_FORMAT = 1  # the JSON form's version (``CreditFacts.to_json``)


@dataclass(frozen=True)
class ApplicationRecord:
    """What a decision reads about one application, gathered by the caller.

    * ``application_date``: the day of the decision ("today" for the BRE's age and cooling-period rules).
    * ``bureau_score`` and ``bureau_report``: the stored report (its raw JSON: ``accounts_parsed`` with
      ``dpd_by_month`` pairs and ``status``, ``active_loans``, ``enquiries_30d``); ``None`` / ``{}`` without one.
    * ``pan``, ``aadhaar_hash``, ``phone``, ``device_id``, ``dob``: the customer's, as they stood.
    * ``kyc_facts``: the KYC steps' facts (``kyc.*`` → value), decimals already as ``Decimal``.
    * ``declared_salary``: the salary the customer declared (paise), the last resort for the salary rule.
    * ``last_rejected_on``: the customer's last rejection in the brand (None: never).
    * ``other_brand_active_loans``: live loans of the same PAN at other brands (None: not checked).
    """

    application_date: date
    bureau_score: int | None = None
    bureau_report: Mapping[str, Any] = field(default_factory=dict)
    pan: str | None = None
    aadhaar_hash: str | None = None
    phone: str | None = None
    device_id: str | None = None
    dob: date | None = None
    kyc_facts: Mapping[str, Any] = field(default_factory=dict)
    declared_salary: int | None = None
    last_rejected_on: date | None = None
    other_brand_active_loans: int | None = None


@dataclass(frozen=True)
class CreditFacts:
    """The BRE's input and the evaluation facts of one application (``metric`` → value, None for missing)."""

    bre_input: bre.BreInput
    facts: Mapping[str, Any]

    def evaluation_facts(self) -> dict[str, Any]:
        """The facts the evaluation engine takes: those with a value."""
        return {k: v for k, v in self.facts.items() if v is not None}

    def to_json(self) -> dict[str, Any]:
        """The JSON form stored with the decision (``credit_decision_inputs.facts``); exact through
        :meth:`from_json`: a ``Decimal`` is ``{"$decimal": "<text>"}``, a date ``{"$date": "YYYY-MM-DD"}``."""
        b = self.bre_input
        return {
            "format": FACTS_FORMAT,
            "bre": {
                "application_date": b.application_date.isoformat(),
                "bureau_score": b.bureau_score,
                "bureau_accounts": [
                    {
                        "dpd_history": [[d.isoformat(), dpd] for d, dpd in a.dpd_history],
                        "is_active": a.is_active,
                        "account_id": a.account_id,
                    }
                    for a in b.bureau_accounts
                ],
                "active_loans": b.active_loans,
                "enquiry_dates": [d.isoformat() for d in b.enquiry_dates],
                "enquiries_30d": b.enquiries_30d,
                "pan": b.pan,
                "aadhaar_hash": b.aadhaar_hash,
                "phone": b.phone,
                "device_id": b.device_id,
                "dob": None if b.dob is None else b.dob.isoformat(),
                "monthly_salary": b.monthly_salary,
                "last_rejected_on": None if b.last_rejected_on is None else b.last_rejected_on.isoformat(),
                "other_brand_active_loans": b.other_brand_active_loans,
            },
            "facts": {k: _encode(v) for k, v in self.facts.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CreditFacts:
        """Read back :meth:`to_json`. Raises ``KeyError``/``ValueError`` on a form it did not write."""
        b = data["bre"]

        def day(value: Any) -> date | None:
            return None if value is None else date.fromisoformat(value)

        accounts = [
            bre.BureauAccount(
                dpd_history=tuple((date.fromisoformat(m), int(d)) for m, d in a["dpd_history"]),
                is_active=bool(a["is_active"]),
                account_id=a.get("account_id"),
            )
            for a in b["bureau_accounts"]
        ]
        bre_input = bre.BreInput(
            application_date=date.fromisoformat(b["application_date"]),
            bureau_score=b["bureau_score"],
            bureau_accounts=accounts,
            active_loans=b["active_loans"],
            enquiry_dates=[date.fromisoformat(d) for d in b["enquiry_dates"]],
            enquiries_30d=b["enquiries_30d"],
            pan=b["pan"],
            aadhaar_hash=b["aadhaar_hash"],
            phone=b["phone"],
            device_id=b["device_id"],
            dob=day(b["dob"]),
            monthly_salary=b["monthly_salary"],
            last_rejected_on=day(b["last_rejected_on"]),
            other_brand_active_loans=b["other_brand_active_loans"],
        )
        return cls(bre_input, {k: _decode(v) for k, v in data["facts"].items()})


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        if "$decimal" in value:
            return Decimal(value["$decimal"])
        if "$date" in value:
            return date.fromisoformat(value["$date"])
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def bureau_accounts(report: Mapping[str, Any]) -> list[bre.BureauAccount]:
    """The tradelines of a stored bureau report (``accounts_parsed``: ``dpd_by_month`` as ``[month, dpd]``
    pairs, ``status`` ACTIVE for an open account)."""
    return [
        bre.BureauAccount(
            dpd_history=tuple((date.fromisoformat(m), int(d)) for m, d in a.get("dpd_by_month", [])),
            is_active=a.get("status") == "ACTIVE",
        )
        for a in report.get("accounts_parsed") or []
    ]


def build_facts(record: ApplicationRecord) -> CreditFacts:
    """The facts of one application: the KYC facts with the bureau's (``bureau.score``, ``bureau.active_loans``,
    ``bureau.enquiries_30d``), and the BRE's input. The salary the BRE reads is the verified one first (the bank
    statement's average, ``kyc.bsa_avg_salary``), then the employment step's (``kyc.monthly_salary``), then the
    declared one; a decimal salary is cut to whole paise."""
    raw = record.bureau_report or {}
    facts = dict(record.kyc_facts)
    facts.update(
        {
            "bureau.score": record.bureau_score,
            "bureau.active_loans": raw.get("active_loans"),
            "bureau.enquiries_30d": raw.get("enquiries_30d"),
        }
    )
    salary = facts.get("kyc.bsa_avg_salary") or facts.get("kyc.monthly_salary") or record.declared_salary
    bre_input = bre.BreInput(
        application_date=record.application_date,
        bureau_score=record.bureau_score,
        bureau_accounts=bureau_accounts(raw),
        active_loans=raw.get("active_loans"),
        enquiries_30d=raw.get("enquiries_30d"),
        pan=record.pan,
        aadhaar_hash=record.aadhaar_hash,
        phone=record.phone,
        device_id=record.device_id,
        dob=record.dob,
        monthly_salary=int(Decimal(str(salary))) if salary is not None else None,
        last_rejected_on=record.last_rejected_on,
        other_brand_active_loans=record.other_brand_active_loans,
    )
    return CreditFacts(bre_input, facts)
