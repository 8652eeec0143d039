# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Local BYOK crypto: every wrap is unwrapped here with the private half to prove it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import os

import pytest
from cryptography.hazmat.primitives import hashes, keywrap, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from ansible_collections.dew.kms.plugins.module_utils import _wrap
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsInputError
from ansible_collections.dew.kms.tests.unit.plugins import generated_keys


def rsa_key(bits=2048):
    return {2048: generated_keys.RSA_2048, 3072: generated_keys.RSA_3072}[bits]


def spki_der(key):
    return key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture
def wrapping_key():
    """The import key pair KMS would hold; the test keeps the private half to unwrap."""
    return generated_keys.WRAPPING_KEY, base64.b64encode(spki_der(generated_keys.WRAPPING_KEY)).decode('ascii')


def unwrap_rsa(private_key, b64, algorithm):
    if algorithm == 'RSAES_PKCS1_V1_5':
        pad = padding.PKCS1v15()
    else:
        digest = hashes.SHA256() if algorithm == 'RSAES_OAEP_SHA_256' else hashes.SHA1()
        pad = padding.OAEP(mgf=padding.MGF1(algorithm=digest), algorithm=digest, label=None)
    return private_key.decrypt(base64.b64decode(b64), pad)


# ------------------------------------------------------------------------------- symmetric

@pytest.mark.parametrize('algorithm', _wrap.WRAPPING_ALGORITHMS)
def test_symmetric_round_trip(wrapping_key, algorithm):
    private, public_b64 = wrapping_key
    material = os.urandom(32)

    wrapped = _wrap.wrap_symmetric_material(public_b64, base64.b64encode(material).decode(), algorithm)

    assert len(wrapped) == 344  # one RSA-2048 block, the size KMS accepts
    assert unwrap_rsa(private, wrapped, algorithm) == material


def test_default_algorithm_is_oaep_sha256_and_not_sha1(wrapping_key):
    private, public_b64 = wrapping_key
    material = os.urandom(32)
    wrapped = _wrap.wrap_symmetric_material(public_b64, material)
    assert unwrap_rsa(private, wrapped, 'RSAES_OAEP_SHA_256') == material
    with pytest.raises(ValueError):
        unwrap_rsa(private, wrapped, 'RSAES_OAEP_SHA_1')
    assert _wrap.DEFAULT_WRAPPING_ALGORITHM == 'RSAES_OAEP_SHA_256'
    assert set(_wrap.WEAK_WRAPPING_ALGORITHMS) == {'RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5'}


def test_decode_symmetric_material_forms():
    material = os.urandom(32)
    b64 = base64.b64encode(material).decode()
    assert _wrap.decode_symmetric_material(b64) == material
    assert _wrap.decode_symmetric_material(material) == material  # a 32-byte binary file
    assert _wrap.decode_symmetric_material((b64[:20] + '\n' + b64[20:] + '\n').encode()) == material


@pytest.mark.parametrize('value,rule', [
    ('', 'is empty'),
    (None, 'is empty'),
    (base64.b64encode(b'k' * 16).decode(), 'exactly 32 bytes'),
    (base64.b64encode(b'k' * 33).decode(), 'decodes to 33 bytes'),
    (b'k' * 31, 'not valid base64'),
    ('not*base64!', 'not valid base64'),
    (u'caf\u00e9', 'must be ASCII'),
])
def test_decode_symmetric_material_rejects_without_echo(value, rule):
    with pytest.raises(KmsInputError) as caught:
        _wrap.decode_symmetric_material(value, field='byok_keys[0].key_material')
    assert rule in caught.value.msg
    assert caught.value.msg.startswith('byok_keys[0].key_material ')
    if value:
        shown = value.decode('latin-1') if isinstance(value, bytes) else value
        assert shown not in caught.value.msg
    assert caught.value.status is None


def test_wrap_symmetric_checks_size_and_algorithm_before_anything(wrapping_key):
    _private, public_b64 = wrapping_key
    with pytest.raises(KmsInputError, match='exactly 32 bytes'):
        _wrap.wrap_symmetric_material(public_b64, base64.b64encode(b'x' * 24).decode())
    with pytest.raises(KmsInputError, match='wrapping_algorithm must be one of'):
        _wrap.wrap_symmetric_material(public_b64, os.urandom(32), 'RSAES_OAEP_SHA_256_AES_256_KEY_WRAP')


