# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""_keys: local validation of expiry times, and create_key made safe by the key state."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
import requests
import responses

from ansible_collections.dew.kms.plugins.module_utils import _keys
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsError, KmsInputError
from ansible_collections.dew.kms.tests.unit.plugins.module_utils.helpers import KEY_ID, KMS, PROJECT_ID, kms_url

NOW = 1735689600  # 2025-01-01T00:00:00Z
LAST = 253402300799  # 9999-12-31T23:59:59Z


# --------------------------------------------------------------------------------- expiration_time

@pytest.mark.parametrize('value,seconds', [
    (str(LAST), None),                        # 12 digits: read as milliseconds, so in 1978
    ('99999999999', 99999999999),             # 11 digits: seconds (year 5138)
    (str(LAST * 1000 + 999), LAST),           # the last millisecond of 9999
    ('9999-12-31T23:59:59Z', LAST),
    ('9999-12-31', LAST - 86399),
])
def test_expiration_time_up_to_the_end_of_year_9999(value, seconds):
    if seconds is None:
        with pytest.raises(KmsInputError, match='is in the past'):
            _keys.parse_expiration_time(value, now=NOW)
    else:
        assert _keys.parse_expiration_time(value, now=NOW) == seconds


@pytest.mark.parametrize('value', [
    '99999999999999999999',                   # 20 digits: 1e17 seconds as milliseconds
    str((LAST + 1) * 1000),
    str(10 ** 40),
    10 ** 17 * 1000,
])
def test_expiration_time_beyond_year_9999_is_refused_naming_the_range(value):
    with pytest.raises(KmsInputError) as caught:
        _keys.parse_expiration_time(value, now=NOW)
    msg = caught.value.msg
    assert msg.startswith('expiration_time is too far in the future')
    assert '9999-12-31T23:59:59Z' in msg and str(LAST) in msg


def test_expiration_time_range_names_the_field_given():
    with pytest.raises(KmsInputError, match=r'^keys\[0\].expiration_time is too far'):
        _keys.parse_expiration_time('99999999999999999999', now=NOW, field='keys[0].expiration_time')


# --------------------------------------------------------------------------------- create_key

CREATE = kms_url('create-key')
DESCRIBE = kms_url('describe-key')
LIST = kms_url('list-keys')
EMPTY_LIST = {'key_details': [], 'next_marker': '', 'truncated': 'false', 'total': 0}
FAULT = {'error': {'error_code': 'KMS.0104', 'error_msg': 'System exception'}}


def key_info(state='5'):
    return {'key_info': {'key_id': KEY_ID, 'key_alias': 'byok-1', 'key_spec': 'AES_256',
                         'key_usage': 'ENCRYPT_DECRYPT', 'origin': 'external', 'key_state': state,
                         'default_key_flag': '0', 'creation_date': '1735689600000',
                         'domain_id': 'd' * 32}}


def client_for(make_client, retries):
    return make_client(auth_token='T', project_id=PROJECT_ID, retries=retries)


def alias_missing():
    responses.add(responses.POST, LIST, json=EMPTY_LIST)


def alias_listed(state='5'):
    responses.add(responses.POST, LIST, json={'key_details': [key_info(state)['key_info']], 'next_marker': '',
                                              'truncated': 'false', 'total': 1})


def actions():
    return [call.request.url.rsplit('/', 1)[1] for call in responses.calls]


@responses.activate
def test_create_without_reread_builds_the_key_from_the_request(make_client):
    responses.add(responses.POST, CREATE, json={'key_info': {'key_id': KEY_ID, 'domain_id': 'd' * 32}})
    client = client_for(make_client, 3)

    key = _keys.create_key(client, 'byok-1', key_spec='AES_256', origin='external',
                           description='BYOK', reread=False)

    assert actions() == ['create-key']
    assert (key['key_id'], key['alias'], key['key_spec'], key['origin'], key['description']) == (
        KEY_ID, 'byok-1', 'AES_256', 'external', 'BYOK')
    assert (key['key_state'], key['key_state_name'], key['enabled'], key['domain_id']) == (
        '1', 'pending_activation', False, 'd' * 32)
    assert key['key_usage'] is None and key['default_key'] is False


