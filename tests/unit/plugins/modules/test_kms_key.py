# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

import pytest

from unittest import mock

from ansible_collections.dew.kms.plugins.modules import kms_key
from ansible_collections.dew.kms.tests.unit.plugins.modules.utils import AUTH, KEY_ID, key_info, run_module

EMPTY_LIST = {'keys': [], 'key_details': [], 'next_marker': '', 'truncated': 'false', 'total': 0}


def run(args, **kwargs):
    return run_module(kms_key, dict(AUTH, **args), **kwargs)


def alias_missing(kms):
    kms.add('list-keys', EMPTY_LIST)


def listed(kms, **info):
    """The alias is found by listing the keys (entries with every field, as Huawei Cloud lists)."""
    kms.add('list-keys', {'key_details': [key_info(**info)], 'next_marker': '', 'truncated': 'false', 'total': 1})


def test_creates_a_missing_key_by_alias(kms):
    alias_missing(kms)
    kms.add('create-key', {'key_info': {'key_id': KEY_ID, 'domain_id': 'd'}})
    kms.describe(state='5', description='BYOK key')

    result = run({'alias': 'unit-key', 'origin': 'external', 'description': 'BYOK key'}, diff=True)

    assert result['changed'] and result['key']['key_state_name'] == 'pending_import'
    assert kms.actions() == ['list-keys', 'create-key', 'describe-key']
    assert kms.bodies('create-key') == [{'key_alias': 'unit-key', 'origin': 'external', 'key_description': 'BYOK key'}]
    assert kms.bodies('list-keys')[0]['key_spec'] == 'ALL'
    assert result['diff']['before'] == {} and result['diff']['after']['key_id'] == KEY_ID


def test_create_after_a_server_error_is_settled_by_the_alias(kms):
    alias_missing(kms)
    kms.add('create-key', status=503, error='KMS.0104')
    alias_missing(kms)
    kms.add('create-key', {'key_info': {'key_id': KEY_ID, 'domain_id': 'd'}})
    kms.describe(state='2', origin='kms')

    result = run({'alias': 'unit-key', 'retries': 1})

    assert not result['failed'] and result['changed'] and result['key']['key_id'] == KEY_ID
    assert kms.actions() == ['list-keys', 'create-key', 'list-keys', 'create-key', 'describe-key']
    assert result['warnings'] == ['create-key for alias unit-key failed with HTTP 503 KMS.0104; no key has the '
                                  'alias, so it is created again (attempt 2 of 2).']


def test_create_that_went_through_despite_a_server_error_is_found_by_alias(kms):
    alias_missing(kms)
    kms.add('create-key', status=502, error='APIGW.0201')
    listed(kms, state='2', origin='kms')

    result = run({'alias': 'unit-key', 'retries': 3})

    assert not result['failed'] and result['changed'] and result['key']['key_id'] == KEY_ID
    assert kms.actions() == ['list-keys', 'create-key', 'list-keys']
    assert result['warnings'] == []


def test_create_check_mode_makes_no_change_call(kms):
    alias_missing(kms)

    result = run({'alias': 'unit-key', 'key_spec': 'RSA_2048', 'key_usage': 'SIGN_VERIFY'}, check_mode=True)

    assert result['changed'] and 'create-key' not in kms.actions()
    assert result['key']['alias'] == 'unit-key' and result['key']['key_spec'] == 'RSA_2048'
    assert result['key']['key_state'] == '2' and result['key']['key_id'] is None


def test_create_disabled(kms):
    alias_missing(kms)
    kms.add('create-key', {'key_info': {'key_id': KEY_ID}})
    kms.describe(state='2', origin='kms')
    kms.add('disable-key', {'key_info': {'key_id': KEY_ID, 'key_state': '3'}})
    kms.describe(state='3', origin='kms')

    result = run({'alias': 'unit-key', 'enabled': False})

    assert result['changed'] and result['key']['enabled'] is False
    assert kms.actions()[-3:] == ['describe-key', 'disable-key', 'describe-key']


