# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Check values: short public fingerprints that tell which key material a KMS key holds.

``kcv`` for AES-256 material is the key check value key ceremonies write down: the first three
bytes of AES-CMAC (keyed with the material) over sixteen zero bytes, as six upper-case hex
digits: a value people compare, never a machine's proof (24 bits, the same for every key holding
the material). ``material_record`` is that proof for AES-256: the full 128-bit AES-CMAC keyed with
the material over a message bound to one key id, so only the holder of the material can compute
it for that key and a copy from another key never matches. ``public_key_sha256`` for RSA/EC keys
is the SHA-256 of the DER SubjectPublicKeyInfo, lower-case hex, exactly as ``kms_public_key``
reports ``fingerprint_sha256``. None reveals the material: each is a one-way MAC or a public key.
Private module: the interface may change between releases.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import re

from ansible_collections.dew.kms.plugins.module_utils import _wrap
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsInputError, missing_library

KCV = 'kcv'
PUBLIC_KEY_SHA256 = 'public_key_sha256'
CHECK_VALUE_TYPES = (KCV, PUBLIC_KEY_SHA256)

KCV_BYTES = 3
# domain separation: a record is never the CMAC of anything else the collection computes
_RECORD_DOMAIN = b'dew.kms material record v1\x00'
RECORD_LENGTH = 22  # 128 bits in unpadded base64url: fits both clouds' tag values (at most 43)
_RECORD_RE = re.compile(r'^[A-Za-z0-9_-]{%d}$' % RECORD_LENGTH)
_KCV_RE = re.compile(r'^[0-9A-F]{6}$')
_SHA256_RE = re.compile(r'^[0-9a-f]{64}$')
_PATTERNS = {KCV: (_KCV_RE, 'six upper-case hex digits'),
             PUBLIC_KEY_SHA256: (_SHA256_RE, '64 lower-case hex digits')}


def _cmac_parts():
    try:
        from cryptography.hazmat.primitives import cmac
        from cryptography.hazmat.primitives.ciphers import algorithms
    except ImportError:
        raise missing_library('cryptography', 'to compute key check values')
    return cmac, algorithms


def kcv(material, field='key_material'):
    """Six upper-case hex digits: AES-CMAC(material, 16 zero bytes)[:3] for 32 bytes of AES-256 material.

    ``material`` is what ``_wrap.decode_symmetric_material`` accepts (32 raw bytes or base64).
    """
    key = _wrap.decode_symmetric_material(material, field)
    cmac, algorithms = _cmac_parts()
    mac = cmac.CMAC(algorithms.AES(key))
    mac.update(b'\x00' * 16)
    return mac.finalize()[:KCV_BYTES].hex().upper()


def material_record(material, key_id, field='key_material'):
    """The key-bound record of AES-256 material: unpadded base64url of the full AES-CMAC (keyed
    with the material) over a domain-separated message holding ``key_id``; 22 characters."""
    key = _wrap.decode_symmetric_material(material, field)
    cmac, algorithms = _cmac_parts()
    mac = cmac.CMAC(algorithms.AES(key))
    mac.update(_RECORD_DOMAIN + key_id.encode('ascii'))
    return base64.urlsafe_b64encode(mac.finalize()).decode('ascii').rstrip('=')


def is_material_record(value):
    """True for text of the shape ``material_record`` returns (says nothing of its truth)."""
    return isinstance(value, str) and _RECORD_RE.fullmatch(value) is not None


def public_key_sha256(key, field='key'):
    """Lower-case hex SHA-256 of the DER SubjectPublicKeyInfo of an RSA/EC key.

    ``key``: a private key object, a public key object, or PEM / DER / base64 DER text or bytes
    of either (a private key is recognised by its PEM label or by failing to read as public).
    """
    if hasattr(key, 'private_bytes'):  # a cryptography private key object
        _wrap.private_key_spec(key, field)
        return hashlib.sha256(_wrap.public_key_der_of(key)).hexdigest()
    if hasattr(key, 'public_bytes'):  # a cryptography public key object
        return _wrap.normalize_public_key(_spki_der(key), field)['fingerprint_sha256']
    if not isinstance(key, (str, bytes, bytearray)):
        raise KmsInputError('%s must be an RSA/EC private or public key (PEM, DER or base64 DER).' % field)
    raw = key.encode('ascii', 'replace') if isinstance(key, str) else bytes(key)
    if b'PRIVATE KEY-----' in raw:
        return public_key_sha256(_wrap.load_private_key(raw, field), field)
    try:
        return _wrap.normalize_public_key(raw, field)['fingerprint_sha256']
    except KmsInputError:
        if b'-----BEGIN' in raw:
            raise
    # DER (raw or base64) that is no public key: a private key, or an error naming the field
    return public_key_sha256(_private_key_from_der(raw, field), field)


def _private_key_from_der(raw, field):
    """A private key from raw or base64 DER; KmsInputError naming ``field`` otherwise."""
    der = raw
    if raw[:1] != b'\x30':
        try:
            der = base64.b64decode(b''.join(raw.split()), validate=True)
        except (binascii.Error, ValueError):
            raise KmsInputError('%s is not a readable RSA/EC key: expected a public or private key as '
                                'PEM, DER or base64 DER.' % field)
    return _wrap.load_private_key(der, field)


def _spki_der(public_key):
    from cryptography.hazmat.primitives import serialization
    return public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def check_value_type(key_spec):
    """'kcv' for AES_256, 'public_key_sha256' for RSA/EC key specs."""
    if key_spec in _wrap.SYMMETRIC_KEY_SPECS:
        return KCV
    if key_spec in _wrap.ASYMMETRIC_KEY_SPECS:
        return PUBLIC_KEY_SHA256
    raise KmsInputError('key_spec must be one of %s to have a check value.'
                        % ', '.join(_wrap.SYMMETRIC_KEY_SPECS + _wrap.ASYMMETRIC_KEY_SPECS))


def check_value_of(kind, material, field='key material'):
    """``(type, value)`` for loaded material as ``_keys.load_material`` returns it."""
    if kind == 'symmetric':
        return KCV, kcv(material, field)
    if kind == 'private_key':
        return PUBLIC_KEY_SHA256, public_key_sha256(material, field)
    raise KmsInputError('%s must be AES-256 material or an RSA/EC private key.' % field)


def validate_check_value(value_type, value, field='check_value'):
    """Raise KmsInputError unless ``value`` has the shape of a ``value_type`` check value."""
    if value_type not in _PATTERNS:
        raise KmsInputError('%s_type must be one of %s.' % (field, ', '.join(CHECK_VALUE_TYPES)))
    pattern, rule = _PATTERNS[value_type]
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise KmsInputError('%s is malformed: a %s check value is %s.' % (field, value_type, rule))
    return value
