"""Fuzz the collection's response handling: whatever a server answers, the client and the key
operations on top of it raise ``KmsError`` (which modules turn into a clean failure) or return;
never another exception (which would end a module with a traceback).

The HTTP session of a real ``KmsClient`` is replaced by a fake that answers every request with
a hypothesis-drawn status, headers and body: random JSON of every shape, JSON of the right shape
with wrong types inside, and bytes that are no JSON at all.
"""

import base64
import json
import os

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from harness import budget, import_collection, record_figure

EXAMPLES = int(os.environ.get("RELIABILITY_CLIENT_FUZZ_EXAMPLES", 0)) or budget(80, 500)
KEY_ID = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"
MAX_CALLS = 200   # a fake answers at most this many requests per example: no unbounded loops

SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])

# --------------------------------------------------------------------------- strategies


def _valid_public_key():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return base64.b64encode(key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()


VALID_PUBLIC_KEY = _valid_public_key()

scalars = (st.none() | st.booleans() | st.integers(min_value=-2 ** 80, max_value=2 ** 80)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40)
           | st.sampled_from(["", "0", "1", "2", "5", "true", "false", KEY_ID, "alias/x",
                              "1700000000", "1700000000000", "99999999999999999999",
                              "-1", "AES_256", "external", "RSA_2048", "ALL"]))
json_values = st.recursive(scalars, lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=12), children, max_size=5),
                           max_leaves=12)

KEY_INFO_FIELDS = ["key_id", "domain_id", "key_alias", "realm", "key_description", "key_spec",
                   "key_usage", "creation_date", "scheduled_deletion_date", "key_state",
                   "default_key_flag", "key_type", "expiration_time", "origin"]
key_info = st.fixed_dictionaries({}, optional={name: json_values for name in KEY_INFO_FIELDS})
# answers shaped like the real ones, with anything inside
shaped = st.one_of(
    st.fixed_dictionaries({}, optional={"key_info": key_info | json_values}),
    st.fixed_dictionaries({}, optional={
        "keys": json_values, "key_details": st.lists(key_info | json_values, max_size=4)
        | json_values, "next_marker": json_values, "truncated": json_values,
        "total": json_values}),
    st.fixed_dictionaries({}, optional={
        "key_id": json_values, "import_token": json_values, "public_key": json_values
        | st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode())
        | st.just(VALID_PUBLIC_KEY),
        "expiration_time": json_values}),
    st.fixed_dictionaries({}, optional={"cipher_text": json_values, "plain_text": json_values,
                                        "public_key": json_values, "key_id": json_values}),
    st.fixed_dictionaries({}, optional={"error": json_values | st.fixed_dictionaries(
        {}, optional={"error_code": json_values, "error_msg": json_values}),
        "error_code": json_values, "error_msg": json_values, "request_id": json_values}),
    st.fixed_dictionaries({}, optional={"token": json_values | st.fixed_dictionaries(
        {}, optional={"project": json_values | st.fixed_dictionaries(
            {}, optional={"id": json_values})})}),
    st.fixed_dictionaries({}, optional={"projects": st.lists(
        json_values | st.fixed_dictionaries({}, optional={"id": json_values,
                                                          "name": json_values}),
        max_size=3) | json_values}),
)
bodies = st.one_of(
    shaped.map(lambda value: json.dumps(value).encode()),
    shaped.map(lambda value: json.dumps(value).encode()),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=200),
    st.just(b""),
)
statuses = st.one_of(st.just(200), st.just(200), st.sampled_from([
    200, 201, 204, 301, 302, 400, 401, 403, 404, 405, 409, 413, 429, 500, 502, 503, 504]),
    st.integers(min_value=100, max_value=599))
