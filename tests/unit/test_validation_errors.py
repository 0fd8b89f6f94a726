"""The API's 422 for bad input names the field and the reason in words a caller can act on: a body that is not
JSON is `body` (not the character offset pydantic reports), a validator's reason comes without pydantic's
"Value error, " prefix, a negative amount is told it must be more than zero, and one too large its limit."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from api.errors import install
from api.types import Rupees, Score
from domain.errors import Conflict, ValidationError


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

    @app.get("/refuse/{how}")
    def refuse(how: str) -> dict:
        if how == "field":
            raise ValidationError("is after paidTo", field="paidFrom")
        if how == "prefixed":
            raise ValidationError("payload.payment: is required", field="payload.payment")
        if how == "named":  # the reason names its field, in its own case
            raise ValidationError("PAN must be 5 letters, 4 digits, 1 letter", field="pan")
        if how == "leaf":
            raise ValidationError("amount must be positive paise", field="terms.amount")
        if how == "indexed":  # which director: the path before the name the reason gives
            raise ValidationError("PAN must be 10 letters and digits", field="directors.1.pan")
        if how == "word":  # a reason that only begins with the same letters is still prefixed
            raise ValidationError("fromDate is not a date", field="from")
        raise Conflict("the loan has ended")

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
    # a number too long for any amount is told so, not that it has too many decimals
    (large,) = _errors(client.post("/pay", json={"amount": "1000000000000"}))
    assert large == {"field": "amount", "reason": "must be at most 100000000000.00 (got 1000000000000)"}
    (large_negative,) = _errors(client.post("/pay", json={"amount": "-999999999999999.5"}))
    assert large_negative["reason"] == "must be more than zero (got -999999999999999.5)"
    (score,) = _errors(client.post("/score", json={"score": "1000000000000"}))
    assert "100000000000" not in score["reason"]  # a score's range is not an amount's


def test_a_negative_score_is_not_told_it_must_be_more_than_zero() -> None:
    """A score may be 0 (its range is 0 to 100): only amounts are told they must be more than zero."""
    (error,) = _errors(_client().post("/score", json={"score": "-5"}))
    assert error["field"] == "score" and "more than zero" not in error["reason"]
    assert _client().post("/score", json={"score": "0"}).json() == {"score": "0"}


def test_a_business_refusal_of_one_field_reads_field_colon_reason_as_validation_errors_do() -> None:
    client = _client()
    r = client.get("/refuse/field")
    assert r.status_code == 422 and r.json()["message"] == "paidFrom: is after paidTo"
    assert r.json()["errors"] == [{"field": "paidFrom", "reason": "is after paidTo"}]  # the reason alone
    assert client.get("/refuse/prefixed").json()["message"] == "payload.payment: is required"  # not said twice
    named = client.get("/refuse/named").json()
    assert named["message"] == "PAN must be 5 letters, 4 digits, 1 letter"  # not "pan: PAN must be ..."
    assert named["errors"] == [{"field": "pan", "reason": "PAN must be 5 letters, 4 digits, 1 letter"}]
    assert client.get("/refuse/leaf").json()["message"] == "terms: amount must be positive paise"
    assert client.get("/refuse/indexed").json()["message"] == "directors.1: PAN must be 10 letters and digits"
    assert client.get("/refuse/word").json()["message"] == "from: fromDate is not a date"
    conflict = client.get("/refuse/none")
    assert conflict.status_code == 409 and conflict.json()["message"] == "the loan has ended"  # no field at fault
