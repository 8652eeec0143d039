"""Bring your own key: import parameters, tokens, symmetric and asymmetric import, expiry."""

import base64
import os
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

from conftest import assert_error, wrap

ALGORITHMS = ["RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1", "RSAES_PKCS1_V1_5"]


def _round_trip(client, key_id, text="proof of material"):
    cipher = client.ok("encrypt-data", {"key_id": key_id, "plain_text": text})["cipher_text"]
    return client.ok("decrypt-data", {"cipher_text": cipher})["plain_text"]


def _private_der(private_key):
    return private_key.private_bytes(serialization.Encoding.DER,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())


def _public_pem(private_key):
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _asymmetric_body(client, key_id, private_der, temporary_key=None):
    temporary_key = temporary_key or os.urandom(32)
    params = client.import_parameters(key_id)
    return {"key_id": key_id, "import_token": params["import_token"],
            "encrypted_key_material": wrap(params["public_key"], temporary_key),
            "encrypted_privatekey": base64.b64encode(
                aes_key_wrap_with_padding(temporary_key, private_der)).decode()}


def test_import_parameters_shape(kms):
    key_id = kms.create_key(origin="external")
    params = kms.import_parameters(key_id)
    assert params["key_id"] == key_id
    assert isinstance(params["expiration_time"], int)
    assert abs(params["expiration_time"] - (time.time() + 24 * 3600)) < 60
    public_key = serialization.load_der_public_key(base64.b64decode(params["public_key"]))
    assert isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size == 2048
    assert "\n" not in params["public_key"]
    assert 200 <= len(params["import_token"]) <= 6144
    again = kms.import_parameters(key_id)
    assert again["import_token"] != params["import_token"]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_symmetric_import_with_each_wrapping_algorithm(kms, algorithm):
    key_id = kms.create_key(origin="external")
    material = os.urandom(32)
    response = kms.import_symmetric(key_id, material, algorithm)
    assert response.status_code == 200 and response.json() == {}
    info = kms.describe(key_id)
    assert (info["key_state"], info["expiration_time"]) == ("2", "")
    assert _round_trip(kms, key_id) == "proof of material"


def test_import_with_expiration_shows_milliseconds(kms):
    key_id = kms.create_key(origin="external")
    expires = int(time.time()) + 3600
    assert kms.import_symmetric(key_id, os.urandom(32), expiration_time=str(expires)).ok
    assert kms.describe(key_id)["expiration_time"] == str(expires * 1000)
    other = kms.create_key(origin="external")
    assert kms.import_symmetric(other, os.urandom(32), expiration_time=expires).ok


def test_round_trip_proves_which_material_was_imported(kms):
    material = os.urandom(32)
    key_id = kms.create_key(origin="external")
    assert kms.import_symmetric(key_id, material).ok
    cipher = kms.ok("encrypt-data", {"key_id": key_id, "plain_text": "x"})["cipher_text"]
    kms.ok("delete-imported-key-material", {"key_id": key_id})
    assert kms.describe(key_id)["key_state"] == "5"
    assert_error(kms.post("decrypt-data", {"cipher_text": cipher}), 400, "KMS.0310")
    assert_error(kms.import_symmetric(key_id, os.urandom(32)), 400, "KMS.2606")
    assert kms.import_symmetric(key_id, material).ok
    assert kms.ok("decrypt-data", {"cipher_text": cipher})["plain_text"] == "x"


def test_import_parameters_errors(kms):
    kms_key = kms.create_key()
    assert_error(kms.post("get-parameters-for-import", {
        "key_id": kms_key, "wrapping_algorithm": "RSAES_OAEP_SHA_256"}), 400, "KMS.0309")
    external = kms.create_key(origin="external")
    assert_error(kms.post("get-parameters-for-import", {"key_id": external}), 400, "KMS.0204")
    assert_error(kms.post("get-parameters-for-import", {
        "key_id": external, "wrapping_algorithm": "SM2_ENCRYPT"}), 400, "KMS.0308")
    assert_error(kms.post("get-parameters-for-import", {
        "key_id": "alias/x", "wrapping_algorithm": "RSAES_OAEP_SHA_256"}), 400, "KMS.0205")
    assert kms.import_symmetric(external, os.urandom(32)).ok
    assert_error(kms.post("get-parameters-for-import", {
        "key_id": external, "wrapping_algorithm": "RSAES_OAEP_SHA_256"}), 400, "KMS.0310")


