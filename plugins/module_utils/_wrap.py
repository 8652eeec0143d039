# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Local BYOK cryptography, pure functions on top of ``cryptography``.

Decoding key material, loading private keys, wrapping with the import public key (RSA OAEP /
PKCS#1 v1.5, AES key wrap with padding for private keys) and parsing public keys.
``cryptography`` is imported on first use only, so modules that never wrap do not pay for it.
Every wrong input raises ``KmsInputError`` naming the field and the rule, never the value.
Private module: the interface may change between releases.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import os
import re

from ansible_collections.dew.kms.plugins.module_utils._errors import KmsInputError, missing_library

WRAPPING_ALGORITHMS = ('RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5')
WEAK_WRAPPING_ALGORITHMS = ('RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5')
DEFAULT_WRAPPING_ALGORITHM = 'RSAES_OAEP_SHA_256'
SYMMETRIC_KEY_SPECS = ('AES_256',)
ASYMMETRIC_KEY_SPECS = ('RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_P256', 'EC_P384')

SYMMETRIC_MATERIAL_BYTES = 32
TEMPORARY_AES_KEY_BYTES = 32
MIN_WRAPPING_KEY_BITS = 2048

_RSA_SPECS = {2048: 'RSA_2048', 3072: 'RSA_3072', 4096: 'RSA_4096'}
_EC_SPECS = {'secp256r1': 'EC_P256', 'secp384r1': 'EC_P384'}
# public keys KMS may hand out besides the BYOK-capable ones (Huawei Cloud)
_OTHER_EC_SPECS = {'secp256k1': 'SECP256K1'}

_PEM_BLOCK = re.compile(
    r'-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----', re.DOTALL)


class _Crypto:
    """The cryptography submodules, imported once on first use."""
    _loaded = None

    @classmethod
    def get(cls):
        if cls._loaded is None:
            try:
                from cryptography.hazmat.primitives import hashes, keywrap, serialization
                from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
            except ImportError:
                raise missing_library('cryptography', 'to wrap key material and parse keys')
            loaded = cls()
            loaded.hashes, loaded.keywrap, loaded.serialization = hashes, keywrap, serialization
            loaded.ec, loaded.padding, loaded.rsa = ec, padding, rsa
            cls._loaded = loaded
        return cls._loaded


# ---------------------------------------------------------------------------------------------
# small decoders

def _to_bytes(value, field):
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, str):
        try:
            return value.encode('ascii')
        except UnicodeEncodeError:
            raise KmsInputError('%s must be ASCII text (base64 or PEM) or binary data.' % field)
    raise KmsInputError('%s must be text or bytes.' % field)


