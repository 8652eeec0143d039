# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which material a key holds, through the real client against a scripted KMS (responses)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os

import pytest
import responses

from ansible_collections.dew.kms.plugins.module_utils import _material, _material_check, _wrap
from ansible_collections.dew.kms.plugins.module_utils._check_values import kcv
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsInputError
from ansible_collections.dew.kms.tests.unit.plugins import generated_keys
from ansible_collections.dew.kms.tests.unit.plugins.module_utils.helpers import KEY_ID, PROJECT_ID, kms_url
from ansible_collections.dew.kms.tests.unit.plugins.module_utils.test_material import FakeClient, key

AES = os.urandom(32)
TAGS_URL = kms_url('%s/tags' % KEY_ID)


class Client:
    """The part of KmsClient the check uses, over real HTTP to ``responses``."""

    def call(self, action, body=None, key_id=None, idempotent=True, method='POST'):
        import requests
        response = requests.request(method, kms_url(action), json=body if method != 'GET' else None, timeout=5)
        if response.status_code >= 400:
            from ansible_collections.dew.kms.plugins.module_utils._errors import KmsError
            raise KmsError('KMS %s failed: HTTP %d.' % (action, response.status_code), status=response.status_code)
        return response.json() if response.content else {}


def aes():
    return _material.load_material(base64.b64encode(AES).decode(), 'key_material')


@pytest.fixture
def ec_keys():
    return generated_keys.EC_P256, generated_keys.OTHER_EC_P256


def public_answer(private_key):
    der = _wrap.public_key_der_of(private_key)
    return {'key_id': KEY_ID, 'public_key': _wrap.normalize_public_key(der)['pem']}


@responses.activate
@pytest.mark.parametrize('tags,expected', [
    ([{'key': 'dew-kms-kcv', 'value': kcv(AES)}], 'matched'),
    ([{'key': 'dew-kms-kcv', 'value': kcv(AES).lower()}], 'matched'),
    ([{'key': 'team', 'value': 'a'}], 'no record'),
    ([], 'no record'),
])
def test_aes_check_reads_the_tags_once(tags, expected):
    responses.add(responses.GET, TAGS_URL, json={'tags': tags, 'existTagsNum': len(tags)})
    warnings = []
    assert _material_check.check_held_material(Client(), key(state='2'), aes(), warnings.append) == expected
    assert len(responses.calls) == 1 and responses.calls[0].request.method == 'GET' and warnings == []


@responses.activate
def test_aes_mismatch_names_both_check_values_and_never_the_material():
    other = kcv(os.urandom(32))
    responses.add(responses.GET, TAGS_URL, json={'tags': [{'key': 'dew-kms-kcv', 'value': other}], 'existTagsNum': 1})
    with pytest.raises(_material_check.MaterialMismatchError) as caught:
        _material_check.check_held_material(Client(), key(state='2'), aes(), None)
    message = caught.value.msg
    assert 'already holds other material' in message and other in message and kcv(AES) in message
    assert base64.b64encode(AES).decode() not in message


@responses.activate
@pytest.mark.parametrize('answer', [{'status': 404}, {'json': {'no': 'tags'}}, {'json': {'tags': ['x']}}])
def test_unreadable_tags_mean_no_record_with_a_warning(answer):
    responses.add(responses.GET, TAGS_URL, **answer)
    warnings = []
    assert _material_check.check_held_material(Client(), key(state='2'), aes(), warnings.append) == 'no record'
    assert len(warnings) == 1 and 'could not be read' in warnings[0]


@responses.activate
def test_no_record_after_a_race_is_no_proof():
    responses.add(responses.GET, TAGS_URL, json={'tags': [], 'existTagsNum': 0})
    with pytest.raises(_material_check.MaterialMismatchError, match='from another run at the same time'):
        _material_check.check_held_material(Client(), key(state='2'), aes(), None, raced=True)