def test_import_into_a_kms_key_or_imported_key_is_refused(kms):
    external = kms.create_key(origin="external")
    params = kms.import_parameters(external)
    body = {"key_id": external, "import_token": params["import_token"],
            "encrypted_key_material": wrap(params["public_key"], os.urandom(32))}
    assert kms.ok("import-key-material", body) == {}
    assert_error(kms.post("import-key-material", body), 400, "KMS.0310")
    body["key_id"] = kms.create_key()
    assert_error(kms.post("import-key-material", body), 400, "KMS.0309")


def _valid_import(kms):
    key_id = kms.create_key(origin="external")
    params = kms.import_parameters(key_id)
    return key_id, params, {"key_id": key_id, "import_token": params["import_token"],
                            "encrypted_key_material": wrap(params["public_key"],
                                                           os.urandom(32))}


def test_garbage_and_tampered_tokens_are_kms_2605(kms):
    key_id, params, body = _valid_import(kms)
    for token in ("A" * 212, "not base64!" * 30, "QUJD"):
        assert_error(kms.post("import-key-material", dict(body, import_token=token)),
                     400, "KMS.2605")
    raw = bytearray(base64.b64decode(params["import_token"]))
    raw[-1] ^= 1
    tampered = base64.b64encode(bytes(raw)).decode()
    assert_error(kms.post("import-key-material", dict(body, import_token=tampered)),
                 400, "KMS.2605")
    assert kms.describe(key_id)["key_state"] == "5"


def test_token_of_another_key_is_kms_2603(kms):
    body = _valid_import(kms)[2]
    other = kms.create_key(origin="external")
    assert_error(kms.post("import-key-material", dict(body, key_id=other)), 400, "KMS.2603")


def test_token_of_another_project_is_kms_2605(kms, kms_b):
    body = _valid_import(kms)[2]
    key_b = kms_b.create_key(origin="external")
    assert_error(kms_b.post("import-key-material", dict(body, key_id=key_b)), 400, "KMS.2605")


def test_expired_import_token_is_kms_2601(fresh_emulator):
    emulator = fresh_emulator()
    client = emulator.client()
    params, body = _valid_import(client)[1:]
    emulator.advance_clock(params["expiration_time"] - time.time() + 1)
    client = emulator.client()
    assert_error(client.post("import-key-material", body), 400, "KMS.2601")


def test_undecryptable_material_is_kms_0311(kms):
    key_id, params, body = _valid_import(kms)
    assert_error(kms.post("import-key-material", dict(
        body, encrypted_key_material=base64.b64encode(os.urandom(256)).decode())),
        400, "KMS.0311")
    assert_error(kms.post("import-key-material", dict(body, encrypted_key_material="QUJD")),
                 400, "KMS.0311")
    # Wrapped with SHA-1 OAEP while the token says SHA-256.
    wrong_padding = wrap(params["public_key"], os.urandom(32), "RSAES_OAEP_SHA_1")
    assert_error(kms.post("import-key-material", dict(
        body, encrypted_key_material=wrong_padding)), 400, "KMS.0311")


@pytest.mark.parametrize("length", [16, 31, 33])
def test_symmetric_material_must_be_32_bytes(kms, length):
    key_id = kms.create_key(origin="external")
    assert_error(kms.import_symmetric(key_id, os.urandom(length)), 400, "KMS.2604")


@pytest.mark.parametrize("expiration, code", [("1", "KMS.2602"), ("soon", "KMS.0308")])
def test_material_expiration_must_be_a_future_epoch(kms, expiration, code):
    key_id = kms.create_key(origin="external")
    assert_error(kms.import_symmetric(key_id, os.urandom(32), expiration_time=expiration),
                 400, code)


@pytest.mark.parametrize("expiration", [
    253402300800, 10 ** 17, 10 ** 30, "9999999999999999999"])
def test_material_expiration_beyond_year_9999_is_kms_0308_not_a_server_error(kms, expiration):
    key_id = kms.create_key(origin="external")
    assert_error(kms.import_symmetric(key_id, os.urandom(32), expiration_time=expiration),
                 400, "KMS.0308")
    assert kms.describe(key_id)["key_state"] == "5"
    # the last second of year 9999 is still accepted
    assert kms.import_symmetric(key_id, os.urandom(32), expiration_time=253402300799).ok
    assert kms.describe(key_id)["expiration_time"] == "253402300799000"


