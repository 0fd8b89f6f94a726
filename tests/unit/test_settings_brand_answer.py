"""The answer of GET/PUT /settings/brand: typed from the brand configuration's own models, and on the wire exactly
the view ``api.brand_config.brand_view`` builds (a stored value the models do not describe shown as stored)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from api.brand_config import NEW_BRAND_CONFIG, BrandConfigIn, effective_view
from api.partner.settings.brand import BrandSettings, ConfigEffective, ConfigSet, _answer


def _brand(config: dict[str, Any]) -> Any:
    return SimpleNamespace(id="b1", code="demo", name="Demo", is_active=True, config=config)


def _wire(answer: Any) -> Any:
    """What a client receives: the route's JSON through the response model, or a response passed as is."""
    if isinstance(answer, JSONResponse):
        return json.loads(answer.body)
    return json.loads(BrandSettings.model_validate(answer).model_dump_json(by_alias=True, exclude_unset=True))


def test_the_models_name_every_key_of_the_views() -> None:
    keys = {field.alias for field in ConfigEffective.model_fields.values()}
    assert keys == set(effective_view({}))
    assert {field.alias for field in ConfigSet.model_fields.values()} == {
        field.alias or name for name, field in BrandConfigIn.model_fields.items()
    }


@pytest.mark.parametrize(
    "config",
    [
        {},
        NEW_BRAND_CONFIG,
        {
            "bre": {"min_bureau_score": 700, "max_enquiries_30d": 3, "salary_threshold": 2_500_000},
            "allocation": {"overdue_order": ["FEES", "PENAL", "INTEREST", "PRINCIPAL"], "processing": "HORIZONTAL"},
            "evaluation_version": "V2",
            "customer_allocation_cap": 10,
            "providers": {"kyc": [{"vendor": "digitap", "base_url": "http://sandbox", "api_key": "secret"}]},
        },
    ],
)
def test_a_saved_configuration_goes_through_the_model_unchanged(config: dict[str, Any]) -> None:
    answer = _answer(_brand(config))
    assert not isinstance(answer, JSONResponse)
    assert _wire(answer) == jsonable_encoder(answer)


@pytest.mark.parametrize(
    ("config", "key", "shown"),
    [
        ({"npa_days": "ninety", "cam_required": True}, "npaDays", "ninety"),  # the code cannot read it
        ({"npa_days": "100"}, "npaDays", "100"),  # readable, but text: the model would make it a number
        ({"bre": {"unknown_rule": 1}}, "bre", {"unknown_rule": 1}),
    ],
)
def test_a_stored_value_the_models_do_not_describe_is_shown_as_stored(
    config: dict[str, Any], key: str, shown: Any
) -> None:
    answer = _answer(_brand(config))
    assert isinstance(answer, JSONResponse)
    wire = _wire(answer)
    assert wire["config"][key] == shown
    assert wire["effective"]["allocationCap"] == 50  # the other keys as the code reads them
