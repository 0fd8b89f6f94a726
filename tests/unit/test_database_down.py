"""The database unreachable mid-request (a restart, a failover) is a 503 in the error envelope with Retry-After, so
a client or a vendor's webhook retry sends it again, never a 500 that reads as a bug (found by the chaos suite)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from api import errors


def test_an_unreachable_database_is_503_with_retry_after() -> None:
    app = FastAPI()
    errors.install(app)

    @app.get("/thing")
    def thing() -> dict:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    answer = TestClient(app).get("/thing")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    body = answer.json()
    assert body["statusCode"] == 503 and "database is unavailable" in body["message"] and body["path"] == "/thing"
    assert "SELECT" not in answer.text  # the statement is not shown
