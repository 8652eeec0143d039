"""HTTP protocol behaviour: routing, body handling, common errors, headers, connection reuse."""

import http.client
import json
import socket
from urllib.parse import urlsplit

import pytest
import requests

from conftest import ACTION_BODIES, KEY_ACTIONS, MANDATORY, assert_error, body_for

UNKNOWN_ID = "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize("action", KEY_ACTIONS)
def test_unknown_key_is_404_kms_0207_for_every_action(kms, action):
    assert_error(kms.post(action, body_for(action, UNKNOWN_ID)), 404, "KMS.0207")


@pytest.mark.parametrize("action", KEY_ACTIONS)
def test_malformed_key_id_is_400_kms_0205_for_every_action(kms, action):
    assert_error(kms.post(action, body_for(action, "0d0466b0_bad")), 400, "KMS.0205")


@pytest.mark.parametrize("action, field", [
    (action, field) for action in sorted(MANDATORY) for field in MANDATORY[action]]
    + [(action, "key_id") for action in KEY_ACTIONS if action not in MANDATORY])
def test_missing_mandatory_field_is_400_kms_0204(kms, action, field):
    body = body_for(action, UNKNOWN_ID) if action in ACTION_BODIES else {
        "create-key": {"key_alias": "x"}, "decrypt-data": {"cipher_text": "QUJD"}}[action]
    body.pop(field, None)
    assert_error(kms.post(action, body), 400, "KMS.0204")