def test_wrapping_public_key_must_be_rsa_and_base64(wrapping_key):
    ec_public = base64.b64encode(spki_der(ec.generate_private_key(ec.SECP256R1()))).decode()
    with pytest.raises(KmsInputError, match='public_key of the import parameters is not an RSA key'):
        _wrap.wrap_symmetric_material(ec_public, os.urandom(32))
    with pytest.raises(KmsInputError, match='public_key is not valid base64'):
        _wrap.wrap_symmetric_material('%%%', os.urandom(32))
    with pytest.raises(KmsInputError, match='public_key is not a readable public key'):
        _wrap.wrap_symmetric_material(base64.b64encode(b'\x30\x03\x02\x01\x01').decode(), os.urandom(32))


# ------------------------------------------------------------------------------- private keys

def _ec(curve):
    return ec.generate_private_key(curve)


@pytest.mark.parametrize('make_key,spec', [
    (lambda: rsa_key(2048), 'RSA_2048'),
    (lambda: rsa_key(3072), 'RSA_3072'),
    (lambda: _ec(ec.SECP256R1()), 'EC_P256'),
    (lambda: _ec(ec.SECP384R1()), 'EC_P384'),
])
def test_private_key_round_trip(wrapping_key, make_key, spec):
    private, public_b64 = wrapping_key
    key = make_key()

    material, wrapped_private = _wrap.wrap_private_key(public_b64, key, 'RSAES_OAEP_SHA_256')

    temporary = unwrap_rsa(private, material, 'RSAES_OAEP_SHA_256')
    assert len(temporary) == 32
    pkcs8 = keywrap.aes_key_unwrap_with_padding(temporary, base64.b64decode(wrapped_private))
    assert pkcs8 == key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
    assert _wrap.private_key_spec(key) == spec
    assert _wrap.public_key_der_of(key) == spki_der(key)
    assert 200 <= len(wrapped_private) <= 6144


def test_each_private_key_wrap_uses_a_fresh_temporary_key(wrapping_key):
    private, public_b64 = wrapping_key
    key = _ec(ec.SECP256R1())
    first = unwrap_rsa(private, _wrap.wrap_private_key(public_b64, key)[0], 'RSAES_OAEP_SHA_256')
    second = unwrap_rsa(private, _wrap.wrap_private_key(public_b64, key)[0], 'RSAES_OAEP_SHA_256')
    assert first != second