@responses.activate
def test_private_key_check_compares_the_public_key(ec_keys):
    held, other = ec_keys
    responses.add(responses.POST, kms_url('get-publickey'), json=public_answer(held))
    responses.add(responses.POST, kms_url('get-publickey'), json=public_answer(held))
    material = _material.Material('key_material', private_key=held, key_spec='EC_P256')
    assert _material_check.check_held_material(Client(), key(state='2', spec='EC_P256'), material, None) \
        == 'public key matched'
    material = _material.Material('key_material_path', private_key=other, key_spec='EC_P256')
    with pytest.raises(_material_check.MaterialMismatchError, match='not the public key of the private key in '
                                                                    'key_material_path'):
        _material_check.check_held_material(Client(), key(state='2', spec='EC_P256'), material, None)


@responses.activate
def test_record_sends_one_create_with_the_check_value_and_skips_private_keys(ec_keys):
    responses.add(responses.POST, kms_url('%s/tags/action' % KEY_ID), status=204)
    _material_check.record_check_value(Client(), KEY_ID, aes(), None)
    assert json.loads(responses.calls[0].request.body) == {
        'action': 'create', 'tags': [{'key': 'dew-kms-kcv', 'value': kcv(AES)}]}
    _material_check.record_check_value(
        Client(), KEY_ID, _material.Material('key_material', private_key=ec_keys[0], key_spec='EC_P256'), None)
    assert len(responses.calls) == 1


@responses.activate
def test_record_failure_warns_without_raising():
    responses.add(responses.POST, kms_url('%s/tags/action' % KEY_ID), status=400, json={})
    warnings = []
    _material_check.record_check_value(Client(), KEY_ID, aes(), warnings.append)
    assert len(warnings) == 1 and 'could not be recorded as the key tag dew-kms-kcv' in warnings[0]


def test_prewrapped_material_on_a_key_with_material_is_not_checked():
    changed, _before, after = _material.import_wrapped_material(
        FakeClient(), key(state='2'), _material.WrappedMaterial('T' * 200, 'A' * 344))
    assert not changed and after['material_check'] == 'not checked'


def test_key_tags_refuses_a_non_id_before_any_call():
    with pytest.raises(KmsInputError):
        _material_check.key_tags(FakeClient(), 'alias/app')


# ----------------------------------------------------------------------------- wrapping keys

def _spki_b64(bits):
    from cryptography.hazmat.primitives.asymmetric import rsa
    return base64.b64encode(_wrap.public_key_der_of(
        rsa.generate_private_key(public_exponent=65537, key_size=bits))).decode()


@pytest.mark.parametrize('bits', [1024, 2047])
def test_weak_wrapping_keys_are_refused_before_anything_is_wrapped(bits):
    public = _spki_b64(bits)
    expected = 'is a %d-bit RSA key: KMS wrapping keys are RSA of at least 2048 bits' % bits
    with pytest.raises(KmsInputError, match=expected):
        _wrap.wrap_symmetric_material(public, AES)
    with pytest.raises(KmsInputError, match=expected):
        _wrap.check_wrapping_public_key(public)
    client = FakeClient(**{'get-parameters-for-import': [
        {'key_id': KEY_ID, 'import_token': 'T' * 200, 'public_key': public, 'expiration_time': 1893456000000}]})
    with pytest.raises(KmsInputError, match=expected):
        _material.import_material(client, key(), aes(), 'RSAES_OAEP_SHA_256')
    assert client.actions() == ['get-parameters-for-import']


def test_a_2048_bit_wrapping_key_is_accepted():
    _wrap.check_wrapping_public_key(_spki_b64(2048))


# ----------------------------------------------------------------- the check values of a batch

TAGGED_URL = kms_url('resource_instances/action')
OTHER_ID = 'aaaaaaaa-0000-4000-8000-000000000000'


def tagged(*pairs, **extra):
    resources = [{'resource_id': key_id, 'resource_name': 'a', 'resource_detail': {'key_id': key_id},
                  'tags': [{'key': 'team', 'value': 'x'}] + ([{'key': 'dew-kms-kcv', 'value': value}] if value else [])}
                 for key_id, value in pairs]
    return dict({'resources': resources, 'total_count': len(resources)}, **extra)


def tagged_bodies():
    return [json.loads(call.request.body) for call in responses.calls if call.request.url == TAGGED_URL]


def real_client(make_client):
    return make_client(auth_token='T', project_id=PROJECT_ID, retries=0)


