"""KYC identifiers (Verhoeff / Aadhaar / IFSC ...), the BRE hard rules, the V1/V2 evaluation engine and
auto-allocation. Pure domain code, no I/O.

Verhoeff vectors: "236" → 3, "12345" → 1, "142857" → 0 (the worked examples of Verhoeff's D5 scheme as
commonly published, e.g. Wikipedia "Verhoeff algorithm"). Aadhaar numbers below are made up and built
with the checksum, never real.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import kyc
from domain.assignment import Assignment, StaffCandidate, Strategy, assign, ineligibility
from domain.bre import (
    Blocklist,
    BreConfig,
    BreInput,
    BureauAccount,
    Rule,
    run_bre,
)
from domain.errors import ValidationError
from domain.evaluation import (
    Comparator,
    Criterion,
    EngineVersion,
    EvaluationPolicy,
    evaluate,
    evaluate_v1,
    evaluate_v2,
    lookup_metric,
    parse_threshold,
)
from domain.kyc import (
    DEFAULT_KYC_STEPS,
    KycStep,
    aadhaar_hash,
    age_on,
    mask_aadhaar,
    next_kyc_step,
    normalise_name,
    validate_aadhaar,
    validate_account_number,
    validate_ifsc,
    validate_kyc_steps,
    validate_pincode,
    validate_uan,
    verhoeff_check_digit,
    verhoeff_validate,
)
from domain.rules import CreditPolicy, Decision, decide


def _aadhaar(body: str) -> str:
    return body + verhoeff_check_digit(body)


AADHAAR = _aadhaar("23456789012")  # 234567890124
KEY = b"0123456789abcdef-test-key"

# --------------------------------------------------------------------------------------------- Verhoeff


@pytest.mark.parametrize(("body", "check"), [("236", "3"), ("12345", "1"), ("142857", "0"), ("0", "4")])
def test_verhoeff_known_vectors(body: str, check: str) -> None:
    assert verhoeff_check_digit(body) == check
    assert verhoeff_validate(body + check)


def test_verhoeff_permutation_rows_are_powers_of_sigma() -> None:
    rows = kyc._VERHOEFF_P
    sigma = rows[1]
    for i in range(1, 8):
        assert rows[i] == tuple(sigma[x] for x in rows[i - 1])
    assert tuple(sigma[x] for x in rows[7]) == rows[0]


def test_verhoeff_rejects_wrong_check_and_garbage() -> None:
    assert verhoeff_validate("2363")
    assert not verhoeff_validate("2364")
    assert not verhoeff_validate("2336")  # adjacent transposition
    for bad in ("", "12a4", "١٢٣", None, 2363):
        assert not verhoeff_validate(bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as e:
        verhoeff_check_digit("12-3")
    assert e.value.field == "digits"


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_verhoeff_generated_numbers_validate(body: str) -> None:
    assert verhoeff_validate(body + verhoeff_check_digit(body))


@given(st.text(alphabet="0123456789", min_size=2, max_size=15), st.data())
def test_verhoeff_detects_single_digit_errors_and_adjacent_transpositions(body: str, data: st.DataObject) -> None:
    number = body + verhoeff_check_digit(body)
    i = data.draw(st.integers(0, len(number) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != number[i]]))
    assert not verhoeff_validate(number[:i] + wrong + number[i + 1 :])
    j = data.draw(st.integers(0, len(number) - 2))
    if number[j] != number[j + 1]:
        swapped = number[:j] + number[j + 1] + number[j] + number[j + 2 :]
        assert not verhoeff_validate(swapped)


# ---------------------------------------------------------------------------------------------- Aadhaar


def test_aadhaar_valid_forms_and_mask() -> None:
    assert AADHAAR == "234567890124"
    assert validate_aadhaar(AADHAAR) == AADHAAR
    assert validate_aadhaar("2345 6789 0124") == AADHAAR
    assert validate_aadhaar(" 2345-6789-0124 ") == AADHAAR
    assert mask_aadhaar("2345 6789 0124") == "XXXX XXXX 0124"
    assert len(mask_aadhaar(AADHAAR)) == 14


@pytest.mark.parametrize(
    "bad",
    [
        "23456789012",  # 11 digits
        "2345678901245",  # 13 digits
        "234567890125",  # checksum
        _aadhaar("03456789012"),  # starts with 0
        _aadhaar("13456789012"),  # starts with 1
        "2345678901a4",
        "",
        123456789012,
    ],
)
def test_aadhaar_invalid(bad: object) -> None:
    with pytest.raises(ValidationError) as e:
        validate_aadhaar(bad)  # type: ignore[arg-type]
    assert e.value.field == "aadhaar"
    assert "2345" not in e.value.message  # never echoes the number


@given(st.integers(2, 9), st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_aadhaar_any_checksummed_number_is_valid(first: int, rest: str) -> None:
    number = _aadhaar(f"{first}{rest}")
    assert validate_aadhaar(number) == number
    assert mask_aadhaar(number) == f"XXXX XXXX {number[-4:]}"


def test_aadhaar_hash_keyed_and_stable() -> None:
    h = aadhaar_hash("2345 6789 0124", KEY)
    assert h == aadhaar_hash(AADHAAR, KEY) and len(h) == 64
    assert h != aadhaar_hash(AADHAAR, b"another-key-of-16-bytes")
    with pytest.raises(ValidationError) as e:
        aadhaar_hash(AADHAAR, b"short")
    assert e.value.field == "key"


# ---------------------------------------------------------------------------------- other identifiers


def test_ifsc() -> None:
    assert validate_ifsc(" hdfc0001234 ") == "HDFC0001234"
    assert validate_ifsc("SBIN0ABC123") == "SBIN0ABC123"
    for bad in ("HDFC1001234", "HDF00001234", "HDFC000123", "HDFC00012345", "1234056789A", "", None):
        with pytest.raises(ValidationError) as e:
            validate_ifsc(bad)  # type: ignore[arg-type]
        assert e.value.field == "ifsc"


def test_account_number() -> None:
    assert validate_account_number("123456789") == "123456789"
    assert validate_account_number("0012 3456 7890 1234 56") == "001234567890123456"
    for bad in ("12345678", "1" * 19, "12345678A", ""):
        with pytest.raises(ValidationError) as e:
            validate_account_number(bad)
        assert e.value.field == "accountNumber"


def test_uan_and_pincode() -> None:
    assert validate_uan("1001 2345 6789") == "100123456789"
    for bad in ("10012345678", "1001234567890", "10012345678X"):
        with pytest.raises(ValidationError) as e:
            validate_uan(bad)
        assert e.value.field == "uan"
    assert validate_pincode("560001") == "560001"
    assert validate_pincode("110 001") == "110001"
    for bad in ("060001", "56001", "5600011", "56000A"):
        with pytest.raises(ValidationError) as e:
            validate_pincode(bad)
        assert e.value.field == "pincode"


def test_age_on() -> None:
    dob = date(2000, 6, 15)
    assert age_on(dob, date(2021, 6, 14)) == 20
    assert age_on(dob, date(2021, 6, 15)) == 21
    leap = date(2004, 2, 29)
    assert age_on(leap, date(2022, 2, 28)) == 17
    assert age_on(leap, date(2022, 3, 1)) == 18
    assert age_on(leap, date(2024, 2, 29)) == 20
    with pytest.raises(ValidationError) as e:
        age_on(date(2030, 1, 1), date(2024, 1, 1))
    assert e.value.field == "dob"
    with pytest.raises(ValidationError):
        age_on(datetime(2000, 1, 1), date(2024, 1, 1))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Mr. A.K.  sharma ", "A K SHARMA"),
        ("SMT. Sunita  Devi", "SUNITA DEVI"),
        ("Shri Ram-Kumar Verma", "RAM KUMAR VERMA"),
        ("Dr. Mrs. Mary D'Souza", "MARY DSOUZA"),
        ("Priya Kumari", "PRIYA KUMARI"),  # a title word only counts at the start
        ("Kumari", "KUMARI"),  # never drops the last word
        ("Rénu  Gupta", "RENU GUPTA"),
        ("", ""),
    ],
)
def test_normalise_name(raw: str, expected: str) -> None:
    assert normalise_name(raw) == expected


@given(st.text(max_size=40))
def test_normalise_name_idempotent(raw: str) -> None:
    once = normalise_name(raw)
    assert normalise_name(once) == once
    assert once == once.strip() and "  " not in once


def test_kyc_steps_config() -> None:
    assert validate_kyc_steps(["pan", "Aadhaar", KycStep.SELFIE]) == (KycStep.PAN, KycStep.AADHAAR, KycStep.SELFIE)
    assert validate_kyc_steps([s.value for s in DEFAULT_KYC_STEPS]) == DEFAULT_KYC_STEPS
    for bad, needle in (
        (["AADHAAR", "PAN"], "first"),
        (["PAN", "PAN"], "twice"),
        (["PAN", "VIDEO_KYC"], "unknown"),
        ([], "at least"),
        ("PAN", "list"),
    ):
        with pytest.raises(ValidationError) as e:
            validate_kyc_steps(bad)
        assert e.value.field == "kycSteps" and needle in e.value.message
    steps = validate_kyc_steps(["PAN", "CKYC", "DIGILOCKER"])
    assert next_kyc_step(steps, []) is KycStep.PAN
    assert next_kyc_step(steps, ["PAN"]) is KycStep.CKYC
    assert next_kyc_step(steps, [KycStep.PAN, KycStep.CKYC, KycStep.DIGILOCKER]) is None
    assert kyc.KycStep("BANK_STATEMENT") in DEFAULT_KYC_STEPS


# -------------------------------------------------------------------------------------------------- BRE

APP = date(2024, 6, 20)
FULL = BreConfig(
    min_bureau_score=650,
    max_dpd=30,
    dpd_lookback_months=12,
    max_active_loans=3,
    max_enquiries_30d=4,
    blocklist=Blocklist(
        pan=frozenset({"BLOCK1234X"}),
        phone=frozenset({"+91 98765 00000"}),
        aadhaar_hash=frozenset({"AB" * 32}),
        device=frozenset({"dev-bad"}),
    ),
    min_age=21,
    max_age=58,
    salary_threshold=25_000_00,
    rejection_duration_days=30,
    enable_central_dedup=True,
)
GOOD = BreInput(
    application_date=APP,
    bureau_score=720,
    bureau_accounts=(
        BureauAccount([(date(2024, 5, 1), 0), (date(2023, 6, 1), 30), (date(2023, 5, 1), 90)], True, "HL1"),
        BureauAccount([(date(2024, 1, 1), 10)], False, "CC1"),
    ),
    enquiry_dates=(date(2024, 6, 1), date(2024, 5, 22), date(2024, 5, 21), date(2024, 6, 21)),
    pan="ABCDE1234F",
    aadhaar_hash="cd" * 32,
    phone="9876543210",
    device_id="dev-ok",
    dob=date(1995, 1, 1),
    monthly_salary=40_000_00,
    last_rejected_on=None,
    other_brand_active_loans=0,
)


def _rule(result, rule: Rule):  # type: ignore[no-untyped-def]
    return next(r for r in result.results if r.rule is rule)


def _replace(inp: BreInput, **kw: object) -> BreInput:
    from dataclasses import replace

    return replace(inp, **kw)  # type: ignore[arg-type]


def test_bre_all_pass_reports_every_rule_in_order() -> None:
    result = run_bre(FULL, GOOD)
    assert result.passed and result.outcome == "PASS" and result.decision is None
    assert [r.rule for r in result.results] == list(Rule)
    assert all(r.outcome == "PASS" for r in result.results)
    # DPD window: June 2023 (30) is inside 12 months back from June 2024; May 2023 (90) is outside.
    dpd = _rule(result, Rule.MAX_DPD)
    assert dpd.observed == 30 and dpd.limit == 30
    assert _rule(result, Rule.MAX_ACTIVE_LOANS).observed == 1  # only HL1 is active
    # 1 June and 22 May (29 days back) count; 21 May (30 days back) and 21 June (future) do not.
    assert _rule(result, Rule.MAX_ENQUIRIES_30D).observed == 2
    details = result.to_details()
    assert details[0] == {
        "rule": "MIN_BUREAU_SCORE",
        "outcome": "PASS",
        "passed": True,
        "skipped": False,
        "reason": "bureau score 720 at or above minimum 650",
        "observed": 720,
        "limit": 650,
    }


def test_bre_empty_config_skips_everything() -> None:
    result = run_bre(BreConfig(), BreInput(application_date=APP))
    assert result.passed
    assert all(r.skipped and r.outcome == "SKIPPED" and r.passed for r in result.results)
    assert result.reasons == []


@pytest.mark.parametrize(
    ("rule", "change", "needle", "observed"),
    [
        (Rule.MIN_BUREAU_SCORE, {"bureau_score": 649}, "below minimum 650", 649),
        (Rule.MIN_BUREAU_SCORE, {"bureau_score": None}, "missing: bureau score", None),
        (
            Rule.MAX_DPD,
            {"bureau_accounts": (BureauAccount([(date(2023, 7, 31), 31)], True, "PL9"),)},
            "DPD 31 on account PL9 in 2023-07 exceeds maximum 30",
            31,
        ),
        (Rule.MAX_ACTIVE_LOANS, {"active_loans": 4}, "4 active loans exceed maximum 3", 4),
        (Rule.MAX_ACTIVE_LOANS, {"bureau_accounts": tuple(BureauAccount() for _ in range(4))}, "exceed", 4),
        (Rule.MAX_ENQUIRIES_30D, {"enquiry_dates": tuple(APP - timedelta(days=d) for d in range(5))}, "5 bureau", 5),
        (Rule.MAX_ENQUIRIES_30D, {"enquiries_30d": 9}, "9 bureau enquiries", 9),
        (Rule.BLOCKLIST, {"pan": "block1234x"}, "on the blocklist: PAN", ["PAN"]),
        (Rule.BLOCKLIST, {"phone": "919876500000", "device_id": "dev-bad"}, "PHONE, DEVICE", ["PHONE", "DEVICE"]),
        (Rule.BLOCKLIST, {"aadhaar_hash": "AB" * 32}, "AADHAAR", ["AADHAAR"]),
        (Rule.MIN_AGE, {"dob": date(2003, 6, 21)}, "age 20 below minimum 21", 20),
        (Rule.MIN_AGE, {"dob": None}, "missing: date of birth", None),
        (Rule.MAX_AGE, {"dob": date(1965, 6, 20)}, "age 59 above maximum 58", 59),
        (Rule.SALARY_THRESHOLD, {"monthly_salary": 24_999_99}, "₹24999.99 below threshold ₹25000", 24_999_99),
        (Rule.SALARY_THRESHOLD, {"monthly_salary": None}, "missing: monthly salary", None),
        (Rule.COOLING_PERIOD, {"last_rejected_on": APP - timedelta(days=29)}, "may re-apply from 2024-06-21", 29),
        (Rule.CENTRAL_DEDUP, {"other_brand_active_loans": 1}, "1 active loan(s)", 1),
        (Rule.CENTRAL_DEDUP, {"other_brand_active_loans": None}, "missing: cross-brand", None),
    ],
)
def test_bre_each_rule_fails_with_reason(rule: Rule, change: dict, needle: str, observed: object) -> None:
    result = run_bre(FULL, _replace(GOOD, **change))
    assert not result.passed and result.decision is Decision.REJECT and result.outcome == "FAIL"
    r = _rule(result, rule)
    assert r.outcome == "FAIL" and needle in r.reason and r.observed == observed
    both_age_rules = change == {"dob": None}  # a missing date of birth fails MIN_AGE and MAX_AGE
    assert [f.rule for f in result.failures] == ([Rule.MIN_AGE, Rule.MAX_AGE] if both_age_rules else [rule])
    assert f"{rule.value}: {r.reason}" in result.reasons


def test_bre_boundaries_pass() -> None:
    edge = _replace(
        GOOD,
        bureau_score=650,
        active_loans=3,
        enquiries_30d=4,
        dob=date(1965, 6, 21),  # 58 today
        monthly_salary=25_000_00,
        last_rejected_on=APP - timedelta(days=30),
    )
    result = run_bre(FULL, edge)
    assert result.passed, result.reasons
    assert _rule(result, Rule.MAX_AGE).observed == 58
    assert _rule(result, Rule.COOLING_PERIOD).observed == 30
    young = run_bre(FULL, _replace(GOOD, dob=date(2003, 6, 20)))  # 21st birthday today
    assert _rule(young, Rule.MIN_AGE).passed


def test_bre_collects_all_failures() -> None:
    bad = _replace(GOOD, bureau_score=500, pan="BLOCK1234X", monthly_salary=1_00, other_brand_active_loans=2)
    result = run_bre(FULL, bad)
    assert [f.rule for f in result.failures] == [
        Rule.MIN_BUREAU_SCORE,
        Rule.BLOCKLIST,
        Rule.SALARY_THRESHOLD,
        Rule.CENTRAL_DEDUP,
    ]
    assert len(result.reasons) == 4


def test_bre_dpd_window_and_future_entries() -> None:
    cfg = BreConfig(max_dpd=0, dpd_lookback_months=3)
    # March 2024 is 3 months before June: inside; February is outside; July (future) is ignored.
    inside = BureauAccount([(date(2024, 3, 1), 5)])
    outside = BureauAccount([(date(2024, 2, 29), 90), (date(2024, 7, 1), 90)])
    assert not run_bre(cfg, BreInput(APP, bureau_accounts=(inside,))).passed
    assert run_bre(cfg, BreInput(APP, bureau_accounts=(outside,))).passed
    assert run_bre(cfg, BreInput(APP)).passed  # no tradelines: worst DPD 0


def test_bre_cooling_and_blocklist_pass_branches() -> None:
    r = run_bre(FULL, GOOD)
    assert _rule(r, Rule.COOLING_PERIOD).reason == "no previous rejection in this brand"
    assert _rule(r, Rule.BLOCKLIST).observed == []
    bl = Blocklist.from_entries([("pan", "abcde1234f"), ("PHONE", "9000000000")])
    assert bl.pan == frozenset({"ABCDE1234F"})
    hit = run_bre(BreConfig(blocklist=bl), BreInput(APP, pan="ABCDE1234F"))
    assert _rule(hit, Rule.BLOCKLIST).observed == ["PAN"]
    with pytest.raises(ValidationError) as e:
        Blocklist.from_entries([("EMAIL", "x@y.z")])
    assert e.value.field == "kind"


def test_bre_config_from_dict_aliases_and_validation() -> None:
    cfg = BreConfig.from_dict(
        {
            "min_credit_score": 650,
            "maxDpd": 30,
            "salaryThresholdAmount": 25_000_00,
            "rejectionDuration": 30,
            "enable_central_dedup": True,
            "minAge": 21,
            "maxAge": None,
        }
    )
    assert cfg.min_bureau_score == 650 and cfg.max_dpd == 30 and cfg.salary_threshold == 25_000_00
    assert cfg.rejection_duration_days == 30 and cfg.enable_central_dedup and cfg.max_age is None
    assert BreConfig.from_dict(cfg.to_dict()) == cfg
    whole_brand = {"min_credit_score": 600, "auto_sanction_score": 750, "providers": {}}
    assert BreConfig.from_dict(whole_brand, strict=False).min_bureau_score == 600
    for data, field in (
        ({"auto_sanction_score": 750}, "auto_sanction_score"),
        ({"minAge": 16}, "minAge"),
        ({"minAge": 30, "maxAge": 25}, "maxAge"),
        ({"minBureauScore": 901}, "minBureauScore"),
        ({"maxDpd": -1}, "maxDpd"),
        ({"maxDpd": 30.5}, "maxDpd"),
        ({"rejectionDuration": "30"}, "rejectionDuration"),
        ({"enableCentralDedup": "yes"}, "enableCentralDedup"),
        ({"dpdLookbackMonths": 0}, "dpdLookbackMonths"),
        ({"min_bureau_score": 600, "minCreditScore": 650}, "minCreditScore"),
    ):
        with pytest.raises(ValidationError) as e:
            BreConfig.from_dict(data)
        assert e.value.field == field, (data, e.value.field)


def test_bre_float_money_is_type_error() -> None:
    with pytest.raises(TypeError, match="salaryThresholdAmount"):
        BreConfig.from_dict({"salaryThresholdAmount": 25000.0})
    with pytest.raises(TypeError):
        BreConfig(salary_threshold=25000.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        BreInput(APP, monthly_salary=40000.5)  # type: ignore[arg-type]


def test_bre_input_validation() -> None:
    with pytest.raises(ValidationError) as e:
        BreInput(datetime(2024, 1, 1))  # type: ignore[arg-type]
    assert e.value.field == "application_date"
    with pytest.raises(ValidationError) as e:
        BureauAccount([(date(2024, 1, 1), -3)])
    assert e.value.field == "dpd"


def test_existing_rules_still_work() -> None:
    assert decide(700, CreditPolicy(650, 750)).decision is Decision.MANUAL_REVIEW


# ------------------------------------------------------------------------------------------- evaluation

ITEMS = (
    Criterion("Bureau score", "bureau.score", ">=", "700", weight=40),
    Criterion("Salary", "bsa.avg_salary", ">=", 30_000_00, weight=30),
    Criterion("Employment", "employment.months", ">=", 6, weight=20),
    Criterion("Name match", "kyc.name_match", ">=", "80", weight=10, hard_reject=True),
)
FACTS = {
    "bureau": {"score": 720},
    "bsa": {"avg_salary": 45_000_00},
    "employment": {"months": 24},
    "kyc": {"name_match": Decimal("92.5")},
}


def _policy(version: str = "V1", items: tuple[Criterion, ...] = ITEMS, auto: int = 80, manual: int = 60):
    return EvaluationPolicy(EngineVersion(version), items, Decimal(auto), Decimal(manual))


def test_v1_all_pass_auto_sanction_and_breakdown() -> None:
    res = evaluate(_policy(), FACTS)
    assert res.decision is Decision.AUTO_SANCTION and res.outcome == "AUTO_SANCTION"
    assert res.score == Decimal("100.00") and res.total_weight == 100
    assert res.soft_flags == () and res.hard_failures == ()
    first = res.to_details()[0]
    assert first == {
        "item": "Bureau score",
        "metric": "bureau.score",
        "comparator": ">=",
        "observed": "720",
        "threshold": "700",
        "passed": True,
        "points": "40.00",
        "weight": 40,
        "hardReject": False,
        "flag": None,
        "reason": "passed: 720 >= 700",
    }


@pytest.mark.parametrize(
    ("facts_change", "decision", "score"),
    [
        ({"employment": {"months": 3}}, Decision.AUTO_SANCTION, "80.00"),  # exactly at auto-sanction
        ({"bsa": {"avg_salary": 1}}, Decision.MANUAL_REVIEW, "70.00"),
        ({"bureau": {"score": 650}, "employment": {"months": 1}}, Decision.REJECT, "40.00"),
        ({"bureau": {"score": 650}}, Decision.MANUAL_REVIEW, "60.00"),  # exactly at manual review
    ],
)
def test_v1_bands(facts_change: dict, decision: Decision, score: str) -> None:
    res = evaluate(_policy(), {**FACTS, **facts_change})
    assert res.decision is decision and res.score == Decimal(score), res.reason


def test_v1_hard_reject_overrides_score() -> None:
    res = evaluate(_policy(), {**FACTS, "kyc": {"name_match": 79}})
    assert res.decision is Decision.REJECT and res.score == Decimal("90.00")
    assert res.hard_failures == ("Name match: failed: 79 >= 80 is false",)
    assert res.reason.startswith("hard reject: Name match")
    assert res.breakdown[3].flag == "HARD_REJECT"


def test_missing_metric_soft_and_hard() -> None:
    res = evaluate(_policy(), {k: v for k, v in FACTS.items() if k != "employment"})
    item = res.breakdown[2]
    assert not item.passed and item.reason == "missing: employment.months" and item.flag == "SOFT_FLAG"
    assert item.observed is None and item.points == Decimal("0.00")
    assert res.soft_flags == ("Employment: missing: employment.months",)
    assert res.decision is Decision.AUTO_SANCTION and res.score == Decimal("80.00")
    hard = evaluate(_policy(), {k: v for k, v in FACTS.items() if k != "kyc"})
    assert hard.decision is Decision.REJECT and hard.hard_failures == ("Name match: missing: kyc.name_match",)


def test_invalid_metric_values_fail_soft() -> None:
    res = evaluate(_policy(), {**FACTS, "bureau": {"score": "n/a"}})
    assert res.breakdown[0].reason.startswith("invalid: bureau.score")
    res = evaluate(_policy(), {**FACTS, "bureau": {"score": True}})
    assert not res.breakdown[0].passed
    assert evaluate(_policy(), {**FACTS, "bureau": {"score": " 720 "}}).breakdown[0].passed


def test_v2_partial_credit_formula() -> None:
    # Bureau score 700 threshold, default band 10% = 70: observed 665 misses by 35 → half of 40 = 20 points.
    res = evaluate(_policy("V2"), {**FACTS, "bureau": {"score": 665}})
    item = res.breakdown[0]
    assert not item.passed and item.points == Decimal("20.00") and item.flag == "SOFT_FLAG"
    assert "missed by 35 within band 70: 50.00% credit" in item.reason
    assert res.score == Decimal("80.00") and res.decision is Decision.AUTO_SANCTION
    assert res.soft_flags == (f"Bureau score: {item.reason}",)
    # V1 gives nothing for the same near miss.
    v1 = evaluate(_policy("V1"), {**FACTS, "bureau": {"score": 665}})
    assert v1.breakdown[0].points == Decimal("0.00") and v1.decision is Decision.MANUAL_REVIEW
    # Beyond the band: nothing.
    far = evaluate(_policy("V2"), {**FACTS, "bureau": {"score": 600}})
    assert far.breakdown[0].points == Decimal("0.00")


def test_v2_upper_limit_band_and_strict_boundary() -> None:
    foir = Criterion("FOIR", "cam.foir", "<=", "50", weight=3, band=Decimal(20))
    strict = Criterion("Vintage", "employment.months", ">", 12, weight=1)
    res = evaluate_v2(
        [foir, strict],
        {"cam": {"foir": Decimal("55")}, "employment": {"months": 12}},
        auto_sanction_threshold=90,
        manual_review_threshold=50,
    )
    assert res.breakdown[0].points == Decimal("2.25")  # 3 × (1 − 5/20)
    assert not res.breakdown[1].passed and res.breakdown[1].points == Decimal("1.00")  # continuous credit
    assert res.score == Decimal("81.25") and res.decision is Decision.MANUAL_REVIEW
    assert len(res.soft_flags) == 2


def test_v2_equality_and_string_items_all_or_nothing() -> None:
    items = (
        Criterion("Salaried", "employment.type", "==", "SALARIED", weight=1),
        Criterion("PAN verified", "kyc.pan_verified", "==", "true", weight=1),
        Criterion("Not NTC", "bureau.score", "!=", -1, weight=2),
    )
    facts = {"employment": {"type": "salaried"}, "kyc": {"pan_verified": False}, "bureau.score": -1}
    res = evaluate_v2(items, facts, auto_sanction_threshold=90, manual_review_threshold=10)
    assert [r.passed for r in res.breakdown] == [True, False, False]
    assert [r.points for r in res.breakdown] == [Decimal("1.00"), Decimal("0.00"), Decimal("0.00")]
    assert res.score == Decimal("25.00") and res.decision is Decision.MANUAL_REVIEW


@given(st.integers(0, 1000))
def test_v2_never_below_v1_and_monotone(score: int) -> None:
    facts = {**FACTS, "bureau": {"score": score}}
    v1 = evaluate(_policy("V1"), facts)
    v2 = evaluate(_policy("V2"), facts)
    higher = evaluate(_policy("V2"), {**FACTS, "bureau": {"score": score + 1}})
    assert v2.score >= v1.score
    assert higher.score >= v2.score
    assert Decimal(0) <= v2.score <= Decimal(100)


def test_comparators_and_lookup() -> None:
    facts = {"a": {"b": 5}, "x.y": 7}
    assert lookup_metric(facts, "a.b") == 5 and lookup_metric(facts, "x.y") == 7
    assert lookup_metric(facts, "a.c") is None and lookup_metric(facts, "a.b.c") is None
    cases = [
        (">=", 5, True),
        (">", 5, False),
        ("<=", 5, True),
        ("<", 5, False),
        ("==", 5, True),
        ("!=", 5, False),
        ("<", 6, True),
        (">", 4, True),
    ]
    for comp, threshold, expected in cases:
        res = evaluate_v1(
            [Criterion("t", "a.b", comp, threshold)], facts, auto_sanction_threshold=100, manual_review_threshold=0
        )
        assert res.breakdown[0].passed is expected, (comp, threshold)
    assert Criterion("t", "a", "≥", 1).comparator is Comparator.GE
    assert parse_threshold("720") == Decimal(720) and parse_threshold("TRUE") is True
    assert parse_threshold(" salaried ") == "salaried"


def test_evaluation_policy_from_dict() -> None:
    rows = [
        {
            "id": "1",
            "version": "V2",
            "name": "Bureau",
            "metric": "bureau.score",
            "comparator": ">=",
            "threshold": "700",
            "weight": 60,
            "hard_reject": False,
            "is_active": True,
        },
        {
            "id": "2",
            "version": "V2",
            "name": "Salary",
            "metric": "bsa.avg_salary",
            "comparator": ">=",
            "threshold": "3000000",
            "weight": 40,
            "hardReject": True,
            "band": "500000",
        },
        {
            "id": "3",
            "version": "V2",
            "name": "Old",
            "metric": "x.y",
            "comparator": ">=",
            "threshold": "1",
            "is_active": False,
        },
        {"id": "4", "version": "V1", "name": "V1 only", "metric": "x.y", "comparator": ">=", "threshold": "1"},
    ]
    policy = EvaluationPolicy.from_dict(
        {"evaluationVersion": "v2", "autoSanctionThreshold": "75.5", "manualReviewThreshold": 50, "items": rows}
    )
    assert policy.version is EngineVersion.V2 and [i.name for i in policy.items] == ["Bureau", "Salary"]
    assert policy.auto_sanction_threshold == Decimal("75.5") and policy.items[1].hard_reject
    assert policy.items[1].band == Decimal(500000)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"version": "V3", "autoSanctionThreshold": 80, "manualReviewThreshold": 60, "items": []}, "version"),
        ({"manualReviewThreshold": 60, "items": []}, "auto_sanction_threshold"),
        (
            {
                "autoSanctionThreshold": 80,
                "manualReviewThreshold": 90,
                "items": [{"name": "a", "metric": "a.b", "comparator": ">=", "threshold": 1}],
            },
            "manualReviewThreshold",
        ),
        (
            {
                "autoSanctionThreshold": 101,
                "manualReviewThreshold": 60,
                "items": [{"name": "a", "metric": "a.b", "comparator": ">=", "threshold": 1}],
            },
            "autoSanctionThreshold",
        ),
        ({"autoSanctionThreshold": 80, "manualReviewThreshold": 60, "items": []}, "items"),
        (
            {
                "autoSanctionThreshold": 80,
                "manualReviewThreshold": 60,
                "items": [{"name": "a", "metric": "a.b", "comparator": "=>", "threshold": 1}],
            },
            "items[0].comparator",
        ),
        (
            {
                "autoSanctionThreshold": 80,
                "manualReviewThreshold": 60,
                "items": [{"name": "a", "metric": "a.b", "comparator": ">=", "threshold": "high"}],
            },
            "items[0].threshold",
        ),
        (
            {
                "autoSanctionThreshold": 80,
                "manualReviewThreshold": 60,
                "items": [{"name": "a", "metric": "a..b", "comparator": ">=", "threshold": 1}],
            },
            "items[0].metric",
        ),
        (
            {
                "autoSanctionThreshold": 80,
                "manualReviewThreshold": 60,
                "items": [{"name": "a", "metric": "a.b", "comparator": ">=", "threshold": 1, "weight": -1}],
            },
            "items[0].weight",
        ),
        (
            {
                "autoSanctionThreshold": 80,
                "manualReviewThreshold": 60,
                "items": [{"name": "a", "metric": "a.b", "comparator": ">=", "threshold": 1, "hardReject": "no"}],
            },
            "items[0].hardReject",
        ),
        (
            {
                "autoSanctionThreshold": 80,
                "manualReviewThreshold": 60,
                "items": [{"name": "a", "metric": "a.b", "comparator": "==", "threshold": "x", "band": 5}],
            },
            "items[0].band",
        ),
        (
            {
                "autoSanctionThreshold": 80,
                "manualReviewThreshold": 60,
                "items": [{"metric": "a.b", "comparator": ">=", "threshold": 1}],
            },
            "items[0].name",
        ),
        (
            {
                "autoSanctionThreshold": 80,
                "manualReviewThreshold": 60,
                "items": [{"name": "a", "metric": "a.b", "comparator": ">=", "threshold": 1, "weight": 0}],
            },
            "items",
        ),
        (
            {
                "autoSanctionThreshold": 80,
                "manualReviewThreshold": 60,
                "items": [
                    {"name": "a", "metric": "a.b", "comparator": ">=", "threshold": 1},
                    {"name": "A", "metric": "a.c", "comparator": ">=", "threshold": 1},
                ],
            },
            "items[1].name",
        ),
    ],
)
def test_evaluation_bad_config_names_field(data: dict, field: str) -> None:
    with pytest.raises(ValidationError) as e:
        EvaluationPolicy.from_dict(data)
    assert e.value.field == field


def test_evaluation_floats_are_type_errors() -> None:
    with pytest.raises(TypeError):
        Criterion("Salary", "bsa.avg_salary", ">=", 30000.0)
    with pytest.raises(TypeError, match=r"items\[0\]"):
        EvaluationPolicy.from_dict(
            {
                "autoSanctionThreshold": 80,
                "manualReviewThreshold": 60,
                "items": [{"name": "a", "metric": "a.b", "comparator": ">=", "threshold": 1.5}],
            }
        )
    with pytest.raises(TypeError):
        EvaluationPolicy.from_dict({"autoSanctionThreshold": 80.0, "manualReviewThreshold": 60, "items": []})
    with pytest.raises(TypeError, match="bsa.avg_salary"):
        evaluate(_policy(), {**FACTS, "bsa": {"avg_salary": 45000.0}})


# ------------------------------------------------------------------------------------------- assignment

DAY = date(2024, 6, 20)


def _staff(sid: str, **kw: object) -> StaffCandidate:
    base: dict[str, object] = {"brand_id": "b1", "role": "CREDIT_EXECUTIVE"}
    base.update(kw)
    return StaffCandidate(sid, **base)  # type: ignore[arg-type]


TEAM = [_staff("s3"), _staff("s1"), _staff("s2")]


def test_round_robin_rotates_and_wraps() -> None:
    picks: list[str | None] = []
    last = None
    for _ in range(5):
        a = assign(TEAM, brand_id="b1", role="credit_executive", on=DAY, last_assigned_id=last)
        picks.append(a.staff_id)
        last = a.staff_id
    assert picks == ["s1", "s2", "s3", "s1", "s2"]
    # A departed member's id still places the rotation.
    assert assign(TEAM, brand_id="b1", role="CREDIT_EXECUTIVE", on=DAY, last_assigned_id="s15").staff_id == "s2"
    assert assign(TEAM, brand_id="b1", role="CREDIT_EXECUTIVE", on=DAY, last_assigned_id="s9").staff_id == "s1"


def test_round_robin_skips_ineligible_with_reasons() -> None:
    team = [
        _staff("s1", unavailable_on={DAY}),
        _staff("s2", open_workload=10),
        _staff("s3", is_active=False),
        _staff("s4", role="COLLECTION_EXECUTIVE"),
        _staff("s5", brand_id="b2"),
        _staff("s6", open_workload=10, capacity=20),
        _staff("s7"),
    ]
    a = assign(team, brand_id="b1", role="CREDIT_EXECUTIVE", on=DAY, cap=10)
    assert a.assigned and a.staff_id == "s6"
    assert dict(a.skipped) == {
        "s1": "unavailable on 2024-06-20",
        "s2": "workload 10 at cap 10",
        "s3": "inactive",
        "s4": "role COLLECTION_EXECUTIVE is not CREDIT_EXECUTIVE",
        "s5": "not in this brand",
    }
    # Next day s1 is back; after s6 comes s7, then wrap to s1.
    assert assign(team, brand_id="b1", role="CREDIT_EXECUTIVE", on=DAY, cap=10, last_assigned_id="s6").staff_id == "s7"
    nxt = assign(
        team, brand_id="b1", role="CREDIT_EXECUTIVE", on=DAY + timedelta(days=1), cap=10, last_assigned_id="s7"
    )
    assert nxt.staff_id == "s1"


def test_nobody_eligible_returns_none_with_reason() -> None:
    a = assign([_staff("s1", open_workload=5)], brand_id="b1", role="CREDIT_EXECUTIVE", on=DAY, cap=5)
    assert a.staff_id is None and not a.assigned
    assert "no eligible CREDIT_EXECUTIVE" in a.reason and a.skipped == (("s1", "workload 5 at cap 5"),)
    assert a.to_dict()["staffId"] is None
    empty = assign([], brand_id="b1", role="CREDIT_EXECUTIVE", on=DAY)
    assert empty == Assignment(None, "no staff to choose from", ())


def test_least_loaded_ties_follow_rotation() -> None:
    team = [_staff("s1", open_workload=3), _staff("s2", open_workload=1), _staff("s3", open_workload=1)]
    a = assign(team, brand_id="b1", role="CREDIT_EXECUTIVE", on=DAY, strategy=Strategy.LEAST_LOADED)
    assert a.staff_id == "s2"
    b = assign(team, brand_id="b1", role="CREDIT_EXECUTIVE", on=DAY, strategy="least_loaded", last_assigned_id="s2")
    assert b.staff_id == "s3"


def test_assignment_bad_arguments() -> None:
    for kwargs, field in (
        ({"cap": -1}, "cap"),
        ({"strategy": "RANDOM"}, "strategy"),
        ({"on": datetime(2024, 6, 20)}, "on"),
        ({"role": " "}, "role"),
    ):
        args: dict = {"brand_id": "b1", "role": "CREDIT_EXECUTIVE", "on": DAY, **kwargs}
        with pytest.raises(ValidationError) as e:
            assign(TEAM, **args)
        assert e.value.field == field
    with pytest.raises(ValidationError) as e:
        assign([_staff("s1"), _staff("s1")], brand_id="b1", role="CREDIT_EXECUTIVE", on=DAY)
    assert e.value.field == "candidates"
    with pytest.raises(ValidationError) as e:
        _staff("s1", open_workload=-1)
    assert e.value.field == "open_workload"
    with pytest.raises(TypeError):
        _staff("s1", open_workload=1.0)
    assert ineligibility(_staff("s1"), brand_id="b1", role="CREDIT_EXECUTIVE", on=DAY, cap=None) is None


@given(
    st.lists(st.tuples(st.integers(0, 5), st.booleans()), min_size=1, max_size=8),
    st.sampled_from([None, "s0", "s3", "s9"]),
    st.permutations(range(8)),
)
def test_assignment_deterministic_and_eligible(
    specs: list[tuple[int, bool]], last: str | None, order: list[int]
) -> None:
    team = [_staff(f"s{i}", open_workload=w, is_active=act) for i, (w, act) in enumerate(specs)]
    shuffled = [team[i] for i in order if i < len(team)]
    a = assign(team, brand_id="b1", role="CREDIT_EXECUTIVE", on=DAY, cap=4, last_assigned_id=last)
    b = assign(shuffled, brand_id="b1", role="CREDIT_EXECUTIVE", on=DAY, cap=4, last_assigned_id=last)
    assert a == b
    eligible = sorted(c.staff_id for c in team if c.is_active and c.open_workload < 4)
    if not eligible:
        assert a.staff_id is None
    else:
        after = [s for s in eligible if last is None or s > last]
        assert a.staff_id == (after[0] if after else eligible[0])