header_values = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
headers = st.fixed_dictionaries({}, optional={
    "Retry-After": header_values | st.sampled_from(["0", "1", "-5", "1e9", "nan", "inf",
                                                    "Wed, 21 Oct 2015 07:28:00 GMT",
                                                    "Fri, 31 Dec 9999 23:59:59 GMT"]),
    "X-Request-Id": header_values,
    "X-Subject-Token": header_values,
    "Location": header_values,
    "Content-Type": st.sampled_from(["application/json", "text/html", "application/json;charset=UTF-8"]),
})
answers = st.tuples(statuses, headers, bodies)


# --------------------------------------------------------------------------- the fake transport

PROJECT_ID = "0123456789abcdef0123456789abcdef"
IAM = "https://iam.test.invalid/v3"
# what a working IAM answers (the KMS tests fuzz only the KMS answers)
GOOD_IAM = ((201, {"X-Subject-Token": "fuzz-iam-token"},
             json.dumps({"token": {"project": {"id": PROJECT_ID, "name": "eu-de"}}}).encode()),
            (200, {}, json.dumps({"projects": [{"id": PROJECT_ID, "name": "eu-de"}]}).encode()))


class FakeSession:
    """Stands in for requests.Session: IAM and KMS requests are answered in turn from their
    own drawn lists, each repeated when it runs out."""

    def __init__(self, kms_answers, iam_answers):
        self.answers = {"kms": kms_answers, "iam": iam_answers}
        self.calls = {"kms": 0, "iam": 0}

    def request(self, method, url, **kwargs):
        import requests
        from requests.structures import CaseInsensitiveDict

        kind = "iam" if url.startswith(IAM) else "kms"
        answers = self.answers[kind]
        if kind == "iam" and answers is GOOD_IAM:
            status, answer_headers, body = GOOD_IAM[0 if "/auth/tokens" in url else 1]
        else:
            status, answer_headers, body = answers[self.calls[kind] % len(answers)]
        self.calls[kind] += 1
        if sum(self.calls.values()) > MAX_CALLS:
            raise AssertionError("more than %d requests for one operation: unbounded loop"
                                 % MAX_CALLS)
        response = requests.models.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict(answer_headers)
        response._content = body
        response.url = url
        response.encoding = None
        response.reason = "fuzzed"
        return response

    def close(self):
        pass


# auth modes: token (no IAM call), AK/SK with a project id (no IAM call), password (IAM token
# whose scope names the project), AK/SK without project id (IAM project lookup), password with
# a project name but a token without project (IAM token, then project lookup)
AUTH_PARAMS = {
    "token": {"auth_token": "fuzz-token", "project_id": PROJECT_ID},
    "aksk": {"access_key": "FUZZAK00000000000000", "secret_key": "fuzz-secret",
             "project_id": PROJECT_ID},
    "password": {"username": "fuzz", "password": "fuzz-password", "domain_name": "fuzz-domain"},
    "aksk-lookup": {"access_key": "FUZZAK00000000000000", "secret_key": "fuzz-secret"},
    "password-lookup": {"username": "fuzz", "password": "fuzz-password",
                        "domain_name": "fuzz-domain", "project_name": "eu-de"},
}


def _client(collections_root, kms_answers, auth, iam_answers=GOOD_IAM):
    import_collection(collections_root)
    from ansible_collections.dew.kms.plugins.module_utils._auth import resolve_config
    from ansible_collections.dew.kms.plugins.module_utils._client import KmsClient

    params = {"kms_endpoint": "https://kms.test.invalid", "iam_endpoint": IAM,
              "region": "eu-de", "validate_certs": True, "timeout": 5, "retries": 2}
    params.update(AUTH_PARAMS[auth])
    client = KmsClient(resolve_config(params, env={}), warn=lambda msg: None)
    client._session = FakeSession(kms_answers, iam_answers)
    client.sleep = lambda seconds: None
    return client


