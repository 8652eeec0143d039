# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from unittest import mock

from ansible_collections.dew.kms.plugins.modules import kms_import_params
from ansible_collections.dew.kms.tests.unit.plugins.modules.utils import AUTH, IMPORT_TOKEN, KEY_ID, run_module


def run(args, **kwargs):
    return run_module(kms_import_params, dict(AUTH, **args), **kwargs)


@pytest.mark.parametrize('check_mode', [False, True])
def test_returns_parameters_unchanged_also_in_check_mode(kms, import_params, check_mode):
    body = import_params(kms)

    result = run({'key_id': KEY_ID}, check_mode=check_mode)

    assert not result['failed'] and result['changed'] is False
    assert kms.bodies('get-parameters-for-import') == [{'key_id': KEY_ID, 'wrapping_algorithm': 'RSAES_OAEP_SHA_256'}]
    assert result['key_id'] == KEY_ID and result['import_token'] == IMPORT_TOKEN
    assert result['public_key'] == body['public_key'] and result['expiration_time'] == body['expiration_time']
    assert result['public_key_pem'].startswith('-----BEGIN PUBLIC KEY-----\n') and '\r' not in result['public_key_pem']
    expected = datetime.datetime.fromtimestamp(body['expiration_time'], tz=datetime.timezone.utc)
    assert result['expiration_date'] == expected.strftime('%Y-%m-%dT%H:%M:%SZ')


def test_alias_is_resolved_first_through_the_listing(kms, import_params):
    kms.listed(state='5')
    import_params(kms)

    result = run({'key_id': 'alias/unit-key'})

    assert result['key_id'] == KEY_ID
    assert kms.actions() == ['list-keys', 'get-parameters-for-import']
    assert kms.bodies('get-parameters-for-import')[0]['key_id'] == KEY_ID


def test_weak_algorithm_warns(kms, import_params):
    import_params(kms)

    result = run({'key_id': KEY_ID, 'wrapping_algorithm': 'RSAES_PKCS1_V1_5'})

    assert kms.bodies('get-parameters-for-import')[0]['wrapping_algorithm'] == 'RSAES_PKCS1_V1_5'
    assert 'RSAES_PKCS1_V1_5 is weak' in result['warnings'][0]


@pytest.mark.parametrize('args,expected', [
    ({'key_id': 'nope'}, 'key_id is malformed'),
    ({'key_id': KEY_ID, 'wrapping_algorithm': 'SM2_ENCRYPT'}, 'value of wrapping_algorithm must be one of'),
    ({}, 'missing required arguments: key_id'),
])
def test_bad_input(kms, args, expected):
    result = run(args)

    assert result['failed'] and expected in result['msg'] and kms.actions() == []


@pytest.mark.parametrize('code,expected', [
    ('KMS.0309', 'not an external key'),
    ('KMS.0310', 'key is not waiting for import'),
])
def test_service_refusal_is_explained(kms, code, expected):
    kms.add('get-parameters-for-import', status=400, error=code)
    kms.describe(state='2')  # a wrong-state answer: is the key pending activation? No.

    result = run({'key_id': KEY_ID})

    assert result['failed'] and result['error_code'] == code and expected in result['msg'].lower()
    assert 'get-parameters-for-import for key %s' % KEY_ID in result['msg']


def test_unknown_key(kms):
    kms.not_found('get-parameters-for-import')

    result = run({'key_id': KEY_ID})

    assert result['failed'] and result['status'] == 404 and result['error_code'] == 'KMS.0207'


def test_key_pending_activation_is_awaited_then_asked_again(kms, import_params):
    kms.add('get-parameters-for-import', status=400, error='KMS.0310')
    kms.describe(state='1')
    kms.describe(state='5')
    import_params(kms)

    with mock.patch('time.sleep') as sleep:
        result = run({'key_id': KEY_ID})

    assert not result['failed'] and result['import_token'] == IMPORT_TOKEN
    assert [call.args[0] for call in sleep.call_args_list] == [0.2]
    assert kms.actions() == ['get-parameters-for-import', 'describe-key', 'describe-key', 'get-parameters-for-import']


def test_wrapping_algorithm_the_cloud_does_not_offer_fails_before_any_call(kms):
    result = run({'key_id': KEY_ID, 'cloud_provider': 'huaweicloud', 'wrapping_algorithm': 'RSAES_OAEP_SHA_1'})

    assert result['failed'] and kms.actions() == []
    assert result['msg'] == 'wrapping_algorithm RSAES_OAEP_SHA_1 is not offered by Huawei Cloud KMS; use RSAES_OAEP_SHA_256.'


def test_a_weak_wrapping_key_is_never_returned(kms):
    import base64
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    kms.add('get-parameters-for-import', {'key_id': KEY_ID, 'import_token': IMPORT_TOKEN, 'expiration_time': 4102444800,
                                          'public_key': base64.b64encode(weak).decode()})

    result = run({'key_id': KEY_ID})

    assert result['failed'] and 'import_token' not in result and 'public_key' not in result
    assert 'is a 1024-bit RSA key: KMS wrapping keys are RSA of at least 2048 bits' in result['msg']
    assert IMPORT_TOKEN not in result['msg']
