"""The fuzzer's stateful mode: sequences of calls along the links between operations, each answer feeding the
next request, over the main resource chains of the API:

- the borrower: register → verify the OTP → apply → the loan (and the loan list → a loan);
- staff: who am I (the signed-in staff member and their brand) → the brand's loans → a loan → its comments (read
  and add). The staff member signed in for real (the fuzzer's own sign-in bodies never name a staff account, so
  a link from the sign-in would lead nowhere): each step carries that sign-in's token.

The links are declared here, on the app's own document (``LINKS``: the operation, the answer, the operation it
leads to and which values it carries); schemathesis also infers links of its own between the same operations.
Each step is sent with the credential its route is for (the run's customer on ``/web/``, the brand admin on
``/partner/``) and checked like every fuzzed answer (``tests.fuzz.checks``). The run is bounded by
``LOS_FUZZ_STATEFUL_EXAMPLES`` scenarios (default 20) of at most ``LOS_FUZZ_STATEFUL_STEPS`` calls (default 6),
and by what is left of the fuzz budget.
"""

from __future__ import annotations

import copy
import os
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase

from tests.fuzz import budget
from tests.fuzz.checks import CHECKS, fuzz_config
from tests.fuzz.target import FuzzTarget

SCENARIOS = int(os.environ.get("LOS_FUZZ_STATEFUL_EXAMPLES", "20"))
STEPS = int(os.environ.get("LOS_FUZZ_STATEFUL_STEPS", "6"))
WEB, PARTNER = "/api/v1/web", "/api/v1/partner"
BRAND_LOAN = f"{PARTNER}/brand/{{brand_id}}/loans/{{loan_id}}"
SAME_LOAN = {"path.brand_id": "$request.path.brand_id", "path.loan_id": "$request.path.loan_id"}

#: (path, method, status) → {link name: (target path, method, parameters, request body)}
LINKS: dict[tuple[str, str, str], dict[str, tuple[str, str, dict[str, str], dict[str, Any] | None]]] = {
    (f"{WEB}/auth/register", "post", "201"): {
        "VerifyOtp": (
            f"{WEB}/auth/verify-otp",
            "post",
            {},
            {"phoneNumber": "$request.body#/phoneNumber", "brand": "$request.body#/brand", "otp": "000000"},
        ),
    },
    (f"{WEB}/auth/verify-otp", "post", "200"): {"MyLoans": (f"{WEB}/loans", "get", {}, None)},
    (f"{WEB}/loans", "post", "201"): {
        "TheLoan": (f"{WEB}/loans/{{loan_id}}", "get", {"path.loan_id": "$response.body#/id"}, None),
    },
    (f"{WEB}/loans", "get", "200"): {
        "FirstLoan": (f"{WEB}/loans/{{loan_id}}", "get", {"path.loan_id": "$response.body#/0/id"}, None),
    },
    (f"{PARTNER}/auth/me", "get", "200"): {
        "BrandLoans": (
            f"{PARTNER}/brand/{{brand_id}}/loans",
            "get",
            {"path.brand_id": "$response.body#/brandId"},
            None,
        ),
    },
    (f"{PARTNER}/brand/{{brand_id}}/loans", "get", "200"): {
        "FirstLoan": (
            BRAND_LOAN,
            "get",
            {"path.brand_id": "$request.path.brand_id", "path.loan_id": "$response.body#/items/0/id"},
            None,
        ),
    },
    (BRAND_LOAN, "get", "200"): {
        "Comments": (f"{BRAND_LOAN}/comments", "get", SAME_LOAN, None),
        "AddComment": (f"{BRAND_LOAN}/comments", "post", SAME_LOAN, None),
    },
}
CHAIN = sorted({path for path, _, _ in LINKS} | {t[0] for links in LINKS.values() for t in links.values()})


def linked(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` with :data:`LINKS` on the answers they start from (by the target's operationId)."""
    doc = copy.deepcopy(document)
    for (path, method, status), links in LINKS.items():
        answer = doc["paths"][path][method]["responses"][status]
        answer["links"] = {}
        for name, (target, target_method, parameters, body) in links.items():
            link: dict[str, Any] = {"operationId": doc["paths"][target][target_method]["operationId"]}
            if parameters:
                link["parameters"] = parameters
            if body is not None:
                link["requestBody"] = body
            answer["links"][name] = link
    return doc


def test_fuzz_stateful_chains(fuzz_target: FuzzTarget) -> None:
    """Random walks along the chains' links; every answer passes the checks, and the walks did follow links."""
    left = budget.left()
    budget.check()
    config = fuzz_config(fuzz_target, fill_ids=False, brand_only=True, coverage=False, stateful=True)
    schema = schemathesis.openapi.from_dict(linked(fuzz_target.document()), config=config)
    schema = schema.include(path_regex="^(" + "|".join(p.replace("{", r"\{").replace("}", r"\}") for p in CHAIN) + ")$")
    followed: list[str] = []

    class Chains(schema.as_state_machine()):  # type: ignore[misc]
        """Each step with its route's credential, counted, and checked like every fuzzed answer."""

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            who = "customer" if case.path.startswith(WEB) else "staff"
            return {"headers": fuzz_target.headers(who)}

        def after_call(self, response: Any, case: Any) -> None:
            fuzz_target.after("stateful", case, response)
            followed.append(case.path)

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS, headers=kwargs.get("headers"))

    if left < 30:
        pytest.fail(f"the fuzz budget leaves {left:.0f}s for the stateful run (LOS_FUZZ_BUDGET_SECONDS)")
    settings = hypothesis.settings(
        max_examples=SCENARIOS,
        stateful_step_count=STEPS,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    Chains.run(settings=settings)
    assert followed, "the stateful run made no call"
    # neither is a root of the walks: a 200 from either was reached by following a link with a real id
    reached = {(op, status) for (who, op, status) in fuzz_target.answers if who == "stateful" and status < 300}
    for op in (f"GET {WEB}/loans/{{loan_id}}", f"GET {PARTNER}/brand/{{brand_id}}/loans"):
        assert (op, 200) in reached, f"no link led to {op}: {sorted(reached)}"