def _pending_key():
    return {"key_id": KEY_ID, "alias": "fuzz", "description": "", "key_spec": "AES_256",
            "key_usage": "ENCRYPT_DECRYPT", "origin": "external", "key_state": "5",
            "key_state_name": "pending_import", "enabled": False, "creation_date": 1,
            "expiration_time": None, "scheduled_deletion_date": None, "default_key": False,
            "domain_id": None}


def _operations():
    """name -> fn(client): the client's calls and the _keys operations that parse answers."""
    from ansible_collections.dew.kms.plugins.module_utils import _keys, _material

    material = _material.load_material(os.urandom(32), "key_material")
    return {
        "call": lambda c: c.call("describe-key", {"key_id": KEY_ID}, key_id=KEY_ID),
        "call_not_idempotent": lambda c: c.call("create-key", {"key_alias": "x"},
                                                idempotent=False),
        "describe_key": lambda c: _keys.describe_key(c, KEY_ID),
        "describe_key_by_alias": lambda c: _keys.describe_key(c, "alias/fuzz"),
        "list_keys": lambda c: _keys.list_keys(c, key_state="enabled"),
        "create_key": lambda c: _keys.create_key(c, "fuzz", key_spec="AES_256",
                                                 origin="external"),
        "get_import_params": lambda c: _material.get_import_params(c, KEY_ID,
                                                                   "RSAES_OAEP_SHA_256"),
        "get_public_key": lambda c: _keys.get_public_key(c, KEY_ID),
        "encrypt_decrypt": lambda c: _keys.decrypt_data(
            c, _keys.encrypt_data(c, KEY_ID, "probe") or "AAAA"),
        "import_material": lambda c: _material.import_material(c, _pending_key(), material,
                                                               "RSAES_OAEP_SHA_256"),
        "import_wrapped_material": lambda c: _material.import_wrapped_material(
            c, _pending_key(), _material.WrappedMaterial("A" * 212, "B" * 344)),
        "delete_material": lambda c: _material.delete_material(
            c, dict(_pending_key(), key_state="2")),
    }


OPERATIONS = sorted(["call", "call_not_idempotent", "describe_key", "describe_key_by_alias",
                     "list_keys", "create_key", "get_import_params", "get_public_key",
                     "encrypt_decrypt", "import_material", "import_wrapped_material",
                     "delete_material"])

# Operations that end in another exception than KmsError for some answers, each with the
# FINDINGS.md entry that names the problem. The xfail markers are strict: an entry must go when
# the problem is fixed.
KNOWN_BROKEN = {}
NO_SHRINK = settings(SETTINGS, phases=[Phase.explicit, Phase.reuse, Phase.generate])

_examples = {}


def _check_operation(collections_root, run, kms_answers, auth, iam_answers=GOOD_IAM):
    from ansible_collections.dew.kms.plugins.module_utils._errors import KmsError

    client = _client(collections_root, kms_answers, auth, iam_answers)
    try:
        run(client)
    except KmsError as error:
        assert isinstance(error.msg, str) and error.msg
        for secret in ("fuzz-secret", "fuzz-password", "fuzz-token", "fuzz-iam-token"):
            assert secret not in error.msg


@pytest.mark.parametrize("auth", ["token", "aksk", "password"])
@pytest.mark.parametrize("operation", OPERATIONS)
def test_any_kms_answer_ends_in_kms_error_or_a_result(operation, auth, collections_root,
                                                      request):
    known = KNOWN_BROKEN.get(operation)
    if known:
        request.applymarker(pytest.mark.xfail(strict=True, reason=known))
    import_collection(collections_root)
    run = _operations()[operation]

    @(NO_SHRINK if known else SETTINGS)
    @given(st.lists(answers, min_size=1, max_size=6))
    @example([(200, {}, b'{"key_info": "not an object"}')])
    @example([(200, {}, b'{"key_details": ["not an object"], "key_info": [1]}')])
    @example([(500, {}, b""), (200, {}, b'{"key_info": 1}')])
    @example([(200, {}, json.dumps({"public_key": VALID_PUBLIC_KEY, "import_token": "t",
                                    "expiration_time": "9" * 20}).encode())])
    def check(drawn):
        _examples[operation] = _examples.get(operation, 0) + 1
        _check_operation(collections_root, run, drawn, auth)

    check()
    record_figure("client_fuzz_examples", dict(_examples))