@pytest.mark.parametrize("payload", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_body_that_is_not_a_json_object_is_kms_0202(kms, payload):
    response = kms.session.post(kms.url("describe-key"), data=payload,
                                headers={"Content-Type": "application/json"})
    assert_error(response, 400, "KMS.0202")


def test_post_without_json_content_type_is_kms_0214(kms):
    response = kms.session.post(kms.url("describe-key"), data=b'{"key_id": "x"}',
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(response, 400, "KMS.0214")


def test_content_type_with_charset_is_accepted(kms):
    response = kms.session.post(kms.url("describe-key"),
                                data=json.dumps({"key_id": UNKNOWN_ID}).encode(),
                                headers={"Content-Type": "application/json;charset=utf-8"})
    assert_error(response, 404, "KMS.0207")


def test_body_over_64_kib_is_kms_0203_and_the_connection_stays_usable(kms):
    response = kms.post("encrypt-data", {"key_id": UNKNOWN_ID, "plain_text": "x" * 70000})
    assert_error(response, 400, "KMS.0203")
    assert_error(kms.post("describe-key", {"key_id": UNKNOWN_ID}), 404, "KMS.0207")


def test_invalid_sequence_is_kms_0206(kms):
    assert_error(kms.post("describe-key", {"key_id": UNKNOWN_ID, "sequence": "short"}),
                 400, "KMS.0206")
    assert_error(kms.post("describe-key", {"key_id": UNKNOWN_ID,
                                           "sequence": "919c82d4-8046-4722-9094-35c3c6524cff"}),
                 404, "KMS.0207")


@pytest.mark.parametrize("path", ["/v1.0/%s/kms/no-such-action", "/v2/%s/kms/describe-key",
                                  "/nothing", "/v1.0/%s/kms/create-datakey"])
def test_unknown_path_is_404_apigw_0101(kms, path):
    url = kms.emulator.url + (path % kms.project_id if "%s" in path else path)
    assert_error(kms.session.post(url, json={}), 404, "APIGW.0101")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_wrong_method_is_405_kms_0215(kms, method):
    assert_error(kms.session.request(method, kms.url("describe-key")), 405, "KMS.0215")


def test_wrong_method_on_iam_paths_is_405(emulator):
    assert_error(requests.get(emulator.info["iam_endpoint"] + "/auth/tokens"), 405, "KMS.0215")
    assert_error(requests.post(emulator.info["iam_endpoint"] + "/projects"), 405, "KMS.0215")


def test_unreplaced_project_placeholder_is_kms_0201(kms):
    url = "%s/v1.0/%%7Bproject_id%%7D/kms/describe-key" % kms.emulator.url
    assert_error(kms.session.post(url, json={"key_id": UNKNOWN_ID}), 400, "KMS.0201")


def test_trailing_slash_is_tolerated(kms):
    assert_error(kms.session.post(kms.url("describe-key") + "/", json={"key_id": UNKNOWN_ID}),
                 404, "KMS.0207")


def test_version_discovery(emulator):
    versions = requests.get(emulator.url + "/").json()["versions"]
    assert versions[0]["id"] == "v1.0"
    assert versions[0]["status"] == "CURRENT"
    assert versions[0]["links"][0]["href"] == emulator.url + "/v1.0/"
    version = requests.get(emulator.url + "/v1.0")
    assert version.status_code == 200
    assert version.json()["version"]["id"] == "v1.0"


def test_every_response_carries_a_fresh_request_id(emulator, kms):
    responses = [requests.get(emulator.url + "/"), requests.get(emulator.url + "/nothing"),
                 kms.post("describe-key", {"key_id": UNKNOWN_ID}), kms.post("list-keys"),
                 requests.post(emulator.info["iam_endpoint"] + "/auth/tokens", json={}),
                 requests.get(emulator.info["admin_url"] + "/health")]
    ids = [response.headers["X-Request-Id"] for response in responses]
    assert all(ids) and len(set(ids)) == len(ids)
    assert all(r.headers["Content-Type"].startswith("application/json") for r in responses)


def test_errors_have_the_service_body_shapes(kms, emulator):
    kms_body = kms.post("describe-key", {"key_id": UNKNOWN_ID}).json()
    assert set(kms_body) == {"error"}
    assert set(kms_body["error"]) == {"error_code", "error_msg"}
    gateway = requests.get(emulator.url + "/nothing")
    assert set(gateway.json()) == {"error_code", "error_msg", "request_id"}
    assert gateway.json()["request_id"] == gateway.headers["X-Request-Id"]


def test_keep_alive_serves_many_requests_on_one_connection(kms):
    parts = urlsplit(kms.emulator.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    body = json.dumps({"key_id": UNKNOWN_ID})
    headers = {"Content-Type": "application/json", "X-Auth-Token": kms.token}
    path = urlsplit(kms.url("describe-key")).path
    socket_ids = set()
    for _request in range(50):
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 404
        socket_ids.add(id(connection.sock))
    connection.close()
    assert len(socket_ids) == 1


def test_each_answer_is_sent_in_one_write(kms):
    """Head and body of an answer leave in one write: two small writes on a kept-alive
    connection stall on Nagle + delayed ACK (about 40 ms per request). Shown by what one read
    returns rather than by timing, which a loaded machine would make flaky."""
    parts = urlsplit(kms.emulator.url)
    body = json.dumps({"key_id": UNKNOWN_ID}).encode()
    request = (b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
               b"X-Auth-Token: %s\r\nContent-Length: %d\r\n\r\n%s" % (
                   urlsplit(kms.url("describe-key")).path.encode(), parts.netloc.encode(),
                   kms.token.encode(), len(body), body))
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        for _request in range(10):
            connection.sendall(request)
            head, _blank_line, answer = connection.recv(65536).partition(b"\r\n\r\n")
            length = [line.split(b":", 1)[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")]
            assert head.startswith(b"HTTP/1.1 404 ") and length, head
            assert len(answer) == int(length[0]), (head, answer)
            assert json.loads(answer)["error"]["error_code"] == "KMS.0207"


def test_chunked_request_body_is_read(kms):
    def chunks():
        yield b'{"key_id": '
        yield json.dumps(UNKNOWN_ID).encode() + b"}"
    response = kms.session.post(kms.url("describe-key"), data=chunks(),
                                headers={"Content-Type": "application/json"})
    assert_error(response, 404, "KMS.0207")
