"""Cryptographic use of keys: encrypt/decrypt data, sign/verify, public keys."""

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

from conftest import assert_error


def _one_key_of_each_kind(client):
    return {
        "aes": client.create_key(),
        "rsa_sign": client.create_key(key_spec="RSA_2048"),
        "rsa_encrypt": client.create_key(key_spec="RSA_2048", key_usage="ENCRYPT_DECRYPT"),
        "ec256": client.create_key(key_spec="EC_P256"),
        "ec384": client.create_key(key_spec="EC_P384"),
        "hmac": client.create_key(key_spec="HMAC_256"),
    }


@pytest.fixture(scope="module")
def keys(kms):
    """One key of each kind in the OTC profile, created once for this module."""
    return _one_key_of_each_kind(kms)


@pytest.fixture(scope="module")
def hw_keys(huawei_kms):
    """The same in the Huawei Cloud profile, whose encrypt-data and decrypt-data define
    encryption_algorithm and key_id (RSA encryption needs both)."""
    return _one_key_of_each_kind(huawei_kms)


@pytest.fixture(scope="module")
def clouds(kms, keys, huawei_kms, hw_keys):
    return {"otc": (kms, keys), "huaweicloud": (huawei_kms, hw_keys)}


def _b64(data):
    return base64.b64encode(data).decode()


def _public_key(kms, key_id):
    pem = kms.ok("get-publickey", {"key_id": key_id})["public_key"]
    return serialization.load_pem_public_key(pem.encode())


@pytest.mark.parametrize("cloud", ["otc", "huaweicloud"])
def test_symmetric_round_trip_with_unicode(clouds, cloud):
    client, kinds = clouds[cloud]
    encrypted = client.ok("encrypt-data", {"key_id": kinds["aes"], "plain_text": "grüße ✓"})
    assert encrypted["key_id"] == kinds["aes"]
    decrypted = client.ok("decrypt-data", {"cipher_text": encrypted["cipher_text"]})
    assert decrypted["plain_text"] == "grüße ✓"
    assert decrypted["key_id"] == kinds["aes"]
    # Only the Huawei Cloud answer (SDK model DecryptDataResponse) has plain_text_base64.
    if cloud == "otc":
        assert set(decrypted) == {"key_id", "plain_text"}
    else:
        assert base64.b64decode(decrypted["plain_text_base64"]) == "grüße ✓".encode()


def test_symmetric_ciphertexts_are_fresh_and_embed_the_key(kms, keys):
    one = kms.ok("encrypt-data", {"key_id": keys["aes"], "plain_text": "same"})["cipher_text"]
    two = kms.ok("encrypt-data", {"key_id": keys["aes"], "plain_text": "same"})["cipher_text"]
    assert one != two
    assert keys["aes"].encode() in base64.b64decode(one)


@pytest.mark.parametrize("cloud, field, value", [
    ("otc", "encryption_context", {"purpose": "test", "n": "1"}),
    ("otc", "encryption_context", '{"purpose": "test"}'),
    ("huaweicloud", "additional_authenticated_data", "aad-value"),
])
def test_context_must_match_at_decrypt(clouds, cloud, field, value):
    client, kinds = clouds[cloud]
    cipher = client.ok("encrypt-data", {"key_id": kinds["aes"], "plain_text": "ctx",
                                        field: value})["cipher_text"]
    assert client.ok("decrypt-data", {"cipher_text": cipher, field: value})["plain_text"] == \
        "ctx"
    assert_error(client.post("decrypt-data", {"cipher_text": cipher}), 400, "KMS.0208")


@pytest.mark.parametrize("cloud, field, value", [
    ("otc", "additional_authenticated_data", "aad-value"),
    ("huaweicloud", "encryption_context", {"purpose": "test"}),
])
def test_each_profile_refuses_the_other_clouds_context_field(clouds, cloud, field, value):
    client, kinds = clouds[cloud]
    assert_error(client.post("encrypt-data", {"key_id": kinds["aes"], "plain_text": "x",
                                              field: value}), 400, "KMS.0308")


