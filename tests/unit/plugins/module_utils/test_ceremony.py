# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Ceremony bundles: files, format checks, pairing with the caller's keys, and the offline wrap.

Every wrap is undone here with the private half of the wrapping key, and check values are
recomputed independently, so a wrong wrap or a wrong check value fails a test.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess

import pytest
from cryptography.hazmat.primitives import cmac, hashes, keywrap, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers import algorithms

from ansible_collections.dew.kms.plugins.module_utils import _ceremony
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsInputError

NOW = 1893456000  # 2030-01-01T00:00:00Z
AES_ID = '0d0466b0-e727-4d9c-b35d-f84bb474a37f'
EC_ID = '1d0466b0-e727-4d9c-b35d-f84bb474a37f'
RSA_ID = '2d0466b0-e727-4d9c-b35d-f84bb474a37f'
OAEP_SHA256 = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def spki_der(private_key):
    return private_key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)


def b64(data):
    return base64.b64encode(data).decode('ascii')


WRAPPING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
WRAPPING_PUBLIC = b64(spki_der(WRAPPING_KEY))
EC_MATERIAL = ec.generate_private_key(ec.SECP256R1())
RSA_MATERIAL = rsa.generate_private_key(public_exponent=65537, key_size=3072)


def token():
    return b64(os.urandom(900))


def reference_kcv(material):
    mac = cmac.CMAC(algorithms.AES(material))
    mac.update(bytes(16))
    return mac.finalize()[:3].hex().upper()


def reference_record(material, key_id):
    """The key-bound material record, computed here from its definition."""
    mac = cmac.CMAC(algorithms.AES(material))
    mac.update(b'dew.kms material record v1\x00' + key_id.encode('ascii'))
    return base64.urlsafe_b64encode(mac.finalize()).decode('ascii').rstrip('=')


def export_entry(key_id, alias, key_spec, expires=NOW + 86400, public_key=WRAPPING_PUBLIC,
                 algorithm='RSAES_OAEP_SHA_256'):
    key = {'key_id': key_id, 'alias': alias, 'key_spec': key_spec}
    params = {'public_key': public_key, 'import_token': token(), 'expiration_time': expires}
    return _ceremony.export_entry(key, params, algorithm)


def export_document(*entries):
    entries = entries or (export_entry(AES_ID, 'app-data', 'AES_256'), export_entry(EC_ID, 'app-sign', 'EC_P256'))
    return _ceremony.build_export_bundle(entries, cloud='otc', region='eu-de', now=NOW - 60)


def write_json(tmp_path, document, name='bundle.json'):
    path = str(tmp_path / name)
    with open(path, 'w') as stream:
        json.dump(document, stream)
    return path


def read_export(tmp_path, document):
    return _ceremony.read_bundle(write_json(tmp_path, document), 'byok_bundle_path', _ceremony.EXPORT_FORMAT)


# ------------------------------------------------------------------------------ building, files

def test_export_bundle_document_has_every_documented_field():
    document = export_document()
    assert list(document) == ['format', 'version', 'created', 'cloud', 'region', 'keys']
    assert document['format'] == 'dew.kms/byok-export' and document['version'] == 1
    assert document['created'] == '2029-12-31T23:59:00Z'
    assert list(document['keys'][0]) == ['key_id', 'alias', 'key_spec', 'wrapping_algorithm', 'public_key',
                                         'import_token', 'token_expiration_time', 'token_expiration_date']
    assert document['keys'][0]['token_expiration_date'] == '2030-01-02T00:00:00Z'
    assert 'key_material' not in json.dumps(document)


def test_write_bundle_is_atomic_with_the_mode_from_the_start(tmp_path, monkeypatch):
    path = str(tmp_path / 'export.json')
    modes = []
    real_fchmod = os.fchmod

    def spy(handle, mode):
        modes.append((os.fstat(handle).st_size, mode))
        real_fchmod(handle, mode)

    monkeypatch.setattr(os, 'fchmod', spy)
    _ceremony.write_bundle(path, export_document(), 'byok_bundle_path')
    assert modes == [(0, 0o600)]  # chmod before the first byte
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(str(tmp_path)) == ['export.json']
    assert json.loads(open(path).read())['format'] == _ceremony.EXPORT_FORMAT

    _ceremony.write_bundle(path, export_document(export_entry(RSA_ID, None, 'RSA_3072')), 'byok_bundle_path',
                           mode=0o640)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert [key['key_id'] for key in json.load(open(path))['keys']] == [RSA_ID]
    assert os.listdir(str(tmp_path)) == ['export.json']


