"""Fuzz the emulator's request parsing against a live emulator (fault injection off): random
JSON bodies, fields, types, paths, methods, headers and framing. It must never answer 5xx,
never hang, and never write a traceback into its log.

Bodies start from valid requests on real keys (so that the fuzz gets past the first checks)
and are mutated: fields dropped, replaced by values of any JSON type, or added.
"""

import base64
import hashlib
import json
import os
import socket
import time

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from caller import Caller
from harness import Emulator, budget, record_figure

EXAMPLES = int(os.environ.get("RELIABILITY_EMULATOR_FUZZ_EXAMPLES", 0)) or budget(600, 6000)
RAW_EXAMPLES = max(50, EXAMPLES // 3)
READ_TIMEOUT = 10   # seconds an answer may take; longer counts as a hang

SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much,
                                           HealthCheck.function_scoped_fixture])
RAW_SETTINGS = settings(SETTINGS, max_examples=RAW_EXAMPLES)

FIELDS = ["key_id", "key_alias", "key_spec", "key_usage", "origin", "key_description",
          "wrapping_algorithm", "import_token", "encrypted_key_material", "encrypted_privatekey",
          "expiration_time", "pending_days", "limit", "marker", "key_state", "plain_text",
          "cipher_text", "encryption_context", "additional_authenticated_data",
          "encryption_algorithm", "signing_algorithm", "message", "message_type", "signature",
          "sequence"]

_counts = {"json": 0, "raw": 0, "statuses": {}}


def _count(kind, status):
    _counts[kind] += 1
    _counts["statuses"][str(status)] = _counts["statuses"].get(str(status), 0) + 1


class Target:
    """A live emulator with project A's keys and valid request templates for every action."""

    def __init__(self, workdir):
        self.emulator = Emulator(workdir).start()
        self.caller = Caller(self.emulator, 0, "token")
        a = self.caller
        tag = os.urandom(3).hex()
        self.aes = a.create_key("fz-aes-" + tag, origin="external")
        a.import_material(self.aes, os.urandom(32))
        self.pending = [a.create_key("fz-pending-%s-%d" % (tag, i), origin="external")
                        for i in range(3)]
        self.rsa = a.create_key("fz-rsa-" + tag, key_spec="RSA_2048",
                                key_usage="ENCRYPT_DECRYPT")
        self.ec = a.create_key("fz-ec-" + tag, key_spec="EC_P256")
        self.token, self.wrapped = a.wrapped_import(self.pending[0], os.urandom(32))
        self.cipher_text = a.ok("encrypt-data", {"key_id": self.aes,
                                                 "plain_text": "probe"})["cipher_text"]
        self.digest = base64.b64encode(hashlib.sha256(b"m").digest()).decode()
        self.signature = a.ok("sign", {"key_id": self.ec, "signing_algorithm": "ECDSA_SHA_256",
                                       "message": self.digest})["signature"]
        self.key_ids = [self.aes, self.rsa, self.ec] + self.pending

    def templates(self):
        aes, rsa, ec, pending = self.aes, self.rsa, self.ec, self.pending[0]
        return {
            "create-key": {"key_alias": "fz-new", "key_spec": "AES_256", "origin": "external",
                           "key_description": "d"},
            "describe-key": {"key_id": aes},
            "list-keys": {"limit": "10", "marker": "0", "key_state": "2", "key_spec": "ALL"},
            "enable-key": {"key_id": aes},
            "disable-key": {"key_id": aes},
            "schedule-key-deletion": {"key_id": self.pending[2], "pending_days": "7"},
            "cancel-key-deletion": {"key_id": self.pending[2]},
            "update-key-alias": {"key_id": rsa, "key_alias": "fz-renamed"},
            "update-key-description": {"key_id": rsa, "key_description": "new"},
            "get-parameters-for-import": {"key_id": pending,
                                          "wrapping_algorithm": "RSAES_OAEP_SHA_256"},
            "import-key-material": {"key_id": pending, "import_token": self.token,
                                    "encrypted_key_material": self.wrapped,
                                    "expiration_time": str(int(time.time()) + 86400 * 30)},
            "delete-imported-key-material": {"key_id": self.pending[1]},
            "get-publickey": {"key_id": rsa},
            "encrypt-data": {"key_id": aes, "plain_text": "x",
                             "encryption_context": {"a": "b"}},
            "decrypt-data": {"cipher_text": self.cipher_text, "key_id": aes},
            "sign": {"key_id": ec, "signing_algorithm": "ECDSA_SHA_256",
                     "message": self.digest, "message_type": "DIGEST"},
            "verify": {"key_id": ec, "signing_algorithm": "ECDSA_SHA_256",
                       "message": self.digest, "signature": self.signature},
        }

    def interesting_strings(self):
        return self.key_ids + [
            "alias/fz-new", "fz-renamed", "kms:eu-de:x:alias:fz-new", self.token, self.wrapped,
            self.cipher_text, self.signature, self.digest, "RSAES_OAEP_SHA_256",
            "RSAES_OAEP_SHA_1", "RSAES_PKCS1_V1_5", "SYMMETRIC_DEFAULT", "ECDSA_SHA_384",
            "RSASSA_PSS_SHA_256", "AES_256", "RSA_4096", "EC_P384", "HMAC_256", "external",
            "kms", "ENCRYPT_DECRYPT", "SIGN_VERIFY", "RAW", "DIGEST", "ALL", "7", "1096", "0",
            "-1", "9" * 19, "9" * 25, "", " ", "null", "{}", "[]", "A" * 344, "A" * 5000,
            "\u0000", "\ud7ff\ue000", "a/default", "x" * 256, "0" * 36]

    def close(self):
        self.emulator.stop()


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    target = Target(tmp_path_factory.mktemp("fuzz-emulator"))
    yield target
    target.close()


