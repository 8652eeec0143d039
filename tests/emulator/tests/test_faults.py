"""Fault injection: latency, 5xx failures and 429 throttling, at start-up and at run time."""

import time

import requests

from conftest import assert_error, iam_token

UNKNOWN = {"key_id": "00000000-0000-0000-0000-000000000000"}


def test_latency_is_added_to_kms_and_iam_requests_but_not_admin(fresh_emulator):
    emulator = fresh_emulator("--latency-ms", "300")
    started = time.monotonic()
    client = emulator.client()  # one IAM call
    iam_elapsed = time.monotonic() - started
    started = time.monotonic()
    assert_error(client.post("describe-key", UNKNOWN), 404, "KMS.0207")
    kms_elapsed = time.monotonic() - started
    # at least the latency (a busy machine only adds to it) ...
    assert iam_elapsed >= 0.3 and kms_elapsed >= 0.3
    # ... and admin calls are never delayed: counted, not timed (an upper bound on time would
    # fail on a loaded machine)
    assert emulator.stats()["faults_injected"] == {"latency": 2}
    emulator.admin("/health")
    assert emulator.stats()["faults_injected"] == {"latency": 2}


def test_fail_rate_one_answers_5xx_before_doing_anything(fresh_emulator):
    emulator = fresh_emulator("--fail-rate", "1")
    client = emulator.client()  # IAM is never failed
    seen = set()
    for _attempt in range(12):
        response = client.post("create-key", {"key_alias": "never-created"})
        body = response.json()
        seen.add((response.status_code, body["error"]["error_code"]))
        assert response.headers["X-Request-Id"]
    assert seen <= {(500, "KMS.0103"), (503, "KMS.0104")}
    assert len(seen) == 2  # both kinds occur (1 in 2048 chance of a false alarm)
    assert emulator.stats()["faults_injected"] == {"fail": 12}
    emulator.admin("/faults", {"fail_rate": 0})
    assert client.ok("list-keys")["total"] == 0
    assert client.create_key(key_alias="never-created")


def test_fail_rate_fails_a_fraction(fresh_emulator):
    emulator = fresh_emulator("--fail-rate", "0.5", "--fault-seed", "7")
    client = emulator.client()
    statuses = [client.post("describe-key", UNKNOWN).status_code for _attempt in range(60)]
    failures = sum(status >= 500 for status in statuses)
    assert 10 <= failures <= 50
    assert set(statuses) <= {404, 500, 503}


def test_throttle_rate_answers_429_with_retry_after(fresh_emulator):
    emulator = fresh_emulator("--throttle-rate", "1", "--retry-after", "0")
    client = emulator.client()
    response = client.post("describe-key", UNKNOWN)
    assert_error(response, 429, "APIGW.0308")
    assert response.headers["Retry-After"] == "0"
    assert set(response.json()) == {"error_code", "error_msg", "request_id"}
    emulator.admin("/faults", {"retry_after": 1})
    assert client.post("describe-key", UNKNOWN).headers["Retry-After"] == "1"
    assert emulator.stats()["faults_injected"] == {"throttle": 2}


def test_faults_change_at_run_time_and_never_hit_admin_or_iam(fresh_emulator):
    emulator = fresh_emulator()
    client = emulator.client()
    assert emulator.admin("/faults") == {"latency_ms": 0, "fail_rate": 0.0,
                                         "throttle_rate": 0.0, "retry_after": 1}
    settings = emulator.admin("/faults", {"throttle_rate": 1})
    assert settings["throttle_rate"] == 1.0
    assert client.post("describe-key", UNKNOWN).status_code == 429
    assert iam_token(emulator, emulator.project(1))
    emulator.admin("/faults", {"throttle_rate": 0, "fail_rate": 1})
    assert client.post("describe-key", UNKNOWN).status_code in (500, 503)
    assert emulator.admin("/health") == {"status": "ok"}
    emulator.admin("/faults", {"fail_rate": 0})
    assert client.post("describe-key", UNKNOWN).status_code == 404


def test_invalid_fault_settings_are_refused(emulator):
    url = emulator.info["admin_url"] + "/faults"
    for body in ({"fail_rate": 2}, {"latency_ms": -1}, {"nonsense": 1}, {"fail_rate": "x"}):
        assert_error(requests.post(url, json=body), 400, "KMS.0308")
    assert emulator.admin("/faults")["fail_rate"] == 0.0
