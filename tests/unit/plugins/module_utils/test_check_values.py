# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Check values and material records, each computed a second way here: CMAC from its RFC 4493
definition (and cryptography's CMAC for records), SHA-256 of SPKI."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import os

import pytest
from cryptography.hazmat.primitives import cmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ansible_collections.dew.kms.plugins.module_utils import _check_values, _wrap
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsInputError


def aes_block(key, block):
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


def double(block):
    """Doubling in GF(2^128) as RFC 4493 section 2.3 defines it (subkey generation)."""
    number = int.from_bytes(block, 'big') << 1
    if number >> 128:
        number = (number & ((1 << 128) - 1)) ^ 0x87
    return number.to_bytes(16, 'big')


def cmac_one_block(key, message):
    """AES-CMAC of exactly one complete block: AES_K(M xor K1), K1 = double(AES_K(0^128))."""
    subkey = double(aes_block(key, b'\x00' * 16))
    return aes_block(key, bytes(a ^ b for a, b in zip(message, subkey)))


def reference_kcv(material):
    return cmac_one_block(material, b'\x00' * 16)[:3].hex().upper()


def test_reference_cmac_matches_nist_sp800_38b_aes256_example():
    """The test's own CMAC reproduces the published AES-256 example 2 (one block)."""
    key = bytes.fromhex('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4')
    message = bytes.fromhex('6bc1bee22e409f96e93d7e117393172a')
    assert cmac_one_block(key, message).hex() == '28a7023f452e8f82bd4bf28d8c37c35c'


def test_kcv_of_the_nist_example_key():
    key = bytes.fromhex('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4')
    assert _check_values.kcv(key) == reference_kcv(key)


@pytest.mark.parametrize('encode', [bytes, lambda m: base64.b64encode(m).decode('ascii'), base64.b64encode],
                         ids=['raw bytes', 'base64 text', 'base64 bytes'])
def test_kcv_of_random_material_in_every_accepted_form(encode):
    for _round in range(20):
        material = os.urandom(32)
        value = _check_values.kcv(encode(material))
        assert value == reference_kcv(material)
        assert len(value) == 6 and value == value.upper()


def test_kcv_differs_for_different_material():
    first, second = os.urandom(32), os.urandom(32)
    assert _check_values.kcv(first) != _check_values.kcv(second)  # 1 in 16 million to collide


@pytest.mark.parametrize('material', [b'', bytes(range(16)), bytes(range(31)), 'not base64 !!'],
                         ids=['empty', '16 bytes', '31 bytes', 'not base64'])
def test_kcv_refuses_material_that_is_not_32_bytes(material):
    with pytest.raises(KmsInputError) as caught:
        _check_values.kcv(material, 'byok_keys[0].key_material')
    assert 'byok_keys[0].key_material' in caught.value.msg


def spki(private_key):
    return private_key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP384R1())


def key_forms(key):
    enc, priv, pub = serialization.Encoding, serialization.PrivateFormat, serialization.PublicFormat
    none = serialization.NoEncryption()
    pkcs8_der = key.private_bytes(enc.DER, priv.PKCS8, none)
    traditional = key.private_bytes(enc.PEM, priv.TraditionalOpenSSL, none)
    public_der = key.public_key().public_bytes(enc.DER, pub.SubjectPublicKeyInfo)
    return {
        'private key object': key,
        'public key object': key.public_key(),
        'PKCS#8 PEM text': key.private_bytes(enc.PEM, priv.PKCS8, none).decode('ascii'),
        'PKCS#1 / SEC1 PEM bytes': traditional,
        'PKCS#8 DER': pkcs8_der,
        'PKCS#8 base64 DER': base64.b64encode(pkcs8_der).decode('ascii'),
        'public PEM (CRLF)': key.public_key().public_bytes(enc.PEM, pub.SubjectPublicKeyInfo).replace(b'\n', b'\r\n'),
        'public DER': public_der,
        'public base64 DER (as get-publickey)': base64.b64encode(public_der).decode('ascii'),
    }


@pytest.mark.parametrize('key', [RSA_KEY, EC_KEY], ids=['RSA_2048', 'EC_P384'])
def test_public_key_sha256_is_sha256_of_spki_for_every_form(key):
    expected = hashlib.sha256(spki(key)).hexdigest()
    for name, form in key_forms(key).items():
        assert _check_values.public_key_sha256(form) == expected, name


