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
from ansible_collections.dew.kms.plugins.module_utils._check_values import kcv, material_record
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsError, KmsInputError
from ansible_collections.dew.kms.tests.unit.plugins import generated_keys
from ansible_collections.dew.kms.tests.unit.plugins.module_utils.helpers import KEY_ID, PROJECT_ID, kms_url
from ansible_collections.dew.kms.tests.unit.plugins.module_utils.test_material import FakeClient, key

AES = os.urandom(32)
TAGS_URL = kms_url('%s/tags' % KEY_ID)
OTHER_ID = 'aaaaaaaa-0000-4000-8000-000000000000'
RECORD = material_record(AES, KEY_ID)           # the proof that KEY_ID holds AES
COPIED = material_record(AES, OTHER_ID)         # the proof that OTHER_ID holds AES: no proof for KEY_ID


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


def record_tag(value):
    return {'key': 'dew-kms-record', 'value': value}


def legacy_tag(value):
    return {'key': 'dew-kms-kcv', 'value': value}


def assert_unproven_warning(warnings):
    """One warning that the key's material cannot be proven, naming the record tag, and never the
    record that would prove it (anyone reading the warnings could plant it on the key)."""
    proven = [w for w in warnings if 'cannot be proven to be the material of key_material' in w]
    assert len(proven) == 1 and 'tag dew-kms-record' in proven[0] and 'material_check is "unproven"' in proven[0]
    assert RECORD not in ' '.join(warnings) and base64.b64encode(AES).decode() not in ' '.join(warnings)


@responses.activate
@pytest.mark.parametrize('tags,expected', [
    ([record_tag(RECORD)], 'matched'),
    ([{'key': 'team', 'value': 'a'}, record_tag(RECORD), legacy_tag('000000')], 'matched'),
    ([{'key': 'team', 'value': 'a'}], 'unproven'),
    ([], 'unproven'),
    # the KCV of earlier versions is the same for every key with the material: a claim, never proof
    ([legacy_tag(kcv(AES))], 'unproven'),
    # a value of another shape in the record tag is no record
    ([record_tag(kcv(AES))], 'unproven'),
    ([record_tag(RECORD + '=')], 'unproven'),
    ([record_tag('')], 'unproven'),
])
def test_aes_check_reads_the_tags_once(tags, expected):
    responses.add(responses.GET, TAGS_URL, json={'tags': tags, 'existTagsNum': len(tags)})
    warnings = []
    assert _material_check.check_held_material(Client(), key(state='2'), aes(), warnings.append) == expected
    assert len(responses.calls) == 1 and responses.calls[0].request.method == 'GET'
    if expected == 'matched':
        assert warnings == []
    else:
        assert len(warnings) == 1
        assert_unproven_warning(warnings)


@responses.activate
@pytest.mark.parametrize('tags', [
    [record_tag(material_record(os.urandom(32), KEY_ID))],      # other material
    [record_tag(COPIED)],                                       # this material's record of another key
    [record_tag(COPIED), legacy_tag(kcv(AES))],                 # and the right KCV as well
    [record_tag(RECORD.swapcase())],                            # altered: the comparison is exact
])
def test_aes_mismatch_names_the_record_tag_and_never_the_material_or_its_record(tags):
    responses.add(responses.GET, TAGS_URL, json={'tags': tags, 'existTagsNum': len(tags)})
    with pytest.raises(_material_check.MaterialMismatchError) as caught:
        _material_check.check_held_material(Client(), key(state='2'), aes(), None)
    message = caught.value.msg
    assert 'Key %s does not hold the material of key_material' % KEY_ID in message
    assert 'material record (tag dew-kms-record)' in message and 'Nothing was changed' in message
    assert base64.b64encode(AES).decode() not in message and RECORD not in message