def test_encryption_context_must_be_an_object(kms, keys):
    assert_error(kms.post("encrypt-data", {"key_id": keys["aes"], "plain_text": "x",
                                           "encryption_context": [1]}), 400, "KMS.0208")
    assert_error(kms.post("encrypt-data", {"key_id": keys["aes"], "plain_text": "x",
                                           "encryption_context": "not json"}), 400, "KMS.0208")


def test_tampered_and_foreign_ciphertexts_are_refused(kms, keys):
    cipher = bytearray(base64.b64decode(kms.ok("encrypt-data", {
        "key_id": keys["aes"], "plain_text": "x"})["cipher_text"]))
    cipher[-1] ^= 1
    assert_error(kms.post("decrypt-data", {"cipher_text": _b64(bytes(cipher))}), 400, "KMS.0208")
    assert_error(kms.post("decrypt-data", {"cipher_text": _b64(b"\x00" * 80)}), 400, "KMS.0308")
    assert_error(kms.post("decrypt-data", {"cipher_text": "%%%"}), 400, "KMS.0308")
    assert_error(kms.post("decrypt-data", {}), 400, "KMS.0204")


def test_decrypt_with_another_key_id_is_refused(huawei_kms, hw_keys):
    cipher = huawei_kms.ok("encrypt-data", {"key_id": hw_keys["aes"],
                                            "plain_text": "x"})["cipher_text"]
    other = huawei_kms.create_key()
    assert_error(huawei_kms.post("decrypt-data", {"cipher_text": cipher, "key_id": other}),
                 400, "KMS.0308")
    assert huawei_kms.ok("decrypt-data", {"cipher_text": cipher, "key_id": hw_keys["aes"]})
    assert_error(huawei_kms.post("decrypt-data", {"cipher_text": cipher, "key_id": "alias/x"}),
                 400, "KMS.0205")


def test_plaintext_limits(kms, keys):
    assert kms.ok("encrypt-data", {"key_id": keys["aes"], "plain_text": "a" * 4096})
    assert_error(kms.post("encrypt-data", {"key_id": keys["aes"], "plain_text": "a" * 4097}),
                 400, "KMS.0308")
    assert_error(kms.post("encrypt-data", {"key_id": keys["aes"]}), 400, "KMS.0204")


@pytest.mark.parametrize("algorithm", ["RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1"])
def test_rsa_encrypt_decrypt(huawei_kms, hw_keys, algorithm):
    kms = huawei_kms
    key_id = hw_keys["rsa_encrypt"]
    cipher = kms.ok("encrypt-data", {"key_id": key_id, "plain_text": "rsa secret",
                                     "encryption_algorithm": algorithm})["cipher_text"]
    assert len(base64.b64decode(cipher)) == 256
    assert kms.ok("decrypt-data", {"key_id": key_id, "cipher_text": cipher,
                                   "encryption_algorithm": algorithm})["plain_text"] == \
        "rsa secret"


