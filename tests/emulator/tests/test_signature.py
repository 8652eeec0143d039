"""SDK-HMAC-SHA256: the emulator's verifier and the tests' signer against the spec's vectors."""

import calendar
import hashlib
import time

import pytest

from kms_emulator import aksk
from signing import sign_request

AK = "EXAMPLEAK00000000000"
SK = "EXAMPLESKabcdefghijklmnopqrstuvwxyz0123456"
PROJECT = "0123456789abcdef0123456789abcdef"
DATE = "20250101T000000Z"
DATE_EPOCH = calendar.timegm(time.strptime(DATE, "%Y%m%dT%H%M%SZ"))

V1 = dict(
    method="POST", host="kms.eu-de.otc.t-systems.com",
    path="/v1.0/%s/kms/describe-key" % PROJECT, query="",
    headers={"content-type": "application/json;charset=utf-8", "x-project-id": PROJECT},
    body=b'{"key_id": "0d0466b0-e727-4d9c-b35d-f84bb474a37f"}',
    canonical_hash=None,
    signature="11323db9d22b9f0c93b0d97ce760f49f172d29acacd9a746edd0656057bd3eec")
V2 = dict(
    method="GET", host="iam.eu-de.otc.t-systems.com", path="/v3/projects", query="name=eu-de",
    headers={"content-type": "application/json", "x-project-id": PROJECT}, body=b"",
    canonical_hash="90548b5caf739d4d0d8e8fdcf101675984c14a1e5635dbb3d368a33b7bb9c14c",
    signature="baae05cff2a16d3720f0f0f7f9d70018f63fbef2253e45791c28a96c704679bd")
V3 = dict(
    method="POST", host="127.0.0.1:8443", path="/v1.0/%s/kms/get-parameters-for-import" % PROJECT,
    query="", headers={"content-type": "application/json;charset=utf-8", "x-project-id": PROJECT,
                       "x-security-token": "EXAMPLESECURITYTOKEN"},
    body=b'{"key_id": "0d0466b0-e727-4d9c-b35d-f84bb474a37f", '
         b'"wrapping_algorithm": "RSAES_OAEP_SHA_256"}',
    canonical_hash="db1d622618d5ad1db98d37985efdbed309a9a593f34515db5e02fad287cf43c7",
    signature="c5347f74ed3801dd2d9859424afca5a3f948ddae34c05301036e7af00aa98be7")
VECTORS = {"V1": V1, "V2": V2, "V3": V3}


def _headers(vector):
    headers = dict(vector["headers"], host=vector["host"], **{"x-sdk-date": DATE})
    return headers


def _authorization(vector, signature=None):
    names = ";".join(sorted(_headers(vector)))
    return "SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%s" % (
        AK, names, signature or vector["signature"])


def _verify(vector, headers=None, now=DATE_EPOCH, body=None, secret=SK):
    headers = headers or dict(_headers(vector), authorization=_authorization(vector))
    return aksk.verify(vector["method"], vector["path"], vector["query"], headers,
                       vector["body"] if body is None else body,
                       lambda access: secret if access == AK else None, now=now)