def test_existing_key_that_matches_is_one_call(kms):
    listed(kms, state='2', origin='kms', description='d')

    result = run({'alias': 'unit-key', 'origin': 'kms', 'key_spec': 'AES_256', 'description': 'd', 'enabled': True})

    assert not result['changed'] and kms.actions() == ['list-keys']
    assert result['key']['creation_date'] == 1735689600


def test_alias_lookup_lists_every_page_and_never_describes_by_alias(kms):
    kms.add('list-keys', {'key_details': [key_info(key_id='aaaaaaaa-0000-0000-0000-000000000000', alias='other')],
                          'next_marker': '1', 'truncated': 'true', 'total': 2})
    kms.add('list-keys', {'key_details': [key_info(state='2', origin='kms')], 'next_marker': '', 'truncated': 'false',
                          'total': 2})

    result = run({'alias': 'unit-key'})

    assert not result['changed'] and result['key']['key_id'] == KEY_ID
    assert [body.get('marker') for body in kms.bodies('list-keys')] == [None, '1']
    assert 'describe-key' not in kms.actions()


def test_description_change_with_diff(kms):
    kms.describe(state='2', origin='kms', description='old')
    kms.add('update-key-description', {})
    kms.describe(state='2', origin='kms', description='new')

    result = run({'key_id': KEY_ID, 'description': 'new'}, diff=True)

    assert result['changed'] and kms.bodies('update-key-description') == [{'key_id': KEY_ID, 'key_description': 'new'}]
    assert result['diff']['before']['description'] == 'old' and result['diff']['after']['description'] == 'new'


def test_rename_alias_of_key_found_by_id(kms):
    kms.describe(state='2', origin='kms', alias='old-name')
    kms.add('update-key-alias', {})
    kms.describe(state='2', origin='kms', alias='new-name')

    result = run({'key_id': KEY_ID, 'alias': 'new-name'})

    assert result['changed'] and kms.bodies('update-key-alias') == [{'key_id': KEY_ID, 'key_alias': 'new-name'}]


@pytest.mark.parametrize('enabled,state,action,after', [(False, '2', 'disable-key', '3'), (True, '3', 'enable-key', '2')])
def test_enable_disable(kms, enabled, state, action, after):
    kms.describe(state=state, origin='kms')
    kms.add(action, {'key_info': {'key_id': KEY_ID, 'key_state': after}})
    kms.describe(state=after, origin='kms')

    result = run({'key_id': KEY_ID, 'enabled': enabled})

    assert result['changed'] and kms.actions() == ['describe-key', action, 'describe-key']
    assert result['key']['enabled'] is enabled


def test_disable_check_mode(kms):
    kms.describe(state='2', origin='kms')

    result = run({'key_id': KEY_ID, 'enabled': False}, check_mode=True, diff=True)

    assert result['changed'] and kms.actions() == ['describe-key']
    assert result['key']['key_state'] == '3' and result['diff']['after']['enabled'] is False


def test_enabled_ignored_with_warning_while_pending_import(kms):
    kms.describe(state='5')

    result = run({'key_id': KEY_ID, 'enabled': True})

    assert not result['failed'] and not result['changed']
    assert 'waits for its key material' in result['warnings'][0]


@pytest.mark.parametrize('args,expected', [
    ({'key_spec': 'RSA_2048'}, 'cannot change key_spec: key_spec is AES_256, the task asks for RSA_2048'),
    ({'origin': 'kms'}, 'cannot change origin: origin is external, the task asks for kms'),
    ({'key_usage': 'SIGN_VERIFY', 'key_spec': 'RSA_4096'}, 'cannot change key_spec and key_usage'),
])
def test_immutable_attributes(kms, args, expected):
    listed(kms, state='5')

    result = run(dict(args, alias='unit-key'))

    assert result['failed'] and expected in result['msg'] and kms.actions() == ['list-keys']


def test_absent_schedules_deletion(kms):
    kms.describe(state='2', origin='kms')
    kms.add('schedule-key-deletion', {'key_id': KEY_ID, 'key_state': '4'})
    kms.describe(state='4', origin='kms', scheduled='1738281600000')

    result = run({'key_id': KEY_ID, 'state': 'absent', 'pending_days': 30})

    assert result['changed'] and kms.bodies('schedule-key-deletion') == [{'key_id': KEY_ID, 'pending_days': '30'}]
    assert result['key']['key_state_name'] == 'pending_deletion' and result['key']['scheduled_deletion_date'] == 1738281600