def _b64decode(value, field, what='base64'):
    text = _to_bytes(value, field)
    compact = b''.join(text.split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise KmsInputError('%s is not valid %s (standard alphabet, with padding).' % (field, what))


def _b64encode(data):
    return base64.b64encode(data).decode('ascii')


def _pem_blocks(data):
    """[(label, der_bytes)] for every PEM block in ``data`` (bytes or text), CRLF or LF."""
    try:
        text = _to_bytes(data, 'key').decode('ascii')
    except UnicodeDecodeError:
        return []
    blocks = []
    for label, body in _PEM_BLOCK.findall(text):
        lines = [line for line in body.replace('\r', '').split('\n') if line.strip()]
        if any(':' in line for line in lines):  # "Proc-Type: 4,ENCRYPTED" style headers
            blocks.append((label, None))
            continue
        try:
            blocks.append((label, base64.b64decode(''.join(lines), validate=True)))
        except (binascii.Error, ValueError):
            blocks.append((label, None))
    return blocks


def _looks_like_pem(data, field):
    return b'-----BEGIN ' in _to_bytes(data, field)


# ---------------------------------------------------------------------------------------------
# symmetric material

def decode_symmetric_material(value, field='key_material'):
    """Base64 text, or raw bytes (32 bytes as read from a binary file) -> exactly 32 bytes."""
    if value is None or value == '' or value == b'':
        raise KmsInputError('%s is empty: it must be 32 bytes of AES-256 key material.' % field)
    if isinstance(value, (bytes, bytearray)) and len(value) == SYMMETRIC_MATERIAL_BYTES:
        return bytes(value)
    material = _b64decode(value, field, 'base64 of 32 bytes of key material')
    if len(material) != SYMMETRIC_MATERIAL_BYTES:
        raise KmsInputError(
            '%s must be exactly 32 bytes (AES-256) once decoded, given as base64 text (44 characters) '
            'or as a 32-byte binary file; it decodes to %d bytes.' % (field, len(material)))
    return material


# ---------------------------------------------------------------------------------------------
# private keys

def load_private_key(data, field='private key', password=None):
    """Load an unencrypted (or ``password``-protected) private key: PEM or DER; PKCS#1, SEC1, PKCS#8.

    Only RSA and EC keys are accepted (what KMS can import). No module option takes a passphrase,
    so without ``password`` the messages never mention one: an encrypted key must be decrypted first.
    """
    crypto = _Crypto.get()
    raw = _to_bytes(data, field)
    if not raw.strip():
        raise KmsInputError('%s is empty.' % field)
    secret = password.encode('utf-8') if isinstance(password, str) else password
    if _looks_like_pem(raw, field):
        loader = crypto.serialization.load_pem_private_key
    else:
        loader = crypto.serialization.load_der_private_key
    try:
        key = loader(raw, password=secret)
    except TypeError:
        # raised when the key is encrypted but no password was given, or the reverse
        raise KmsInputError('%s is encrypted: decrypt it first (for example with openssl pkey) and '
                            'give the unencrypted key.' % field if secret is None else
                            '%s is not encrypted, but a passphrase was given.' % field)
    except ValueError:
        raise KmsInputError('%s is not a readable private key: expected PEM or DER, PKCS#8, PKCS#1 '
                            '(RSA) or SEC1 (EC), %s.'
                            % (field, 'unencrypted, complete and undamaged' if secret is None else
                               'or the passphrase is wrong'))
    except Exception:  # cryptography raises UnsupportedAlgorithm for unknown key types
        raise KmsInputError('%s uses an unsupported key type: KMS imports RSA and EC keys.' % field)
    private_key_spec(key, field)  # rejects key types KMS cannot import
    return key


def private_key_spec(private_key, field='private key'):
    """'RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_P256' or 'EC_P384' for a private key object."""
    crypto = _Crypto.get()
    if isinstance(private_key, crypto.rsa.RSAPrivateKey):
        spec = _RSA_SPECS.get(private_key.key_size)
        if spec is None:
            raise KmsInputError('%s is a %d-bit RSA key: KMS imports RSA keys of 2048, 3072 or 4096 bits.'
                                % (field, private_key.key_size))
        return spec
    if isinstance(private_key, crypto.ec.EllipticCurvePrivateKey):
        spec = _EC_SPECS.get(private_key.curve.name)
        if spec is None:
            raise KmsInputError('%s is an EC key on curve %s: KMS imports EC keys on P-256 (EC_P256) '
                                'or P-384 (EC_P384).' % (field, private_key.curve.name))
        return spec
    raise KmsInputError('%s is not an RSA or EC private key: KMS imports RSA_2048, RSA_3072, RSA_4096, '
                        'EC_P256 and EC_P384 keys.' % field)


def is_private_key_der(data):
    """True when ``data`` is a DER private key of any type cryptography reads (unencrypted)."""
    crypto = _Crypto.get()
    try:
        crypto.serialization.load_der_private_key(bytes(data), password=None)
    except TypeError:
        return True  # an encrypted PKCS#8 private key
    except Exception:  # ValueError, UnsupportedAlgorithm: not a private key cryptography knows
        return False
    return True


def private_key_pkcs8_der(private_key):
    crypto = _Crypto.get()
    serialization = crypto.serialization
    return private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())


def public_key_der_of(private_key):
    """SubjectPublicKeyInfo DER of a private key's public half."""
    crypto = _Crypto.get()
    serialization = crypto.serialization
    return private_key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)


# ---------------------------------------------------------------------------------------------
# wrapping

def check_wrapping_algorithm(algorithm, field='wrapping_algorithm'):
    if algorithm not in WRAPPING_ALGORITHMS:
        raise KmsInputError('%s must be one of %s.' % (field, ', '.join(WRAPPING_ALGORITHMS)))
    return algorithm


def _rsa_padding(algorithm):
    crypto = _Crypto.get()
    padding, hashes = crypto.padding, crypto.hashes
    check_wrapping_algorithm(algorithm)
    if algorithm == 'RSAES_PKCS1_V1_5':
        return padding.PKCS1v15()
    digest = hashes.SHA256() if algorithm == 'RSAES_OAEP_SHA_256' else hashes.SHA1()
    return padding.OAEP(mgf=padding.MGF1(algorithm=digest), algorithm=digest, label=None)


def _wrapping_public_key(public_key_b64, field='public_key'):
    """The RSA public key of import parameters; refused unless RSA of at least 2048 bits, the
    only wrapping keys KMS issues (a smaller one means someone between here and KMS meddled)."""
    crypto = _Crypto.get()
    key = _load_public_key_der(_b64decode(public_key_b64, field, 'base64 DER'), field)
    if not isinstance(key, crypto.rsa.RSAPublicKey):
        raise KmsInputError('%s of the import parameters is not an RSA key; only the RSAES_* '
                            'wrapping algorithms are supported.' % field)
    if key.key_size < MIN_WRAPPING_KEY_BITS:
        raise KmsInputError(
            '%s of the import parameters is a %d-bit RSA key: KMS wrapping keys are RSA of at least '
            '%d bits. Nothing was wrapped or sent; check kms_endpoint and any proxy in between.'
            % (field, key.key_size, MIN_WRAPPING_KEY_BITS))
    return key


def check_wrapping_public_key(public_key_b64, field='public_key'):
    """Raise KmsInputError unless ``public_key_b64`` is a wrapping key KMS could have issued."""
    _wrapping_public_key(public_key_b64, field)


