"""Request counters: every request routed to an action counts, whatever its outcome."""

from email.utils import parsedate_to_datetime

import requests

from conftest import assert_error


def test_counters_count_every_outcome_and_reset(fresh_emulator):
    # Exact counts: without activation no re-describing happens behind the test's back.
    emulator = fresh_emulator("--activation-delay", "0")
    client = emulator.client()
    assert emulator.stats()["iam_tokens_issued"] == 1
    reset = emulator.admin("/stats/reset")
    assert reset == {"requests": {}, "iam_tokens_issued": 0, "statuses": {},
                     "faults_injected": {}}
    key_id = client.create_key(wait=False)
    client.describe(key_id)
    assert_error(client.post("describe-key", {"key_id": "bad"}), 400, "KMS.0205")
    assert_error(requests.post(client.url("describe-key"), json={"key_id": key_id}),
                 403, "KMS.0301")
    assert_error(client.session.get(client.url("describe-key")), 405, "KMS.0215")
    assert_error(client.post("import-key-material", {}), 400, "KMS.0204")
    assert_error(client.post("no-such-action", {}), 404, "APIGW.0101")
    emulator.client(1)
    requests.get(emulator.info["iam_endpoint"] + "/projects")
    requests.get(emulator.url + "/")
    emulator.admin("/health")
    stats = emulator.stats()
    assert stats["requests"] == {"create-key": 1, "describe-key": 4, "import-key-material": 1,
                                 "iam:tokens": 1, "iam:projects": 1, "versions": 1}
    assert stats["iam_tokens_issued"] == 1
    assert stats["statuses"] == {"200": 3, "201": 1, "400": 2, "401": 1, "403": 1, "404": 1,
                                 "405": 1}
    emulator.admin("/stats/reset")
    assert emulator.stats()["requests"] == {}


def test_iam_calls_have_their_own_names(fresh_emulator):
    emulator = fresh_emulator()
    token = emulator.client().token
    headers = {"X-Auth-Token": token}
    requests.get(emulator.info["iam_endpoint"] + "/auth/projects", headers=headers)
    requests.post(emulator.url + "/v3.0/OS-CREDENTIAL/securitytokens", headers=headers,
                  json={"auth": {"identity": {"methods": ["token"], "token": {}}}})
    requests.get(emulator.url + "/v1.0")
    assert emulator.stats()["requests"] == {"iam:tokens": 1, "iam:auth-projects": 1,
                                            "iam:securitytokens": 1, "version": 1}


def test_clock_admin_call(fresh_emulator):
    emulator = fresh_emulator()
    before = emulator.admin("/clock")
    after = emulator.advance_clock(3600)
    assert after["offset_seconds"] == 3600
    assert after["now"] - before["now"] >= 3600
    # every answer's Date is the emulator clock, as a real service's Date is its own
    date = requests.get(emulator.info["admin_url"] + "/stats").headers["Date"]
    assert abs(parsedate_to_datetime(date).timestamp() - after["now"]) < 5
    url = emulator.info["admin_url"] + "/clock"
    for body in ({"advance_seconds": -1}, {"advance_seconds": "x"}, {}):
        assert_error(requests.post(url, json=body), 400, "KMS.0308")
    assert_error(requests.post(url, data=b"{"), 400, "KMS.0202")