def test_write_failure_keeps_the_previous_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = str(tmp_path / 'export.json')
    _ceremony.write_bundle(path, export_document(), 'byok_bundle_path')
    before = open(path).read()

    def broken_replace(source, target):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'replace', broken_replace)
    with pytest.raises(KmsInputError) as caught:
        _ceremony.write_bundle(path, export_document(export_entry(RSA_ID, None, 'RSA_3072')), 'byok_bundle_path')
    assert 'byok_bundle_path' in caught.value.msg and 'No space left' in caught.value.msg
    assert open(path).read() == before
    assert os.listdir(str(tmp_path)) == ['export.json']


def test_write_refuses_a_missing_directory_and_a_directory_path(tmp_path):
    with pytest.raises(KmsInputError, match='byok_wrapped_path .* does not exist'):
        _ceremony.write_bundle(str(tmp_path / 'no' / 'w.json'), export_document(), 'byok_wrapped_path')
    with pytest.raises(KmsInputError, match='is a directory'):
        _ceremony.write_bundle(str(tmp_path), export_document(), 'byok_wrapped_path')


def test_read_round_trip(tmp_path):
    path = str(tmp_path / 'export.json')
    document = export_document()
    _ceremony.write_bundle(path, document, 'byok_bundle_path')
    bundle = _ceremony.read_bundle(path, 'byok_bundle_path', _ceremony.EXPORT_FORMAT)
    assert (bundle.version, bundle.created, bundle.cloud, bundle.region) == (1, '2029-12-31T23:59:00Z', 'otc', 'eu-de')
    assert [(entry.key_id, entry.alias, entry.problem) for entry in bundle.entries] == [
        (AES_ID, 'app-data', None), (EC_ID, 'app-sign', None)]
    assert bundle.entries[0].data == document['keys'][0]


SECRET_CONTENT = 'CANARY-4f1e9d-SECRET'


@pytest.mark.parametrize('content, problem', [
    (b'{"format": "dew.kms/byok-export", ' + SECRET_CONTENT.encode(), 'not valid JSON (line 1, column 35)'),
    (b'\xff\xfe' + SECRET_CONTENT.encode(), 'not UTF-8 text'),
    (json.dumps([SECRET_CONTENT]).encode(), 'is not a JSON object'),
    (json.dumps({'format': SECRET_CONTENT}).encode(), 'no "format": "dew.kms/byok-export" marker'),
    (json.dumps({'format': 'dew.kms/byok-wrapped', 'version': 1, 'keys': []}).encode(),
     'holds the wrapped bundle (format dew.kms/byok-wrapped), but byok_bundle_path needs the export bundle'),
    (json.dumps({'format': 'dew.kms/byok-export', 'version': 2, 'keys': []}).encode(), 'unsupported "version"'),
    (json.dumps({'format': 'dew.kms/byok-export', 'version': '1', 'keys': []}).encode(), 'unsupported "version"'),
    (json.dumps({'format': 'dew.kms/byok-export', 'version': True, 'keys': []}).encode(), 'unsupported "version"'),
    (json.dumps({'format': 'dew.kms/byok-export', 'version': 1}).encode(), 'needs "keys"'),
    (json.dumps({'format': 'dew.kms/byok-export', 'version': 1, 'keys': [SECRET_CONTENT]}).encode(),
     'needs "keys"'),
])
def test_read_refuses_files_that_are_no_bundle_without_echoing_content(tmp_path, content, problem):
    path = tmp_path / 'bundle.json'
    path.write_bytes(content)
    with pytest.raises(KmsInputError) as caught:
        _ceremony.read_bundle(str(path), 'byok_bundle_path', _ceremony.EXPORT_FORMAT)
    assert caught.value.msg.startswith('byok_bundle_path (%s) ' % path)
    assert problem in caught.value.msg
    assert SECRET_CONTENT not in caught.value.msg


def test_read_refuses_a_key_named_twice(tmp_path):
    document = export_document(export_entry(AES_ID, 'one', 'AES_256'), export_entry(AES_ID, 'two', 'AES_256'))
    with pytest.raises(KmsInputError, match='names key %s twice' % AES_ID):
        read_export(tmp_path, document)


