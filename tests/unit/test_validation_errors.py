"""The API's 422 for bad input names the field and the reason in words a caller can act on: a body that is not
JSON is `body` (not the character offset pydantic reports), a validator's reason comes without pydantic's
"Value error, " prefix, and a negative amount is told it must be more than zero."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from api.errors import install
from api.types import Rupees, Score


class _Body(BaseModel):
    amount: Rupees


class _Scored(BaseModel):
    score: Score


def _client() -> TestClient:
    app = FastAPI()
    install(app)

    @app.post("/pay")
    def pay(body: _Body) -> dict:
        return {"amount": str(body.amount)}

    @app.post("/score")
    def score(body: _Scored) -> dict:
        return {"score": str(body.score)}

    return TestClient(app)


def _errors(response) -> list[dict]:  # noqa: ANN001
    assert response.status_code == 422, response.text
    return response.json()["errors"]


def test_a_body_that_is_not_json_is_named_body() -> None:
    (error,) = _errors(_client().post("/pay", content=b"{amount: 5", headers={"content-type": "application/json"}))
    assert error["field"] == "body" and error["reason"].startswith("not valid JSON")


def test_reasons_come_without_pydantics_prefix_and_say_what_is_wrong() -> None:
    client = _client()
    (negative,) = _errors(client.post("/pay", json={"amount": "-5"}))
    assert negative == {"field": "amount", "reason": "must be more than zero (got -5)"}
    (zero,) = _errors(client.post("/pay", json={"amount": "0.00"}))  # told as a negative one is
    assert zero == {"field": "amount", "reason": "must be more than zero (got 0.00)"}
    (number,) = _errors(client.post("/pay", json={"amount": 5}))
    assert number["field"] == "amount" and number["reason"].startswith("rupees go as a decimal string")
    (shape,) = _errors(client.post("/pay", json={"amount": "5.123"}))
    assert shape["reason"] == 'rupees as a decimal string with at most 2 decimals, e.g. "50000.50"'
    assert client.post("/pay", json={"amount": "5.12"}).json() == {"amount": "5.12"}


def test_a_negative_score_is_not_told_it_must_be_more_than_zero() -> None:
    """A score may be 0 (its range is 0 to 100): only amounts are told they must be more than zero."""
    (error,) = _errors(_client().post("/score", json={"score": "-5"}))
    assert error["field"] == "score" and "more than zero" not in error["reason"]
    assert _client().post("/score", json={"score": "0"}).json() == {"score": "0"}
