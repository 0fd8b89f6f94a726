"""The brand configuration's read model (``domain.brand_config.BrandConfig``): one default per key, the same
the readers used, and every configuration the settings API saves reads back through it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from annotated_types import Ge, Le
from hypothesis import given, settings
from hypothesis import strategies as st

from api.brand_config import (
    DEFAULTS,
    NEW_BRAND_CONFIG,
    STAFF_ROLES,
    BrandConfigIn,
    check_config,
    effective_view,
    merge,
)
from domain import bre
from domain.brand_config import BrandConfig
from domain.errors import ValidationError
from domain.evaluation import EngineVersion
from domain.schedule import PrepaymentMode

DAY = 24 * 3600

# What each reader used when the key was not set, before the read model (api/web/routes.py, api/web/auth.py,
# api/partner/review.py, activities/kyc/*.py, and api/brand_config.py's DEFAULTS table).
READERS_DEFAULTS: dict[str, Any] = {
    "min_credit_score": 650,
    "auto_sanction_score": 750,
    "esign_expiry_seconds": 3 * DAY,
    "kyc_steps": ["PAN"],
    "kyc_timeout_seconds": 7 * DAY,
    "name_match_threshold": 80,
    "ckyc_match_threshold": 0,
    "mobile_pan_must_match": False,
    "aa_enabled": False,
    "statement_max_age_days": 30,
    "bre": None,
    "evaluation_version": "V1",
    "auto_sanction_threshold": 100,
    "manual_review_threshold": 50,
    "allocation_role": "CREDIT_EXECUTIVE",
    "allocation_cap": 50,
    "customer_allocation_role": "LOAN_EXECUTIVE",
    "customer_allocation_cap": None,
    "cam_required": False,
    # money out (no reader before them: their defaults are the ones the disbursal and the KFS introduced)
    "imps_limit": 500_000_00,
    "pennydrop_max_age_hours": 72,
    "transfer_sla_seconds": 15 * 60,
    "lender_legal_name": None,
    "grievance_officer": None,
    "nodal_officer": None,
    "recovery_policy_url": None,
    "partner_name": None,
    "logo_url": None,
    "prepayment_mode": "REDUCE_TENURE",
    "npa_days": 90,
    "cooling_off_days": 3,
    "reminder_days": 3,
    "autopay_retries": 2,
    "autopay_retry_days": 2,
    "min_prepayment": 1_000_00,
    "allocation": None,
    "collections": None,
    "reloan": None,
    "ops_jobs": None,
    "bureau_reporting": None,
    "sme": None,
    "brand_colour": None,
}


def test_defaults_are_the_readers_defaults() -> None:
    assert BrandConfig.defaults() == READERS_DEFAULTS
    assert DEFAULTS == READERS_DEFAULTS
    assert BrandConfig.of({}).as_dict() == READERS_DEFAULTS
    assert BrandConfig.of(None) == BrandConfig()


def test_every_editable_key_has_one_default_and_the_api_shows_it() -> None:
    assert set(BrandConfigIn.model_fields) == set(BrandConfig.defaults())
    assert set(effective_view({})) == {BrandConfigIn.model_fields[n].alias or n for n in BrandConfigIn.model_fields}
    for key, value in NEW_BRAND_CONFIG.items():
        assert key == "providers" or value == DEFAULTS[key]


def test_unset_null_and_empty_read_as_the_default_and_unknown_keys_are_ignored() -> None:
    stored = {"min_credit_score": None, "kyc_steps": [], "bre": {}, "allocation": {}, "no_such_key": 1, "providers": {}}
    assert BrandConfig.of(stored) == BrandConfig()
    assert not hasattr(BrandConfig.of(stored), "no_such_key")


def test_stored_values_are_read_as_the_readers_converted_them() -> None:
    read = BrandConfig.of(
        {
            "min_credit_score": "700",
            "npa_days": 91.0,
            "mobile_pan_must_match": 1,
            "kyc_steps": ("PAN", "mobile"),
            "allocation_cap": 0,  # stored falsy values are not the default
            "aa_enabled": False,
        }
    )
    assert (read.min_credit_score, read.npa_days, read.mobile_pan_must_match) == (700, 91, True)
    assert read.kyc_steps == ("PAN", "mobile") and read.allocation_cap == 0 and read.aa_enabled is False


@pytest.mark.parametrize(
    ("key", "value"),
    [("min_credit_score", "high"), ("npa_days", 90.5), ("cam_required", None), ("kyc_steps", "PAN"), ("bre", [1])],
)
def test_a_value_that_cannot_be_read_names_its_key(key: str, value: Any) -> None:
    if value is None:  # null is "not set", never an error
        assert BrandConfig.of({key: value}) == BrandConfig()
        return
    with pytest.raises(ValidationError) as err:
        BrandConfig.of({key: value})
    assert err.value.field == key


def test_the_bre_reads_its_block_or_for_older_brands_the_top_level_names() -> None:
    block = {"min_bureau_score": 700, "max_dpd": 30}
    assert BrandConfig.of({"bre": block, "min_credit_score": 650}).bre_settings() == block
    legacy = BrandConfig.of({"min_credit_score": 680, "max_dpd": 10, "providers": {"kyc": {"api_key": "x"}}})
    assert "providers" not in legacy.bre_settings()
    config = bre.BreConfig.from_dict(legacy.bre_settings(), strict=False)
    assert (config.min_bureau_score, config.max_dpd) == (680, 10)
    # an unset minimum sets no BRE rule (the evaluation's default band still applies 650)
    assert bre.BreConfig.from_dict(BrandConfig.of({}).bre_settings(), strict=False).min_bureau_score is None


# ------------------------------------------------------------------ every saved configuration reads back
def _bounded(name: str) -> st.SearchStrategy[int]:
    meta = BrandConfigIn.model_fields[name].metadata
    low = next((m.ge for m in meta if isinstance(m, Ge)), 0)
    high = next((m.le for m in meta if isinstance(m, Le)), 10**6)
    return st.integers(min_value=int(low), max_value=int(high))  # type: ignore[call-overload]


_STEPS = ["AADHAAR", "MOBILE", "CKYC", "BANK_ACCOUNT", "EMPLOYMENT", "BANK_STATEMENT", "DIGILOCKER"]
_COMPONENTS = ["PENAL", "FEES", "INTEREST", "PRINCIPAL"]
_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    **{
        name: _bounded(name)
        for name, f in BrandConfigIn.model_fields.items()
        if f.annotation in ("int | None", int | None)
    },
    **{name: st.booleans() for name in ("mobile_pan_must_match", "aa_enabled", "cam_required")},
    **{
        name: st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=60)
        for name in ("lender_legal_name", "grievance_officer", "nodal_officer", "partner_name")
    },
    **{name: st.just("https://lender.example/policy") for name in ("recovery_policy_url", "logo_url")},
    "kyc_steps": st.lists(st.sampled_from(_STEPS), unique=True).map(lambda rest: ["PAN", *rest]),
    "evaluation_version": st.sampled_from([v.value for v in EngineVersion]),
    "prepayment_mode": st.sampled_from([m.value for m in PrepaymentMode]),
    "allocation_role": st.sampled_from(STAFF_ROLES),
    "customer_allocation_role": st.sampled_from(STAFF_ROLES),
    "bre": st.fixed_dictionaries(
        {}, optional={"minBureauScore": st.integers(300, 900), "maxDpd": st.integers(0, 999), "minAge": st.just(21)}
    ),
    "allocation": st.fixed_dictionaries(
        {}, optional={"overdueOrder": st.permutations(_COMPONENTS), "advanceToPrincipal": st.booleans()}
    ),
    "collections": st.fixed_dictionaries(
        {},
        optional={
            "writeOffDpd": st.integers(0, 3650),
            "settlementDays": st.integers(1, 180),
            "waiverLimits": st.fixed_dictionaries({"COLLECTION_MANAGER": st.integers(0, 10**9)}),
            "buckets": st.just(["0", "1-15", "16-60", "60+"]),
        },
    ),
    "reloan": st.fixed_dictionaries(
        {}, optional={"stepUpPercent": st.integers(0, 500), "enabled": st.booleans(), "maxDpd": st.integers(0, 90)}
    ),
    "ops_jobs": st.fixed_dictionaries(
        {}, optional={"inactivityDays": st.integers(1, 365), "reKycRisk": st.sampled_from(["LOW", "MEDIUM", "HIGH"])}
    ),
    "bureau_reporting": st.fixed_dictionaries(
        {"enabled": st.booleans()}, optional={"memberCode": st.just("NB12345678"), "accountType": st.just("05")}
    ),
    "brand_colour": st.sampled_from(["#1d4ed8", "#0F766E"]),
    "sme": st.fixed_dictionaries({}, optional={"ownBook": st.just({"advanceRateBps": 8000, "discountRateBps": 1400})}),
}


def test_the_strategy_covers_every_editable_key() -> None:
    assert set(_FIELDS) == set(BrandConfigIn.model_fields)


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({}, optional=_FIELDS))
def test_a_saved_configuration_reads_back_through_the_read_model(body: dict[str, Any]) -> None:
    # as the settings routes do: validate, dump the keys sent as JSON, merge over the stored config, store as JSONB
    sent = BrandConfigIn.model_validate(body)
    patch = sent.model_dump(mode="json", exclude_unset=True)
    stored = json.loads(json.dumps(merge({"providers": {}}, patch)))
    read = BrandConfig.of(stored).as_dict()
    for key, default in DEFAULTS.items():
        if patch.get(key) in (None, {}):  # not sent, or an empty block (merge drops it)
            assert read[key] == default, key
        elif isinstance(patch[key], dict):
            assert read[key] == {k: v for k, v in patch[key].items() if v is not None}, key
        else:
            assert read[key] == patch[key], key


def test_a_configuration_that_would_not_read_back_is_refused_and_still_shown() -> None:
    with pytest.raises(ValidationError) as err:  # refused before anything else is checked
        check_config(None, "brand", {"npa_days": "ninety"}, {})  # type: ignore[arg-type]
    assert err.value.field == "npaDays"
    view = effective_view({"npa_days": "ninety", "cam_required": True})
    assert view["npaDays"] == "ninety" and view["camRequired"] is True and view["allocationCap"] == 50


def test_scheduled_jobs_and_bureau_reporting_blocks_are_checked_when_saved() -> None:
    from pydantic import ValidationError as PydanticError

    with pytest.raises(PydanticError) as err:
        BrandConfigIn.model_validate({"opsJobs": {"inactivityDays": 0}})
    assert err.value.errors()[0]["loc"] == ("opsJobs",) and "inactivityDays" in str(err.value)
    with pytest.raises(PydanticError) as err:
        BrandConfigIn.model_validate({"bureauReporting": {"enabled": True, "accountType": "5"}})
    assert err.value.errors()[0]["loc"][:2] == ("bureauReporting", "accountType")
    saved = BrandConfigIn.model_validate({"bureauReporting": {"enabled": True, "memberCode": "NB12345678"}})
    stored = json.loads(json.dumps(saved.model_dump(mode="json", exclude_unset=True)))
    assert BrandConfig.of(stored).bureau_reporting == {"enabled": True, "member_code": "NB12345678"}
    assert BrandConfig.of({"ops_jobs": {"inactivityDays": 3}}).ops_jobs_policy().inactivity_days == 3