def test_absent_check_mode(kms):
    listed(kms, state='5')

    result = run({'alias': 'unit-key', 'state': 'absent'}, check_mode=True)

    assert result['changed'] and kms.actions() == ['list-keys'] and result['key']['key_state'] == '4'


@pytest.mark.parametrize('found', [False, True], ids=['missing', 'pending-deletion'])
def test_absent_is_idempotent(kms, found):
    if found:
        listed(kms, state='4', scheduled='1738281600000')
    else:
        alias_missing(kms)

    result = run({'alias': 'unit-key', 'state': 'absent'})

    assert not result['failed'] and not result['changed'] and 'schedule-key-deletion' not in kms.actions()


@pytest.mark.parametrize('days', [6, 1097])
def test_pending_days_out_of_range(kms, days):
    result = run({'alias': 'unit-key', 'state': 'absent', 'pending_days': days})

    assert result['failed'] and 'pending_days must be between 7 and 1096' in result['msg'] and kms.actions() == []


def test_present_on_pending_deletion_needs_cancel_deletion(kms):
    listed(kms, state='4', scheduled='1738281600000')

    result = run({'alias': 'unit-key'})

    assert result['failed'] and 'Set cancel_deletion=true' in result['msg'] and '2025-01-31T00:00:00Z' in result['msg']
    assert kms.actions() == ['list-keys']


def test_cancel_deletion_then_enable(kms):
    listed(kms, state='4', origin='kms', scheduled='1738281600000')
    kms.add('cancel-key-deletion', {'key_id': KEY_ID, 'key_state': '3'})
    kms.describe(state='3', origin='kms')
    kms.add('enable-key', {'key_info': {'key_id': KEY_ID, 'key_state': '2'}})
    kms.describe(state='2', origin='kms')

    result = run({'alias': 'unit-key', 'cancel_deletion': True, 'enabled': True})

    assert result['changed'] and kms.actions() == ['list-keys', 'cancel-key-deletion', 'describe-key', 'enable-key',
                                                   'describe-key']


def test_cancel_deletion_of_external_key_without_material_does_not_enable_it(kms):
    kms.describe(state='4', scheduled='1738281600000')
    kms.add('cancel-key-deletion', {'key_id': KEY_ID, 'key_state': '5'})
    kms.describe(state='5')
    kms.describe(state='5')

    result = run({'key_id': KEY_ID, 'cancel_deletion': True, 'enabled': True})

    assert not result['failed'] and result['changed'] and result['key']['key_state_name'] == 'pending_import'
    assert 'enable-key' not in kms.actions() and 'waits for its key material' in result['warnings'][0]


def test_cancel_deletion_check_mode(kms):
    listed(kms, state='4', origin='kms', scheduled='1738281600000')

    result = run({'alias': 'unit-key', 'cancel_deletion': True}, check_mode=True)

    assert result['changed'] and kms.actions() == ['list-keys']
    assert result['key']['key_state_name'] == 'disabled' and result['key']['scheduled_deletion_date'] is None


def test_unknown_key_id_is_not_created(kms):
    kms.not_found()

    result = run({'key_id': KEY_ID})

    assert result['failed'] and 'To create a key, give its alias' in result['msg'] and kms.actions() == ['describe-key']


@pytest.mark.parametrize('args,expected', [
    ({'alias': 'bad alias!'}, 'alias is invalid'),
    ({'alias': 'obs/default'}, 'must not end in "/default"'),
    ({'key_id': 'ABC'}, 'key_id is malformed'),
    ({'alias': 'x', 'description': 'd' * 256}, 'description is too long'),
    ({}, 'one of the following is required: alias, key_id'),
    ({'alias': 'x', 'origin': 'byok'}, 'value of origin must be one of'),
])
def test_bad_input_fails_before_any_call(kms, args, expected):
    result = run(args)

    assert result['failed'] and expected in result['msg'] and kms.actions() == []


