"""The whole API under a fuzzer (schemathesis), four times: with no credentials, as a customer, as a brand
admin and with a brand API key.

Each run walks every operation of the running app's own OpenAPI document over real HTTP — real PostgreSQL
(a database of its own, so what the fuzzer creates, changes or throttles stays here), the Temporal dev
server with a worker, the provider sandbox — and checks every answer: no server error (a 503 only where
the operation documents one), every status declared by the operation, every body matching the schema
declared for its status. Generation is seeded, so a run asks the same questions every time.

Budget (see docs/api-errors.md): ``LOS_FUZZ_EXAMPLES`` generated cases per operation and phase (default 3),
and ``LOS_FUZZ_BUDGET_SECONDS`` for the four runs together (default 420): once it is spent every remaining
operation fails at once, naming the budget, rather than letting CI run on. ``LOS_FUZZ_SEED`` changes the
questions asked; ``LOS_FUZZ_REPORT=<file>`` writes how each operation answered each credential.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.fuzz.target import FuzzTarget, start_target

EXAMPLES = int(os.environ.get("LOS_FUZZ_EXAMPLES", "3"))
BUDGET_SECONDS = float(os.environ.get("LOS_FUZZ_BUDGET_SECONDS", "420"))
SEED = int(os.environ.get("LOS_FUZZ_SEED", "20250101"))

_started: list[float] = []


@pytest.fixture(scope="module")
def fuzz_target(dev_env, pg_server_url, sandbox, storage_dir) -> Iterator[FuzzTarget]:  # noqa: ANN001
    """API + worker over a database of their own, a seeded brand, and a credential of every kind."""
    target = dev_env.client.service_client.config.target_host
    with start_target(pg_server_url, target, sandbox.url, storage_dir) as fuzz:
        yield fuzz
        report = os.environ.get("LOS_FUZZ_REPORT")
        if report:  # every (credential, operation, status) and how often, for reading what the runs reached
            rows = sorted(f"{who}\t{op}\t{status}\t{n}" for (who, op, status), n in fuzz.answers.items())
            Path(report).write_text("\n".join(rows) + "\n")


def _config(fuzz: FuzzTarget, *, fill_ids: bool, vendor: str | None = None) -> schemathesis.Config:
    parameters: dict[str, Any] = {}
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
            "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large", "large_base_example"],
            "request-timeout": 60,
            "parameters": parameters,
            "generation": {"max-examples": EXAMPLES, "database": "none", "deterministic": True, "no-shrink": True},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
        }
    )


@pytest.fixture
def anonymous_schema(fuzz_target: FuzzTarget) -> Any:
    return schemathesis.openapi.from_url(fuzz_target.schema_url, config=_config(fuzz_target, fill_ids=False))


@pytest.fixture
def customer_schema(fuzz_target: FuzzTarget) -> Any:
    config = _config(fuzz_target, fill_ids=True, vendor="razorpay")
    return schemathesis.openapi.from_url(fuzz_target.schema_url, config=config)


@pytest.fixture
def staff_schema(fuzz_target: FuzzTarget) -> Any:
    config = _config(fuzz_target, fill_ids=True, vendor="signzy")
    return schemathesis.openapi.from_url(fuzz_target.schema_url, config=config)


@pytest.fixture
def api_key_schema(fuzz_target: FuzzTarget) -> Any:
    config = _config(fuzz_target, fill_ids=True, vendor="idfc")
    return schemathesis.openapi.from_url(fuzz_target.schema_url, config=config)


def no_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """``not_a_server_error``, except a 503 the operation documents (a dependency reported down)."""
    if response.status_code == 503 and "503" in case.operation.definition.raw.get("responses", {}):
        return None
    return not_a_server_error(ctx, response, case)


CHECKS = [no_server_error, status_code_conformance, response_schema_conformance]


def _fuzz(case: Any, fuzz: FuzzTarget, who: str) -> None:
    if not _started:
        _started.append(time.monotonic())
    spent = time.monotonic() - _started[0]
    if spent > BUDGET_SECONDS:
        pytest.fail(
            f"the fuzz budget of {BUDGET_SECONDS:.0f}s (LOS_FUZZ_BUDGET_SECONDS) is spent after {spent:.0f}s; "
            f"lower LOS_FUZZ_EXAMPLES or find what got slow"
        )
    headers = fuzz.headers(who)
    response = case.call(headers=headers)
    fuzz.after(who, case, response)
    case.validate_response(response, checks=CHECKS, headers=headers)


anonymous = schemathesis.pytest.from_fixture("anonymous_schema")
as_customer = schemathesis.pytest.from_fixture("customer_schema")
as_staff = schemathesis.pytest.from_fixture("staff_schema")
with_api_key = schemathesis.pytest.from_fixture("api_key_schema")


@anonymous.parametrize()
def test_fuzz_without_credentials(case: Any, fuzz_target: FuzzTarget) -> None:
    _fuzz(case, fuzz_target, "anonymous")


@as_customer.parametrize()
def test_fuzz_as_customer(case: Any, fuzz_target: FuzzTarget) -> None:
    _fuzz(case, fuzz_target, "customer")


@with_api_key.parametrize()
def test_fuzz_with_brand_api_key(case: Any, fuzz_target: FuzzTarget) -> None:
    _fuzz(case, fuzz_target, "api_key")


@as_staff.parametrize()
def test_fuzz_as_brand_admin(case: Any, fuzz_target: FuzzTarget) -> None:
    _fuzz(case, fuzz_target, "staff")


def test_fuzz_runs_got_past_authentication(fuzz_target: FuzzTarget) -> None:
    """Each credential opened the routes it is for: otherwise a run would only have fuzzed the 401 path."""
    ran = {who for who, _, _ in fuzz_target.answers}
    if not ran:
        pytest.skip("no fuzz run in this session (select the runs too)")
    opened = {
        "customer": "/api/v1/web/loans",
        "staff": "/api/v1/partner/brand/{brand_id}/settings/brand",
        "api_key": "/api/v1/partner/brand/{brand_id}/loans",
    }
    for who, path in opened.items():
        if who in ran:
            ok = sum(
                n
                for (w, op, status), n in fuzz_target.answers.items()
                if w == who and op == f"GET {path}" and status == 200
            )
            assert ok, f"{who}: no 200 from GET {path}: {_summary(fuzz_target, who)}"
    if "anonymous" in ran:
        guarded = [
            n
            for (w, op, status), n in fuzz_target.answers.items()
            if w == "anonymous" and "/partner/brand/" in op and status < 300
        ]
        assert not guarded, "a staff route answered 2xx without credentials"


def _summary(fuzz: FuzzTarget, who: str) -> str:
    statuses: dict[int, int] = {}
    for (w, _, status), n in fuzz.answers.items():
        if w == who:
            statuses[status] = statuses.get(status, 0) + n
    return ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