def test_import_needs_token_and_material(kms):
    key_id, params, body = _valid_import(kms)
    for field in ("key_id", "import_token", "encrypted_key_material"):
        incomplete = {name: value for name, value in body.items() if name != field}
        assert_error(kms.post("import-key-material", incomplete), 400, "KMS.0204")


def test_delete_imported_material_rules(kms):
    assert_error(kms.post("delete-imported-key-material", {"key_id": kms.create_key()}),
                 400, "KMS.0309")
    pending = kms.create_key(origin="external")
    assert_error(kms.post("delete-imported-key-material", {"key_id": pending}), 400, "KMS.2701")
    disabled = kms.create_key(origin="external")
    assert kms.import_symmetric(disabled, os.urandom(32)).ok
    kms.ok("disable-key", {"key_id": disabled})
    assert kms.ok("delete-imported-key-material", {"key_id": disabled}) == {}
    assert kms.describe(disabled)["key_state"] == "5"
    asymmetric = kms.create_key(origin="external", key_spec="EC_P256")
    assert_error(kms.post("delete-imported-key-material", {"key_id": asymmetric}),
                 400, "KMS.2702")


def test_material_expiry_returns_the_key_to_pending_import(fresh_emulator):
    emulator = fresh_emulator()
    client = emulator.client()
    material = os.urandom(32)
    key_id = client.create_key(origin="external")
    assert client.import_symmetric(key_id, material,
                                   expiration_time=int(time.time()) + 3600).ok
    emulator.advance_clock(3500)
    assert client.describe(key_id)["key_state"] == "2"
    emulator.advance_clock(200)
    info = client.describe(key_id)
    assert (info["key_state"], info["expiration_time"]) == ("5", "")
    assert_error(client.post("encrypt-data", {"key_id": key_id, "plain_text": "x"}),
                 400, "KMS.0310")
    assert client.import_symmetric(key_id, material).ok
    assert client.describe(key_id)["key_state"] == "2"


@pytest.mark.parametrize("key_spec, private_key", [
    ("RSA_2048", lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    ("EC_P256", lambda: ec.generate_private_key(ec.SECP256R1())),
    ("EC_P384", lambda: ec.generate_private_key(ec.SECP384R1())),
])
def test_asymmetric_import_serves_the_imported_public_key(kms, key_spec, private_key):
    key = private_key()
    key_id = kms.create_key(origin="external", key_spec=key_spec)
    assert_error(kms.post("get-publickey", {"key_id": key_id}), 400, "KMS.0310")
    assert kms.ok("import-key-material", _asymmetric_body(kms, key_id, _private_der(key))) == {}
    info = kms.describe(key_id)
    assert (info["key_state"], info["expiration_time"]) == ("2", "")
    served = kms.ok("get-publickey", {"key_id": key_id})["public_key"]
    assert served.replace("\r\n", "\n") == _public_pem(key)


def test_asymmetric_import_with_a_16_byte_temporary_key(kms):
    key = ec.generate_private_key(ec.SECP256R1())
    key_id = kms.create_key(origin="external", key_spec="EC_P256")
    body = _asymmetric_body(kms, key_id, _private_der(key), temporary_key=os.urandom(16))
    assert kms.ok("import-key-material", body) == {}


def test_asymmetric_import_errors(kms):
    key_id = kms.create_key(origin="external", key_spec="EC_P256")
    p256 = _private_der(ec.generate_private_key(ec.SECP256R1()))
    body = _asymmetric_body(kms, key_id, p256, temporary_key=os.urandom(24))
    assert_error(kms.post("import-key-material", body), 400, "KMS.2610")
    body = _asymmetric_body(kms, key_id, p256)
    del body["encrypted_privatekey"]
    assert_error(kms.post("import-key-material", body), 400, "KMS.2608")
    body = _asymmetric_body(kms, key_id, p256)
    body["encrypted_privatekey"] = base64.b64encode(os.urandom(160)).decode()
    assert_error(kms.post("import-key-material", body), 400, "KMS.2609")
    p384 = _private_der(ec.generate_private_key(ec.SECP384R1()))
    assert_error(kms.post("import-key-material", _asymmetric_body(kms, key_id, p384)),
                 400, "KMS.2609")
    not_a_key = os.urandom(150)
    assert_error(kms.post("import-key-material", _asymmetric_body(kms, key_id, not_a_key)),
                 400, "KMS.2609")
    assert kms.describe(key_id)["key_state"] == "5"
