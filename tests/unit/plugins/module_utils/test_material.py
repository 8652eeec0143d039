# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os

import pytest

from ansible_collections.dew.kms.plugins.module_utils import _keys, _material
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsConnectionError, KmsError, KmsInputError
from ansible_collections.dew.kms.tests.unit.plugins import generated_keys
from ansible_collections.dew.kms.tests.unit.plugins.module_utils.helpers import KEY_ID

AES = os.urandom(32)
TOKEN = 'T' * 200


@pytest.fixture
def keys():
    from cryptography.hazmat.primitives import serialization

    ec_key = generated_keys.EC_P256
    return {
        'wrapping_public_b64': base64.b64encode(generated_keys.WRAPPING_KEY.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode(),
        'ec_pem': ec_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()),
        'ec_der': ec_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()),
    }


def key(state='5', spec='AES_256', origin='external', **changes):
    info = {'key_id': KEY_ID, 'key_alias': 'app', 'key_spec': spec, 'origin': origin, 'key_state': state}
    return dict(_keys.normalize_key(info), **changes)


class Config:
    retries = 2


class FakeClient:
    """Answers per action in order; an exception instance in the list is raised instead."""

    def __init__(self, **answers):
        self.answers = dict((action, list(items)) for action, items in answers.items())
        self.config = Config()
        self.calls = []
        self.warnings = []

    def call(self, action, body=None, key_id=None, idempotent=True, method='POST'):
        if action.startswith(KEY_ID + '/'):  # the key tag paths: 'tags' and 'tags/action'
            action = action[len(KEY_ID) + 1:]
        self.calls.append((action, idempotent))
        answer = self.answers[action].pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def warn(self, msg):
        self.warnings.append(msg)

    def actions(self):
        return [action for action, _idempotent in self.calls]


def params_answer(keys):
    return {'key_id': KEY_ID, 'import_token': TOKEN, 'public_key': keys['wrapping_public_b64'],
            'expiration_time': 1893456000000}


# ----------------------------------------------------------------------------- Material

def test_symmetric_material_from_text_and_bytes():
    for data in (base64.b64encode(AES).decode(), AES):
        material = _material.load_material(data, 'key_material')
        assert (material.kind, material.symmetric, material.key_spec) == ('symmetric', AES, 'AES_256')
        assert material.fits('AES_256') and not material.fits('RSA_2048')
        assert material.description() == '32 bytes of AES_256 material' and material.field == 'key_material'


@pytest.mark.parametrize('form', ['ec_pem', 'ec_der', 'ec_der_b64'])
def test_private_key_material_in_every_form(keys, form):
    data = base64.b64encode(keys['ec_der']).decode() if form == 'ec_der_b64' else keys[form]
    material = _material.load_material(data, 'key_material_path')
    assert (material.kind, material.key_spec, material.symmetric) == ('private_key', 'EC_P256', None)
    assert material.description() == 'an EC_P256 private key'


def test_binary_of_wrong_size_says_its_size():
    with pytest.raises(KmsInputError, match='it holds 31 bytes'):
        _material.load_material(b'\xff' * 31, 'key_material_path')


def test_material_from_options_prefers_the_capped_file(tmp_path):
    path = tmp_path / 'aes.bin'
    path.write_bytes(AES)
    material = _material.material_from_options({'key_material_path': str(path), 'key_material': None})
    assert material.symmetric == AES and material.field == 'key_material_path'
    material = _material.material_from_options({'key_material_path': None,
                                                'key_material': base64.b64encode(AES).decode()})
    assert material.field == 'key_material'
    big = tmp_path / 'big'
    big.write_bytes(b'0' * (_material.MAX_MATERIAL_FILE + 1))
    with pytest.raises(KmsInputError, match='too large to hold key material'):
        _material.material_from_options({'key_material_path': str(big), 'key_material': None})