IAM_BROKEN = {}  # auth -> FINDINGS.md entry, as KNOWN_BROKEN


@pytest.mark.parametrize("auth", ["password", "aksk-lookup", "password-lookup"])
def test_any_iam_answer_ends_in_kms_error_or_a_result(auth, collections_root, request):
    """The IAM token request and the project lookup, under any answer (KMS answers {})."""
    known = IAM_BROKEN.get(auth)
    if known:
        request.applymarker(pytest.mark.xfail(strict=True, reason=known))
    import_collection(collections_root)
    run = _operations()["call"]

    @(NO_SHRINK if known else SETTINGS)
    @given(st.lists(answers, min_size=1, max_size=4))
    @example([(201, {"X-Subject-Token": "t"}, b"<html>a login page</html>")])
    @example([(200, {}, b'{"projects": true}')])
    @example([(200, {}, b'{"projects": [{}]}')])
    def check(drawn):
        _examples["iam:" + auth] = _examples.get("iam:" + auth, 0) + 1
        _check_operation(collections_root, run, [(200, {}, b"{}")], auth, iam_answers=drawn)

    check()
    record_figure("client_fuzz_examples", dict(_examples))


@SETTINGS
@given(value=st.text(max_size=30) | st.integers(min_value=-2 ** 80, max_value=2 ** 80).map(str))
@example(value="9" * 20)
def test_any_service_timestamp_renders(value, collections_root):
    """What kms_byok and get_import_params do with a timestamp the service sent."""
    import_collection(collections_root)
    from ansible_collections.dew.kms.plugins.module_utils import _keys

    seconds = _keys.epoch_seconds(value)
    rendered = _keys.iso8601(seconds)
    assert rendered is None or rendered.endswith("Z")


@SETTINGS
@given(body=json_values | st.binary(max_size=100).map(lambda b: b.decode("latin-1")))
def test_error_parsing_never_raises(body, collections_root):
    import_collection(collections_root)
    from ansible_collections.dew.kms.plugins.module_utils._errors import (
        KmsError, error_from_response, parse_error_body)

    code, msg, request_id = parse_error_body(body)
    for value in (code, msg, request_id):
        assert value is None or isinstance(value, str)
    for status in (400, 401, 404, 429, 500):
        assert isinstance(error_from_response("KMS describe-key", status, body, key_id=KEY_ID),
                          KmsError)


@SETTINGS
@given(info=st.fixed_dictionaries({}, optional={name: json_values for name in KEY_INFO_FIELDS}))
def test_normalize_key_of_any_key_info(info, collections_root):
    import_collection(collections_root)
    from ansible_collections.dew.kms.plugins.module_utils import _keys

    key = _keys.normalize_key(info)
    assert set(key) >= {"key_id", "key_state", "key_state_name", "enabled", "expiration_time"}
    assert key["enabled"] is (key["key_state"] == "2")
    for name in ("creation_date", "expiration_time", "scheduled_deletion_date"):
        assert key[name] is None or (isinstance(key[name], int) and key[name] > 0)


@SETTINGS
@given(value=header_values | st.sampled_from(["1e400", "-0", "  7  ", "NaN", "Infinity",
                                             "Mon, 01 Jan 0001 00:00:00 GMT"]))
def test_retry_after_is_bounded(value, collections_root):
    import_collection(collections_root)
    from ansible_collections.dew.kms.plugins.module_utils._client import (
        RETRY_AFTER_CAP, _retry_after_seconds)

    seconds = _retry_after_seconds(value)
    assert seconds is None or 0 <= seconds <= RETRY_AFTER_CAP
