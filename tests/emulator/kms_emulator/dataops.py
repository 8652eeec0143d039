"""Cryptographic use of keys: public key, encrypt/decrypt data, sign/verify."""

import base64
import binascii
import json

from . import crypto
from .context import key_family, refuse_waiting_for_activation, require_usable
from .errors import kms_error

MAX_PLAINTEXT_BYTES = 4096
MAX_CIPHERTEXT_CHARS = 5648
MAX_MESSAGE_BYTES = 4096


def get_publickey(call):
    key_id = call.key_id()
    with call.transaction() as db:
        key = call.key(db, key_id)
    if not crypto.is_asymmetric(key.key_spec):
        raise kms_error("KMS.0331", "symmetric keys have no public key")
    refuse_waiting_for_activation(key)
    if key.material is None:
        raise kms_error("KMS.0310", "the key has no key material: it is waiting for import")
    return {"key_id": key.key_id, "public_key": crypto.public_key_pem_crlf(key.material)}


def _additional_data(call):
    """Bytes bound to a symmetric ciphertext: OTC ``encryption_context`` (object) and/or
    Huawei ``additional_authenticated_data`` (string)."""
    context = call.body.get("encryption_context")
    if isinstance(context, str):
        try:
            context = json.loads(context) if context.strip() else None
        except ValueError:
            raise kms_error("KMS.0208", "encryption_context must be a JSON object")
    if context is not None and not isinstance(context, dict):
        raise kms_error("KMS.0208", "encryption_context must be a JSON object")
    canonical_context = json.dumps(context or {}, sort_keys=True, separators=(",", ":"))
    aad = call.text("additional_authenticated_data") or ""
    return canonical_context.encode("utf-8") + b"\x00" + aad.encode("utf-8")


def _refuse_non_encryption_key(key):
    family = key_family(key)
    if family == "hmac":
        raise kms_error("KMS.0341", "HMAC keys do not support this operation")
    if family == "ec":
        raise kms_error("KMS.1114", "EC keys cannot encrypt or decrypt")
    if key.key_usage != "ENCRYPT_DECRYPT":
        raise kms_error("KMS.0335", "the key is a SIGN_VERIFY key")


def _encryption_algorithm(call, key):
    algorithm = call.text("encryption_algorithm") or "SYMMETRIC_DEFAULT"
    if key_family(key) == "aes":
        if algorithm != "SYMMETRIC_DEFAULT":
            raise kms_error("KMS.2105", "symmetric keys use SYMMETRIC_DEFAULT")
    elif algorithm not in crypto.RSA_ENCRYPTION_ALGORITHMS:
        raise kms_error("KMS.2106", "RSA keys need RSAES_OAEP_SHA_256 or RSAES_OAEP_SHA_1")
    return algorithm


def encrypt_data(call):
    plain_text = call.text("plain_text", required=True)
    plaintext = plain_text.encode("utf-8")
    if len(plaintext) > MAX_PLAINTEXT_BYTES:
        raise kms_error("KMS.0308", "plain_text must be 1 to 4096 bytes long")
    key_id = call.key_id()
    with call.transaction() as db:
        key = call.key(db, key_id)
    _refuse_non_encryption_key(key)
    algorithm = _encryption_algorithm(call, key)
    require_usable(key)
    if key_family(key) == "aes":
        cipher_text = crypto.encrypt_symmetric(key.material, key.key_id, plaintext,
                                               _additional_data(call))
    else:
        if len(plaintext) > crypto.rsa_max_plaintext(key.material, algorithm):
            raise kms_error("KMS.2108", "the plaintext is too long for this RSA key")
        cipher_text = base64.b64encode(
            crypto.rsa_encrypt(key.material, algorithm, plaintext)).decode("ascii")
    return {"key_id": key.key_id, "cipher_text": cipher_text}


def _decrypt_blob(call):
    cipher_text = call.text("cipher_text", required=True)
    if len(cipher_text) > MAX_CIPHERTEXT_CHARS:
        raise kms_error("KMS.0308", "cipher_text is too long")
    try:
        return base64.b64decode(cipher_text, validate=True)
    except (binascii.Error, ValueError):
        raise kms_error("KMS.0308", "cipher_text is not valid base64")


def decrypt_data(call):
    blob = _decrypt_blob(call)
    key_id = call.key_id(required=False)
    with call.transaction() as db:
        named = call.key(db, key_id) if key_id else None
        if named is None or key_family(named) == "aes":
            try:
                embedded_id = crypto.key_id_of_ciphertext(blob)
            except crypto.CryptoError as exc:
                raise kms_error("KMS.0308", str(exc))
            if named is not None and named.key_id != embedded_id:
                raise kms_error("KMS.0308", "the ciphertext belongs to another key")
            key = named or call.key(db, embedded_id)
        else:
            key = named
    _refuse_non_encryption_key(key)
    algorithm = _encryption_algorithm(call, key)
    require_usable(key)
    try:
        if key_family(key) == "aes":
            plaintext = crypto.decrypt_symmetric(key.material, blob, _additional_data(call))
        else:
            plaintext = crypto.rsa_decrypt(key.material, algorithm, blob)
    except crypto.CryptoError:
        raise kms_error("KMS.0208", "the ciphertext cannot be decrypted: it was changed, or the"
                        " encryption context differs from the one used to encrypt")
    answer = {"key_id": key.key_id, "plain_text": plaintext.decode("utf-8", "replace")}
    if call.emulator.profile.decrypt_base64:
        answer["plain_text_base64"] = base64.b64encode(plaintext).decode("ascii")
    return answer


def _signing_request(call):
    """(key, algorithm, message bytes, message is a digest) after every check."""
    message = call.base64_field("message")
    algorithm = call.text("signing_algorithm", required=True)
    message_type = call.text("message_type") or "DIGEST"
    if message_type not in ("DIGEST", "RAW"):
        raise kms_error("KMS.0308", "message_type must be DIGEST or RAW")
    if not message or len(message) >= MAX_MESSAGE_BYTES:
        raise kms_error("KMS.0308", "the message must be 1 to 4095 bytes long")
    key_id = call.key_id()
    with call.transaction() as db:
        key = call.key(db, key_id)
    family = key_family(key)
    if family in ("aes", "hmac"):
        raise kms_error("KMS.1115", "symmetric keys cannot sign or verify")
    if key.key_usage != "SIGN_VERIFY":
        raise kms_error("KMS.0334", "the key is an ENCRYPT_DECRYPT key")
    if algorithm not in crypto.SIGNING_ALGORITHMS or crypto.signing_family(algorithm) != family:
        raise kms_error("KMS.0332", "the key does not support the signing algorithm %s"
                        % algorithm)
    is_digest = message_type == "DIGEST"
    if is_digest and len(message) != crypto.signing_hash(algorithm).digest_size:
        raise kms_error("KMS.0329", "the digest length does not match the signing algorithm")
    require_usable(key)
    return key, algorithm, message, is_digest


def sign(call):
    key, algorithm, message, is_digest = _signing_request(call)
    signature = crypto.sign(key.material, algorithm, message, is_digest)
    return {"key_id": key.key_id, "signature": base64.b64encode(signature).decode("ascii")}


def verify(call):
    signature = call.base64_field("signature")
    key, algorithm, message, is_digest = _signing_request(call)
    valid = crypto.verify(key.material, algorithm, message, is_digest, signature)
    return {"key_id": key.key_id, "signature_valid": "true" if valid else "false"}