@responses.activate
def test_a_record_copied_from_another_key_is_a_mismatch_and_never_matched():
    """A co-tenant with tag rights copies the record of a key holding AES onto a key holding its own
    material: every check of that key with AES says other material."""
    for _round in range(2):
        responses.add(responses.GET, TAGS_URL, json={'tags': [record_tag(COPIED)], 'existTagsNum': 1})
    with pytest.raises(_material_check.MaterialMismatchError, match='does not hold the material of'):
        _material_check.check_held_material(Client(), key(state='2'), aes(), [].append)
    assert _material_check.material_matches(Client(), key(state='2'), aes(), [].append) is False
    # the same through the batch's records: no call, and still no proof
    client = FakeClient()
    with pytest.raises(_material_check.MaterialMismatchError, match=r'material record \(tag dew-kms-record\)'):
        _material_check.check_held_material(client, key('2'), aes(), [].append, recorded={KEY_ID: COPIED})
    assert _material_check.material_matches(client, key('2'), aes(), [].append, {KEY_ID: COPIED}) is False
    listed = dict(key('2'), key_spec=None)
    assert _material_check.holds_recorded_material(listed, aes(), {KEY_ID: COPIED}) is False
    assert client.calls == []
    # while the record is the proof for the key it was written for
    other = dict(key('2'), key_id=OTHER_ID)
    assert _material_check.check_held_material(client, other, aes(), None, recorded={OTHER_ID: COPIED}) == 'matched'


@responses.activate
def test_a_legacy_check_value_alone_is_unproven_and_never_matched():
    for _round in range(2):
        responses.add(responses.GET, TAGS_URL, json={'tags': [legacy_tag(kcv(AES))], 'existTagsNum': 1})
    warnings = []
    assert _material_check.check_held_material(Client(), key(state='2'), aes(), warnings.append) == 'unproven'
    assert_unproven_warning(warnings)
    assert 'a check value or a dew-kms-kcv tag is a claim' in warnings[0]
    # renewal and rotation ask material_matches: no proof either way
    assert _material_check.material_matches(Client(), key(state='2'), aes(), [].append) is None
    # and the batch's records never hold it (the query asks for the record tag)
    listed = dict(key('2'), key_spec=None)
    assert _material_check.holds_recorded_material(listed, aes(), {KEY_ID: kcv(AES)}) is False


@responses.activate
@pytest.mark.parametrize('answer', [{'status': 404}, {'json': {'no': 'tags'}}, {'json': {'tags': ['x']}}])
def test_unreadable_tags_mean_unproven_with_a_warning(answer):
    responses.add(responses.GET, TAGS_URL, **answer)
    warnings = []
    assert _material_check.check_held_material(Client(), key(state='2'), aes(), warnings.append) == 'unproven'
    assert len(warnings) == 2 and 'could not be read' in warnings[0]
    assert 'its material cannot be proven, material_check is "unproven"' in warnings[0]
    assert_unproven_warning(warnings[1:])


@responses.activate
@pytest.mark.parametrize('tags', [[], [legacy_tag(kcv(AES))], [record_tag(kcv(AES))]])
def test_no_record_after_a_race_is_no_proof(tags):
    responses.add(responses.GET, TAGS_URL, json={'tags': tags, 'existTagsNum': len(tags)})
    with pytest.raises(_material_check.MaterialMismatchError) as caught:
        _material_check.check_held_material(Client(), key(state='2'), aes(), None, raced=True)
    assert 'from another run at the same time and has no material record (tag dew-kms-record)' in caught.value.msg
    assert 'cannot be proven' in caught.value.msg


@responses.activate
def test_a_copied_record_after_a_race_is_a_mismatch():
    responses.add(responses.GET, TAGS_URL, json={'tags': [record_tag(COPIED)], 'existTagsNum': 1})
    with pytest.raises(_material_check.MaterialMismatchError, match='does not hold the material of'):
        _material_check.check_held_material(Client(), key(state='2'), aes(), None, raced=True)


@responses.activate
def test_the_record_after_a_race_is_proof():
    responses.add(responses.GET, TAGS_URL, json={'tags': [record_tag(RECORD)], 'existTagsNum': 1})
    assert _material_check.check_held_material(Client(), key(state='2'), aes(), None, raced=True) == 'matched'


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
def test_record_sends_one_create_with_the_material_record_and_skips_private_keys(ec_keys):
    responses.add(responses.POST, kms_url('%s/tags/action' % KEY_ID), status=204)
    _material_check.record_check_value(Client(), KEY_ID, aes(), None)
    assert json.loads(responses.calls[0].request.body) == {
        'action': 'create', 'tags': [{'key': 'dew-kms-record', 'value': RECORD}]}
    _material_check.record_check_value(
        Client(), KEY_ID, _material.Material('key_material', private_key=ec_keys[0], key_spec='EC_P256'), None)
    assert len(responses.calls) == 1