@responses.activate
def test_create_rereads_by_default(make_client):
    responses.add(responses.POST, CREATE, json={'key_info': {'key_id': KEY_ID}})
    responses.add(responses.POST, DESCRIBE, json=key_info())
    key = _keys.create_key(client_for(make_client, 3), 'byok-1', origin='external')
    assert actions() == ['create-key', 'describe-key'] and key['creation_date'] == 1735689600


@responses.activate
def test_unclear_create_failure_that_created_nothing_creates_again(make_client, recorder):
    responses.add(responses.POST, CREATE, status=503, json=FAULT)
    alias_missing()
    responses.add(responses.POST, CREATE, json={'key_info': {'key_id': KEY_ID}})
    client = client_for(make_client, 3)

    key = _keys.create_key(client, 'byok-1', key_spec='AES_256', origin='external', reread=False)

    assert key['key_id'] == KEY_ID
    assert actions() == ['create-key', 'list-keys', 'create-key']
    bodies = [json.loads(call.request.body) for call in responses.calls if call.request.url == CREATE]
    assert bodies[0] == bodies[1]
    assert recorder.warnings == [
        'create-key for alias byok-1 failed with HTTP 503 KMS.0104; no key has the alias, so it is '
        'created again (attempt 2 of 4).']


@responses.activate
def test_unclear_create_failure_that_created_the_key_uses_it(make_client, recorder):
    responses.add(responses.POST, CREATE, body=requests.exceptions.ReadTimeout('read timed out'))
    alias_listed()
    client = client_for(make_client, 3)

    key = _keys.create_key(client, 'byok-1', origin='external', reread=False)

    assert actions() == ['create-key', 'list-keys']
    assert (key['key_id'], key['key_state']) == (KEY_ID, '5') and recorder.warnings == []


@responses.activate
def test_create_again_meeting_the_alias_uses_the_key_an_earlier_attempt_made(make_client):
    responses.add(responses.POST, CREATE, status=500, json=FAULT)
    alias_missing()
    responses.add(responses.POST, CREATE, status=400,
                  json={'error': {'error_code': 'KMS.1104', 'error_msg': 'alias exists'}})
    alias_listed()

    key = _keys.create_key(client_for(make_client, 3), 'byok-1', origin='external')

    assert key['key_id'] == KEY_ID
    assert actions() == ['create-key', 'list-keys', 'create-key', 'list-keys']


@responses.activate
def test_create_again_is_bounded_by_retries(make_client, recorder):
    for _attempt in range(2):
        responses.add(responses.POST, CREATE, status=503, json=FAULT)
        alias_missing()
    client = client_for(make_client, 1)

    with pytest.raises(KmsError) as caught:
        _keys.create_key(client, 'byok-1', origin='external')

    assert actions().count('create-key') == 2 and len(recorder.warnings) == 1
    assert caught.value.status == 503 and caught.value.error_code == 'KMS.0104'
    assert caught.value.msg.endswith('No key has the alias byok-1, so running the task again is safe.')


@responses.activate
@pytest.mark.parametrize('answer', [
    dict(status=400, json={'error': {'error_code': 'KMS.1104', 'error_msg': 'alias exists'}}),
    dict(status=403, json={'error': {'error_code': 'KMS.0303', 'error_msg': 'expired'}}),
])
def test_clear_create_failure_is_not_repeated(make_client, answer):
    responses.add(responses.POST, CREATE, **answer)
    with pytest.raises(KmsError):
        _keys.create_key(client_for(make_client, 3), 'byok-1', origin='external')
    assert actions() == ['create-key']


# --------------------------------------------------------------------------------- unexpected answers

@responses.activate
@pytest.mark.parametrize('answer', [{'key_info': 'x'}, {'key_info': [1]}, {}])
def test_describe_answer_without_key_object_is_kms_error_naming_describe_key(make_client, answer):
    responses.add(responses.POST, DESCRIBE, json=answer)
    with pytest.raises(KmsError) as caught:
        _keys.describe_key(client_for(make_client, 0), KEY_ID)
    assert 'KMS describe-key for key %s returned an unexpected answer (key_info' % KEY_ID in caught.value.msg
    assert 'Check the endpoint.' in caught.value.msg