def _rsa_wrap(public_key_b64, plaintext, algorithm):
    key = _wrapping_public_key(public_key_b64)
    padding = _rsa_padding(algorithm)
    try:
        return key.encrypt(plaintext, padding)
    except ValueError:  # cannot happen for checked keys; never a traceback that loses a batch
        raise KmsInputError('public_key of the import parameters cannot wrap %d bytes with %s. Nothing '
                            'was sent.' % (len(plaintext), algorithm))


def wrap_symmetric_material(public_key_b64, material, algorithm=DEFAULT_WRAPPING_ALGORITHM):
    """``encrypted_key_material`` (base64) for 32 bytes of AES-256 material."""
    check_wrapping_algorithm(algorithm)
    material = decode_symmetric_material(material)
    return _b64encode(_rsa_wrap(public_key_b64, material, algorithm))


def wrap_private_key(public_key_b64, private_key, algorithm=DEFAULT_WRAPPING_ALGORITHM):
    """``(encrypted_key_material, encrypted_privatekey)`` for an RSA/EC private key.

    A fresh 32-byte AES key is wrapped with the RSA public key; the PKCS#8 DER private key is
    wrapped with that AES key by AES key wrap with padding (RFC 5649).
    """
    check_wrapping_algorithm(algorithm)
    crypto = _Crypto.get()
    if isinstance(private_key, (bytes, bytearray, str)):
        private_key = load_private_key(private_key)
    else:
        private_key_spec(private_key)
    temporary_key = os.urandom(TEMPORARY_AES_KEY_BYTES)
    encrypted_key_material = _b64encode(_rsa_wrap(public_key_b64, temporary_key, algorithm))
    wrapped = crypto.keywrap.aes_key_wrap_with_padding(temporary_key, private_key_pkcs8_der(private_key))
    return encrypted_key_material, _b64encode(wrapped)


# ---------------------------------------------------------------------------------------------
# public keys

def _load_public_key_der(der, field):
    """SubjectPublicKeyInfo first, then PKCS#1 RSAPublicKey (seen inside 'PUBLIC KEY' armour)."""
    crypto = _Crypto.get()
    serialization = crypto.serialization
    try:
        return serialization.load_der_public_key(der)
    except Exception:  # ValueError, or UnsupportedAlgorithm for exotic keys
        pass
    try:  # explicit PKCS#1 fallback for cryptography versions whose DER loader is SPKI only
        pem = b'-----BEGIN RSA PUBLIC KEY-----\n' + base64.encodebytes(der) + b'-----END RSA PUBLIC KEY-----\n'
        return serialization.load_pem_public_key(pem)
    except Exception:
        raise KmsInputError('%s is not a readable public key: expected SubjectPublicKeyInfo or PKCS#1, '
                            'as PEM, DER or base64 DER.' % field)


def _public_key_der_candidates(data, field):
    if _looks_like_pem(data, field):
        blocks = [der for label, der in _pem_blocks(data) if 'PUBLIC KEY' in label and der]
        if not blocks:
            raise KmsInputError('%s has no readable PUBLIC KEY PEM block.' % field)
        return blocks[0]
    if isinstance(data, (bytes, bytearray)) and bytes(data[:1]) == b'\x30':
        return bytes(data)  # DER
    return _b64decode(data, field, 'PEM, DER or base64 DER')


def public_key_spec(public_key):
    """key_spec of a public key object, or None for a type KMS key specs do not name."""
    crypto = _Crypto.get()
    if isinstance(public_key, crypto.rsa.RSAPublicKey):
        return _RSA_SPECS.get(public_key.key_size)
    if isinstance(public_key, crypto.ec.EllipticCurvePublicKey):
        return _EC_SPECS.get(public_key.curve.name) or _OTHER_EC_SPECS.get(public_key.curve.name)
    if type(public_key).__name__.startswith('Ed25519'):
        return 'ED25519'
    return None


def normalize_public_key(data, field='public_key'):
    """Parse a public key given as PEM (CRLF or LF), DER or base64 DER; SPKI or PKCS#1.

    Returns ``{'pem': SPKI PEM with LF, 'der_b64': base64 SPKI DER, 'fingerprint_sha256':
    lowercase hex SHA-256 of the SPKI DER, 'key_spec': 'RSA_2048' | ... | None}``.
    """
    crypto = _Crypto.get()
    serialization = crypto.serialization
    if data is None or (isinstance(data, (str, bytes, bytearray)) and not data.strip()):
        raise KmsInputError('%s is empty.' % field)
    key = _load_public_key_der(_public_key_der_candidates(data, field), field)
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    pem = key.public_bytes(serialization.Encoding.PEM,
                           serialization.PublicFormat.SubjectPublicKeyInfo).decode('ascii')
    return {
        'pem': pem.replace('\r\n', '\n'),
        'der_b64': _b64encode(der),
        'fingerprint_sha256': hashlib.sha256(der).hexdigest(),
        'key_spec': public_key_spec(key),
    }


def public_key_pem_from_b64_der(b64, field='public_key'):
    """LF PEM (SubjectPublicKeyInfo) of a base64 DER public key as get-parameters-for-import gives it."""
    return normalize_public_key(_b64decode(b64, field, 'base64 DER'), field)['pem']