def test_read_refuses_missing_directories_fifos_and_oversized_files(tmp_path):
    with pytest.raises(KmsInputError, match='cannot be read: No such file'):
        _ceremony.read_bundle(str(tmp_path / 'absent.json'), 'byok_bundle_path', _ceremony.EXPORT_FORMAT)
    with pytest.raises(KmsInputError, match='is not a regular file'):
        _ceremony.read_bundle(str(tmp_path), 'byok_bundle_path', _ceremony.EXPORT_FORMAT)
    fifo = str(tmp_path / 'fifo')
    os.mkfifo(fifo)
    with pytest.raises(KmsInputError, match='is not a regular file'):  # and does not hang
        _ceremony.read_bundle(fifo, 'byok_bundle_path', _ceremony.EXPORT_FORMAT)
    path = write_json(tmp_path, export_document())
    size = os.path.getsize(path)
    assert _ceremony.read_bundle(path, 'byok_bundle_path', _ceremony.EXPORT_FORMAT, limit=size).entries
    with pytest.raises(KmsInputError, match='larger than %d bytes' % (size - 1)):
        _ceremony.read_bundle(path, 'byok_bundle_path', _ceremony.EXPORT_FORMAT, limit=size - 1)


# ------------------------------------------------------------------------------ per-key problems

def weak_public_key():
    return b64(spki_der(rsa.generate_private_key(public_exponent=65537, key_size=1024)))


@pytest.mark.parametrize('change, problem', [
    (lambda key: key.pop('key_id'), 'key_id is missing'),
    (lambda key: key.update(key_id='not-an-id'), 'keys[0].key_id is malformed'),
    (lambda key: key.update(key_id=AES_ID + '\n'), 'keys[0].key_id is malformed'),
    (lambda key: key.update(alias='bad alias!'), 'keys[0].alias is invalid'),
    (lambda key: key.update(alias='app-data\n'), 'keys[0].alias is invalid'),
    (lambda key: key.update(key_spec='SM4'), 'keys[0].key_spec must be one of AES_256'),
    (lambda key: key.update(wrapping_algorithm='RSAES_OAEP_SHA_512'), 'keys[0].wrapping_algorithm must be one of'),
    (lambda key: key.pop('import_token'), 'import_token is missing'),
    (lambda key: key.update(import_token=''), 'keys[0].import_token must be a non-empty string'),
    (lambda key: key.update(token_expiration_time='soon'), 'keys[0].token_expiration_time must be a positive'),
    (lambda key: key.update(token_expiration_time=True), 'keys[0].token_expiration_time must be a positive'),
    (lambda key: key.pop('public_key'), 'public_key is missing'),
    (lambda key: key.update(public_key='%%%'), 'keys[0].public_key is not base64 DER'),
    (lambda key: key.update(public_key=weak_public_key()), 'keys[0].public_key is a weak 1024-bit RSA key'),
    (lambda key: key.update(public_key=b64(spki_der(ec.generate_private_key(ec.SECP256R1())))),
     'keys[0].public_key is not an RSA key'),
])
def test_export_entry_problems_stay_with_their_key(tmp_path, change, problem):
    document = export_document()
    change(document['keys'][0])
    bundle = read_export(tmp_path, document)
    first, second = bundle.entries
    assert first.problem is not None and problem in first.problem.msg
    assert first.problem.msg.startswith('byok_bundle_path (%s), key 1' % bundle.path)
    assert second.problem is None


def test_token_expiry_is_judged_at_the_given_moment(tmp_path):
    bundle = read_export(tmp_path, export_document())
    entry = bundle.entries[0]
    assert not entry.expired(NOW + 86399)
    assert entry.expired(NOW + 86400)


# ------------------------------------------------------------------------------ pairing

def test_match_pairs_by_key_id_or_alias(tmp_path):
    bundle = read_export(tmp_path, export_document())
    entries, failures = _ceremony.match_keys(
        bundle, [{'alias': 'alias/app-sign'}, {'key_id': AES_ID, 'alias': 'app-data', 'key_spec': 'AES_256'}], now=NOW)
    assert failures == []
    assert [entry.key_id for entry in entries] == [EC_ID, AES_ID]