@pytest.mark.parametrize('args, field', [
    (('short', 'A' * 344), 'import_token'),
    ((TOKEN, 'A' * 343), 'encrypted_key_material'),
    ((TOKEN, 'A' * 344, 'not base64!'), 'encrypted_privatekey'),
])
def test_wrapped_material_checks_the_format_of_every_option(args, field):
    with pytest.raises(KmsInputError, match='^%s is malformed' % field):
        _material.WrappedMaterial.from_options(*args)


def test_wrapped_material_from_valid_options():
    wrapped = _material.WrappedMaterial.from_options(TOKEN, 'A' * 344)
    assert (wrapped.import_token, wrapped.encrypted_key_material, wrapped.encrypted_privatekey) == (
        TOKEN, 'A' * 344, None)


@pytest.mark.parametrize('algorithm, warned', [
    ('RSAES_OAEP_SHA_256', False), ('RSAES_OAEP_SHA_1', True), ('RSAES_PKCS1_V1_5', True)])
def test_weak_algorithm_warning(algorithm, warned):
    warnings = []
    _material.warn_weak_algorithm(algorithm, warnings.append)
    assert warnings == ([] if not warned else [
        'wrapping_algorithm %s is weak; use RSAES_OAEP_SHA_256 unless old tooling needs it.' % algorithm])


# ----------------------------------------------------------------------------- rules

def test_check_importable_fit_messages(keys):
    aes = _material.load_material(AES, 'key_material')
    ec_key = _material.load_material(keys['ec_pem'], 'key_material')
    with pytest.raises(KmsInputError, match='is a RSA_2048 key: its material must be a private key'):
        _material.check_importable(key(spec='RSA_2048'), aes)
    with pytest.raises(KmsInputError, match='is an AES_256 key: its material must be exactly 32 bytes'):
        _material.check_importable(key(), ec_key)
    with pytest.raises(KmsInputError, match='The private key is EC_P256 but key .* is EC_P384'):
        _material.check_importable(key(spec='EC_P384'), ec_key)
    with pytest.raises(KmsInputError, match='expiration_time applies only to symmetric keys'):
        _material.check_importable(key(spec='EC_P256'), ec_key, expiration_time=1893456000)
    with pytest.raises(KmsInputError, match='has origin kms'):
        _material.check_importable(key(origin='kms'), aes)
    _material.check_importable(key(spec='EC_P256'), ec_key)
    _material.check_importable(key(), None, 1893456000)


def test_check_wrapped_fits():
    with pytest.raises(KmsInputError, match='needs encrypted_privatekey too'):
        _material.check_wrapped_fits(key(spec='RSA_2048'), _material.WrappedMaterial(TOKEN, 'A' * 344))
    with pytest.raises(KmsInputError, match='encrypted_privatekey applies only to RSA and EC keys'):
        _material.check_wrapped_fits(key(), _material.WrappedMaterial(TOKEN, 'A' * 344, TOKEN))


# ----------------------------------------------------------------------------- importing

def test_first_import_is_params_and_import(keys):
    client = FakeClient(**{'get-parameters-for-import': [params_answer(keys)], 'import-key-material': [{}],
                           'tags/action': [{}]})
    material = _material.load_material(AES, 'key_material')

    changed, before, after = _material.import_material(client, key(), material, 'RSAES_OAEP_SHA_256')

    assert changed and before['key_state'] == '5' and after['key_state'] == '2'
    assert after['material_check'] == 'imported'
    assert client.calls == [('get-parameters-for-import', True), ('import-key-material', False),
                            ('tags/action', True)]


def test_material_already_there_is_only_looked_up_and_warns_about_expiry():
    client = FakeClient(tags=[{'tags': [], 'existTagsNum': 0}])
    warnings = []
    changed, before, after = _material.import_material(
        client, key(state='2'), _material.load_material(AES, 'key_material'), 'RSAES_OAEP_SHA_256',
        expiration_time=1893456000, warn=warnings.append)
    assert not changed and dict(before, material_check='unproven') == after
    assert client.calls == [('tags', True)]
    assert warnings and 'was not applied' in warnings[0]
    assert len(warnings) == 2 and 'cannot be proven to be the material of key_material' in warnings[1]