def _values(target):
    scalars = (st.none() | st.booleans() | st.integers(min_value=-2 ** 70, max_value=2 ** 70)
               | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30)
               | st.sampled_from(target.interesting_strings()))
    return st.recursive(scalars, lambda children: st.lists(children, max_size=3)
                        | st.dictionaries(st.text(max_size=8), children, max_size=3),
                        max_leaves=8)


def _bodies(target):
    values = _values(target)
    templates = target.templates()

    @st.composite
    def mutated(draw):
        action = draw(st.sampled_from(sorted(templates)))
        body = dict(templates[action])
        for name in draw(st.lists(st.sampled_from(sorted(body)), max_size=len(body),
                                  unique=True)):
            if draw(st.booleans()):
                del body[name]
            else:
                body[name] = draw(values)
        for name in draw(st.lists(st.sampled_from(FIELDS) | st.text(max_size=10), max_size=3)):
            body[name] = draw(values)
        shape = draw(st.sampled_from(["object"] * 8 + ["other"]))
        return action, body if shape == "object" else draw(values)

    return mutated()


def _check_answer(answer, what):
    assert answer.status < 500, (what, answer)
    assert isinstance(answer.data, dict), (what, answer)


def _assert_clean_log(target):
    text = target.emulator.log_text()
    assert "Traceback" not in text, text[text.index("Traceback") - 300:][:3000]
    assert "connection error from" not in text


def test_fuzz_json_bodies(target):
    strategy = _bodies(target)
    session_caller = target.caller

    @SETTINGS
    @given(strategy, st.sampled_from(["token", "token", "aksk"]), st.booleans())
    def check(drawn, auth, nan_literal):
        action, body = drawn
        try:
            payload = json.dumps(body, allow_nan=True).encode()
        except (TypeError, ValueError):
            return
        if not nan_literal and b"NaN" in payload:
            return
        caller = session_caller if auth == "token" else Caller(target.emulator, 0, "aksk")
        url = caller.url(action)
        answer = caller.send("POST", url, caller.headers("POST", url, payload), payload)
        _count("json", answer.status)
        _check_answer(answer, (action, body))

    check()
    record_figure("emulator_fuzz_requests", dict(_counts))
    _assert_clean_log(target)


# --------------------------------------------------------------------------- raw HTTP