def test_wrap_private_key_accepts_pem_bytes(wrapping_key):
    private, public_b64 = wrapping_key
    key = _ec(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    material, wrapped_private = _wrap.wrap_private_key(public_b64, pem)
    pkcs8 = keywrap.aes_key_unwrap_with_padding(unwrap_rsa(private, material, 'RSAES_OAEP_SHA_256'),
                                                base64.b64decode(wrapped_private))
    assert serialization.load_der_private_key(pkcs8, None).private_numbers() == key.private_numbers()


@pytest.mark.parametrize('encoding,fmt', [
    (serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8),
    (serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL),  # PKCS#1 / SEC1
    (serialization.Encoding.DER, serialization.PrivateFormat.PKCS8),
    (serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL),
])
@pytest.mark.parametrize('make_key', [lambda: rsa_key(2048), lambda: _ec(ec.SECP384R1())])
def test_load_private_key_formats(encoding, fmt, make_key):
    key = make_key()
    data = key.private_bytes(encoding, fmt, serialization.NoEncryption())
    loaded = _wrap.load_private_key(data)
    assert loaded.private_numbers() == key.private_numbers()


def test_load_private_key_crlf_pem_text():
    key = _ec(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode().replace('\n', '\r\n')
    assert _wrap.load_private_key(pem).private_numbers() == key.private_numbers()


def test_encrypted_private_key_needs_passphrase():
    key = _ec(ec.SECP256R1())
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(b'pass-phrase'))
    with pytest.raises(KmsInputError, match='key_material_path is encrypted: decrypt it first') as refused:
        _wrap.load_private_key(data, field='key_material_path')
    # no module option takes a passphrase: the message must not send the user looking for one
    assert 'passphrase' not in refused.value.msg
    assert _wrap.load_private_key(data, password='pass-phrase').private_numbers() == key.private_numbers()
    with pytest.raises(KmsInputError, match='passphrase is wrong') as caught:
        _wrap.load_private_key(data, password='wrong-phrase')
    assert 'wrong-phrase' not in caught.value.msg


@pytest.mark.parametrize('data,rule', [
    (b'', 'is empty'),
    (b'-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', 'not a readable private key'),
    (b'\x30\x82garbage-that-is-not-der', 'not a readable private key'),
])
def test_unreadable_private_keys(data, rule):
    with pytest.raises(KmsInputError, match=rule) as caught:
        _wrap.load_private_key(data)
    assert 'passphrase' not in caught.value.msg


def test_truncated_pem_is_not_blamed_on_a_passphrase():
    pem = _ec(ec.SECP256R1()).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption())
    truncated = pem[:len(pem) // 2] + pem[-30:]
    with pytest.raises(KmsInputError, match='key_material_path is not a readable private key: expected PEM or DER'
                       ) as caught:
        _wrap.load_private_key(truncated, field='key_material_path')
    assert 'unencrypted' in caught.value.msg and 'passphrase' not in caught.value.msg


def test_unsupported_private_keys():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(KmsInputError, match='1024-bit RSA key: KMS imports RSA keys of 2048, 3072 or 4096'):
        _wrap.load_private_key(small.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
    with pytest.raises(KmsInputError, match='curve secp521r1'):
        _wrap.private_key_spec(_ec(ec.SECP521R1()))
    edwards = ed25519.Ed25519PrivateKey.generate()
    with pytest.raises(KmsInputError, match='not an RSA or EC private key'):
        _wrap.load_private_key(edwards.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))


def test_is_private_key_der():
    key = _ec(ec.SECP256R1())
    der = _wrap.private_key_pkcs8_der(key)
    assert _wrap.is_private_key_der(der) is True
    assert _wrap.is_private_key_der(_wrap.public_key_der_of(key)) is False
    assert _wrap.is_private_key_der(b'\x30\x03\x02\x01\x00') is False


# ------------------------------------------------------------------------------- public keys

def _pem_lines(der, label, newline):
    b64 = base64.b64encode(der).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return newline.join(['-----BEGIN %s-----' % label] + lines + ['-----END %s-----' % label, ''])


@pytest.fixture(scope='module')
def rsa_public():
    key = rsa_key(2048)
    spki = spki_der(key)
    pkcs1 = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return spki, pkcs1


@pytest.mark.parametrize('form', ['spki-pem-lf', 'spki-pem-crlf', 'pkcs1-in-public-key-armour-crlf',
                                  'rsa-public-key-pem', 'spki-der', 'pkcs1-der', 'spki-b64', 'spki-pem-bytes'])
def test_normalize_public_key_forms(rsa_public, form):
    spki, pkcs1 = rsa_public
    data = {
        'spki-pem-lf': _pem_lines(spki, 'PUBLIC KEY', '\n'),
        'spki-pem-crlf': _pem_lines(spki, 'PUBLIC KEY', '\r\n'),
        'pkcs1-in-public-key-armour-crlf': _pem_lines(pkcs1, 'PUBLIC KEY', '\r\n'),
        'rsa-public-key-pem': _pem_lines(pkcs1, 'RSA PUBLIC KEY', '\n'),
        'spki-der': spki,
        'pkcs1-der': pkcs1,
        'spki-b64': base64.b64encode(spki).decode(),
        'spki-pem-bytes': _pem_lines(spki, 'PUBLIC KEY', '\r\n').encode(),
    }[form]

    result = _wrap.normalize_public_key(data)

    assert result['pem'] == _pem_lines(spki, 'PUBLIC KEY', '\n')
    assert '\r' not in result['pem']
    assert result['der_b64'] == base64.b64encode(spki).decode()
    assert result['fingerprint_sha256'] == hashlib.sha256(spki).hexdigest()
    assert result['key_spec'] == 'RSA_2048'


@pytest.mark.parametrize('curve,spec', [(ec.SECP256R1(), 'EC_P256'), (ec.SECP384R1(), 'EC_P384'),
                                        (ec.SECP256K1(), 'SECP256K1')])
def test_normalize_ec_public_keys(curve, spec):
    key = _ec(curve)
    assert _wrap.normalize_public_key(_pem_lines(spki_der(key), 'PUBLIC KEY', '\r\n'))['key_spec'] == spec


def test_public_key_pem_from_b64_der(rsa_public):
    spki, _pkcs1 = rsa_public
    assert _wrap.public_key_pem_from_b64_der(base64.b64encode(spki).decode()) == _pem_lines(spki, 'PUBLIC KEY', '\n')


@pytest.mark.parametrize('data,rule', [
    ('', 'is empty'),
    ('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'no readable PUBLIC KEY PEM block'),
    ('@@@@', 'not valid PEM, DER or base64 DER'),
    (base64.b64encode(b'hello world, not a key').decode(), 'not a readable public key'),
])
def test_normalize_public_key_errors(data, rule):
    with pytest.raises(KmsInputError, match=rule):
        _wrap.normalize_public_key(data)
