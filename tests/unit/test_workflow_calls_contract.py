"""Every update, signal and query the API sends exists on ``LoanWorkflow`` with the argument type the API sends.

The API names them by method reference (``LoanWorkflow.forward``); this reads the API's code for each reference,
works out what is sent with it (the argument's class where the call is made, or the ``StaffUpdate``-style alias
of the helper's parameter), and checks it against the workflow's own definition. Webhooks: each adapter's
``InboundEvent`` names a ``LoanSignal`` and builds its argument; ``api.webhooks.intake.SIGNALS`` maps every
``LoanSignal`` to a signal taking that argument. A renamed or retyped handler fails here, not in production.
"""

from __future__ import annotations

import ast
import importlib
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow

from activities.providers.webhooks import LoanSignal
from api.webhooks import intake
from workflows.loan import LoanWorkflow

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = workflow._Definition.must_from_class(LoanWorkflow)
HANDLE_CALLS = {"signal", "query", "start_update", "execute_update", "execute_update_with_start"}
# api.workflow_calls helpers: (client, id, method, arg)
HELPERS = {"staff_update", "customer_update", "bounded_update", "loan_query"}


def _kind_of(fn: Any) -> tuple[str, Any]:
    """("update" | "signal" | "query", its definition) for a handler method of ``LoanWorkflow``."""
    for kind, table in (("update", DEFINITION.updates), ("signal", DEFINITION.signals), ("query", DEFINITION.queries)):
        for defn in table.values():
            if defn.fn is fn:
                return kind, defn
    raise AssertionError(f"{fn!r} is not an update, signal or query of LoanWorkflow")


def _modules(*packages: str) -> Iterator[tuple[str, ast.Module]]:
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            yield module.removesuffix(".__init__"), ast.parse(path.read_text(), str(path))