@responses.activate
def test_recorded_check_values_are_read_in_pages_by_offset(make_client):
    responses.add(responses.POST, TAGGED_URL, json=tagged((KEY_ID, 'ABC123'), total_count='3'))
    responses.add(responses.POST, TAGGED_URL, json=tagged((OTHER_ID, '00FF00'), ('bbbbbbbb-0000-4000-8000-000000000000', ''),
                                                          total_count=3))

    values = _material_check.recorded_check_values(real_client(make_client), page_size=1)

    assert values == {KEY_ID: 'ABC123', OTHER_ID: '00FF00'}
    filter_body = {'action': 'filter', 'tags': [{'key': 'dew-kms-kcv', 'values': []}], 'limit': '1'}
    assert tagged_bodies() == [dict(filter_body, offset='0'), dict(filter_body, offset='1')]


@responses.activate
def test_recorded_check_values_without_a_total_stop_at_a_short_page(make_client):
    responses.add(responses.POST, TAGGED_URL, json={'resources': tagged((KEY_ID, 'ABC123'))['resources']})
    assert _material_check.recorded_check_values(real_client(make_client)) == {KEY_ID: 'ABC123'}
    assert len(tagged_bodies()) == 1


@responses.activate
@pytest.mark.parametrize('status, answer', [
    (400, {'error': {'error_code': 'KMS.0308', 'error_msg': 'invalid parameter'}}),
    (404, {'error_code': 'APIGW.0101', 'error_msg': 'The API does not exist'}),
    (403, {'error': {'error_code': 'KMS.0303', 'error_msg': 'no permission'}}),
    (200, {'resources': 'none'}),
    (200, {'resources': [{'resource_id': KEY_ID, 'tags': 'x'}], 'total_count': 1}),
])
def test_recorded_check_values_refused_or_not_understood_are_none(make_client, status, answer):
    responses.add(responses.POST, TAGGED_URL, status=status, json=answer)
    assert _material_check.recorded_check_values(real_client(make_client)) is None


@pytest.mark.parametrize('recorded, expected', [
    ({KEY_ID: kcv(AES).lower()}, 'matched'),
    ({OTHER_ID: kcv(AES)}, 'no record'),
])
def test_check_with_the_batch_records_makes_no_call(recorded, expected):
    client = FakeClient()
    assert _material_check.check_held_material(client, key('2'), aes(), [].append, recorded=recorded) == expected
    assert _material_check.material_matches(client, key('2'), aes(), [].append, recorded) is (
        True if expected == 'matched' else None)
    assert client.calls == []


def test_a_batch_record_of_other_material_is_a_mismatch():
    with pytest.raises(_material_check.MaterialMismatchError):
        _material_check.check_held_material(FakeClient(), key('2'), aes(), [].append, recorded={KEY_ID: '000000'})


@pytest.mark.parametrize('state, origin, recorded, proven', [
    ('2', 'external', {KEY_ID: kcv(AES)}, True),
    ('3', 'external', {KEY_ID: kcv(AES).lower()}, True),
    ('5', 'external', {KEY_ID: kcv(AES)}, False),    # no material (any more)
    ('2', 'kms', {KEY_ID: kcv(AES)}, False),
    ('2', 'external', {KEY_ID: '000000'}, False),
    ('2', 'external', {}, False),
    ('2', 'external', None, False),                  # the records could not be read
])
def test_holds_recorded_material(state, origin, recorded, proven):
    listed = dict(key(state), origin=origin, key_spec=None)
    assert _material_check.holds_recorded_material(listed, aes(), recorded) is proven


def test_private_keys_need_no_check_value(ec_keys):
    pem = ec_keys[0].private_bytes(_serialization().Encoding.PEM, _serialization().PrivateFormat.PKCS8,
                                   _serialization().NoEncryption())
    material = _material.load_material(pem, 'key_material_path')
    assert not _material_check.needs_check_value(key('2'), material)
    assert _material_check.needs_check_value(key('2'), aes()) and not _material_check.needs_check_value(key('5'), aes())
    assert not _material_check.needs_check_value(None, aes())


def _serialization():
    from cryptography.hazmat.primitives import serialization
    return serialization