def test_unclear_import_failure_with_key_still_pending_is_imported_again(keys):
    client = FakeClient(**{
        'get-parameters-for-import': [params_answer(keys), params_answer(keys)],
        'import-key-material': [KmsError('boom', status=503, error_code='KMS.0104'), {}],
        'describe-key': [{'key_info': {'key_id': KEY_ID, 'key_state': '5'}}],
        'tags/action': [{}],
    })

    changed, _before, after = _material.import_material(
        client, key(), _material.load_material(AES, 'key_material'), 'RSAES_OAEP_SHA_256')

    assert changed and after['key_state'] == '2'
    assert client.actions() == ['get-parameters-for-import', 'import-key-material', 'describe-key',
                                'get-parameters-for-import', 'import-key-material', 'tags/action']
    assert client.warnings == [
        'import-key-material for key %s failed with HTTP 503 KMS.0104; the key is still waiting for import, '
        'so it is imported again (attempt 2 of 3).' % KEY_ID]


def test_unclear_import_failure_that_imported_is_not_repeated(keys):
    client = FakeClient(**{
        'get-parameters-for-import': [params_answer(keys)],
        'import-key-material': [KmsConnectionError('lost', maybe_sent=True)],
        'describe-key': [{'key_info': {'key_id': KEY_ID, 'key_state': '2'}}],
        'tags/action': [{}],
    })
    changed, _before, after = _material.import_material(
        client, key(), _material.load_material(AES, 'key_material'), 'RSAES_OAEP_SHA_256')
    assert changed and after['key_state'] == '2' and client.warnings == []
    assert client.actions() == ['get-parameters-for-import', 'import-key-material', 'describe-key', 'tags/action']


def test_expired_token_is_renewed_once(keys):
    client = FakeClient(**{
        'get-parameters-for-import': [params_answer(keys), params_answer(keys)],
        'import-key-material': [KmsError('expired', status=400, error_code='KMS.2601'), {}],
        'tags/action': [{}],
    })
    changed = _material.import_material(
        client, key(), _material.load_material(AES, 'key_material'), 'RSAES_OAEP_SHA_256')[0]
    assert changed and client.actions() == ['get-parameters-for-import', 'import-key-material'] * 2 + ['tags/action']


def test_prewrapped_import_is_one_attempt_and_says_rerun_is_safe():
    client = FakeClient(**{
        'import-key-material': [KmsError('KMS import-key-material failed: HTTP 502.', status=502)],
        'describe-key': [{'key_info': {'key_id': KEY_ID, 'key_state': '5'}}],
    })
    with pytest.raises(KmsError) as info:
        _material.import_wrapped_material(client, key(), _material.WrappedMaterial(TOKEN, 'A' * 344))
    assert info.value.msg == ('KMS import-key-material failed: HTTP 502. The key is still waiting for import, '
                              'so running the task again is safe.')
    assert client.actions() == ['import-key-material', 'describe-key'] and client.warnings == []


def test_prewrapped_check_mode_predicts_without_calls():
    client = FakeClient()
    changed, _before, after = _material.import_wrapped_material(
        client, key(), _material.WrappedMaterial(TOKEN, 'A' * 344), 1893456000, check_mode=True)
    assert changed and after['expiration_time'] == 1893456000 and client.calls == []


def test_delete_material():
    client = FakeClient(**{'delete-imported-key-material': [{}]})
    changed, _before, after = _material.delete_material(client, key(state='2'))
    assert changed and after['key_state'] == '5' and client.actions() == ['delete-imported-key-material']
    assert _material.delete_material(client, key())[0] is False
