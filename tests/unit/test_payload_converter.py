"""The project's payload converter (``los.temporal.PayloadConverter``): the contrib pydantic converter's wire
format, with type adapters shared by every converter of the process (the SDK makes one per workflow instance)."""

from __future__ import annotations

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import WorkflowSerializationContext

from los.temporal import _TYPE_ADAPTERS, PayloadConverter
from tests.workflows.stubs import loan_input
from workflows.contracts import LoanWorkflowInput


def test_same_payloads_as_the_contrib_converter() -> None:
    value = loan_input()
    ours = PayloadConverter().to_payloads([value])
    theirs = pydantic_data_converter.payload_converter.to_payloads([value])
    assert ours == theirs
    (back,) = PayloadConverter().from_payloads(theirs, [LoanWorkflowInput])
    assert back == value


def test_a_new_converter_reuses_the_type_adapters_already_built() -> None:
    payloads = PayloadConverter().to_payloads([loan_input()])
    PayloadConverter().from_payloads(payloads, [LoanWorkflowInput])  # built (or found) once
    before = _TYPE_ADAPTERS.cache_info()
    for _ in range(3):  # as three workflow instances would, each with its own converter
        PayloadConverter().from_payloads(payloads, [LoanWorkflowInput])
    after = _TYPE_ADAPTERS.cache_info()
    assert after.misses == before.misses and after.hits == before.hits + 3


def test_every_converter_shares_one_set_of_encoding_converters() -> None:
    """The SDK builds a payload converter per workflow activation: each is built from the same encoding converters
    (made once per process), and a serialization context hands back the same converter (none of them takes one)."""
    first, second = PayloadConverter(), PayloadConverter()
    encodings = [b"binary/null", b"binary/plain", b"json/protobuf", b"binary/protobuf", b"json/plain"]
    assert list(first.converters) == encodings
    assert all(a is b for a, b in zip(first.converters.values(), second.converters.values(), strict=True))
    context = WorkflowSerializationContext(namespace="default", workflow_id="loan-1")
    assert first.with_context(context) is first