def test_public_key_sha256_is_what_kms_public_key_reports_as_fingerprint():
    der_b64 = base64.b64encode(spki(RSA_KEY)).decode('ascii')
    assert _check_values.public_key_sha256(RSA_KEY) == _wrap.normalize_public_key(der_b64)['fingerprint_sha256']


@pytest.mark.parametrize('value', ['', 'garbage', b'\x30\x03\x02\x01\x00', 12345,
                                   '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'])
def test_public_key_sha256_refuses_what_is_no_key_without_echoing_it(value):
    with pytest.raises(KmsInputError) as caught:
        _check_values.public_key_sha256(value, 'byok_keys[1].key_material_path')
    assert 'byok_keys[1].key_material_path' in caught.value.msg
    if isinstance(value, str) and value:
        assert value.strip() not in caught.value.msg


def test_public_key_sha256_refuses_private_keys_kms_cannot_import():
    with pytest.raises(KmsInputError) as caught:
        _check_values.public_key_sha256(ed25519.Ed25519PrivateKey.generate())
    assert 'RSA or EC' in caught.value.msg


@pytest.mark.parametrize('key_spec, expected', [('AES_256', 'kcv'), ('RSA_3072', 'public_key_sha256'),
                                                ('EC_P256', 'public_key_sha256')])
def test_check_value_type_follows_key_spec(key_spec, expected):
    assert _check_values.check_value_type(key_spec) == expected


def test_check_value_type_refuses_specs_without_import():
    with pytest.raises(KmsInputError):
        _check_values.check_value_type('SM4')


def test_check_value_of_loaded_material():
    material = os.urandom(32)
    assert _check_values.check_value_of('symmetric', material) == ('kcv', reference_kcv(material))
    assert _check_values.check_value_of('private_key', EC_KEY) == (
        'public_key_sha256', hashlib.sha256(spki(EC_KEY)).hexdigest())
    with pytest.raises(KmsInputError):
        _check_values.check_value_of('certificate', material)


@pytest.mark.parametrize('value_type, value, good', [
    ('kcv', 'A1B2C3', True), ('kcv', 'a1b2c3', False), ('kcv', 'A1B2C3\n', False), ('kcv', 'A1B2C3D4', False),
    ('kcv', None, False),
    ('public_key_sha256', 'ab' * 32, True), ('public_key_sha256', 'AB' * 32, False),
    ('public_key_sha256', 'ab' * 31, False), ('md5', 'ab' * 8, False),
])
def test_validate_check_value(value_type, value, good):
    if good:
        assert _check_values.validate_check_value(value_type, value) == value
    else:
        with pytest.raises(KmsInputError):
            _check_values.validate_check_value(value_type, value)


# ----------------------------------------------------------------------------- material records

KEY_ID = '0d0466b0-e727-4d9c-b35d-f84bb474a37f'
OTHER_KEY_ID = '1d0466b0-e727-4d9c-b35d-f84bb474a37f'
RECORD_DOMAIN = b'dew.kms material record v1\x00'
NIST_KEY = bytes.fromhex('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4')
NIST_MESSAGE = bytes.fromhex('6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51'
                             '30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710')


def cmac_rfc4493(key, message):
    """AES-CMAC of any message as RFC 4493 section 2.4 defines it (CBC-MAC, K1 for a complete last
    block, K2 and 10* padding otherwise)."""
    k1 = double(aes_block(key, b'\x00' * 16))
    k2 = double(k1)
    blocks = [message[i:i + 16] for i in range(0, len(message), 16)] or [b'']
    last = blocks[-1]
    if len(last) == 16:
        last = bytes(a ^ b for a, b in zip(last, k1))
    else:
        padded = last + b'\x80' + b'\x00' * (15 - len(last))
        last = bytes(a ^ b for a, b in zip(padded, k2))
    state = b'\x00' * 16
    for block in blocks[:-1] + [last]:
        state = aes_block(key, bytes(a ^ b for a, b in zip(state, block)))
    return state


def cryptography_cmac(key, message):
    mac = cmac.CMAC(algorithms.AES(key))
    mac.update(message)
    return mac.finalize()


def unpadded_b64url(data):
    return base64.urlsafe_b64encode(data).decode('ascii').rstrip('=')


