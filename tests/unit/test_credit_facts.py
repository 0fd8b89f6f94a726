"""The credit decision's facts (domain.credit_facts): built one way from what the caller gathered, and read back
exactly from the JSON the decision stores."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from domain import bre, evaluation
from domain.credit_facts import ApplicationRecord, CreditFacts, build_facts
from domain.policy_simulation import PastApplication, Policy, apply, simulate
from domain.rules import Decision

REPORT = {
    "active_loans": 2,
    "enquiries_30d": 1,
    "accounts_parsed": [
        {"status": "ACTIVE", "dpd_by_month": [["2026-10-01", 0], ["2026-09-01", 35]]},
        {"status": "CLOSED", "dpd_by_month": []},
    ],
}


def _record(**changes: object) -> ApplicationRecord:
    values: dict = {
        "application_date": date(2026, 11, 20),
        "bureau_score": 720,
        "bureau_report": REPORT,
        "pan": "ABCDE1234F",
        "aadhaar_hash": "ab" * 32,
        "phone": "9876543210",
        "device_id": "device-1",
        "dob": date(1990, 5, 17),
        "kyc_facts": {"kyc.pan_verified": True, "kyc.monthly_salary": Decimal("4500000.75"), "kyc.pan_name": "A B"},
        "declared_salary": 3000000,
        "last_rejected_on": date(2026, 8, 1),
        "other_brand_active_loans": 0,
    }
    return ApplicationRecord(**{**values, **changes})


def test_the_builder_reads_the_bureau_the_identifiers_and_the_salary_in_order() -> None:
    facts = build_facts(_record())
    b = facts.bre_input
    assert (b.bureau_score, b.active_loans, b.enquiries_30d) == (720, 2, 1)
    assert [a.is_active for a in b.bureau_accounts] == [True, False]
    assert b.bureau_accounts[0].dpd_history == ((date(2026, 10, 1), 0), (date(2026, 9, 1), 35))
    assert (b.pan, b.phone, b.device_id, b.dob) == ("ABCDE1234F", "9876543210", "device-1", date(1990, 5, 17))
    assert b.monthly_salary == 4500000  # the employment step's, to whole paise, before the declared one
    assert facts.facts["bureau.score"] == 720 and facts.facts["bureau.enquiries_30d"] == 1
    verified = _record(kyc_facts={"kyc.bsa_avg_salary": Decimal("5100000"), "kyc.monthly_salary": 1})
    assert build_facts(verified).bre_input.monthly_salary == 5100000
    assert build_facts(_record(kyc_facts={})).bre_input.monthly_salary == 3000000
    assert build_facts(_record(kyc_facts={}, declared_salary=None)).bre_input.monthly_salary is None


def test_the_stored_form_reads_back_exactly() -> None:
    facts = build_facts(_record())
    stored = json.loads(json.dumps(facts.to_json()))  # through JSON, as JSONB keeps it
    back = CreditFacts.from_json(stored)
    assert back == facts
    assert back.facts["kyc.monthly_salary"] == Decimal("4500000.75")
    assert isinstance(back.facts["kyc.monthly_salary"], Decimal) and back.facts["kyc.pan_name"] == "A B"
    assert back.evaluation_facts() == {k: v for k, v in facts.facts.items() if v is not None}


def test_an_application_carries_the_blocklist_it_was_decided_with() -> None:
    facts = build_facts(_record())
    policy = Policy(
        bre.BreConfig.from_dict({"min_bureau_score": 650}),
        evaluation.EvaluationPolicy.from_dict(
            {
                "version": "V1",
                "auto_sanction_threshold": 100,
                "manual_review_threshold": 50,
                "items": [{"name": "score", "metric": "bureau.score", "comparator": ">=", "threshold": "700"}],
            }
        ),
    )
    listed = bre.Blocklist.from_entries([("PAN", "ABCDE1234F")])
    assert apply(policy, facts.bre_input, facts.facts, listed).decision is Decision.REJECT
    assert apply(policy, facts.bre_input, facts.facts).decision is Decision.AUTO_SANCTION
    blocked = PastApplication("a", facts.bre_input, facts.facts, Decision.REJECT, 100, blocklist=listed)
    result = simulate(policy, [blocked], baseline=policy)
    assert result.transitions == {"REJECT->REJECT": 1} and result.changed == []