def _functions(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _workflow_ref(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "LoanWorkflow":
        return node.attr
    return None


def _calls(tree: ast.AST) -> list[ast.Call]:
    """Every call under ``tree``; ``call_async(fn, *args, **kw)`` (api.deps: a coroutine run from a route's
    thread) is read as the call ``fn(*args, **kw)`` it makes."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name) and node.func.id == "call_async" and node.args:
            node = ast.Call(func=node.args[0], args=node.args[1:], keywords=node.keywords, lineno=node.lineno)
        found.append(node)
    return found


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _class_of(expr: ast.AST, scope: ast.FunctionDef | ast.AsyncFunctionDef, module: Any) -> type | None:
    """The class of the value ``expr`` stands for: ``Cls(...)``, or a local assigned ``Cls(...)``, or a parameter
    annotated ``Cls``."""
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
        found = getattr(module, expr.func.id, None)
        return found if isinstance(found, type) else None
    if isinstance(expr, ast.Name):
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == expr.id for t in node.targets):
                return _class_of(node.value, scope, module)
        for arg in scope.args.args + scope.args.kwonlyargs:
            if arg.arg == expr.id and arg.annotation is not None:
                found = getattr(module, ast.unparse(arg.annotation), None)
                return found if isinstance(found, type) else None
    return None


def _declared_arg(helper: Any, position: int, keyword: str | None) -> type | None:
    """The argument type a helper's parameter alias declares (``Callable[[LoanWorkflow, StaffAction], ...]``),
    None when it declares none (``Any``)."""
    if not callable(helper):
        return None
    hints = typing.get_type_hints(helper)
    names = [n for n in helper.__code__.co_varnames[: helper.__code__.co_argcount]]
    name = keyword if keyword is not None else names[position] if position < len(names) else None
    alias = hints.get(name or "")
    params = typing.get_args(alias)[0] if typing.get_origin(alias) is not None and typing.get_args(alias) else None
    if isinstance(params, list) and len(params) == 2 and params[1] is not Any:
        return params[1]
    return None


@dataclass(frozen=True)
class Use:
    where: str
    method: str
    sent: type | None  # the argument's class (None: no argument, e.g. a query)


def _api_uses() -> list[Use]:
    uses: list[Use] = []
    for name, tree in _modules("api"):
        module = importlib.import_module(name)
        for scope in _functions(tree):
            for call in _calls(scope):
                positional = [(i, None, a) for i, a in enumerate(call.args)]
                keywords = [(None, k.arg, k.value) for k in call.keywords]
                for position, keyword, arg in positional + keywords:
                    method = _workflow_ref(arg)
                    if method is None or method == "run":
                        continue
                    where = f"{name}:{call.lineno} {_callee(call)}(... LoanWorkflow.{method} ...)"
                    sent = None
                    if _callee(call) not in HANDLE_CALLS:
                        sent = _declared_arg(getattr(module, _callee(call), None), position or 0, keyword)
                    if sent is None and position is not None and position + 1 < len(call.args):
                        sent = _class_of(call.args[position + 1], scope, module)
                        assert sent is not None, f"{where}: cannot tell what is sent with it"
                    uses.append(Use(where, method, sent))
    return uses


USES = _api_uses()


def test_the_api_names_its_calls_by_method_reference() -> None:
    strings = []
    for name, tree in _modules("api"):
        for call in _calls(tree):
            position = 0 if _callee(call) in HANDLE_CALLS else 2 if _callee(call) in HELPERS else None
            if position is not None and len(call.args) > position:
                sent = call.args[position]
                if isinstance(sent, ast.Constant) and isinstance(sent.value, str):
                    strings.append(f"{name}:{call.lineno} {ast.unparse(call)}")
    assert strings == []
    methods = {u.method for u in USES}
    # the calls this API is known to make: a new one is checked too, a lost one is noticed
    assert {"forward", "approve", "send_back", "reject", "sanction", "approve_disbursal"} <= methods
    assert {"aadhaar_initiate", "aadhaar_submit", "kyc_input", "kyc_status"} <= methods


@pytest.mark.parametrize("use", USES, ids=[u.where for u in USES])
def test_each_call_matches_the_workflow(use: Use) -> None:
    kind, defn = _kind_of(getattr(LoanWorkflow, use.method))
    if kind == "query":
        assert defn.arg_types == ([use.sent] if use.sent is not None else []), use.where
        return
    assert defn.arg_types == [use.sent], f"{use.where}: sends {use.sent}, the {kind} takes {defn.arg_types}"


def _adapter_signals() -> list[tuple[str, str, type]]:
    """(where, LoanSignal member name, argument class) for every ``InboundEvent(...)`` that names a signal."""
    found = []
    for name, tree in _modules("activities/providers", "api/webhooks"):
        module = importlib.import_module(name)
        for scope in _functions(tree):
            for call in ast.walk(scope):
                if not (isinstance(call, ast.Call) and _callee(call) == "InboundEvent" and len(call.args) >= 5):
                    continue
                signal, arg = call.args[3], call.args[4]
                signal = signal.body if isinstance(signal, ast.IfExp) else signal
                arg = arg.body if isinstance(arg, ast.IfExp) else arg
                if isinstance(signal, ast.Constant) and signal.value is None:
                    continue
                assert isinstance(signal, ast.Attribute), f"{name}:{call.lineno}: name the signal as LoanSignal.X"
                cls = _class_of(arg, scope, module)
                assert cls is not None, f"{name}:{call.lineno}: cannot tell what the signal carries"
                found.append((f"{name}:{call.lineno}", signal.attr, cls))
    return found


def test_every_webhook_signal_maps_to_a_workflow_signal_taking_what_the_adapter_sends() -> None:
    assert set(intake.SIGNALS) == set(LoanSignal)
    for member, method in intake.SIGNALS.items():
        kind, defn = _kind_of(method)
        assert kind == "signal" and defn.name == member.value, (member, defn.name)
    sent = _adapter_signals()
    assert {member for _, member, _ in sent} == {m.name for m in LoanSignal}
    for where, member, cls in sent:
        _, defn = _kind_of(intake.SIGNALS[LoanSignal[member]])
        assert defn.arg_types == [cls], f"{where}: sends {cls.__name__}, {defn.name} takes {defn.arg_types}"
