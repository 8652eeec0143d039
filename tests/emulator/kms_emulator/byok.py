"""Bring your own key: import parameters, import tokens, importing and deleting material."""

import base64
import binascii
import collections
import hashlib
import hmac
import os
import re
import struct

from . import crypto
from .context import key_family
from .errors import kms_error

TOKEN_PATTERN = re.compile(r"^[0-9a-zA-Z+/=]{200,6144}$")
WRAPPED_MATERIAL_PATTERN = re.compile(r"^[0-9a-zA-Z+/=]{344,360}$")
PRIVATE_KEY_PATTERN = re.compile(r"^[0-9a-zA-Z+/=]{200,6144}$")
TEMPORARY_KEY_LENGTHS = (16, 32)
SYMMETRIC_MATERIAL_LENGTH = 32
# The latest material expiry accepted, 9999-12-31T23:59:59Z: describe-key shows it in
# milliseconds, which must fit the store's 64-bit integers (README, "Choices").
MAX_EXPIRATION_TIME = 253402300799

# Import token: version | key id | project id | wrapping algorithm index |
# SHA-256 of the wrapping public key | expiry (epoch s) | nonce, then an HMAC-SHA256 over all of
# it with the emulator's secret. 159 bytes, 212 base64 characters.
_TOKEN_BODY = struct.Struct(">2s36s32sB32sQ16s")
_TOKEN_VERSION = b"\x00\x01"
_MAC_LENGTH = 32

ImportToken = collections.namedtuple(
    "ImportToken", "key_id project_id algorithm wrapping_fingerprint expires_at")


class TokenError(Exception):
    pass


def issue_import_token(secret, token):
    body = _TOKEN_BODY.pack(
        _TOKEN_VERSION, token.key_id.encode("ascii"), token.project_id.encode("ascii"),
        crypto.WRAPPING_ALGORITHMS.index(token.algorithm), bytes.fromhex(token.wrapping_fingerprint),
        token.expires_at, os.urandom(16))
    return base64.b64encode(body + hmac.new(secret, body, hashlib.sha256).digest()).decode("ascii")


def open_import_token(secret, text):
    """The claims of a token this emulator issued; TokenError for anything else."""
    if not TOKEN_PATTERN.match(text):
        raise TokenError("the import token is malformed")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise TokenError("the import token is not valid base64")
    if len(raw) != _TOKEN_BODY.size + _MAC_LENGTH:
        raise TokenError("the import token is malformed")
    body, mac = raw[:-_MAC_LENGTH], raw[-_MAC_LENGTH:]
    if not hmac.compare_digest(mac, hmac.new(secret, body, hashlib.sha256).digest()):
        raise TokenError("the import token was not issued by this service")
    version, key_id, project_id, algorithm, fingerprint, expires_at = \
        _TOKEN_BODY.unpack(body)[:6]
    if version != _TOKEN_VERSION or algorithm >= len(crypto.WRAPPING_ALGORITHMS):
        raise TokenError("the import token is malformed")
    return ImportToken(key_id.decode("ascii"), project_id.decode("ascii"),
                       crypto.WRAPPING_ALGORITHMS[algorithm], fingerprint.hex(), expires_at)


def _require_external(key):
    if key.origin != "external":
        raise kms_error("KMS.0309", "the operation needs a key with external key material")


def _require_pending_import(key):
    if key.state != "5":
        raise kms_error("KMS.0310", "the key is not waiting for import")


def _wrapping_algorithm(call):
    algorithm = call.text("wrapping_algorithm", required=True)
    profile = call.emulator.profile
    if algorithm in profile.unavailable_wrapping:
        raise kms_error("KMS.0308", "wrapping_algorithm %s is not available in region %s; use"
                        " %s" % (algorithm, call.emulator.region,
                                 " or ".join(profile.wrapping_algorithms)))
    if algorithm not in profile.wrapping_algorithms:
        raise kms_error("KMS.0308", "wrapping_algorithm %s is not supported; use %s"
                        % (algorithm, " or ".join(profile.wrapping_algorithms)))
    return algorithm


def get_parameters_for_import(call):
    key_id = call.key_id()
    algorithm = _wrapping_algorithm(call)
    emulator = call.emulator
    with call.transaction() as db:
        key = call.key(db, key_id)
        _require_external(key)
        _require_pending_import(key)
    fingerprint, public_der = emulator.wrapping_keys.pick()
    expires_at = int(emulator.clock.now()) + emulator.import_token_lifetime
    token = issue_import_token(emulator.server_secret, ImportToken(
        key_id, call.project_id, algorithm, fingerprint, expires_at))
    return {"key_id": key_id, "import_token": token, "expiration_time": expires_at,
            "public_key": base64.b64encode(public_der).decode("ascii")}