def _raw_exchange(port, data):
    """Send ``data``, close the sending side, read until the server closes. Returns the bytes
    received; raises AssertionError on a hang."""
    with socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT) as sock:
        sock.sendall(data)
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        received = b""
        started = time.monotonic()
        while True:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                raise AssertionError("no answer within %d s to %r" % (READ_TIMEOUT, data[:300]))
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
            assert time.monotonic() - started < READ_TIMEOUT * 2, "answer never ends"
    return received


def _statuses(received):
    """Status codes of every HTTP/1.x response in ``received``."""
    found = []
    for line in received.split(b"\r\n"):
        if line.startswith(b"HTTP/1.") and len(line) >= 12:
            found.append(int(line[9:12]))
    return found


header_names = st.sampled_from([
    "Content-Type", "X-Auth-Token", "Authorization", "X-Sdk-Date", "X-Project-Id", "Host",
    "X-Security-Token", "Accept", "Expect", "Connection", "Transfer-Encoding",
    "X-Sdk-Content-Sha256", "Content-Encoding"]) | st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,20}",
                                                                 fullmatch=True)
header_texts = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255,
                                              blacklist_characters="\r\n"), max_size=60)
path_texts = st.lists(st.one_of(
    st.sampled_from(["v1.0", "kms", "v3", "auth", "tokens", "projects", "__emulator", "stats",
                     "describe-key", "list-keys", "..", ".", "", "%2F", "%00", "%ff", "v3.0",
                     "OS-CREDENTIAL", "securitytokens", "clock", "faults"]),
    st.from_regex(r"[A-Za-z0-9._~%-]{0,12}", fullmatch=True)), max_size=6)