def test_rsa_ciphertext_is_standard_oaep(huawei_kms, hw_keys):
    kms, keys = huawei_kms, hw_keys
    public_key = _public_key(kms, keys["rsa_encrypt"])
    cipher = public_key.encrypt(b"made locally", padding.OAEP(
        mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
    assert kms.ok("decrypt-data", {"key_id": keys["rsa_encrypt"], "cipher_text": _b64(cipher),
                                   "encryption_algorithm": "RSAES_OAEP_SHA_256"})[
        "plain_text"] == "made locally"


@pytest.mark.parametrize("cloud, kind, body, code", [
    ("huaweicloud", "aes", {"encryption_algorithm": "RSAES_OAEP_SHA_256"}, "KMS.2105"),
    ("otc", "rsa_encrypt", {}, "KMS.2106"),
    ("huaweicloud", "rsa_encrypt", {}, "KMS.2106"),
    ("huaweicloud", "rsa_encrypt",
     {"encryption_algorithm": "RSAES_OAEP_SHA_256", "plain_text": "x" * 191}, "KMS.2108"),
    ("otc", "ec256", {}, "KMS.1114"),
    ("huaweicloud", "rsa_sign", {"encryption_algorithm": "RSAES_OAEP_SHA_256"}, "KMS.0335"),
    ("otc", "hmac", {}, "KMS.0341"),
])
def test_encrypt_rules_by_key_kind(clouds, cloud, kind, body, code):
    client, kinds = clouds[cloud]
    request = dict({"key_id": kinds[kind], "plain_text": "x"}, **body)
    assert_error(client.post("encrypt-data", request), 400, code)


def test_crypto_on_disabled_pending_deletion_and_pending_import_keys(kms):
    key_id = kms.create_key()
    cipher = kms.ok("encrypt-data", {"key_id": key_id, "plain_text": "x"})["cipher_text"]
    kms.ok("disable-key", {"key_id": key_id})
    assert_error(kms.post("encrypt-data", {"key_id": key_id, "plain_text": "x"}),
                 400, "KMS.0209")
    assert_error(kms.post("decrypt-data", {"cipher_text": cipher}), 400, "KMS.0209")
    kms.ok("schedule-key-deletion", {"key_id": key_id, "pending_days": "7"})
    assert_error(kms.post("encrypt-data", {"key_id": key_id, "plain_text": "x"}),
                 400, "KMS.0210")
    assert_error(kms.post("decrypt-data", {"cipher_text": cipher}), 400, "KMS.0210")
    pending = kms.create_key(origin="external")
    assert_error(kms.post("encrypt-data", {"key_id": pending, "plain_text": "x"}),
                 400, "KMS.0310")
    signer = kms.create_key(key_spec="EC_P256")
    kms.ok("disable-key", {"key_id": signer})
    assert_error(kms.post("sign", {"key_id": signer, "signing_algorithm": "ECDSA_SHA_256",
                                   "message": _b64(hashlib.sha256(b"m").digest())}),
                 400, "KMS.0209")


def _digest(algorithm, message):
    name = algorithm[-7:].replace("_", "").lower()  # SHA_256 -> sha256
    return hashlib.new(name, message).digest()


@pytest.mark.parametrize("kind, algorithm", [
    ("rsa_sign", "RSASSA_PSS_SHA_256"), ("rsa_sign", "RSASSA_PSS_SHA_384"),
    ("rsa_sign", "RSASSA_PSS_SHA_512"), ("rsa_sign", "RSASSA_PKCS1_V1_5_SHA_256"),
    ("rsa_sign", "RSASSA_PKCS1_V1_5_SHA_384"), ("rsa_sign", "RSASSA_PKCS1_V1_5_SHA_512"),
    ("ec256", "ECDSA_SHA_256"), ("ec384", "ECDSA_SHA_384"), ("ec384", "ECDSA_SHA_512"),
])
@pytest.mark.parametrize("message_type", ["DIGEST", "RAW"])
def test_sign_and_verify(kms, keys, kind, algorithm, message_type):
    message = b"message to sign"
    sent = _digest(algorithm, message) if message_type == "DIGEST" else message
    body = {"key_id": keys[kind], "signing_algorithm": algorithm, "message": _b64(sent),
            "message_type": message_type}
    signature = kms.ok("sign", body)["signature"]
    assert kms.ok("verify", dict(body, signature=signature)) == \
        {"key_id": keys[kind], "signature_valid": "true"}
    forged = bytearray(base64.b64decode(signature))
    forged[len(forged) // 2] ^= 1
    assert kms.ok("verify", dict(body, signature=_b64(bytes(forged))))["signature_valid"] == \
        "false"


def test_signatures_verify_locally(kms, keys):
    message = b"checked outside the emulator"
    rsa_signature = base64.b64decode(kms.ok("sign", {
        "key_id": keys["rsa_sign"], "signing_algorithm": "RSASSA_PSS_SHA_256",
        "message": _b64(message), "message_type": "RAW"})["signature"])
    _public_key(kms, keys["rsa_sign"]).verify(
        rsa_signature, message,
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
    ec_signature = base64.b64decode(kms.ok("sign", {
        "key_id": keys["ec256"], "signing_algorithm": "ECDSA_SHA_256",
        "message": _b64(hashlib.sha256(message).digest())})["signature"])
    _public_key(kms, keys["ec256"]).verify(ec_signature, message, ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize("kind, algorithm, message, code", [
    ("aes", "RSASSA_PSS_SHA_256", b"x" * 32, "KMS.1115"),
    ("hmac", "RSASSA_PSS_SHA_256", b"x" * 32, "KMS.1115"),
    ("rsa_encrypt", "RSASSA_PSS_SHA_256", b"x" * 32, "KMS.0334"),
    ("rsa_sign", "ECDSA_SHA_256", b"x" * 32, "KMS.0332"),
    ("ec256", "RSASSA_PSS_SHA_256", b"x" * 32, "KMS.0332"),
    ("ec256", "ED25519_SHA_512", b"x" * 32, "KMS.0332"),
    ("rsa_sign", "RSASSA_PSS_SHA_256", b"x" * 31, "KMS.0329"),
    ("ec384", "ECDSA_SHA_384", b"x" * 32, "KMS.0329"),
])
def test_sign_rules(kms, keys, kind, algorithm, message, code):
    assert_error(kms.post("sign", {"key_id": keys[kind], "signing_algorithm": algorithm,
                                   "message": _b64(message)}), 400, code)


def test_sign_and_verify_input_errors(kms, keys):
    base = {"key_id": keys["ec256"], "signing_algorithm": "ECDSA_SHA_256",
            "message": _b64(b"x" * 32)}
    for field in ("key_id", "signing_algorithm", "message"):
        incomplete = {name: value for name, value in base.items() if name != field}
        assert_error(kms.post("sign", incomplete), 400, "KMS.0204")
    assert_error(kms.post("sign", dict(base, message="***")), 400, "KMS.0308")
    assert_error(kms.post("sign", dict(base, message_type="TEXT")), 400, "KMS.0308")
    assert_error(kms.post("sign", dict(base, message=_b64(b"x" * 4096), message_type="RAW")),
                 400, "KMS.0308")
    assert_error(kms.post("verify", base), 400, "KMS.0204")
    assert_error(kms.post("verify", dict(base, signature="***")), 400, "KMS.0308")


@pytest.mark.parametrize("kind", ["rsa_sign", "rsa_encrypt", "ec256", "ec384"])
def test_public_key_is_spki_pem_with_crlf(kms, keys, kind):
    pem = kms.ok("get-publickey", {"key_id": keys[kind]})["public_key"]
    assert pem.startswith("-----BEGIN PUBLIC KEY-----\r\n")
    assert pem.endswith("-----END PUBLIC KEY-----\r\n")
    assert "\n" not in pem.replace("\r\n", "")
    assert all(len(line) <= 64 for line in pem.split("\r\n"))
    serialization.load_pem_public_key(pem.encode())


def test_public_key_refuses_aliases_and_symmetric_keys(kms, keys):
    alias = kms.describe(keys["ec256"])["key_alias"]
    assert_error(kms.post("get-publickey", {"key_id": "alias/" + alias}), 400, "KMS.0205")
    assert_error(kms.post("get-publickey", {"key_id": keys["aes"]}), 400, "KMS.0331")
    assert_error(kms.post("get-publickey", {"key_id": keys["hmac"]}), 400, "KMS.0331")
