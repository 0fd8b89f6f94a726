"""The demo driver's KYC phase as an app lives it: the progress (``include=kyc``, a workflow query behind the API) is
read only while a step may still wait for the borrower; once every step has its result, the decision is waited for
with a long poll of the loan. The API is a scripted stand-in here (the journeys against the real stack are in
tests/e2e and tests/integration)."""

from __future__ import annotations

import time

import httpx

from los.demo import Driver, kyc_finished

STEPS = ["PAN", "AADHAAR", "BANK_STATEMENT"]


def test_the_kyc_phase_is_finished_when_every_step_has_a_result_and_nothing_is_awaited() -> None:
    done = {"PAN": "PASSED", "AADHAAR": "PASSED", "BANK_STATEMENT": "SKIPPED"}
    assert kyc_finished({"steps": STEPS, "waitingFor": None, "results": done})
    assert kyc_finished({"steps": STEPS, "waitingFor": None, "results": {**done, "AADHAAR": "FAILED"}})
    assert not kyc_finished({"steps": STEPS, "waitingFor": "BANK_STATEMENT", "results": done})
    assert not kyc_finished({"steps": STEPS, "waitingFor": None, "results": {**done, "BANK_STATEMENT": "WAITING"}})
    assert not kyc_finished({"steps": STEPS, "waitingFor": None, "results": {"PAN": "PASSED"}})  # steps still to run
    assert not kyc_finished({"steps": [], "waitingFor": None, "results": {}})  # no progress known yet


async def test_after_the_last_kyc_step_the_decision_is_long_polled_not_asked_of_the_workflow() -> None:
    reads: list[tuple[bool, str | None]] = []  # (include=kyc, Prefer) of each read, in order
    results: dict[str, str] = {"PAN": "PASSED", "AADHAAR": "PASSED"}

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path.endswith("/bank/upload-statement"):
            results["BANK_STATEMENT"] = "PASSED"
            return httpx.Response(201, json={})
        assert request.method == "GET" and path == "/api/v1/web/loans/L1", path
        kyc = request.url.params.get("include") == "kyc"
        reads.append((kyc, request.headers.get("prefer")))
        if kyc:
            waiting = None if "BANK_STATEMENT" in results else "BANK_STATEMENT"
            progress = {"steps": STEPS, "waitingFor": waiting, "results": dict(results)}
            return httpx.Response(200, json={"status": "APPLIED", "kyc": progress})
        if request.headers.get("if-none-match") == '"applied"':  # the long poll: the decision came meanwhile
            return httpx.Response(200, json={"status": "SANCTIONED"}, headers={"etag": '"sanctioned"'})
        return httpx.Response(200, json={"status": "APPLIED"}, headers={"etag": '"applied"'})

    driver = Driver("http://api.test", "http://sandbox.test")
    await driver.api.aclose()
    driver.api = httpx.AsyncClient(base_url="http://api.test", transport=httpx.MockTransport(answer))
    try:
        decided = await driver.complete_kyc({}, "L1", time.monotonic() + 10)
    finally:
        await driver.close()
    assert decided["status"] == "SANCTIONED"
    # the statement was asked for and given; the progress was read until it showed every step done, and no more
    assert reads[:2] == [(True, None), (True, None)]
    assert [kyc for kyc, _ in reads].count(True) == 2
    # then the loan itself: read once for its ETag, then held by the API until it changed
    assert len(reads) == 4 and reads[2] == (False, None)
    long_poll, prefer = reads[3]
    assert not long_poll and prefer is not None and prefer.startswith("wait=")


async def test_the_kyc_progress_is_long_polled_from_the_etag_of_the_last_read() -> None:
    """Where the API tags its KYC answers, every read after the first sends the last tag with ``Prefer: wait``: the
    API holds it until the progress moves, so the driver never reads an unchanged progress twice."""
    reads: list[tuple[str | None, str | None]] = []  # (If-None-Match, Prefer) of each KYC read, in order
    progress = [
        {"steps": STEPS, "waitingFor": None, "results": {"PAN": "PASSED"}},  # the automated steps still running
        {"steps": STEPS, "waitingFor": "BANK_STATEMENT", "results": {"PAN": "PASSED", "AADHAAR": "PASSED"}},
    ]
    uploaded: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path.endswith("/bank/upload-statement"):
            uploaded.append(path)
            progress.append({"steps": STEPS, "waitingFor": None, "results": dict.fromkeys(STEPS, "PASSED")})
            return httpx.Response(201, json={})
        assert request.method == "GET" and path == "/api/v1/web/loans/L1", path
        if request.url.params.get("include") != "kyc":  # the decision's long poll
            return httpx.Response(200, json={"status": "SANCTIONED"}, headers={"etag": '"sanctioned"'})
        reads.append((request.headers.get("if-none-match"), request.headers.get("prefer")))
        held = request.headers.get("if-none-match")
        # the API answers the progress after the one the caller holds (as a long poll woken by the workflow)
        index = 0 if held is None else min(int(held.strip('"')[1:]) + 1, len(progress) - 1)
        return httpx.Response(200, json={"status": "APPLIED", "kyc": progress[index]}, headers={"etag": f'"p{index}"'})

    driver = Driver("http://api.test", "http://sandbox.test")
    await driver.api.aclose()
    driver.api = httpx.AsyncClient(base_url="http://api.test", transport=httpx.MockTransport(answer))
    try:
        decided = await driver.complete_kyc({}, "L1", time.monotonic() + 10)
    finally:
        await driver.close()
    assert decided["status"] == "SANCTIONED" and len(uploaded) == 1
    assert reads[0] == (None, None)
    assert [held for held, _ in reads[1:]] == ['"p0"', '"p1"']
    assert all(prefer is not None and prefer.startswith("wait=") for _, prefer in reads[1:])