def test_default_master_key_is_not_changed(kms):
    kms.describe(state='2', origin='kms', alias='obs/default', default='1')

    result = run({'key_id': KEY_ID, 'enabled': False})

    assert result['failed'] and 'Default Master Key' in result['msg'] and kms.actions() == ['describe-key']


def test_module_process_does_not_import_cryptography():
    # a task is a fresh process: kms_key and kms_key_info must not pay for loading cryptography
    code = ('import sys; from ansible_collections.dew.kms.plugins.modules import kms_key, kms_key_info; '
            'print(sorted(name for name in sys.modules if name.split(".")[0] == "cryptography"))')
    output = subprocess.check_output([sys.executable, '-c', code],
                                     env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert output.strip() == b'[]'


@pytest.mark.parametrize('alias', ['alias/unit-key', 'unit-key'])
def test_alias_prefix_names_the_same_key_and_is_never_created(kms, alias):
    alias_missing(kms)
    kms.add('create-key', {'key_info': {'key_id': KEY_ID, 'domain_id': 'd'}})
    kms.describe(state='2', origin='kms')

    result = run({'alias': alias})

    assert not result['failed'] and kms.bodies('create-key') == [{'key_alias': 'unit-key'}]


def test_list_entry_without_key_spec_is_described_before_comparing(kms):
    entry = dict((name, value) for name, value in key_info(state='2', origin='kms').items()
                 if name not in ('key_spec', 'key_usage'))
    kms.add('list-keys', {'key_details': [entry], 'next_marker': '', 'truncated': 'false', 'total': 1})
    kms.describe(state='2', origin='kms')

    result = run({'alias': 'unit-key', 'key_spec': 'AES_256'})

    assert not result['failed'] and not result['changed'] and kms.actions() == ['list-keys', 'describe-key']


def test_new_key_is_awaited_while_pending_activation_before_it_is_disabled(kms):
    alias_missing(kms)
    kms.add('create-key', {'key_info': {'key_id': KEY_ID}})
    kms.describe(state='1', origin='kms')
    kms.describe(state='1', origin='kms')
    kms.describe(state='2', origin='kms')
    kms.add('disable-key', {'key_info': {'key_id': KEY_ID, 'key_state': '3'}})
    kms.describe(state='3', origin='kms')

    with mock.patch('time.sleep') as sleep:
        result = run({'alias': 'unit-key', 'enabled': False})

    assert not result['failed'] and result['key']['enabled'] is False
    assert [call.args[0] for call in sleep.call_args_list] == [0.2, 0.4]
    assert kms.actions() == ['list-keys', 'create-key', 'describe-key', 'describe-key', 'describe-key',
                             'disable-key', 'describe-key']


def test_key_that_stays_pending_activation_fails_after_wait_timeout(kms):
    for dummy in range(6):
        kms.describe(state='1', origin='kms')

    with mock.patch('time.sleep') as sleep:
        result = run({'key_id': KEY_ID, 'enabled': False, 'wait_timeout': 2})

    assert result['failed'] and result['msg'] == (
        'Key %s is still pending activation (key state 1) after 2 seconds: KMS has not made the new key usable '
        'yet. Run the task again later, or raise wait_timeout.' % KEY_ID)
    assert sum(call.args[0] for call in sleep.call_args_list) == pytest.approx(2.0)
    assert 'disable-key' not in kms.actions()


def test_wait_timeout_zero_does_not_wait(kms):
    kms.describe(state='1', origin='kms')

    with mock.patch('time.sleep') as sleep:
        result = run({'key_id': KEY_ID, 'enabled': False, 'wait_timeout': 0})

    assert result['failed'] and 'after 0 seconds' in result['msg'] and not sleep.called
    assert kms.actions() == ['describe-key']


def test_negative_wait_timeout_is_refused_before_any_call(kms):
    result = run({'key_id': KEY_ID, 'wait_timeout': -1})

    assert result['failed'] and 'wait_timeout must be 0' in result['msg'] and kms.actions() == []
