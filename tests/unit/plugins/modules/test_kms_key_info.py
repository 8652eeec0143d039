# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

import pytest

from ansible_collections.dew.kms.plugins.modules import kms_key_info
from ansible_collections.dew.kms.tests.unit.plugins.modules.utils import (
    AUTH, KEY_ID, OTHER_KEY_ID, key_info, run_module)


def run(args, **kwargs):
    return run_module(kms_key_info, dict(AUTH, **args), **kwargs)


def page(infos, next_marker='', truncated='false'):
    return {'keys': [info['key_id'] for info in infos], 'key_details': infos, 'next_marker': next_marker,
            'truncated': truncated, 'total': len(infos)}


def test_one_key_by_id_is_normalised(kms):
    kms.describe(state='2', expiration='1893456000000', scheduled='')

    result = run({'key_id': KEY_ID}, check_mode=True)

    assert not result['changed'] and not result['failed']
    assert result['kms_keys'] == [{
        'key_id': KEY_ID, 'alias': 'unit-key', 'description': '', 'key_spec': 'AES_256',
        'key_usage': 'ENCRYPT_DECRYPT', 'origin': 'external', 'key_state': '2', 'key_state_name': 'enabled',
        'enabled': True, 'creation_date': 1735689600, 'expiration_time': 1893456000,
        'expiration_date': '2030-01-01T00:00:00Z', 'expires_in_days': (1893456000 - int(time.time())) // 86400,
        'scheduled_deletion_date': None, 'default_key': False, 'domain_id': 'b168fe00ff56492495a7d22974df2d0b'}]


@pytest.mark.parametrize('expiration, days', [('', None), ('%d000', 10), ('%d', -2)])
def test_expiry_in_days(kms, expiration, days):
    seconds = int(time.time()) + days * 86400 + 600 if days is not None else None
    kms.describe(state='2', expiration=expiration % seconds if '%' in expiration else expiration)

    key = run({'key_id': KEY_ID})['kms_keys'][0]

    assert key['expires_in_days'] == days


@pytest.mark.parametrize('alias', ['unit-key', 'alias/unit-key'])
def test_one_key_by_alias_through_the_listing(kms, alias):
    kms.add('list-keys', page([key_info(key_id=OTHER_KEY_ID, alias='other'), key_info(state='3')]))

    result = run({'alias': alias})

    assert [key['key_id'] for key in result['kms_keys']] == [KEY_ID]
    assert kms.actions() == ['list-keys']


@pytest.mark.parametrize('args', [{'key_id': KEY_ID}, {'key_id': 'alias/nothing'}, {'alias': 'nothing'}])
def test_missing_key_is_an_empty_list(kms, args):
    kms.not_found()
    kms.add('list-keys', page([key_info(key_id=OTHER_KEY_ID, alias='other')]))

    result = run(args)

    assert not result['failed'] and result['kms_keys'] == []


def test_filters_apply_to_a_single_key(kms):
    kms.describe(state='5')

    result = run({'key_id': KEY_ID, 'key_state': 'enabled'})

    assert result['kms_keys'] == []


def test_list_pages_and_filters(kms):
    first = [key_info(alias='app-one', state='2'), key_info(key_id=OTHER_KEY_ID, alias='db-one', state='2')]
    second = [key_info(key_id='2f2688d2-0949-6f1f-d57f-1a6dd6960591', alias='app-two', state='2', origin='kms')]
    kms.add('list-keys', page(first, next_marker='2', truncated='true'))
    kms.add('list-keys', page(second))

    result = run({'key_state': 'enabled', 'origin': 'external', 'alias_pattern': 'app-*'})

    assert [key['alias'] for key in result['kms_keys']] == ['app-one']
    assert kms.bodies('list-keys') == [{'limit': '100', 'key_spec': 'ALL', 'key_state': '2'},
                                       {'limit': '100', 'key_spec': 'ALL', 'key_state': '2', 'marker': '2'}]


def test_list_by_key_spec_also_filters_locally(kms):
    # a service that ignores the key_spec filter must not leak other specs into the result
    kms.add('list-keys', page([key_info(spec='AES_256'), key_info(key_id=OTHER_KEY_ID, spec='RSA_2048')]))

    result = run({'key_spec': 'RSA_2048'})

    assert [key['key_id'] for key in result['kms_keys']] == [OTHER_KEY_ID]
    assert kms.bodies('list-keys')[0]['key_spec'] == 'RSA_2048'


def test_list_stops_when_marker_repeats(kms):
    kms.add('list-keys', page([key_info()], next_marker='1', truncated='true'))
    kms.add('list-keys', page([key_info(key_id=OTHER_KEY_ID)], next_marker='1', truncated='true'))

    result = run({})

    assert len(result['kms_keys']) == 2 and len(kms.bodies('list-keys')) == 2


@pytest.mark.parametrize('args,expected', [
    ({'key_id': 'key-1'}, 'key_id is malformed'),
    ({'key_id': KEY_ID, 'alias': 'x'}, 'mutually exclusive'),
    ({'key_state': 'gone'}, 'value of key_state must be one of'),
])
def test_bad_input(kms, args, expected):
    result = run(args)

    assert result['failed'] and expected in result['msg'] and kms.actions() == []


def test_token_refused(kms):
    kms.add('list-keys', status=403, error='KMS.0303')

    result = run({})

    assert result['failed'] and result['status'] == 403 and 'token has expired' in result['msg']


def otc_entry(**info):
    """A list-keys entry as OTC answers: no key_spec, no key_usage."""
    return dict((name, value) for name, value in key_info(**info).items() if name not in ('key_spec', 'key_usage'))


def test_otc_entries_are_described_only_for_the_keys_returned(kms):
    kms.add('list-keys', page([otc_entry(alias='app-one', state='2'),
                               otc_entry(key_id=OTHER_KEY_ID, alias='db-one', state='2')]))
    kms.describe(alias='app-one', state='2', spec='RSA_2048', usage='SIGN_VERIFY')

    result = run({'alias_pattern': 'app-*'})

    assert [(key['alias'], key['key_spec'], key['key_usage']) for key in result['kms_keys']] == [
        ('app-one', 'RSA_2048', 'SIGN_VERIFY')]
    assert kms.actions() == ['list-keys', 'describe-key'] and kms.bodies('describe-key') == [{'key_id': KEY_ID}]


def test_refused_key_spec_field_is_left_out_and_listed_again(kms):
    kms.add('list-keys', status=400, error='KMS.0308')
    kms.add('list-keys', page([key_info(alias='app-one', state='2')]))

    result = run({})

    assert [key['alias'] for key in result['kms_keys']] == ['app-one']
    assert kms.bodies('list-keys') == [{'limit': '100', 'key_spec': 'ALL'}, {'limit': '100'}]
