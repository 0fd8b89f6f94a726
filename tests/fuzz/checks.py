"""The configuration and the checks of every fuzz run (the schema runs and the stateful run alike)."""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.fuzz.target import FuzzTarget

EXAMPLES = int(os.environ.get("LOS_FUZZ_EXAMPLES", "3"))
SEED = int(os.environ.get("LOS_FUZZ_SEED", "20250101"))


def no_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """``not_a_server_error``, except a 503 the operation documents (a dependency reported down)."""
    if response.status_code == 503 and "503" in case.operation.definition.raw.get("responses", {}):
        return None
    return not_a_server_error(ctx, response, case)


CHECKS = [no_server_error, status_code_conformance, response_schema_conformance]


def fuzz_config(
    fuzz: FuzzTarget,
    *,
    fill_ids: bool,
    vendor: str | None = None,
    coverage: bool = True,
    brand_only: bool = False,
    stateful: bool = False,
) -> schemathesis.Config:
    """The runs' configuration: seeded and derandomized, the target's URL, the seeded brand's ids when
    ``fill_ids`` (and a configured webhook ``vendor``), the coverage phase unless ``coverage`` is False;
    ``brand_only``: the brand's id and code alone (the stateful run takes loan ids from the answers); ``stateful``
    for the run along the links."""
    parameters: dict[str, Any] = {}
    if brand_only:
        parameters = {"path.brand_id": fuzz.brand_id, "query.brand": fuzz.brand_code}
    if fill_ids:  # the seeded brand's real ids, so the fuzzer gets past the brand check and "not found"
        parameters = {
            "path.brand_id": fuzz.brand_id,
            "query.brand": fuzz.brand_code,
            "path.product_code": "DEMO-FAST",
            "path.loan_id": fuzz.loan_id,
            "path.customer_id": fuzz.customer_id,
        }
    if vendor:  # a configured webhook vendor: unsigned bodies reach the signature check
        parameters["path.vendor"] = vendor
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "base-url": fuzz.url,
            "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large", "large_base_example"],
            "request-timeout": 60,
            "parameters": parameters,
            "generation": {"max-examples": EXAMPLES, "database": "none", "deterministic": True, "no-shrink": True},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": coverage},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": stateful},
            },
        }
    )
