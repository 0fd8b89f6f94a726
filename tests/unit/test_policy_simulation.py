"""The policy simulation over hand-built past applications: the domain's own BRE and evaluation re-run."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain import bre, evaluation
from domain.errors import ValidationError
from domain.policy_simulation import (
    MAX_ITEMS,
    MAX_SAMPLE,
    MAX_TEXT_THRESHOLD,
    LossModel,
    PastApplication,
    Policy,
    apply,
    check_limits,
    simulate,
)
from domain.rules import Decision

TODAY = date(2026, 11, 1)


def _policy(min_score: int | None = 600, auto_item: int = 700) -> Policy:
    return Policy(
        bre.BreConfig.from_dict({"min_bureau_score": min_score} if min_score is not None else {}),
        evaluation.EvaluationPolicy.from_dict(
            {
                "version": "V1",
                "auto_sanction_threshold": 100,
                "manual_review_threshold": 50,
                "items": [
                    {"name": "score", "metric": "bureau.score", "comparator": ">=", "threshold": str(auto_item)},
                    {"name": "salary", "metric": "kyc.monthly_salary", "comparator": ">=", "threshold": "2500000"},
                ],
            }
        ),
    )


def _app(app_id: str, score: int, salary: int, recorded: Decision, exposure: int = 10_000_000) -> PastApplication:
    return PastApplication(
        app_id,
        bre.BreInput(application_date=TODAY, bureau_score=score, monthly_salary=salary),
        {"bureau.score": score, "kyc.monthly_salary": salary},
        recorded,
        exposure,
    )


APPS = [
    _app("a", 780, 3_000_000, Decision.AUTO_SANCTION),
    _app("b", 680, 3_000_000, Decision.MANUAL_REVIEW),
    _app("c", 620, 1_000_000, Decision.REJECT),
    _app("d", 550, 3_000_000, Decision.REJECT),
]


def test_the_published_policy_reproduces_the_recorded_outcomes() -> None:
    for app in APPS:
        assert apply(_policy(), app.bre_input, app.facts).decision is app.recorded
    result = simulate(_policy(), APPS, baseline=_policy())
    assert result.changed == []
    assert result.transitions == {
        "AUTO_SANCTION->AUTO_SANCTION": 1,
        "MANUAL_REVIEW->MANUAL_REVIEW": 1,
        "REJECT->REJECT": 2,
    }
    assert result.approval_rate_before == result.approval_rate_after == "0.5000"


def test_a_stricter_minimum_score_rejects_and_names_the_rule() -> None:
    result = simulate(_policy(min_score=700), APPS, baseline=_policy())
    assert result.transitions["MANUAL_REVIEW->REJECT"] == 1
    [changed] = result.changed
    assert changed["applicationId"] == "b" and changed["stage"] == "BRE"
    names = {f["name"]: (f["before"], f["after"]) for f in changed["flipped"]}
    assert names["rule:MIN_BUREAU_SCORE"] == ("PASS", "FAIL")
    assert names["item:score"] == ("FAIL", None)  # the evaluation no longer runs
    assert result.approval_rate_before == "0.5000" and result.approval_rate_after == "0.2500"


def test_a_looser_item_approves_and_names_the_item() -> None:
    result = simulate(_policy(auto_item=650), APPS, baseline=_policy())
    [changed] = result.changed
    assert (changed["before"], changed["after"]) == ("MANUAL_REVIEW", "AUTO_SANCTION")
    assert changed["flipped"] == [{"name": "item:score", "before": "FAIL", "after": "PASS"}]


def test_expected_loss_is_pd_by_band_times_exposure_times_lgd() -> None:
    model = LossModel(pd_bands=((750, Decimal("0.02")), (650, Decimal("0.10"))), lgd=Decimal("0.5"))
    result = simulate(_policy(min_score=700), APPS, baseline=_policy(), loss_model=model)
    # before: a (780: 2%) and b (680: 10%) approved; after: only a
    assert result.expected_loss_before == 10_000_000 * 2 // 100 // 2 + 10_000_000 * 10 // 100 // 2
    assert result.expected_loss_after == 100_000
    assert model.pd(None) == model.pd_no_score and model.pd(500) == model.pd_no_score
    strict = LossModel(count_manual_as_approved=False)
    assert simulate(_policy(), APPS, loss_model=strict).approval_rate_before == "0.2500"


def test_without_a_baseline_the_drafts_failures_are_listed() -> None:
    result = simulate(_policy(min_score=700), APPS)
    [changed] = result.changed
    assert {"name": "rule:MIN_BUREAU_SCORE", "before": None, "after": "FAIL"} in changed["flipped"]


def test_empty_sample_and_float_exposure() -> None:
    result = simulate(_policy(), [])
    assert result.sample_size == 0 and result.approval_rate_after == "0"
    with pytest.raises(TypeError):
        _app("x", 700, 1, Decision.REJECT, exposure=1.5)  # type: ignore[arg-type]


def test_limits_name_the_field() -> None:
    check_limits(1)
    check_limits(MAX_SAMPLE, [{"threshold": "x" * MAX_TEXT_THRESHOLD}] * MAX_ITEMS)
    for size in (0, -1, MAX_SAMPLE + 1, True):
        with pytest.raises(ValidationError) as exc:
            check_limits(size)  # type: ignore[arg-type]
        assert exc.value.field == "sampleSize"
    with pytest.raises(ValidationError) as exc:
        check_limits(10, [{"threshold": 1}] * (MAX_ITEMS + 1))
    assert exc.value.field == "draft.evaluationItems"
    with pytest.raises(ValidationError) as exc:
        check_limits(10, [{"threshold": 1}, {"threshold": "x" * (MAX_TEXT_THRESHOLD + 1)}])
    assert exc.value.field == "draft.evaluationItems[1].threshold"


def test_simulate_refuses_more_applications_than_the_limit() -> None:
    with pytest.raises(ValidationError) as exc:
        simulate(_policy(), APPS * (MAX_SAMPLE // len(APPS) + 1))
    assert exc.value.field == "sampleSize"
    assert simulate(_policy(), APPS * (MAX_SAMPLE // len(APPS))).sample_size == MAX_SAMPLE