@responses.activate
@pytest.mark.parametrize('answer', [{'key_details': ['x']}, {'key_details': 'x'}])
def test_list_answer_of_unexpected_shape_is_kms_error_naming_list_keys(make_client, answer):
    responses.add(responses.POST, LIST, json=answer)
    with pytest.raises(KmsError, match='KMS list-keys returned an unexpected answer'):
        _keys.list_keys(client_for(make_client, 0))


@responses.activate
@pytest.mark.parametrize('reread', [True, False])
@pytest.mark.parametrize('answer', [{}, {'key_info': {}}, {'key_info': 'x'}, {'key_info': {'key_id': 7}}])
def test_create_answer_without_key_id_is_kms_error_naming_create_key(make_client, answer, reread):
    responses.add(responses.POST, CREATE, json=answer)
    with pytest.raises(KmsError, match='KMS create-key for alias byok-1 returned an unexpected answer'):
        _keys.create_key(client_for(make_client, 0), 'byok-1', origin='external', reread=reread)
    assert actions() == ['create-key']


@pytest.mark.parametrize('value', ['9' * 20, 253402300799 * 1000 + 1000, str(2 ** 80), -5, 'x'])
def test_timestamps_that_no_date_can_render_are_none(value):
    assert _keys.epoch_seconds(value) is None
    assert _keys.iso8601(10 ** 20) is None


def test_latest_renderable_timestamp_still_renders():
    # 13 digits and more are milliseconds
    latest = _keys.epoch_seconds(_keys.MAX_EXPIRATION_TIME * 1000 + 999)
    assert _keys.iso8601(latest) == '9999-12-31T23:59:59Z'


# ------------------------------------------------------------------------------ send_settled

class SettleConfig:
    retries = 2


class SettleClient:
    def __init__(self):
        self.config = SettleConfig()
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)


def failing(*errors):
    """A send() that raises the given errors in turn, then returns 'sent'."""
    attempts = []

    def send(attempt, *args):
        attempts.append((attempt, args))
        if len(attempts) <= len(errors):
            raise errors[len(attempts) - 1]
        return 'sent'
    send.attempts = attempts
    return send


UNCLEAR = KmsError('KMS x failed: HTTP 503.', status=503, error_code='KMS.0104')


def settled(send, settle, **kwargs):
    client = SettleClient()
    result = _keys.send_settled(client, send, settle, 'x for key k', 'nothing happened, so it is sent again',
                                'Running the task again is safe.', **kwargs)
    return result, client.warnings


def test_send_settled_returns_what_send_returns():
    assert settled(failing(), lambda: pytest.fail('no settle without a failure')) == ('sent', [])


def test_send_settled_returns_the_settled_value_without_sending_again():
    send = failing(UNCLEAR)
    assert settled(send, lambda: 'done') == ('done', [])
    assert len(send.attempts) == 1


def test_send_settled_sends_again_while_nothing_happened_with_fresh_prepare():
    send = failing(UNCLEAR, UNCLEAR)
    prepared = iter(['p1', 'p2', 'p3'])
    result, warnings = settled(send, lambda: None, prepare=lambda: (next(prepared),))
    assert result == 'sent' and send.attempts == [(1, ('p1',)), (2, ('p2',)), (3, ('p3',))]
    assert warnings == [
        'x for key k failed with HTTP 503 KMS.0104; nothing happened, so it is sent again (attempt 2 of 3).',
        'x for key k failed with HTTP 503 KMS.0104; nothing happened, so it is sent again (attempt 3 of 3).']


def test_send_settled_gives_up_after_the_last_attempt_saying_rerun_is_safe():
    with pytest.raises(KmsError) as info:
        settled(failing(UNCLEAR, UNCLEAR), lambda: None, attempts=2)
    assert info.value.msg == 'KMS x failed: HTTP 503. Running the task again is safe.'
    assert (info.value.status, info.value.error_code) == (503, 'KMS.0104')


def test_send_settled_raises_clear_failures_at_once():
    clear = KmsError('refused', status=400, error_code='KMS.0201')
    with pytest.raises(KmsError) as info:
        settled(failing(clear), lambda: pytest.fail('a clear failure needs no settling'))
    assert info.value is clear


def test_send_settled_raises_the_original_error_when_settling_fails():
    def settle():
        raise KmsError('describe failed too', status=500)
    with pytest.raises(KmsError) as info:
        settled(failing(UNCLEAR), settle)
    assert info.value is UNCLEAR