def _raw_requests(target):
    project_id = target.caller.project_id
    token = target.caller.token()

    @st.composite
    def build(draw):
        method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD",
                                       "OPTIONS", "TRACE", "BREW", "post"]))
        if draw(st.booleans()):
            action = draw(st.sampled_from(sorted(target.templates()) + ["nope", ""]))
            path = "/v1.0/%s/kms/%s" % (draw(st.sampled_from([project_id, "x", "", "0" * 32])),
                                        action)
        else:
            path = "/" + "/".join(draw(path_texts))
        if draw(st.booleans()):
            path += "?" + draw(st.from_regex(r"[A-Za-z0-9=&%._-]{0,30}", fullmatch=True))
        headers = {"Host": "127.0.0.1"}
        if draw(st.booleans()):
            headers["X-Auth-Token"] = token
        if draw(st.booleans()):
            headers["Content-Type"] = draw(st.sampled_from(
                ["application/json", "application/json;charset=utf-8", "text/plain", ""]))
        for _header in range(draw(st.integers(0, 4))):
            headers[draw(header_names)] = draw(header_texts)
        body = draw(st.one_of(st.binary(max_size=300),
                              st.sampled_from([b"{}", b"[]", b"null", b'{"key_id":', b"\xff\xfe",
                                               b'{"a":' * 200 + b"1" + b"}" * 200])))
        framing = draw(st.sampled_from(["length", "length", "none", "bogus-length",
                                        "big-length", "chunked", "bad-chunked"]))
        if framing == "length":
            headers["Content-Length"] = str(len(body))
        elif framing == "bogus-length":
            headers["Content-Length"] = draw(st.sampled_from(["abc", "1e3", "-5", " ", "0x10",
                                                              "99999999999999999999999"]))
        elif framing == "big-length":
            headers["Content-Length"] = str(64 * 1024 + 1)
        elif framing == "chunked":
            headers["Transfer-Encoding"] = "chunked"
            body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n"
        elif framing == "bad-chunked":
            headers["Transfer-Encoding"] = "chunked"
            body = draw(st.sampled_from([b"zz\r\n{}\r\n0\r\n\r\n", b"-5\r\n{}\r\n0\r\n\r\n",
                                         b"ffffffffffffffffffff\r\n", b"2;ext\r\n{}\r\n0\r\n\r\n",
                                         b""]))
        lines = ["%s %s HTTP/1.1" % (method, path)]
        lines += ["%s: %s" % item for item in headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        return head + body

    return build()


def test_fuzz_raw_http(target):
    port = target.emulator.port

    @RAW_SETTINGS
    @given(_raw_requests(target))
    def check(data):
        received = _raw_exchange(port, data)
        statuses = _statuses(received)
        _count("raw", statuses[0] if statuses else "closed")
        assert all(status < 500 for status in statuses), (data[:300], received[:500])
        # no http.server 501 page either: a method without a handler of its own (TRACE, BREW,
        # post) is answered like the others, in JSON (405 KMS.0215 on a known path)
        assert b"Unsupported method" not in received, (data[:300], received[:500])

    check()
    record_figure("emulator_fuzz_requests", dict(_counts))
    _assert_clean_log(target)


def test_fuzz_admin_and_iam_bodies(target):
    """IAM token requests and the admin calls parse JSON too."""
    values = _values(target)
    iam = target.emulator.info["iam_endpoint"]
    admin = target.emulator.info["admin_url"]
    session = target.caller.session

    @RAW_SETTINGS
    @given(st.sampled_from([iam + "/auth/tokens", iam + "/auth/tokens?nocatalog=true",
                            admin + "/faults", admin + "/clock",
                            iam.replace("/v3", "/v3.0") + "/OS-CREDENTIAL/securitytokens"]),
           values | st.fixed_dictionaries({"auth": st.fixed_dictionaries({}, optional={
               "identity": values | st.fixed_dictionaries({}, optional={
                   "methods": values, "password": values, "token": values}),
               "scope": values})}))
    def check(url, body):
        if url.endswith("/faults") and isinstance(body, dict):
            # never switch fault injection on here: injected 5xx would be expected ones
            body = {name: 0 for name in body if name in ("fail_rate", "throttle_rate")} or body
        if url.endswith("/clock") and isinstance(body, dict) and "advance_seconds" in body:
            body = dict(body, advance_seconds=0)
        try:
            payload = json.dumps(body).encode()
        except (TypeError, ValueError):
            return
        headers = {"Content-Type": "application/json"}
        if "securitytokens" in url:
            headers["X-Auth-Token"] = target.caller.token()
        response = session.post(url, data=payload, headers=headers, timeout=READ_TIMEOUT)
        _count("json", response.status_code)
        assert response.status_code < 500, (url, body, response.text)

    check()
    settings_now = target.emulator.admin("/faults")
    assert settings_now["fail_rate"] == 0 and settings_now["throttle_rate"] == 0
    _assert_clean_log(target)


# --------------------------------------------------------------------------- known findings

def test_import_with_any_expiration_time_never_500(tmp_path):
    """The fuzz found: an expiry whose milliseconds exceed SQLite's 64-bit integers ended in
    HTTP 500 and a traceback (the store could not hold it). Now a clear 400."""
    emulator = Emulator(tmp_path).start()
    try:
        a = Caller(emulator, 0, "token")

        # the examples below are the finding; a few random ones more (many in the long profile)
        @settings(max_examples=budget(8, 60), deadline=None)
        @given(expiration_time=st.integers(min_value=-2 ** 70, max_value=2 ** 70)
               | st.integers().map(str))
        @example(expiration_time=10 ** 20)
        @example(expiration_time="9" * 19)
        @example(expiration_time=2 ** 63 // 1000 + 1)
        @example(expiration_time=253402300800)
        def check(expiration_time):
            key_id = a.create_key("e1-" + os.urandom(4).hex(), origin="external")
            token, wrapped = a.wrapped_import(key_id, os.urandom(32))
            answer = a.post("import-key-material", {
                "key_id": key_id, "import_token": token, "encrypted_key_material": wrapped,
                "expiration_time": expiration_time})
            assert answer.status < 500, (expiration_time, answer)

        check()
        assert "Traceback" not in emulator.log_text()
    finally:
        emulator.stop()


def test_negative_content_length_is_answered(tmp_path):
    emulator = Emulator(tmp_path).start()
    try:
        with socket.create_connection(("127.0.0.1", emulator.port), timeout=5) as sock:
            sock.sendall(b"POST /v1.0/%s/kms/list-keys HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/json\r\nContent-Length: -1\r\n\r\n{}"
                         % emulator.project(0)["project_id"].encode())
            try:
                answer = sock.recv(4096)
            except socket.timeout:
                answer = b""
        assert answer.startswith(b"HTTP/1.1 400"), answer
    finally:
        emulator.stop()
