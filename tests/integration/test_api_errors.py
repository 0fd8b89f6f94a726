"""The error envelope: an unexpected exception is a logged 500 in the envelope on a connection that stays
open, and the OpenAPI document declares each operation's error statuses with the envelope's schema."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import pytest

from api.app import create_app
from los.settings import Settings
from tests.conftest import ThreadedServer

ENVELOPE_REF = "#/components/schemas/ErrorEnvelope"


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response read off ``sock`` (Content-Length framed, as the JSON answers are)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed mid-response: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    while len(body) < int(headers["content-length"]):
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed mid-body")
        body += chunk
    return int(status_line.split()[1]), headers, body


def _get(sock: socket.socket, path: str) -> tuple[int, dict[str, str], bytes]:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\nAccept: application/json\r\n\r\n".encode())
    return _read_response(sock)


def test_unexpected_exception_is_a_logged_500_envelope_on_an_open_connection(
    database_url: str, storage_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(Settings(database_url=database_url, storage_dir=storage_dir))

    @app.get("/test-only/async-failure")
    async def async_failure() -> dict:
        raise RuntimeError("async route broke")

    @app.get("/test-only/sync-failure")
    def sync_failure() -> dict:
        return {"value": {}["missing"]}

    @app.get("/test-only/fine")
    def fine() -> dict:
        return {"ok": True}

    caplog.set_level(logging.ERROR, logger="api.errors")
    with ThreadedServer(app) as server, socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        for path, exc_type in (("/test-only/async-failure", RuntimeError), ("/test-only/sync-failure", KeyError)):
            status, headers, body = _get(sock, path)
            assert status == 500, body
            assert headers["content-type"] == "application/json"
            assert headers.get("connection", "").lower() != "close"
            payload = json.loads(body)
            assert set(payload) == {"statusCode", "message", "error", "timestamp", "path"}
            assert (payload["statusCode"], payload["error"], payload["path"]) == (500, "Internal Server Error", path)
            assert "broke" not in payload["message"] and "missing" not in payload["message"]  # no internals out
            logged = [r for r in caplog.records if r.name == "api.errors" and path in r.getMessage()]
            assert len(logged) == 1 and logged[0].exc_info and logged[0].exc_info[0] is exc_type
        # the same connection answers the next request: it was not reset
        status, _, body = _get(sock, "/test-only/fine")
        assert (status, json.loads(body)) == (200, {"ok": True})


def _operations(schema: dict) -> dict[tuple[str, str], dict]:
    return {(method.upper(), path): op for path, item in schema["paths"].items() for method, op in item.items()}


def _declared(op: dict) -> dict[int, str | None]:
    out = {}
    for status, response in op["responses"].items():
        media = response.get("content", {}).get("application/json", {})
        out[int(status)] = media.get("schema", {}).get("$ref")
    return out


def test_openapi_declares_the_error_statuses_with_the_envelope() -> None:
    schema = create_app().openapi()
    ops = _operations(schema)
    envelope = schema["components"]["schemas"]["ErrorEnvelope"]
    assert set(envelope["required"]) == {"statusCode", "message", "error", "timestamp", "path"}
    assert envelope["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/FieldError"}
    assert "HTTPValidationError" not in json.dumps(schema)  # FastAPI's own 422 body is never what we send

    for (method, path), op in ops.items():
        declared = _declared(op)
        for status in (400, 422, 500):
            assert declared.get(status) == ENVELOPE_REF, (method, path, status)
        for status, ref in declared.items():
            if status >= 400 and (method, path) != ("GET", "/health"):
                assert ref == ENVELOPE_REF, (method, path, status)
        if "{" in path:
            assert 404 in declared, (method, path)
        if path.startswith("/api/v1/partner/brand/") or path.startswith("/api/v1/admin/"):
            assert {401, 403} <= set(declared), (method, path)
        if "/auth/" in path:
            assert 429 in declared, (method, path)

    brand = "/api/v1/partner/brand/{brand_id}"
    for action in ("forward", "approve", "send-back", "reject", "sanction", "approve-disbursal"):
        assert {409, 503} <= set(_declared(ops[("POST", f"{brand}/loans/{{loan_id}}/{action}")])), action
    for upload in ("/api/v1/web/kyc/upload-document", "/api/v1/web/bank/upload-statement"):
        assert 413 in _declared(ops[("POST", upload)]), upload
    # a status found in the code a route calls: registering with an unknown brand is 404
    assert 404 in _declared(ops[("POST", "/api/v1/web/auth/register")])
    # unsigned webhooks are refused with 401, unknown endpoints 404
    for webhook in ("/api/v1/webhooks/{brand_id}/aa", "/api/v1/webhooks/{brand_id}/{vendor}"):
        assert {401, 404} <= set(_declared(ops[("POST", webhook)])), webhook
    # customer routes answer 401 to a missing token; public ones do not claim it
    assert 401 in _declared(ops[("GET", "/api/v1/web/loans")])
    assert 401 not in _declared(ops[("GET", "/api/v1/web/brands")])
    # /health keeps its own degraded body for 503
    assert _declared(ops[("GET", "/health")])[503] is None