def test_send_settled_never_settles_errors_of_prepare():
    def prepare():
        raise KmsError('params failed', status=503)
    with pytest.raises(KmsError, match='params failed'):
        settled(failing(), lambda: pytest.fail('prepare changed nothing'), prepare=prepare)


def test_state_fields():
    assert _keys.state_fields(None) == {}
    key = _keys.normalize_key({'key_id': KEY_ID, 'key_state': '2', 'expiration_time': '1893456000000'})
    assert _keys.state_fields(key) == {'key_state': '2', 'key_state_name': 'enabled', 'expiration_time': 1893456000}


# ------------------------------------------------------------------------------ timestamps

@pytest.mark.parametrize('value', [
    1735689600, '1735689600', 1735689600.75, '1735689600.75',            # seconds
    1735689600000, '1735689600000', '1735689600000.0',                   # milliseconds
    1735689600000000, '1735689600000000', 1735689600123456,              # microseconds
])
def test_timestamps_in_seconds_milliseconds_and_microseconds(value):
    assert _keys.epoch_seconds(value) == 1735689600


@pytest.mark.parametrize('value,seconds', [
    (10 ** 11, 10 ** 11),                   # the largest number read as seconds
    (10 ** 11 + 1, 10 ** 8),                # the smallest read as milliseconds
    (10 ** 15, 10 ** 12 if 10 ** 12 <= _keys.MAX_EXPIRATION_TIME else None),  # the largest milliseconds
    (10 ** 15 + 1, 10 ** 9),                # the smallest read as microseconds (2001-09-09)
    (1, 1),
])
def test_timestamp_unit_boundaries(value, seconds):
    assert _keys.epoch_seconds(value) == seconds


@pytest.mark.parametrize('value', [0, '0', '', None, True, '-1735689600', '1e9', '17356896OO', [1]])
def test_timestamps_that_are_no_moment_are_none(value):
    assert _keys.epoch_seconds(value) is None


# ------------------------------------------------------------------------------ waiting for activation

class ScriptedClient:
    """A client answering describe-key from a list of states, recording sleeps."""

    def __init__(self, *states):
        self.states = list(states)
        self.sleeps = []
        self.calls = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)

    def call(self, action, body=None, **kwargs):
        self.calls.append(action)
        return {'key_info': dict(key_info(self.states.pop(0))['key_info'], key_id=body['key_id'])}


def pending(key_id=KEY_ID):
    return _keys.normalize_key(dict(key_info('1')['key_info'], key_id=key_id))


def test_usable_key_is_returned_without_a_call():
    client = ScriptedClient()
    key = _keys.normalize_key(key_info('5')['key_info'])
    assert _keys.wait_until_usable(client, key, 60) is key and client.calls == [] and client.sleeps == []


def test_pending_key_is_polled_with_doubling_pauses_up_to_three_seconds():
    client = ScriptedClient('1', '1', '1', '1', '1', '1', '5')
    key = _keys.wait_until_usable(client, pending(), 60)
    assert key['key_state'] == '5' and client.calls == ['describe-key'] * 7
    assert client.sleeps == [0.2, 0.4, 0.8, 1.6, 3.0, 3.0, 3.0]


def test_wait_is_bounded_by_the_timeout_and_names_the_key():
    client = ScriptedClient(*['1'] * 10)
    with pytest.raises(KmsError) as caught:
        _keys.wait_until_usable(client, pending(), 1)
    assert client.sleeps == [0.2, 0.4, pytest.approx(0.4)]
    assert caught.value.msg == ('Key %s is still pending activation (key state 1) after 1 seconds: KMS has not '
                                'made the new key usable yet. Run the task again later, or raise wait_timeout.'
                                % KEY_ID)


def test_timeout_zero_does_not_wait():
    client = ScriptedClient()
    with pytest.raises(KmsError, match='after 0 seconds'):
        _keys.wait_until_usable(client, pending(), 0)
    assert client.calls == [] and client.sleeps == []


def test_when_usable_costs_nothing_when_the_call_works():
    client = ScriptedClient()
    assert _keys.when_usable(client, KEY_ID, 60, lambda: 'answer') == 'answer' and client.calls == []


