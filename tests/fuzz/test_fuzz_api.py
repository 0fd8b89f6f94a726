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

from typing import Any

import pytest
import schemathesis

from tests.fuzz import budget
from tests.fuzz.checks import CHECKS, fuzz_config
from tests.fuzz.target import FuzzTarget


def _schema(fuzz: FuzzTarget, config: schemathesis.Config) -> Any:
    """The app's document (read once by the target) under ``config``."""
    return schemathesis.openapi.from_dict(fuzz.document(), config=config)


@pytest.fixture
def anonymous_schema(fuzz_target: FuzzTarget) -> Any:
    return _schema(fuzz_target, fuzz_config(fuzz_target, fill_ids=False))


@pytest.fixture
def customer_schema(fuzz_target: FuzzTarget) -> Any:
    return _schema(fuzz_target, fuzz_config(fuzz_target, fill_ids=True, vendor="razorpay"))


@pytest.fixture
def staff_schema(fuzz_target: FuzzTarget) -> Any:
    return _schema(fuzz_target, fuzz_config(fuzz_target, fill_ids=True, vendor="signzy"))


@pytest.fixture
def api_key_schema(fuzz_target: FuzzTarget) -> Any:
    return _schema(fuzz_target, fuzz_config(fuzz_target, fill_ids=True, vendor="idfc"))


#: the staff routes (the brand's and the platform's): what a role's token changes the answer of
STAFF_PATHS = r"^/api/v1/(partner|admin)/"


@pytest.fixture
def staff_routes_schema(fuzz_target: FuzzTarget) -> Any:
    """The staff routes only, without the coverage phase: a role run asks each of them what the role may do there
    (the brand admin's run covers the boundary values of the same operations)."""
    return _schema(fuzz_target, fuzz_config(fuzz_target, fill_ids=True, coverage=False))


def _fuzz(case: Any, fuzz: FuzzTarget, who: str) -> None:
    budget.check()
    headers = fuzz.headers(who)
    response = case.call(headers=headers)
    fuzz.after(who, case, response)
    case.validate_response(response, checks=CHECKS, headers=headers)


anonymous = schemathesis.pytest.from_fixture("anonymous_schema")
as_customer = schemathesis.pytest.from_fixture("customer_schema")
as_staff = schemathesis.pytest.from_fixture("staff_schema")
with_api_key = schemathesis.pytest.from_fixture("api_key_schema")
staff_routes = schemathesis.pytest.from_fixture("staff_routes_schema").include(path_regex=STAFF_PATHS)


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


@staff_routes.parametrize()
def test_fuzz_staff_routes_as_credit_executive(case: Any, fuzz_target: FuzzTarget) -> None:
    _fuzz(case, fuzz_target, "credit_executive")


@staff_routes.parametrize()
def test_fuzz_staff_routes_as_collection_executive(case: Any, fuzz_target: FuzzTarget) -> None:
    _fuzz(case, fuzz_target, "collection_executive")


@staff_routes.parametrize()
def test_fuzz_staff_routes_as_super_admin(case: Any, fuzz_target: FuzzTarget) -> None:
    _fuzz(case, fuzz_target, "super_admin")


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
    for role, (allowed, refused) in ROLE_PATHS.items():
        if role in ran:
            answers = {(op, status) for (w, op, status), _ in fuzz_target.answers.items() if w == role}
            summary = _summary(fuzz_target, role)
            assert (f"GET {allowed}", 200) in answers, f"{role}: no 200 from GET {allowed}: {summary}"
            assert refused is None or (f"GET {refused}", 403) in answers, f"{role}: no 403 from {refused}: {summary}"
    if "anonymous" in ran:
        guarded = [
            n
            for (w, op, status), n in fuzz_target.answers.items()
            if w == "anonymous" and "/partner/brand/" in op and status < 300
        ]
        assert not guarded, "a staff route answered 2xx without credentials"


#: for each role run: a route the role reads (200) and, but for the super admin, one it may not (403), so a run
#: proves it ran as that role
LOANS, BRANDS, SETTINGS = (
    "/api/v1/partner/brand/{brand_id}/loans",
    "/api/v1/admin/brands",
    "/api/v1/partner/brand/{brand_id}/settings/brand",
)
ROLE_PATHS: dict[str, tuple[str, str | None]] = {
    "credit_executive": (LOANS, SETTINGS),
    "collection_executive": (LOANS, BRANDS),
    "super_admin": (BRANDS, None),
}


def _summary(fuzz: FuzzTarget, who: str) -> str:
    statuses: dict[int, int] = {}
    for (w, _, status), n in fuzz.answers.items():
        if w == who:
            statuses[status] = statuses.get(status, 0) + n
    return ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