def _checked_token(call, key_id, token_text):
    try:
        token = open_import_token(call.emulator.server_secret, token_text)
    except TokenError as exc:
        raise kms_error("KMS.2605", str(exc))
    if token.project_id != call.project_id:
        raise kms_error("KMS.2605", "the import token was issued for another project")
    if token.key_id != key_id:
        raise kms_error("KMS.2603", "the import token was issued for another key")
    if token.expires_at <= call.emulator.clock.now():
        raise kms_error("KMS.2601", "the import token has expired")
    return token


def _unwrapped_material(call, token, wrapped):
    """The plaintext behind ``encrypted_key_material``, unwrapped with the token's key pair."""
    wrapping_key = call.emulator.wrapping_keys.private_key(token.wrapping_fingerprint)
    if wrapping_key is None:
        raise kms_error("KMS.2605", "the import token names an unknown wrapping key")
    try:
        if not WRAPPED_MATERIAL_PATTERN.match(wrapped):
            raise crypto.CryptoError("the wrapped key material has a wrong length")
        return crypto.rsa_unwrap(wrapping_key, token.algorithm,
                                 base64.b64decode(wrapped, validate=True))
    except (crypto.CryptoError, binascii.Error, ValueError):
        raise kms_error("KMS.0311", "the key material could not be decrypted with the"
                        " wrapping key")


def _imported_private_key(call, key, temporary_key):
    if len(temporary_key) not in TEMPORARY_KEY_LENGTHS:
        raise kms_error("KMS.2610", "the temporary key must be 16 or 32 bytes long")
    wrapped = call.text("encrypted_privatekey")
    if wrapped is None:
        raise kms_error("KMS.2608", "the encrypted private key is missing")
    try:
        if not PRIVATE_KEY_PATTERN.match(wrapped):
            raise crypto.CryptoError("the encrypted private key has a wrong length")
        der = crypto.aes_unwrap_with_padding(temporary_key, base64.b64decode(wrapped,
                                                                             validate=True))
        return crypto.parse_private_key_for(key.key_spec, der)
    except (crypto.CryptoError, binascii.Error, ValueError) as exc:
        raise kms_error("KMS.2609", "the private key is invalid: %s" % exc)


def _material_expiry_ms(call):
    expiration = call.integer("expiration_time", "KMS.0308")
    if expiration is None:
        return None
    if expiration <= call.emulator.clock.now():
        raise kms_error("KMS.2602", "the expiration time must be in the future")
    if expiration > MAX_EXPIRATION_TIME:
        raise kms_error("KMS.0308", "the parameter expiration_time must not be later than"
                        " %d (9999-12-31T23:59:59Z)" % MAX_EXPIRATION_TIME)
    return expiration * 1000


def _import_symmetric(call, key, material):
    if len(material) != SYMMETRIC_MATERIAL_LENGTH:
        raise kms_error("KMS.2604", "the key material must be 32 bytes long")
    fingerprint = crypto.fingerprint(call.emulator.server_secret, material)
    if key.material_fingerprint is not None and not hmac.compare_digest(
            fingerprint, key.material_fingerprint):
        raise kms_error("KMS.2606", "the key material differs from the material imported"
                        " before")
    key.material_expires_ms = _material_expiry_ms(call)
    key.material, key.material_fingerprint = material, fingerprint


def import_key_material(call):
    key_id = call.key_id()
    token_text = call.text("import_token", required=True)
    wrapped = call.text("encrypted_key_material", required=True)
    with call.transaction() as db:
        key = call.key(db, key_id)
        _require_external(key)
        _require_pending_import(key)
        token = _checked_token(call, key_id, token_text)
        unwrapped = _unwrapped_material(call, token, wrapped)
        if key_family(key) == "aes":
            _import_symmetric(call, key, unwrapped)
        else:
            # Asymmetric material is permanent: an expiration_time is ignored.
            key.material = _imported_private_key(call, key, unwrapped)
            key.material_fingerprint = crypto.fingerprint(call.emulator.server_secret,
                                                          key.material)
        key.state = "2"
        db.update_key(key)
    return {}


def delete_imported_key_material(call):
    with call.transaction() as db:
        key = call.key(db, call.key_id())
        _require_external(key)
        if key_family(key) != "aes":
            raise kms_error("KMS.2702", "imported private key material cannot be deleted")
        if key.state not in ("2", "3"):
            raise kms_error("KMS.2701", "key material can be deleted only from an enabled or"
                            " disabled key")
        key.state, key.material, key.material_expires_ms = "5", None, None
        db.update_key(key)
    return {}
