"""The real cryptography behind keys: material generation, unwrapping, data encryption, signing."""

import base64
import collections
import hashlib
import os

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap_with_padding

KeySpec = collections.namedtuple("KeySpec", "family size default_usage allowed_usages")

KEY_SPECS = {
    "AES_256": KeySpec("aes", 32, "ENCRYPT_DECRYPT", ("ENCRYPT_DECRYPT",)),
    "RSA_2048": KeySpec("rsa", 2048, "SIGN_VERIFY", ("SIGN_VERIFY", "ENCRYPT_DECRYPT")),
    "RSA_3072": KeySpec("rsa", 3072, "SIGN_VERIFY", ("SIGN_VERIFY", "ENCRYPT_DECRYPT")),
    "RSA_4096": KeySpec("rsa", 4096, "SIGN_VERIFY", ("SIGN_VERIFY", "ENCRYPT_DECRYPT")),
    "EC_P256": KeySpec("ec", 256, "SIGN_VERIFY", ("SIGN_VERIFY",)),
    "EC_P384": KeySpec("ec", 384, "SIGN_VERIFY", ("SIGN_VERIFY",)),
    "HMAC_256": KeySpec("hmac", 32, "GENERATE_VERIFY_MAC", ("GENERATE_VERIFY_MAC",)),
    "HMAC_384": KeySpec("hmac", 48, "GENERATE_VERIFY_MAC", ("GENERATE_VERIFY_MAC",)),
    "HMAC_512": KeySpec("hmac", 64, "GENERATE_VERIFY_MAC", ("GENERATE_VERIFY_MAC",)),
}
IMPORTABLE_FAMILIES = ("aes", "rsa", "ec")
EC_CURVES = {256: ec.SECP256R1, 384: ec.SECP384R1}


class CryptoError(Exception):
    """Input that does not decrypt, unwrap or parse."""


def is_asymmetric(key_spec):
    return KEY_SPECS[key_spec].family in ("rsa", "ec")


# -- key material -----------------------------------------------------------------------------
def generate_material(key_spec):
    spec = KEY_SPECS[key_spec]
    if spec.family in ("aes", "hmac"):
        return os.urandom(spec.size)
    if spec.family == "rsa":
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=spec.size)
    else:
        private_key = ec.generate_private_key(EC_CURVES[spec.size]())
    return private_der(private_key)


def private_der(private_key):
    return private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())


def public_der(private_key):
    return private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_private_key(der):
    return serialization.load_der_private_key(der, password=None)


def parse_private_key_for(key_spec, der):
    """Parse imported PKCS#8 DER and check it is a key of ``key_spec``; return canonical DER."""
    try:
        private_key = load_private_key(der)
    except (ValueError, TypeError):
        raise CryptoError("the private key is not a valid unencrypted PKCS#8 DER structure")
    spec = KEY_SPECS[key_spec]
    if spec.family == "rsa":
        matches = isinstance(private_key, rsa.RSAPrivateKey) and private_key.key_size == spec.size
    else:
        matches = (isinstance(private_key, ec.EllipticCurvePrivateKey)
                   and isinstance(private_key.curve, EC_CURVES[spec.size]))
    if not matches:
        raise CryptoError("the private key does not match the key spec %s" % key_spec)
    return private_der(private_key)


def public_key_pem_crlf(material):
    """SubjectPublicKeyInfo PEM with CRLF line endings, as the service returns it."""
    pem = load_private_key(material).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem.decode("ascii").replace("\n", "\r\n")


def fingerprint(secret, material):
    return hashlib.sha256(secret + b"material" + material).hexdigest()


# -- wrapping (import) ------------------------------------------------------------------------
WRAPPING_ALGORITHMS = ("RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1", "RSAES_PKCS1_V1_5")


def _wrapping_padding(algorithm):
    if algorithm == "RSAES_OAEP_SHA_256":
        return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    if algorithm == "RSAES_OAEP_SHA_1":
        return padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    return padding.PKCS1v15()


