"""The KYC phase's activities as the worker registers them and the workflow chooses them: one per automated step,
the credit decision in three, and the activities loans in flight before ``kyc-activity-per-step-v1`` call."""

from __future__ import annotations

from pathlib import Path

from temporalio import activity

from activities.kyc import KycActivities
from domain.kyc import KycStep
from workflows.kyc import KYC_STEP_ACTIVITIES


def _name(fn: object) -> str:
    defn = activity._Definition.from_callable(fn)  # type: ignore[arg-type]
    assert defn is not None and defn.name is not None
    return defn.name


def registered() -> set[str]:
    return {_name(fn) for fn in KycActivities.__new__(KycActivities).all()}


def test_every_automated_step_has_its_own_activity() -> None:
    through_updates, not_automated = {KycStep.AADHAAR}, {KycStep.SELFIE}
    assert set(KYC_STEP_ACTIVITIES) == {str(s) for s in KycStep} - through_updates - not_automated
    names = [_name(method) for method, _ in KYC_STEP_ACTIVITIES.values()]
    assert len(set(names)) == len(names) and set(names) <= registered()
    # the worker's dispatch for old loans and the workflow's mapping name the same steps
    assert set(KycActivities.__new__(KycActivities).steps()) == set(KYC_STEP_ACTIVITIES)


def test_summaries_read_like_the_loan_story() -> None:
    assert {summary for _, summary in KYC_STEP_ACTIVITIES.values()} >= {"KYC: PAN", "KYC: CKYC", "KYC: penny drop"}
    assert all(summary.startswith("KYC: ") for _, summary in KYC_STEP_ACTIVITIES.values())


def test_decision_in_three_and_the_old_activities_still_registered() -> None:
    assert {"credit_bureau_pull", "credit_rules_and_evaluation", "credit_allocation"} <= registered()
    assert {"kyc_step", "decide_credit", "aadhaar_initiate", "aadhaar_submit"} <= registered()


def test_modules_stay_small() -> None:
    package = Path(__file__).resolve().parents[2] / "activities" / "kyc"
    sizes = {p.name: len(p.read_text().splitlines()) for p in package.glob("*.py")}
    assert sizes and all(n <= 400 for n in sizes.values()), sizes