def test_match_reports_foreign_keys_both_ways(tmp_path):
    bundle = read_export(tmp_path, export_document())
    entries, failures = _ceremony.match_keys(bundle, [{'alias': 'app-data'}, {'alias': 'elsewhere'}], now=NOW)
    assert entries[0].key_id == AES_ID and entries[1] is None
    by_index = dict((failure.index, failure) for failure in failures)
    assert sorted(by_index, key=str) == [1, None]
    assert 'byok_keys[1] (alias elsewhere): not in byok_bundle_path' in by_index[1].error.msg
    assert 'run the export phase with this key in byok_keys' in by_index[1].error.msg
    foreign = by_index[None]
    assert (foreign.key_id, foreign.alias) == (EC_ID, 'app-sign')
    assert 'not among the keys of this run (byok_keys)' in foreign.error.msg


@pytest.mark.parametrize('requested, problem', [
    ({'key_id': AES_ID, 'alias': 'other'}, 'holds key %s under alias app-data, not other' % AES_ID),
    ({'alias': 'app-data', 'key_spec': 'RSA_2048'}, 'key_spec is RSA_2048, but byok_bundle_path'),
])
def test_match_refuses_contradicting_keys(tmp_path, requested, problem):
    bundle = read_export(tmp_path, export_document())
    entries, failures = _ceremony.match_keys(bundle, [requested, {'alias': 'app-sign'}], now=NOW)
    assert entries[0] is None and entries[1].key_id == EC_ID
    assert [failure.index for failure in failures] == [0]
    assert problem in failures[0].error.msg


def test_match_refuses_expired_tokens_and_says_what_to_do(tmp_path):
    bundle = read_export(tmp_path, export_document())
    entries, failures = _ceremony.match_keys(bundle, [{'alias': 'app-data'}, {'alias': 'app-sign'}],
                                             now=NOW + 86400)
    assert entries == [None, None]
    assert all('expired at 2030-01-02T00:00:00Z: run the export phase again, then the wrap phase'
               in failure.error.msg for failure in failures)


def test_match_refuses_one_entry_claimed_twice(tmp_path):
    bundle = read_export(tmp_path, export_document())
    entries, failures = _ceremony.match_keys(bundle, [{'alias': 'app-data'}, {'key_id': AES_ID},
                                                      {'alias': 'app-sign'}], now=NOW)
    assert [failure.index for failure in failures] == [1]
    assert 'same bundle entry as byok_keys[0]' in failures[0].error.msg


def test_match_passes_on_an_entry_problem(tmp_path):
    document = export_document()
    document['keys'][1]['public_key'] = weak_public_key()
    entries, failures = _ceremony.match_keys(read_export(tmp_path, document),
                                             [{'alias': 'app-data'}, {'alias': 'app-sign'}], now=NOW)
    assert entries[0].key_id == AES_ID and entries[1] is None
    assert [failure.index for failure in failures] == [1]
    assert 'weak 1024-bit RSA key' in failures[0].error.msg


# ------------------------------------------------------------------------------ offline wrap

def unwrap_aes(encrypted_key_material):
    return WRAPPING_KEY.decrypt(base64.b64decode(encrypted_key_material), OAEP_SHA256)