def test_when_usable_waits_for_a_pending_key_and_calls_again():
    client = ScriptedClient('1', '1', '2')
    answers = [KmsError('refused', status=400, error_code='KMS.1301'), 'answer']

    def call():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert _keys.when_usable(client, KEY_ID, 60, call) == 'answer'
    assert client.calls == ['describe-key'] * 3 and client.sleeps == [0.2, 0.4]


@pytest.mark.parametrize('state,code,timeout', [('2', 'KMS.1301', 60), ('1', 'KMS.0207', 60), ('1', 'KMS.1301', 0)])
def test_when_usable_raises_other_failures_unchanged(state, code, timeout):
    client = ScriptedClient(state)
    error = KmsError('refused', status=400, error_code=code)

    def call():
        raise error

    with pytest.raises(KmsError) as caught:
        _keys.when_usable(client, KEY_ID, timeout, call)
    assert caught.value is error and client.sleeps == []


# ------------------------------------------------------------------------------ list-keys on both clouds

OTC_ENTRY = dict((name, value) for name, value in key_info('2')['key_info'].items()
                 if name not in ('key_spec', 'key_usage'))
REFUSED = {'error': {'error_code': 'KMS.0308', 'error_msg': 'the parameter key_spec is not defined for list-keys'}}


def list_bodies():
    return [json.loads(call.request.body) for call in responses.calls if call.request.url == LIST]


def unknown_cloud_client(make_client):
    """A client of custom endpoints without a region or cloud_provider: its cloud is unknown."""
    client = make_client(auth_token='T', project_id=PROJECT_ID, retries=0, region=None, kms_endpoint=KMS)
    assert client.config.cloud_provider is None
    return client


@responses.activate
def test_otc_is_listed_without_key_spec_from_the_first_call(make_client):
    responses.add(responses.POST, LIST, json={'key_details': [OTC_ENTRY], 'next_marker': '1', 'truncated': 'true'})
    responses.add(responses.POST, LIST, json=EMPTY_LIST)
    client = client_for(make_client, 0)
    assert client.config.cloud_provider == 'otc'

    assert [key['key_id'] for key in _keys.list_keys(client)] == [KEY_ID]
    assert list_bodies() == [{'limit': '100'}, {'limit': '100', 'marker': '1'}]


@responses.activate
def test_otc_refusing_a_listing_is_not_asked_again(make_client):
    responses.add(responses.POST, LIST, status=400, json=REFUSED)
    with pytest.raises(KmsError) as caught:
        _keys.list_keys(client_for(make_client, 0))
    assert caught.value.error_code == 'KMS.0308' and list_bodies() == [{'limit': '100'}]


@responses.activate
def test_otc_key_spec_filter_is_applied_locally(make_client):
    rsa = dict(OTC_ENTRY, key_id='bbbbbbbb-0000-0000-0000-000000000000', key_alias='rsa')
    responses.add(responses.POST, LIST, json={'key_details': [OTC_ENTRY, rsa], 'truncated': 'false'})
    responses.add(responses.POST, DESCRIBE, json=key_info('2'))
    responses.add(responses.POST, DESCRIBE, json={'key_info': dict(key_info('2')['key_info'], key_id=rsa['key_id'],
                                                                   key_spec='RSA_2048', key_usage='SIGN_VERIFY')})

    keys = _keys.list_keys(client_for(make_client, 0), key_spec='AES_256')

    assert [key['key_id'] for key in keys] == [KEY_ID] and list_bodies() == [{'limit': '100'}]


@responses.activate
def test_key_spec_all_refused_is_dropped_once_for_the_life_of_the_client(make_client):
    page = {'key_details': [OTC_ENTRY], 'next_marker': '1', 'truncated': 'true', 'total': 2}
    responses.add(responses.POST, LIST, status=400, json=REFUSED)
    responses.add(responses.POST, LIST, json=page)
    responses.add(responses.POST, LIST, json=dict(page, next_marker='', truncated='false'))
    responses.add(responses.POST, LIST, json=dict(page, next_marker='', truncated='false'))
    client = unknown_cloud_client(make_client)

    assert len(_keys.list_keys(client)) == 2
    assert len(_keys.list_keys(client)) == 1
    bodies = list_bodies()
    assert bodies[0]['key_spec'] == 'ALL' and all('key_spec' not in body for body in bodies[1:])
    assert [body.get('marker') for body in bodies] == [None, None, '1', None]


