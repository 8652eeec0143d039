"""Cryptographic use of keys: encrypt/decrypt data, sign/verify, public keys."""

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

from conftest import assert_error


@pytest.fixture(scope="module")
def keys(kms):
    """One key of each kind, created once for this module."""
    return {
        "aes": kms.create_key(),
        "rsa_sign": kms.create_key(key_spec="RSA_2048"),
        "rsa_encrypt": kms.create_key(key_spec="RSA_2048", key_usage="ENCRYPT_DECRYPT"),
        "ec256": kms.create_key(key_spec="EC_P256"),
        "ec384": kms.create_key(key_spec="EC_P384"),
        "hmac": kms.create_key(key_spec="HMAC_256"),
    }


def _b64(data):
    return base64.b64encode(data).decode()


def _public_key(kms, key_id):
    pem = kms.ok("get-publickey", {"key_id": key_id})["public_key"]
    return serialization.load_pem_public_key(pem.encode())


def test_symmetric_round_trip_with_alias_and_unicode(kms, keys):
    alias = kms.describe(keys["aes"])["key_alias"]
    encrypted = kms.ok("encrypt-data", {"key_id": "alias/" + alias, "plain_text": "grüße ✓"})
    assert encrypted["key_id"] == keys["aes"]
    decrypted = kms.ok("decrypt-data", {"cipher_text": encrypted["cipher_text"]})
    assert decrypted["plain_text"] == "grüße ✓"
    assert base64.b64decode(decrypted["plain_text_base64"]) == "grüße ✓".encode()
    assert decrypted["key_id"] == keys["aes"]


def test_symmetric_ciphertexts_are_fresh_and_embed_the_key(kms, keys):
    one = kms.ok("encrypt-data", {"key_id": keys["aes"], "plain_text": "same"})["cipher_text"]
    two = kms.ok("encrypt-data", {"key_id": keys["aes"], "plain_text": "same"})["cipher_text"]
    assert one != two
    assert keys["aes"].encode() in base64.b64decode(one)


@pytest.mark.parametrize("field, value", [
    ("encryption_context", {"purpose": "test", "n": "1"}),
    ("encryption_context", '{"purpose": "test"}'),
    ("additional_authenticated_data", "aad-value"),
])
def test_context_must_match_at_decrypt(kms, keys, field, value):
    cipher = kms.ok("encrypt-data", {"key_id": keys["aes"], "plain_text": "ctx",
                                     field: value})["cipher_text"]
    assert kms.ok("decrypt-data", {"cipher_text": cipher, field: value})["plain_text"] == "ctx"
    assert_error(kms.post("decrypt-data", {"cipher_text": cipher}), 400, "KMS.0208")


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


def test_decrypt_with_another_key_id_is_refused(kms, keys):
    cipher = kms.ok("encrypt-data", {"key_id": keys["aes"], "plain_text": "x"})["cipher_text"]
    other = kms.create_key()
    assert_error(kms.post("decrypt-data", {"cipher_text": cipher, "key_id": other}),
                 400, "KMS.0308")
    assert kms.ok("decrypt-data", {"cipher_text": cipher, "key_id": keys["aes"]})


def test_plaintext_limits(kms, keys):
    assert kms.ok("encrypt-data", {"key_id": keys["aes"], "plain_text": "a" * 4096})
    assert_error(kms.post("encrypt-data", {"key_id": keys["aes"], "plain_text": "a" * 4097}),
                 400, "KMS.0308")
    assert_error(kms.post("encrypt-data", {"key_id": keys["aes"]}), 400, "KMS.0204")


@pytest.mark.parametrize("algorithm", ["RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1"])
def test_rsa_encrypt_decrypt(kms, keys, algorithm):
    key_id = keys["rsa_encrypt"]
    cipher = kms.ok("encrypt-data", {"key_id": key_id, "plain_text": "rsa secret",
                                     "encryption_algorithm": algorithm})["cipher_text"]
    assert len(base64.b64decode(cipher)) == 256
    assert kms.ok("decrypt-data", {"key_id": key_id, "cipher_text": cipher,
                                   "encryption_algorithm": algorithm})["plain_text"] == \
        "rsa secret"


def test_rsa_ciphertext_is_standard_oaep(kms, keys):
    public_key = _public_key(kms, keys["rsa_encrypt"])
    cipher = public_key.encrypt(b"made locally", padding.OAEP(
        mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
    assert kms.ok("decrypt-data", {"key_id": keys["rsa_encrypt"], "cipher_text": _b64(cipher),
                                   "encryption_algorithm": "RSAES_OAEP_SHA_256"})[
        "plain_text"] == "made locally"


@pytest.mark.parametrize("kind, body, code", [
    ("aes", {"encryption_algorithm": "RSAES_OAEP_SHA_256"}, "KMS.2105"),
    ("rsa_encrypt", {}, "KMS.2106"),
    ("rsa_encrypt", {"encryption_algorithm": "RSAES_OAEP_SHA_256", "plain_text": "x" * 191},
     "KMS.2108"),
    ("ec256", {}, "KMS.1114"),
    ("rsa_sign", {"encryption_algorithm": "RSAES_OAEP_SHA_256"}, "KMS.0335"),
    ("hmac", {}, "KMS.0341"),
])
def test_encrypt_rules_by_key_kind(kms, keys, kind, body, code):
    request = dict({"key_id": keys[kind], "plain_text": "x"}, **body)
    assert_error(kms.post("encrypt-data", request), 400, code)


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


def test_public_key_by_alias_and_of_symmetric_keys(kms, keys):
    alias = kms.describe(keys["ec256"])["key_alias"]
    assert kms.ok("get-publickey", {"key_id": "alias/" + alias})["key_id"] == keys["ec256"]
    assert_error(kms.post("get-publickey", {"key_id": keys["aes"]}), 400, "KMS.0331")
    assert_error(kms.post("get-publickey", {"key_id": keys["hmac"]}), 400, "KMS.0331")