def test_v1_canonical_request_and_string_to_sign_match_the_spec():
    headers = _headers(V1)
    canonical = aksk.canonical_request("POST", V1["path"], "", headers, sorted(headers),
                                       V1["body"])
    assert canonical == (
        "POST\n/v1.0/0123456789abcdef0123456789abcdef/kms/describe-key/\n\n"
        "content-type:application/json;charset=utf-8\nhost:kms.eu-de.otc.t-systems.com\n"
        "x-project-id:0123456789abcdef0123456789abcdef\nx-sdk-date:20250101T000000Z\n\n"
        "content-type;host;x-project-id;x-sdk-date\n"
        "a53cf1735740c07f57f84ca42c122ec503677b4ddde8d1726011b2edb25af8a1")
    assert aksk.string_to_sign(DATE, canonical) == (
        "SDK-HMAC-SHA256\n20250101T000000Z\n"
        "92741c5f65fcabc1759145d9a4b26dc3bfd3fcc349322d13c470fa1a5c6930cf")


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_verifier_computes_the_spec_signature(name):
    vector = VECTORS[name]
    headers = _headers(vector)
    canonical = aksk.canonical_request(vector["method"], vector["path"], vector["query"],
                                       headers, sorted(headers), vector["body"])
    if vector["canonical_hash"]:
        assert hashlib.sha256(canonical.encode()).hexdigest() == vector["canonical_hash"]
    assert aksk.compute_signature(SK, DATE, canonical) == vector["signature"]


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_verifier_accepts_the_spec_vectors(name):
    access, signed = _verify(VECTORS[name])
    assert access == AK
    assert "x-sdk-date" in signed and "host" in signed


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_test_signer_produces_the_spec_signature(name):
    vector = VECTORS[name]
    url = "https://%s%s%s" % (vector["host"], vector["path"],
                              "?" + vector["query"] if vector["query"] else "")
    signed = sign_request(vector["method"], url, vector["headers"], vector["body"], AK, SK,
                          sdk_date=DATE)
    assert signed["Authorization"] == _authorization(vector)


@pytest.mark.parametrize("skew", [-16 * 60, 16 * 60])
def test_verifier_rejects_a_date_more_than_15_minutes_off(skew):
    with pytest.raises(aksk.SignatureError, match="15 minutes"):
        _verify(V1, now=DATE_EPOCH + skew)


@pytest.mark.parametrize("skew", [-14 * 60, 14 * 60])
def test_verifier_accepts_a_date_within_15_minutes(skew):
    _verify(V1, now=DATE_EPOCH + skew)


def test_verifier_rejects_a_changed_body():
    with pytest.raises(aksk.SignatureError, match="signature fail"):
        _verify(V1, body=V1["body"].replace(b"0d04", b"0d05"))


def test_verifier_rejects_a_header_changed_after_signing():
    headers = dict(_headers(V1), authorization=_authorization(V1))
    headers["x-project-id"] = "f" * 32
    with pytest.raises(aksk.SignatureError, match="signature fail"):
        _verify(V1, headers=headers)


def test_verifier_rejects_a_wrong_secret_and_an_unknown_access_key():
    with pytest.raises(aksk.SignatureError, match="signature fail"):
        _verify(V1, secret=SK + "x")
    headers = dict(_headers(V1), authorization=_authorization(V1).replace(AK, "UNKNOWNAK"))
    with pytest.raises(aksk.SignatureError, match="ak not exist"):
        _verify(V1, headers=headers)


@pytest.mark.parametrize("authorization", [
    "",
    "HMAC-SHA256 Access=a, SignedHeaders=host, Signature=00",
    "SDK-HMAC-SHA256 Access=a, Signature=00",
    "SDK-HMAC-SHA256 garbage",
    "SDK-HMAC-SHA256 Access=a, SignedHeaders=, Signature=00",
])
def test_verifier_rejects_malformed_authorization(authorization):
    headers = dict(_headers(V1), authorization=authorization)
    with pytest.raises(aksk.SignatureError):
        _verify(V1, headers=headers)


def test_verifier_requires_signed_host_and_date_present_in_request():
    headers = dict(_headers(V1))
    del headers["host"]
    unsigned_host = "SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%s" % (
        AK, ";".join(sorted(headers)), "0" * 64)
    with pytest.raises(aksk.SignatureError, match="host header must be signed"):
        _verify(V1, headers=dict(headers, host=V1["host"], authorization=unsigned_host))
    missing = dict(_headers(V1), authorization=_authorization(V1))
    del missing["x-project-id"]
    with pytest.raises(aksk.SignatureError, match="does not carry"):
        _verify(V1, headers=missing)


def test_canonical_uri_re_encodes_segments_and_appends_a_slash():
    assert aksk.canonical_uri("/v1.0/%7Bproject_id%7D/kms/a b") == \
        "/v1.0/%7Bproject_id%7D/kms/a%20b/"
    assert aksk.canonical_uri("/") == "/"
    assert aksk.canonical_query("b=2&a=x y&a=1") == "a=1&a=x%20y&b=2"