@responses.activate
def test_key_spec_all_is_always_sent_to_huawei_cloud(make_client):
    responses.add(responses.POST, LIST, status=400, json=REFUSED)
    client = make_client(auth_token='T', project_id=PROJECT_ID, retries=0, cloud_provider='huaweicloud',
                         kms_endpoint=KMS)

    with pytest.raises(KmsError) as caught:
        _keys.list_keys(client)
    assert caught.value.error_code == 'KMS.0308' and list_bodies() == [{'limit': '100', 'key_spec': 'ALL'}]


@responses.activate
def test_other_list_failures_are_not_repeated(make_client):
    responses.add(responses.POST, LIST, status=403, json={'error': {'error_code': 'KMS.0306', 'error_msg': 'no'}})
    with pytest.raises(KmsError):
        _keys.list_keys(client_for(make_client, 0))
    assert len(list_bodies()) == 1


@responses.activate
def test_alias_found_in_an_entry_without_key_spec_is_described_once(make_client):
    other = dict(OTC_ENTRY, key_id='aaaaaaaa-0000-0000-0000-000000000000', key_alias='other')
    responses.add(responses.POST, LIST, json={'key_details': [other, OTC_ENTRY], 'truncated': 'false'})
    responses.add(responses.POST, DESCRIBE, json=key_info('2'))

    key = _keys.find_key_by_alias(client_for(make_client, 0), 'alias/byok-1')

    assert key['key_spec'] == 'AES_256' and key['key_usage'] == 'ENCRYPT_DECRYPT'
    assert actions() == ['list-keys', 'describe-key']
    assert json.loads(responses.calls[1].request.body) == {'key_id': KEY_ID}


@responses.activate
def test_complete_list_entries_are_not_described(make_client):
    alias_listed('2')
    key = _keys.find_key_by_alias(client_for(make_client, 0), 'byok-1')
    assert key['key_spec'] == 'AES_256' and actions() == ['list-keys']


@responses.activate
def test_key_spec_filter_describes_only_entries_that_lack_it_and_pass_the_rest(make_client):
    deleted = dict(OTC_ENTRY, key_id='aaaaaaaa-0000-0000-0000-000000000000', key_state='4')
    rsa = dict(key_info('2')['key_info'], key_id='bbbbbbbb-0000-0000-0000-000000000000', key_spec='RSA_2048')
    responses.add(responses.POST, LIST, json={'key_details': [OTC_ENTRY, deleted, rsa], 'truncated': 'false'})
    responses.add(responses.POST, DESCRIBE, json=key_info('2'))

    keys = _keys.list_keys(client_for(make_client, 0), key_state='2', key_spec='AES_256')

    assert [key['key_id'] for key in keys] == [KEY_ID] and actions() == ['list-keys', 'describe-key']


def public_pem():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@responses.activate
def test_public_key_of_an_alias_is_asked_by_key_id(make_client):
    responses.add(responses.POST, LIST, json={'key_details': [dict(key_info('2')['key_info'], key_spec='RSA_2048')],
                                              'truncated': 'false'})
    responses.add(responses.POST, kms_url('get-publickey'), json={'key_id': KEY_ID, 'public_key': public_pem()})

    result = _keys.get_public_key(client_for(make_client, 0), 'alias/byok-1')

    assert result['key_id'] == KEY_ID and actions() == ['list-keys', 'get-publickey']
    assert json.loads(responses.calls[1].request.body) == {'key_id': KEY_ID}


@responses.activate
def test_invalid_parameter_that_is_not_about_key_spec_is_not_remembered(make_client):
    responses.add(responses.POST, LIST, status=400, json=REFUSED)
    responses.add(responses.POST, LIST, status=400, json=REFUSED)
    responses.add(responses.POST, LIST, json=EMPTY_LIST)
    client = unknown_cloud_client(make_client)

    with pytest.raises(KmsError):
        _keys.list_keys(client)
    assert _keys.list_keys(client) == []
    assert ['key_spec' in body for body in list_bodies()] == [True, False, True]


@pytest.mark.parametrize('expiration, days', [(None, None), (1000 + 86400 * 10 + 5, 10), (1000 + 86399, 0),
                                              (1000 - 1, -1)])
def test_expires_in_days(expiration, days):
    assert _keys.expires_in_days(expiration, now=1000) == days