def generate_wrapping_key():
    """A fresh RSA-2048 wrapping key pair as (fingerprint, private DER, public SPKI DER)."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = public_der(private_key)
    return hashlib.sha256(public).hexdigest(), private_der(private_key), public


def rsa_unwrap(private_key, algorithm, ciphertext):
    try:
        return private_key.decrypt(ciphertext, _wrapping_padding(algorithm))
    except ValueError:
        raise CryptoError("the wrapped key material cannot be decrypted")


def aes_unwrap_with_padding(wrapping_key, wrapped):
    try:
        return aes_key_unwrap_with_padding(wrapping_key, wrapped)
    except (InvalidUnwrap, ValueError):
        raise CryptoError("the private key cannot be unwrapped with the temporary key")


# -- symmetric data encryption ----------------------------------------------------------------
# Ciphertext layout (opaque to clients): b"\x02\x00" | key id (36 ASCII bytes) | nonce (12) |
# AES-256-GCM ciphertext and tag. The key id and the caller's context are authenticated.
_CIPHERTEXT_VERSION = b"\x02\x00"
_KEY_ID_LENGTH = 36


def encrypt_symmetric(material, key_id, plaintext, aad):
    nonce = os.urandom(12)
    header = _CIPHERTEXT_VERSION + key_id.encode("ascii")
    sealed = AESGCM(material).encrypt(nonce, plaintext, header + aad)
    return base64.b64encode(header + nonce + sealed).decode("ascii")


def key_id_of_ciphertext(blob):
    """The key id embedded in a symmetric ciphertext (``blob`` is the decoded bytes)."""
    if len(blob) < 2 + _KEY_ID_LENGTH + 12 + 16 or not blob.startswith(_CIPHERTEXT_VERSION):
        raise CryptoError("the ciphertext was not produced by this service")
    try:
        return blob[2:2 + _KEY_ID_LENGTH].decode("ascii")
    except UnicodeDecodeError:
        raise CryptoError("the ciphertext was not produced by this service")


def decrypt_symmetric(material, blob, aad):
    header, nonce, sealed = blob[:38], blob[38:50], blob[50:]
    try:
        return AESGCM(material).decrypt(nonce, sealed, header + aad)
    except InvalidTag:
        raise CryptoError("the ciphertext does not authenticate with this key and context")


# -- asymmetric data encryption ---------------------------------------------------------------
RSA_ENCRYPTION_ALGORITHMS = ("RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1")


def rsa_max_plaintext(material, algorithm):
    digest_size = 32 if algorithm == "RSAES_OAEP_SHA_256" else 20
    return load_private_key(material).key_size // 8 - 2 * digest_size - 2


def rsa_encrypt(material, algorithm, plaintext):
    public_key = load_private_key(material).public_key()
    return public_key.encrypt(plaintext, _wrapping_padding(algorithm))


def rsa_decrypt(material, algorithm, ciphertext):
    return rsa_unwrap(load_private_key(material), algorithm, ciphertext)


# -- signatures -------------------------------------------------------------------------------
_HASHES = {"SHA_256": hashes.SHA256, "SHA_384": hashes.SHA384, "SHA_512": hashes.SHA512}
SIGNING_ALGORITHMS = tuple(
    "%s_%s" % (scheme, digest) for scheme in ("RSASSA_PSS", "RSASSA_PKCS1_V1_5", "ECDSA")
    for digest in ("SHA_256", "SHA_384", "SHA_512"))


def signing_family(algorithm):
    return "ec" if algorithm.startswith("ECDSA") else "rsa"


def signing_hash(algorithm):
    return _HASHES[algorithm[-7:]]()


def _signature_args(algorithm, digest_algorithm, message_is_digest):
    chosen = Prehashed(digest_algorithm) if message_is_digest else digest_algorithm
    if algorithm.startswith("ECDSA"):
        return (ec.ECDSA(chosen),)
    if algorithm.startswith("RSASSA_PSS"):
        # Salt length = digest length, the common choice of cloud KMS services.
        return (padding.PSS(mgf=padding.MGF1(digest_algorithm),
                            salt_length=digest_algorithm.digest_size), chosen)
    return (padding.PKCS1v15(), chosen)


def sign(material, algorithm, message, message_is_digest):
    private_key = load_private_key(material)
    return private_key.sign(message, *_signature_args(algorithm, signing_hash(algorithm),
                                                      message_is_digest))


def verify(material, algorithm, message, message_is_digest, signature):
    public_key = load_private_key(material).public_key()
    try:
        public_key.verify(signature, message,
                          *_signature_args(algorithm, signing_hash(algorithm), message_is_digest))
    except InvalidSignature:
        return False
    return True