@responses.activate
def test_record_failure_warns_without_raising():
    responses.add(responses.POST, kms_url('%s/tags/action' % KEY_ID), status=400, json={})
    warnings = []
    _material_check.record_check_value(Client(), KEY_ID, aes(), warnings.append)
    assert len(warnings) == 1 and 'material record could not be written as the key tag dew-kms-record' in warnings[0]
    assert 'Later runs report material_check "unproven"' in warnings[0] and RECORD not in warnings[0]


@responses.activate
def test_record_material_writes_the_given_record_as_the_record_tag():
    responses.add(responses.POST, kms_url('%s/tags/action' % KEY_ID), status=204)
    _material_check.record_material(Client(), KEY_ID, RECORD, None)
    assert [json.loads(call.request.body) for call in responses.calls] == [
        {'action': 'create', 'tags': [{'key': 'dew-kms-record', 'value': RECORD}]}]


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
THIRD_ID = 'bbbbbbbb-0000-4000-8000-000000000000'


def tagged(*pairs, **extra):
    resources = [{'resource_id': key_id, 'resource_name': 'a', 'resource_detail': {'key_id': key_id},
                  'tags': [{'key': 'team', 'value': 'x'}] + ([record_tag(value)] if value else [])}
                 for key_id, value in pairs]
    return dict({'resources': resources, 'total_count': len(resources)}, **extra)


def tagged_bodies():
    return [json.loads(call.request.body) for call in responses.calls if call.request.url == TAGGED_URL]


def real_client(make_client):
    return make_client(auth_token='T', project_id=PROJECT_ID, retries=0)


@responses.activate
def test_recorded_check_values_are_read_in_pages_by_offset(make_client):
    other = material_record(os.urandom(32), OTHER_ID)
    responses.add(responses.POST, TAGGED_URL, json=tagged((KEY_ID, RECORD), total_count='3'))
    responses.add(responses.POST, TAGGED_URL, json=tagged((OTHER_ID, other), (THIRD_ID, ''), total_count=3))

    values = _material_check.recorded_check_values(real_client(make_client), page_size=1)

    assert values == {KEY_ID: RECORD, OTHER_ID: other}
    filter_body = {'action': 'filter', 'tags': [{'key': 'dew-kms-record', 'values': []}], 'limit': '1'}
    assert tagged_bodies() == [dict(filter_body, offset='0'), dict(filter_body, offset='1')]


@responses.activate
def test_recorded_check_values_without_a_total_stop_at_a_short_page(make_client):
    responses.add(responses.POST, TAGGED_URL, json={'resources': tagged((KEY_ID, RECORD))['resources']})
    assert _material_check.recorded_check_values(real_client(make_client)) == {KEY_ID: RECORD}
    assert len(tagged_bodies()) == 1


@responses.activate
def test_recorded_check_values_never_take_the_legacy_tag(make_client):
    """A key answered with only the legacy KCV tag has no record in the batch's records."""
    resources = [{'resource_id': KEY_ID, 'resource_name': 'a', 'resource_detail': {},
                  'tags': [legacy_tag(kcv(AES))]},
                 {'resource_id': OTHER_ID, 'resource_name': 'b', 'resource_detail': {},
                  'tags': [legacy_tag(kcv(AES)), record_tag(COPIED)]}]
    responses.add(responses.POST, TAGGED_URL, json={'resources': resources, 'total_count': 2})
    assert _material_check.recorded_check_values(real_client(make_client)) == {OTHER_ID: COPIED}


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


def test_check_with_the_batch_records_makes_no_call():
    client = FakeClient()
    recorded = {KEY_ID: RECORD, OTHER_ID: COPIED}
    warnings = []
    assert _material_check.check_held_material(client, key('2'), aes(), warnings.append, recorded=recorded) \
        == 'matched'
    assert _material_check.material_matches(client, key('2'), aes(), warnings.append, recorded) is True
    assert client.calls == [] and warnings == []