@pytest.fixture
def no_network(monkeypatch):
    """Any socket the code under test opens fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError('the offline wrap opened a socket')

    monkeypatch.setattr(socket, 'socket', refuse)
    monkeypatch.setattr(socket, 'create_connection', refuse)
    for name in list(os.environ):
        if name.startswith(('HW_', 'OS_')):
            monkeypatch.delenv(name)


def three_key_bundle(tmp_path):
    return read_export(tmp_path, export_document(
        export_entry(AES_ID, 'app-data', 'AES_256'), export_entry(EC_ID, 'app-sign', 'EC_P256'),
        export_entry(RSA_ID, 'app-rsa', 'RSA_3072')))


def test_wrap_offline_wraps_every_kind_and_records_check_values(tmp_path, no_network):
    bundle = three_key_bundle(tmp_path)
    material = os.urandom(32)
    document, failures = _ceremony.wrap_offline(bundle, [
        {'alias': 'app-data', 'material': ('symmetric', material)},
        {'alias': 'app-sign', 'material': ('private_key', EC_MATERIAL)},
        {'key_id': RSA_ID, 'material': ('private_key', RSA_MATERIAL)},
    ], now=NOW)
    assert failures == []
    assert (document['format'], document['version'], document['created']) == ('dew.kms/byok-wrapped', 1,
                                                                              '2030-01-01T00:00:00Z')
    assert (document['exported'], document['cloud'], document['region']) == ('2029-12-31T23:59:00Z', 'otc', 'eu-de')
    aes, ec_key, rsa_key = document['keys']
    assert list(aes) == ['key_id', 'alias', 'key_spec', 'wrapping_algorithm', 'import_token', 'token_expiration_time',
                         'token_expiration_date', 'encrypted_key_material', 'encrypted_privatekey',
                         'check_value_type', 'check_value', 'material_record']
    assert aes['import_token'] == bundle.entries[0].data['import_token']
    assert unwrap_aes(aes['encrypted_key_material']) == material
    assert aes['encrypted_privatekey'] is None
    assert (aes['check_value_type'], aes['check_value']) == ('kcv', reference_kcv(material))
    # the proof later runs compare with: bound to this key, computed where the material is
    assert aes['material_record'] == reference_record(material, AES_ID) and len(aes['material_record']) == 22
    assert aes['material_record'] != reference_record(material, EC_ID)
    for wrapped, private_key in ((ec_key, EC_MATERIAL), (rsa_key, RSA_MATERIAL)):
        temporary = unwrap_aes(wrapped['encrypted_key_material'])
        pkcs8 = keywrap.aes_key_unwrap_with_padding(temporary, base64.b64decode(wrapped['encrypted_privatekey']))
        assert serialization.load_der_private_key(pkcs8, None).private_numbers() == private_key.private_numbers()
        assert wrapped['check_value_type'] == 'public_key_sha256'
        assert wrapped['check_value'] == hashlib.sha256(spki_der(private_key)).hexdigest()
        assert list(wrapped)[-1] == 'material_record' and wrapped['material_record'] is None


def test_wrap_offline_binds_each_record_to_its_key(tmp_path, no_network):
    """The same material wrapped for two keys: the same KCV, two records."""
    material = os.urandom(32)
    bundle = read_export(tmp_path, export_document(export_entry(AES_ID, 'app-data', 'AES_256'),
                                                   export_entry(RSA_ID, 'app-more', 'AES_256')))
    document, failures = _ceremony.wrap_offline(bundle, [
        {'alias': 'app-data', 'material': ('symmetric', material)},
        {'alias': 'app-more', 'material': ('symmetric', base64.b64encode(material).decode('ascii'))}], now=NOW)
    assert failures == []
    first, second = document['keys']
    assert first['check_value'] == second['check_value'] == reference_kcv(material)
    assert (first['material_record'], second['material_record']) == (
        reference_record(material, AES_ID), reference_record(material, RSA_ID))
    assert first['material_record'] != second['material_record']


def test_wrapped_bundle_reads_back_clean(tmp_path, no_network):
    document, failures = _ceremony.wrap_offline(three_key_bundle(tmp_path), [
        {'alias': 'app-data', 'material': ('symmetric', os.urandom(32))},
        {'alias': 'app-sign', 'material': ('private_key', EC_MATERIAL)},
        {'alias': 'app-rsa', 'material': ('private_key', RSA_MATERIAL)},
    ], now=NOW)
    path = str(tmp_path / 'wrapped.json')
    _ceremony.write_bundle(path, document, 'byok_wrapped_path')
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    wrapped = _ceremony.read_bundle(path, 'byok_wrapped_path', _ceremony.WRAPPED_FORMAT)
    assert [entry.problem for entry in wrapped.entries] == [None, None, None]
    assert [entry.data['material_record'] is None for entry in wrapped.entries] == [False, True, True]
    assert wrapped.exported == '2029-12-31T23:59:00Z'
    entries, failures = _ceremony.match_keys(wrapped, [{'alias': 'app-rsa'}, {'alias': 'app-data'},
                                                       {'alias': 'app-sign'}], now=NOW)
    assert failures == [] and [entry.key_id for entry in entries] == [RSA_ID, AES_ID, EC_ID]
    _entries, failures = _ceremony.match_keys(wrapped, [{'alias': 'app-data'}], now=NOW + 86400)
    assert 'run the export and wrap phases again, then the import phase' in failures[0].error.msg


def test_wrap_offline_fails_one_key_and_wraps_the_others(tmp_path, no_network):
    bundle = three_key_bundle(tmp_path)
    document, failures = _ceremony.wrap_offline(bundle, [
        {'alias': 'app-data', 'material': ('private_key', EC_MATERIAL)},  # AES key, private key given
        {'alias': 'app-sign', 'material': ('private_key', RSA_MATERIAL)},  # EC_P256 key, RSA key given
        {'alias': 'app-rsa', 'material': ('private_key', RSA_MATERIAL)},
    ], now=NOW)
    assert [key['key_id'] for key in document['keys']] == [RSA_ID]
    messages = dict((failure.index, failure.error.msg) for failure in failures)
    assert 'is a private key, but the key is a AES_256 key' in messages[0]
    assert 'is a RSA_3072 key, but the KMS key has key_spec EC_P256' in messages[1]
    assert messages[0].startswith('byok_keys[0] (alias app-data) (material of key 1')


def test_wrap_offline_skips_keys_the_caller_already_failed(tmp_path, no_network):
    document, failures = _ceremony.wrap_offline(three_key_bundle(tmp_path), [
        {'alias': 'app-data', 'material': None}, {'alias': 'app-sign', 'material': ('private_key', EC_MATERIAL)},
        {'alias': 'app-rsa', 'material': None}], now=NOW)
    assert failures == []
    assert [key['alias'] for key in document['keys']] == ['app-sign']


def test_wrap_offline_refuses_aes_material_for_an_asymmetric_key(tmp_path, no_network):
    _document, failures = _ceremony.wrap_offline(three_key_bundle(tmp_path), [
        {'alias': 'app-data', 'material': None}, {'alias': 'app-sign', 'material': ('symmetric', os.urandom(32))},
        {'alias': 'app-rsa', 'material': None}], now=NOW)
    assert [failure.index for failure in failures] == [1]
    assert 'is AES-256 material, but the key is a EC_P256 key' in failures[0].error.msg


def test_wrap_offline_refuses_a_damaged_token(tmp_path, no_network):
    document = export_document()
    document['keys'][0]['import_token'] = 'short'
    _document, failures = _ceremony.wrap_offline(read_export(tmp_path, document), [
        {'alias': 'app-data', 'material': ('symmetric', os.urandom(32))},
        {'alias': 'app-sign', 'material': ('private_key', EC_MATERIAL)}], now=NOW)
    assert [failure.index for failure in failures] == [0]
    assert 'import_token is malformed' in failures[0].error.msg
    assert 'key 1 (alias app-data' in failures[0].error.msg


def test_wrap_offline_warns_about_weak_algorithms(tmp_path, no_network):
    bundle = read_export(tmp_path, export_document(export_entry(AES_ID, 'app-data', 'AES_256',
                                                                algorithm='RSAES_OAEP_SHA_1')))
    warnings = []
    material = os.urandom(32)
    document, failures = _ceremony.wrap_offline(bundle, [{'alias': 'app-data', 'material': ('symmetric', material)}],
                                                now=NOW, warn=warnings.append)
    assert failures == [] and len(warnings) == 1 and 'RSAES_OAEP_SHA_1 is weak' in warnings[0]
    sha1 = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    assert WRAPPING_KEY.decrypt(base64.b64decode(document['keys'][0]['encrypted_key_material']), sha1) == material


# ------------------------------------------------------------------------------ wrapped bundle checks

def wrapped_document(tmp_path):
    document, failures = _ceremony.wrap_offline(three_key_bundle(tmp_path), [
        {'alias': 'app-data', 'material': ('symmetric', os.urandom(32))},
        {'alias': 'app-sign', 'material': ('private_key', EC_MATERIAL)},
        {'alias': 'app-rsa', 'material': ('private_key', RSA_MATERIAL)}], now=NOW)
    assert failures == []
    return document


@pytest.mark.parametrize('index, change, problem', [
    (1, lambda key: key.pop('encrypted_privatekey'), 'encrypted_privatekey is missing'),
    (0, lambda key: key.update(encrypted_privatekey='A' * 300),
     'AES_256 keys take the wrapped material in encrypted_key_material only'),
    (0, lambda key: key.update(encrypted_key_material='A' * 12), 'encrypted_key_material is malformed'),
    (2, lambda key: key.update(encrypted_privatekey='%' * 300), 'encrypted_privatekey is malformed'),
    (0, lambda key: key.update(check_value_type='public_key_sha256'), 'check_value_type must be "kcv"'),
    (2, lambda key: key.pop('check_value_type'), 'check_value_type must be "public_key_sha256"'),
    (0, lambda key: key.update(check_value='abcdef'), 'a kcv check value is six upper-case hex digits'),
    (1, lambda key: key.pop('check_value'), 'check_value is missing'),
    # a material record is the 22-character record of AES_256 material, or left out
    (0, lambda key: key.update(material_record=key['check_value']), 'material_record must be the 22-character'),
    (0, lambda key: key.update(material_record=key['material_record'][:21]), 'material_record must be the 22-'),
    (0, lambda key: key.update(material_record=key['material_record'] + 'A'), 'material_record must be the 22-'),
    (0, lambda key: key.update(material_record=key['material_record'] + '=='), 'material_record must be the 22-'),
    (0, lambda key: key.update(material_record='+' * 22), 'material_record must be the 22-character'),
    (0, lambda key: key.update(material_record=''), 'material_record must be the 22-character'),
    (0, lambda key: key.update(material_record=12345), 'material_record must be the 22-character'),
    (0, lambda key: key.update(material_record=['A' * 22]), 'material_record must be the 22-character'),
    (1, lambda key: key.update(material_record='A' * 22), 'record of AES_256 material (or be left out)'),
    (2, lambda key: key.update(material_record='A' * 22), 'record of AES_256 material (or be left out)'),
])
def test_wrapped_entry_problems(tmp_path, index, change, problem):
    document = wrapped_document(tmp_path)
    change(document['keys'][index])
    bundle = _ceremony.read_bundle(write_json(tmp_path, document, 'w.json'), 'byok_wrapped_path',
                                   _ceremony.WRAPPED_FORMAT)
    problems = [entry.problem for entry in bundle.entries]
    assert [problem is None for problem in problems] == [i != index for i in range(3)]
    assert problem in problems[index].msg
    assert problems[index].msg.startswith('byok_wrapped_path (')


def test_a_wrapped_aes_entry_without_a_material_record_is_accepted(tmp_path):
    """Bundles written by earlier versions, or filled by other tools, carry no record: the import
    writes none, and later runs report the key unproven."""
    document = wrapped_document(tmp_path)
    document['keys'][0].pop('material_record')
    bundle = _ceremony.read_bundle(write_json(tmp_path, document, 'w.json'), 'byok_wrapped_path',
                                   _ceremony.WRAPPED_FORMAT)
    assert [entry.problem for entry in bundle.entries] == [None, None, None]
    assert 'material_record' not in bundle.entries[0].data


def test_export_bundle_is_refused_where_the_wrapped_one_belongs(tmp_path):
    with pytest.raises(KmsInputError, match='holds the export bundle .* byok_wrapped_path needs the wrapped bundle'):
        _ceremony.read_bundle(write_json(tmp_path, export_document()), 'byok_wrapped_path', _ceremony.WRAPPED_FORMAT)


@pytest.mark.skipif(shutil.which('openssl') is None, reason='needs the openssl command')
def test_a_bundle_filled_by_openssl_pkeyutl_is_accepted(tmp_path):
    """What an HSM or another tool does: wrap with openssl, fill in the documented fields."""
    bundle = read_export(tmp_path, export_document(export_entry(AES_ID, 'app-data', 'AES_256')))
    entry = bundle.entries[0].data
    public_pem = tmp_path / 'wrapping.pem'
    public_pem.write_bytes(serialization.load_der_public_key(base64.b64decode(entry['public_key'])).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    material = os.urandom(32)
    (tmp_path / 'material.bin').write_bytes(material)
    subprocess.check_call(['openssl', 'pkeyutl', '-encrypt', '-pubin', '-inkey', str(public_pem),
                           '-in', str(tmp_path / 'material.bin'), '-out', str(tmp_path / 'wrapped.bin'),
                           '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256',
                           '-pkeyopt', 'rsa_mgf1_md:sha256'])
    (tmp_path / 'zero.bin').write_bytes(bytes(16))
    cmac_hex = subprocess.check_output(['openssl', 'mac', '-cipher', 'AES-256-CBC', '-macopt',
                                        'hexkey:%s' % material.hex(), '-in', str(tmp_path / 'zero.bin'),
                                        'CMAC']).decode('ascii').strip()
    kcv_hex = cmac_hex[:6].upper()
    assert kcv_hex == reference_kcv(material)
    document = copy.deepcopy(export_document())
    document.update(format='dew.kms/byok-wrapped', exported=document['created'])
    document['keys'] = [{
        'key_id': entry['key_id'], 'alias': entry['alias'], 'key_spec': 'AES_256',
        'wrapping_algorithm': 'RSAES_OAEP_SHA_256', 'import_token': entry['import_token'],
        'token_expiration_time': entry['token_expiration_time'],
        'encrypted_key_material': b64((tmp_path / 'wrapped.bin').read_bytes()),
        'check_value_type': 'kcv', 'check_value': kcv_hex,
    }]
    wrapped = _ceremony.read_bundle(write_json(tmp_path, document, 'w.json'), 'byok_wrapped_path',
                                    _ceremony.WRAPPED_FORMAT)
    assert wrapped.entries[0].problem is None
    entries, failures = _ceremony.match_keys(wrapped, [{'alias': 'app-data'}], now=NOW)
    assert failures == []
    assert unwrap_aes(entries[0].data['encrypted_key_material']) == material


# ---------------------------------------------------------------------------------------------
# digests: what the operator carries across the air gap

def test_file_digest_is_the_first_128_bits_of_sha256_in_groups_of_four():
    data = b'{"format": "dew.kms/byok-export"}\n'
    digits = hashlib.sha256(data).hexdigest()[:32]
    assert _ceremony.file_digest(data) == '-'.join(digits[i:i + 4] for i in range(0, 32, 4))
    assert _ceremony.file_digest(data + b' ') != _ceremony.file_digest(data)


@pytest.mark.parametrize('form', [
    lambda d: d, lambda d: d.upper(), lambda d: d.replace('-', ' '), lambda d: d.replace('-', ''),
    lambda d: d.replace('-', ':'), None,
])
def test_a_digest_is_accepted_in_any_case_grouping_and_as_all_of_sha256sum(form):
    data = os.urandom(100)
    typed = hashlib.sha256(data).hexdigest() if form is None else form(_ceremony.file_digest(data))
    _ceremony.check_digest(data, typed, 'bundle_digest', 'bundle_path (b.json)', 'the export phase')


@pytest.mark.parametrize('typed, message', [
    (None, 'bundle_digest must be the digest the export phase printed'),
    ('1234', 'bundle_digest must be the digest the export phase printed'),
    ('z' * 32, 'bundle_digest must be the digest the export phase printed'),
    ('0' * 32, 'bundle_path (b.json) does not have the digest given in bundle_digest'),
])
def test_a_wrong_or_malformed_digest_is_refused_without_showing_the_files_own(typed, message):
    data = os.urandom(100)
    with pytest.raises(KmsInputError) as error:
        _ceremony.check_digest(data, typed, 'bundle_digest', 'bundle_path (b.json)', 'the export phase')
    assert message in error.value.msg and 'Nothing was done' in error.value.msg
    own = _ceremony.file_digest(data)
    assert own not in error.value.msg and own.replace('-', '') not in error.value.msg


def test_read_bundle_checks_the_digest_before_reading_anything(tmp_path):
    path = tmp_path / 'export.json'
    path.write_bytes(b'not json at all')
    with pytest.raises(KmsInputError) as error:
        _ceremony.read_bundle(str(path), 'bundle_path', _ceremony.EXPORT_FORMAT, digest='0' * 32,
                              digest_field='bundle_digest')
    assert 'does not have the digest given in bundle_digest' in error.value.msg


def test_write_bundle_returns_the_digest_of_the_bytes_it_wrote_and_read_bundle_the_same(tmp_path):
    path = str(tmp_path / 'export.json')
    digest = _ceremony.write_bundle(path, _ceremony.build_export_bundle([], 'otc', 'eu-de', now=NOW), 'bundle_path')
    with open(path, 'rb') as handle:
        assert digest == _ceremony.file_digest(handle.read())
    bundle = _ceremony.read_bundle(path, 'bundle_path', _ceremony.EXPORT_FORMAT, digest=digest.upper(),
                                   digest_field='bundle_digest')
    assert bundle.digest == digest