@pytest.mark.parametrize('length, expected', [
    (0, '028962f61b7bf89efc6b551f4667d983'), (16, '28a7023f452e8f82bd4bf28d8c37c35c'),
    (40, 'aaf3d8f1de5640c232f5b169b9c911e6'), (64, 'e1992190549f6ed5696a2c056c315410'),
])
def test_reference_cmac_matches_every_nist_sp800_38b_aes256_example(length, expected):
    """Examples 9 to 12: empty, one block, a partial last block, four complete blocks."""
    assert cmac_rfc4493(NIST_KEY, NIST_MESSAGE[:length]).hex() == expected
    assert cryptography_cmac(NIST_KEY, NIST_MESSAGE[:length]).hex() == expected


def test_material_record_is_the_full_cmac_over_the_domain_and_the_key_id():
    for _round in range(20):
        material = os.urandom(32)
        message = RECORD_DOMAIN + KEY_ID.encode('ascii')
        record = _check_values.material_record(material, KEY_ID)
        assert record == unpadded_b64url(cryptography_cmac(material, message))
        assert record == unpadded_b64url(cmac_rfc4493(material, message))
        assert len(record) == _check_values.RECORD_LENGTH == 22
        assert base64.urlsafe_b64decode(record + '==') == cryptography_cmac(material, message)
        assert '=' not in record and '+' not in record and '/' not in record
        assert _check_values.is_material_record(record)


def test_material_record_of_the_nist_example_key():
    """A fixed answer, so that a change of the domain or the encoding cannot pass unnoticed (records
    written by earlier runs must keep proving their keys)."""
    expected = cmac_rfc4493(NIST_KEY, b'dew.kms material record v1\x00' + KEY_ID.encode('ascii'))
    assert unpadded_b64url(expected) == 'FWhFVLMqitxuB0dfmUzmfw'
    assert _check_values.material_record(NIST_KEY, KEY_ID) == 'FWhFVLMqitxuB0dfmUzmfw'
    # neither the KCV message nor the key id alone: the record is bound to the domain and the key
    assert _check_values.material_record(NIST_KEY, KEY_ID) != unpadded_b64url(cmac_rfc4493(NIST_KEY, bytes(16)))
    assert _check_values.material_record(NIST_KEY, KEY_ID) != unpadded_b64url(
        cmac_rfc4493(NIST_KEY, KEY_ID.encode('ascii')))


def test_material_record_differs_per_key_id_and_per_material():
    material, other = os.urandom(32), os.urandom(32)
    record = _check_values.material_record(material, KEY_ID)
    # the same material in another key: another record (a copy from that key proves nothing here)
    assert _check_values.material_record(material, OTHER_KEY_ID) != record
    assert _check_values.material_record(other, KEY_ID) != record
    # the KCV is the same for every key holding the material; the record is not
    assert _check_values.kcv(material) not in (record, _check_values.material_record(material, OTHER_KEY_ID))
    assert len(set(_check_values.material_record(material, key_id) for key_id in (
        KEY_ID, OTHER_KEY_ID, KEY_ID.upper(), KEY_ID[:-1] + '0'))) == 4


@pytest.mark.parametrize('encode', [bytes, lambda m: base64.b64encode(m).decode('ascii'), base64.b64encode],
                         ids=['raw bytes', 'base64 text', 'base64 bytes'])
def test_material_record_of_material_in_every_accepted_form(encode):
    material = os.urandom(32)
    assert _check_values.material_record(encode(material), KEY_ID) == unpadded_b64url(
        cryptography_cmac(material, RECORD_DOMAIN + KEY_ID.encode('ascii')))


@pytest.mark.parametrize('material', [b'', bytes(range(16)), bytes(range(31)), 'not base64 !!'],
                         ids=['empty', '16 bytes', '31 bytes', 'not base64'])
def test_material_record_refuses_material_that_is_not_32_bytes(material):
    with pytest.raises(KmsInputError) as caught:
        _check_values.material_record(material, KEY_ID, 'keys[0].key_material')
    assert 'keys[0].key_material' in caught.value.msg


@pytest.mark.parametrize('value, good', [
    ('A' * 22, True), ('abcdefghijklmnopqrst-_', True), ('0123456789ABCDEFGHIJKL', True),
    ('A' * 21, False), ('A' * 23, False), ('A' * 21 + '+', False), ('A' * 21 + '/', False),
    ('A' * 20 + '==', False), ('A' * 22 + '\n', False), (' ' + 'A' * 21, False), ('A1B2C3', False),
    ('', False), (None, False), (b'A' * 22, False), (12345, False),
])
def test_is_material_record_checks_the_shape_only(value, good):
    assert _check_values.is_material_record(value) is good