@pytest.mark.parametrize('recorded', [
    {OTHER_ID: COPIED},                 # the key is missing from the batch's answer
    {},                                 # an empty answer
    {KEY_ID: '000000'},                 # a value of another shape: no record
    {KEY_ID: ''},
])
def test_a_key_missing_from_the_batch_records_is_confirmed_by_its_own_tags(recorded):
    """No source says that the query of keys by tag answers every key: one missing there is asked
    alone, and its own record proves it."""
    client = FakeClient(tags=[{'tags': [record_tag(RECORD)], 'existTagsNum': 1}] * 2)
    warnings = []
    assert _material_check.check_held_material(client, key('2'), aes(), warnings.append, recorded=recorded) \
        == 'matched'
    assert _material_check.material_matches(client, key('2'), aes(), warnings.append, recorded) is True
    assert client.actions() == ['tags', 'tags'] and warnings == []


@pytest.mark.parametrize('own_tags, expected', [
    ([], 'unproven'),
    ([legacy_tag(kcv(AES))], 'unproven'),
    ([record_tag(COPIED)], 'mismatch'),
    ([record_tag(material_record(os.urandom(32), KEY_ID))], 'mismatch'),
])
def test_a_key_missing_from_the_batch_records_without_its_own_record_is_never_matched(own_tags, expected):
    client = FakeClient(tags=[{'tags': own_tags, 'existTagsNum': len(own_tags)}] * 2)
    warnings = []
    recorded = {OTHER_ID: COPIED}
    if expected == 'mismatch':
        with pytest.raises(_material_check.MaterialMismatchError, match='does not hold the material of'):
            _material_check.check_held_material(client, key('2'), aes(), warnings.append, recorded=recorded)
        assert _material_check.material_matches(client, key('2'), aes(), warnings.append, recorded) is False
    else:
        assert _material_check.check_held_material(client, key('2'), aes(), warnings.append,
                                                   recorded=recorded) == 'unproven'
        assert_unproven_warning(warnings)
        assert _material_check.material_matches(client, key('2'), aes(), warnings.append, recorded) is None
    assert client.actions() == ['tags', 'tags']


def test_unreadable_own_tags_of_a_key_missing_from_the_batch_records_are_unproven():
    client = FakeClient(tags=[KmsError('KMS tags failed: HTTP 403.', status=403)])
    warnings = []
    assert _material_check.check_held_material(client, key('2'), aes(), warnings.append, recorded={}) == 'unproven'
    assert 'could not be read' in warnings[0]
    assert_unproven_warning(warnings[1:])


@pytest.mark.parametrize('recorded', [
    {KEY_ID: material_record(os.urandom(32), KEY_ID)},    # other material
    {KEY_ID: COPIED},                                       # this material's record of another key
    {KEY_ID: RECORD.swapcase()},
])
def test_a_batch_record_that_is_not_this_keys_record_of_the_material_is_a_mismatch(recorded):
    client = FakeClient()
    with pytest.raises(_material_check.MaterialMismatchError) as caught:
        _material_check.check_held_material(client, key('2'), aes(), [].append, recorded=recorded)
    assert 'does not hold the material of key_material' in caught.value.msg
    assert 'material record (tag dew-kms-record)' in caught.value.msg and RECORD not in caught.value.msg
    assert client.calls == []  # a record in the batch's answer is not asked again


@pytest.mark.parametrize('state, origin, recorded, proven', [
    ('2', 'external', {KEY_ID: RECORD}, True),
    ('3', 'external', {KEY_ID: RECORD, OTHER_ID: COPIED}, True),
    ('5', 'external', {KEY_ID: RECORD}, False),    # no material (any more)
    ('2', 'kms', {KEY_ID: RECORD}, False),
    ('2', 'external', {KEY_ID: material_record(os.urandom(32), KEY_ID)}, False),
    ('2', 'external', {KEY_ID: COPIED}, False),    # copied from another key
    ('2', 'external', {OTHER_ID: RECORD}, False),  # this key's record, but listed for another
    ('2', 'external', {KEY_ID: RECORD.swapcase()}, False),
    ('2', 'external', {KEY_ID: kcv(AES)}, False),  # the legacy check value
    ('2', 'external', {KEY_ID: kcv(AES).lower()}, False),
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
