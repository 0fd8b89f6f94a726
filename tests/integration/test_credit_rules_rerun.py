"""The rules-and-evaluation step run again under its key (a retried attempt, or the local activity re-run with its
workflow task after a worker crash) answers the first run's verdict, even when the brand's policy changed in
between: it re-runs the facts and the policy version the first run stored, stores nothing twice and publishes no
policy version. Real PostgreSQL, Temporal and the sandbox; the loan decided through the public API."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import delete, func, select

from db.models import Brand, EvaluationItem, Loan, LoanDecision, PolicyVersion
from db.models.operations import CreditDecisionInput
from los.demo import Driver, demo_identity
from los.seed import seed_brand
from tests.conftest import eventually
from tests.integration.test_kyc_pipeline import _apply


async def test_rules_run_again_after_a_policy_change_answer_the_first_verdict(app, sandbox, db) -> None:  # noqa: ANN001
    code = f"r{uuid.uuid4().hex[:8]}"
    brand = seed_brand(db, sandbox.url, code=code, name=f"Rerun {code}", period_seconds=2, kyc_steps=["PAN"])
    brand_id = brand["brand_id"]
    with db.unit_of_work() as s:  # without items the evaluation falls back to the score bands (700 → review)
        s.execute(delete(EvaluationItem).where(EvaluationItem.brand_id == brand_id))
    driver = Driver(app.api.url, sandbox.url, code)
    try:
        headers, loan = await _apply(driver, *demo_identity(0, "review"))

        async def under_review() -> bool:
            return (await driver.loan(headers, loan["id"]))["status"] == "UNDER_REVIEW"

        await eventually(under_review, timeout=60)
    finally:
        await driver.close()

    with db.unit_of_work() as s:
        first = s.scalars(
            select(LoanDecision).where(LoanDecision.loan_id == loan["id"], LoanDecision.stage == "EVALUATION")
        ).one()
        first_outcome, first_score, first_version = first.outcome, first.score, first.policy_version
        key = first.idempotency_key.removesuffix(":evaluation")
        versions = s.scalar(select(func.count()).select_from(PolicyVersion).where(PolicyVersion.brand_id == brand_id))
        # the brand now auto-sanctions every score: a decision made today would differ
        row = s.get_one(Brand, brand_id)
        row.config = {**row.config, "auto_sanction_threshold": 0, "manual_review_threshold": 0}
    assert first_outcome == "MANUAL_REVIEW" and first_version is not None

    from activities.kyc import KycActivities
    from workflows.contracts import CreditRulesRequest

    async with httpx.AsyncClient() as http:
        kyc = KycActivities(db, http, None, app.settings.api_url, app.settings.field_key())
        again = await kyc.credit_rules_and_evaluation(CreditRulesRequest(loan["id"], brand_id, key, {}))
        fresh = await kyc.credit_rules_and_evaluation(CreditRulesRequest(loan["id"], brand_id, f"{key}-new", {}))

    assert (str(again.outcome), again.stage) == ("MANUAL_REVIEW", "EVALUATION")
    assert again.score is not None and float(again.score) == float(first_score)
    assert str(fresh.outcome) == "AUTO_SANCTION"  # the same application decided afresh takes the new policy
    with db.unit_of_work() as s:
        rows = s.scalars(select(LoanDecision).where(LoanDecision.idempotency_key.like(f"{key}:%"))).all()
        assert sorted(r.stage for r in rows) == ["BRE", "EVALUATION"]  # nothing stored twice
        assert (
            s.scalar(
                select(func.count())
                .select_from(CreditDecisionInput)
                .where(CreditDecisionInput.idempotency_key == f"{key}:inputs")
            )
            == 1
        )
        # the re-run published nothing; the fresh decision published the changed policy as the next version
        count = s.scalar(select(func.count()).select_from(PolicyVersion).where(PolicyVersion.brand_id == brand_id))
        assert count == versions + 1
        assert s.get_one(Loan, loan["id"]).status == "UNDER_REVIEW"
