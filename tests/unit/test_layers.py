"""The layers' one-way dependencies (docs/architecture.md, "Layers"), read from every import statement.

- ``domain/`` is pure: the standard library and itself.
- ``db/`` knows models, SQL and domain types; nothing above it.
- ``workflows/`` orchestrate: no database, no HTTP app, no process wiring.
- ``activities/`` never reach into the API.
- ``api/`` reaches activities only through the adapter layer (``activities.providers``: vendors, their webhooks)
  and document storage (``activities.storage``); SQL both share lives in ``db/``.
- only ``los/`` (the process that runs the app) imports ``api/``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("api", "activities", "workflows", "domain", "db", "los", "sandbox")
# activities.documents: the customer's KFS printed on request (api/web/kfs.py) by the same renderer as the agreement
# activities.messaging: the templates settings check a template as the sender renders it, and delivery reports
# update the message log the sender writes
API_MAY_USE = ("activities.providers", "activities.storage", "activities.documents", "activities.messaging")


def _imports(package: str) -> list[tuple[str, str]]:
    """(file, imported module) for every absolute import in ``package`` (migrations excluded)."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
                found.append((str(path.relative_to(ROOT)), names[0] if len(names) == 1 else _pick(names)))
            elif isinstance(node, ast.Import):
                found += [(str(path.relative_to(ROOT)), alias.name) for alias in node.names]
    return found


def _pick(names: list[str]) -> str:
    """``from activities import providers`` imports ``activities.providers``: judge the module it names."""
    module, members = names[0], names[1:]
    return members[0] if module in LAYERS and len(members) == 1 else module


def _top(module: str) -> str:
    return module.split(".")[0]


def _breaking(package: str, allowed) -> list[str]:  # noqa: ANN001
    return [f"{file}: {module}" for file, module in _imports(package) if not allowed(module)]


def test_domain_is_pure() -> None:
    std = sys.stdlib_module_names
    assert _breaking("domain", lambda m: _top(m) in std or _top(m) in ("domain", "__future__")) == []


def test_db_depends_on_domain_only() -> None:
    assert _breaking("db", lambda m: _top(m) not in LAYERS or _top(m) in ("db", "domain")) == []


def test_workflows_do_not_touch_the_database_or_the_api() -> None:
    assert _breaking("workflows", lambda m: _top(m) not in ("api", "db", "los", "sandbox")) == []


def test_activities_do_not_reach_into_the_api() -> None:
    assert _breaking("activities", lambda m: _top(m) != "api") == []


def test_api_uses_activities_only_through_adapters_and_storage() -> None:
    allowed = lambda m: _top(m) != "activities" or m.startswith(API_MAY_USE)  # noqa: E731
    assert _breaking("api", allowed) == []


def test_only_the_process_layer_imports_the_api() -> None:
    for package in ("activities", "workflows", "domain", "db", "sandbox"):
        assert _breaking(package, lambda m: _top(m) != "api") == [], package


def test_the_workflow_registers_every_contracts_module_in_its_sandbox() -> None:
    """Pydantic resolves a dataclass's annotations through ``sys.modules[cls.__module__]``; in the workflow
    sandbox only modules imported by name are there. A contracts module the workflow does not import by name
    makes every workflow task fail with "Failed decoding arguments"."""
    import dataclasses

    import workflows.contracts as contracts

    modules = {
        getattr(contracts, name).__module__
        for name in contracts.__all__
        if dataclasses.is_dataclass(getattr(contracts, name))
    }
    # and every contracts module of the loan's phases (the phase modules are passed through in production: an
    # import there does not register the module inside the sandbox; only the workflow's own module does)
    modules |= {
        f"workflows.contracts.{path.stem}"
        for path in (ROOT / "workflows" / "contracts").glob("*.py")
        if path.stem not in ("__init__", "sme")  # sme: the invoice-financing workflow's own, imported there
    }
    source = (ROOT / "workflows" / "loan.py").read_text()
    assert modules and all(f"import {module}" in source for module in modules), modules
    assert "import workflows.contracts.sme" in (ROOT / "workflows" / "invoice_financing.py").read_text()
