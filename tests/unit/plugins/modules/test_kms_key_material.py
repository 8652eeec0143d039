# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os

import pytest

from unittest import mock
import requests

from ansible_collections.dew.kms.plugins.module_utils._check_values import kcv, material_record
from ansible_collections.dew.kms.plugins.modules import kms_key_material
from ansible_collections.dew.kms.tests.unit.plugins.modules.utils import (
    AUTH, IMPORT_TOKEN, KEY_ID, TOKEN, private_der, private_pem, run_module)

MATERIAL = bytes(range(32))
MATERIAL_B64 = base64.b64encode(MATERIAL).decode()
WRAPPED = base64.b64encode(os.urandom(256)).decode()
FUTURE = 1893456000  # 2030-01-01T00:00:00Z


def run(args, **kwargs):
    return run_module(kms_key_material, dict(AUTH, **args), **kwargs)


def assert_no_secret(result, *secrets):
    text = json.dumps(result)
    for secret in (TOKEN, MATERIAL_B64) + secrets:
        assert secret not in text


# ------------------------------------------------------------------------------ symmetric import

def test_first_import_wraps_in_process_with_three_calls(kms, import_params, unwrap):
    kms.describe(state='5')
    import_params(kms)
    kms.add('import-key-material', {})
    kms.tagged()

    result = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64, 'expiration_time': str(FUTURE)}, diff=True)

    assert not result['failed'] and result['changed']
    assert kms.actions() == ['describe-key', 'get-parameters-for-import', 'import-key-material', 'action']
    assert result['material_check'] == 'imported' and 'material_check' not in result['key']
    assert kms.bodies('tags/action') == [
        {'action': 'create', 'tags': [{'key': 'dew-kms-record', 'value': material_record(MATERIAL, KEY_ID)}]}]
    sent = kms.bodies('import-key-material')[0]
    assert unwrap(sent['encrypted_key_material']) == MATERIAL
    assert sent['import_token'] == IMPORT_TOKEN and sent['expiration_time'] == FUTURE
    assert 'encrypted_privatekey' not in sent
    assert kms.bodies('get-parameters-for-import') == [{'key_id': KEY_ID, 'wrapping_algorithm': 'RSAES_OAEP_SHA_256'}]
    key = result['key']
    assert (key['key_state'], key['key_state_name'], key['enabled'], key['expiration_time']) == (
        '2', 'enabled', True, FUTURE)
    assert result['diff'] == {
        'before_header': KEY_ID, 'after_header': KEY_ID,
        'before': {'key_state': '5', 'key_state_name': 'pending_import', 'expiration_time': None},
        'after': {'key_state': '2', 'key_state_name': 'enabled', 'expiration_time': FUTURE}}
    assert_no_secret(result, WRAPPED, sent['encrypted_key_material'])


def test_material_present_is_two_reads_and_no_change(kms):
    kms.describe(state='2', expiration=str(FUTURE * 1000))
    kms.tags({'dew-kms-record': material_record(MATERIAL, KEY_ID), 'dew-kms-kcv': '000000', 'team': 'x'})

    result = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64, 'expiration_time': str(FUTURE)})

    assert not result['failed'] and not result['changed'] and result['material_check'] == 'matched'
    assert kms.actions() == ['describe-key', 'tags']
    assert result['key']['expiration_time'] == FUTURE and result['warnings'] == []


@pytest.mark.parametrize('tags', [
    {'dew-kms-kcv': kcv(MATERIAL)},                                     # the legacy check value only
    {'dew-kms-record': kcv(MATERIAL)},                                  # a check value is no record
    {},
], ids=['legacy kcv', 'kcv as record', 'no tags'])
def test_material_present_with_a_claim_only_is_unproven(kms, tags):
    kms.describe(state='2', expiration=str(FUTURE * 1000))
    kms.tags(tags)

    result = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64, 'expiration_time': str(FUTURE)})

    assert not result['failed'] and not result['changed'] and result['material_check'] == 'unproven'
    assert kms.actions() == ['describe-key', 'tags']
    assert len(result['warnings']) == 1
    assert 'cannot be proven to be the material of key_material' in result['warnings'][0]
    assert_no_secret(result, material_record(MATERIAL, KEY_ID))


@pytest.mark.parametrize('other', ['another key', 'other material'])
def test_material_present_with_a_record_not_its_own_fails(kms, other):
    record = material_record(MATERIAL, '1e1577c1-f838-5e0d-c46e-095cc585b480') if other == 'another key' \
        else material_record(os.urandom(32), KEY_ID)
    kms.describe(state='2', expiration=str(FUTURE * 1000))
    kms.tags({'dew-kms-record': record, 'dew-kms-kcv': kcv(MATERIAL)})

    result = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64, 'expiration_time': str(FUTURE)})

    assert result['failed'] and not result.get('changed') and 'material_check' not in result
    assert 'Key %s does not hold the material of key_material' % KEY_ID in result['msg']
    assert kms.actions() == ['describe-key', 'tags']
    assert_no_secret(result, material_record(MATERIAL, KEY_ID))


def test_material_present_with_other_expiry_warns(kms):
    kms.describe(state='3')
    kms.tags()

    result = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64, 'expiration_time': '2030-01-01'})

    assert not result['changed'] and kms.actions() == ['describe-key', 'tags']
    assert result['material_check'] == 'unproven'
    assert 'expiration_time 2030-01-01T00:00:00Z was not applied' in result['warnings'][0]
    assert 'cannot be proven to be the material of key_material' in result['warnings'][1]


def test_check_mode_reads_only(kms):
    kms.describe(state='5')

    result = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64}, check_mode=True, diff=True)

    assert result['changed'] and kms.actions() == ['describe-key']
    assert result['key']['key_state'] == '2' and result['diff']['after']['key_state'] == '2'


@pytest.mark.parametrize('content', [MATERIAL, MATERIAL_B64.encode() + b'\n'], ids=['raw', 'base64'])
def test_material_from_file(kms, import_params, unwrap, tmp_path, content):
    path = tmp_path / 'aes.key'
    path.write_bytes(content)
    kms.describe(state='5')
    import_params(kms)
    kms.add('import-key-material', {})

    result = run({'key_id': KEY_ID, 'key_material_path': str(path)})

    assert result['changed']
    assert unwrap(kms.bodies('import-key-material')[0]['encrypted_key_material']) == MATERIAL
    assert 'expiration_time' not in kms.bodies('import-key-material')[0]


def test_alias_reference_is_resolved_through_the_listing(kms, import_params):
    kms.listed(state='5')
    import_params(kms)
    kms.add('import-key-material', {})
    kms.tagged()

    result = run({'key_id': 'alias/unit-key', 'key_material': MATERIAL_B64})

    assert result['changed'] and not result.get('warnings')
    assert kms.actions() == ['list-keys', 'get-parameters-for-import', 'import-key-material', 'action']
    assert kms.bodies('import-key-material')[0]['key_id'] == KEY_ID


@pytest.mark.parametrize('algorithm', ['RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5'])
def test_weak_wrapping_algorithm_warns_and_is_used(kms, import_params, unwrap, algorithm):
    kms.describe(state='5')
    import_params(kms)
    kms.add('import-key-material', {})

    result = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64, 'wrapping_algorithm': algorithm})

    assert result['changed'] and 'is weak' in result['warnings'][0]
    assert unwrap(kms.bodies('import-key-material')[0]['encrypted_key_material'], algorithm) == MATERIAL


def test_expired_token_gets_fresh_parameters_once(kms, import_params, unwrap):
    kms.describe(state='5')
    import_params(kms)
    kms.add('import-key-material', status=400, error='KMS.2601')
    import_params(kms)
    kms.add('import-key-material', {})
    kms.tagged()

    result = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64})

    assert result['changed']
    assert kms.actions() == ['describe-key', 'get-parameters-for-import', 'import-key-material',
                             'get-parameters-for-import', 'import-key-material', 'action']


def test_server_error_on_import_that_went_through_is_not_repeated(kms, import_params):
    kms.describe(state='5')
    import_params(kms)
    kms.add('import-key-material', status=502, error='APIGW.0201')
    kms.describe(state='2')
    kms.tagged()

    result = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64})

    assert not result['failed'] and result['changed']
    assert kms.actions() == ['describe-key', 'get-parameters-for-import', 'import-key-material', 'describe-key',
                             'action']


def test_lost_connection_on_import_that_did_not_go_through_fails_safely(kms, import_params):
    kms.describe(state='5')
    import_params(kms)
    kms.add('import-key-material', exception=requests.exceptions.ReadTimeout('read timed out'))
    kms.describe(state='5')

    result = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64})

    assert result['failed']
    assert 'did not answer' in result['msg'] and 'running the task again is safe' in result['msg']
    assert kms.actions().count('import-key-material') == 1
    assert_no_secret(result)


def test_server_error_on_import_with_the_key_still_pending_imports_again(kms, import_params, unwrap):
    kms.describe(state='5')
    first = import_params(kms)
    kms.add('import-key-material', status=503, error='KMS.0104')
    kms.describe(state='5')
    import_params(kms)
    kms.add('import-key-material', {})
    kms.tagged()

    result = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64, 'expiration_time': str(FUTURE), 'retries': 2})

    assert not result['failed'] and result['changed'], result.get('msg')
    assert kms.actions() == ['describe-key', 'get-parameters-for-import', 'import-key-material', 'describe-key',
                             'get-parameters-for-import', 'import-key-material', 'action']
    sent = kms.bodies('import-key-material')
    # fresh parameters for the second attempt, the same material and expiry
    assert [unwrap(body['encrypted_key_material']) for body in sent] == [MATERIAL, MATERIAL]
    assert sent[0]['encrypted_key_material'] != sent[1]['encrypted_key_material']
    assert [body['expiration_time'] for body in sent] == [FUTURE, FUTURE] and first['key_id'] == KEY_ID
    assert result['key']['key_state'] == '2' and result['key']['expiration_time'] == FUTURE
    assert result['warnings'] == [
        'import-key-material for key %s failed with HTTP 503 KMS.0104; the key is still waiting for import, so '
        'it is imported again (attempt 2 of 3).' % KEY_ID]
    assert_no_secret(result)


def test_imports_again_after_unclear_failures_are_bounded_by_retries(kms, import_params):
    kms.describe(state='5')
    import_params(kms)
    kms.add('import-key-material', status=500, error='KMS.0103')
    kms.describe(state='5')
    import_params(kms)
    kms.add('import-key-material', exception=requests.exceptions.ReadTimeout('read timed out'))
    kms.describe(state='5')

    result = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64, 'retries': 1})

    assert result['failed']
    assert 'did not answer' in result['msg'] and 'running the task again is safe' in result['msg']
    assert kms.actions().count('import-key-material') == 2
    assert len(result['warnings']) == 1 and 'failed with HTTP 500 KMS.0103' in result['warnings'][0]
    assert 'attempt 2 of 2' in result['warnings'][0]


def test_import_that_went_through_is_never_repeated_even_with_retries(kms, import_params):
    kms.describe(state='5')
    import_params(kms)
    kms.add('import-key-material', exception=requests.exceptions.ReadTimeout('read timed out'))
    kms.describe(state='2')
    kms.tagged()

    result = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64, 'retries': 3})

    assert not result['failed'] and result['changed']
    assert kms.actions().count('import-key-material') == 1 and result['warnings'] == []


def test_pre_wrapped_import_is_not_sent_again(kms):
    kms.describe(state='5')
    kms.add('import-key-material', status=503, error='KMS.0104')
    kms.describe(state='5')

    result = run({'key_id': KEY_ID, 'import_token': IMPORT_TOKEN, 'encrypted_key_material': WRAPPED, 'retries': 3})

    assert result['failed'] and 'running the task again is safe' in result['msg']
    assert kms.actions() == ['describe-key', 'import-key-material', 'describe-key']


# ------------------------------------------------------------------------------ asymmetric import

@pytest.mark.parametrize('spec,encode', [
    ('RSA_2048', lambda key: private_pem(key, 'TraditionalOpenSSL')),
    ('EC_P256', private_der),
    ('EC_P384', private_pem),
])
def test_private_key_import(kms, import_params, unwrap, private_keys, tmp_path, spec, encode):
    from cryptography.hazmat.primitives import keywrap

    path = tmp_path / 'private.key'
    path.write_bytes(encode(private_keys[spec]))
    kms.describe(state='5', spec=spec, usage='SIGN_VERIFY')
    import_params(kms)
    kms.add('import-key-material', {})

    result = run({'key_id': KEY_ID, 'key_material_path': str(path)})

    assert result['changed'] and result['key']['key_state'] == '2'
    sent = kms.bodies('import-key-material')[0]
    temporary_key = unwrap(sent['encrypted_key_material'])
    unwrapped = keywrap.aes_key_unwrap_with_padding(temporary_key, base64.b64decode(sent['encrypted_privatekey']))
    assert unwrapped == private_der(private_keys[spec])


def test_private_key_as_option_text(kms, import_params, private_keys):
    pem = private_pem(private_keys['EC_P256']).decode()
    kms.describe(state='5', spec='EC_P256', usage='SIGN_VERIFY')
    import_params(kms)
    kms.add('import-key-material', {})

    result = run({'key_id': KEY_ID, 'key_material': pem})

    assert result['changed']
    assert pem.splitlines()[1] not in json.dumps(result)


def test_private_key_of_other_size_is_refused_before_any_change(kms, private_keys):
    kms.describe(state='5', spec='RSA_2048', usage='SIGN_VERIFY')

    result = run({'key_id': KEY_ID, 'key_material': private_pem(private_keys['RSA_3072']).decode()})

    assert result['failed'] and kms.actions() == ['describe-key']
    assert 'private key is RSA_3072 but key %s is RSA_2048' % KEY_ID in result['msg']


def test_private_key_for_symmetric_key_is_refused(kms, private_keys):
    kms.describe(state='5')

    result = run({'key_id': KEY_ID, 'key_material': private_pem(private_keys['EC_P256']).decode()})

    assert result['failed'] and kms.actions() == ['describe-key']
    assert 'must be exactly 32 bytes' in result['msg'] and 'not a private key' in result['msg']


def test_symmetric_material_for_rsa_key_is_refused(kms):
    kms.describe(state='5', spec='RSA_2048', usage='SIGN_VERIFY')

    result = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64})

    assert result['failed'] and kms.actions() == ['describe-key']
    assert 'must be a private key of that type' in result['msg']
    assert_no_secret(result)


def test_expiration_time_for_rsa_key_is_refused(kms, private_keys):
    kms.describe(state='5', spec='RSA_2048', usage='SIGN_VERIFY')

    result = run({'key_id': KEY_ID, 'key_material': private_pem(private_keys['RSA_2048']).decode(),
                  'expiration_time': str(FUTURE)})

    assert result['failed'] and 'expiration_time applies only to symmetric keys' in result['msg']
    assert kms.actions() == ['describe-key']


def test_unsupported_private_key_type_is_refused_before_any_call(kms):
    from cryptography.hazmat.primitives.asymmetric import ed25519

    result = run({'key_id': KEY_ID, 'key_material': private_pem(ed25519.Ed25519PrivateKey.generate()).decode()})

    assert result['failed'] and result['msg'].startswith('key_material') and kms.actions() == []


# ------------------------------------------------------------------------------ bad input, no call

@pytest.mark.parametrize('args,expected', [
    ({'key_id': 'not-a-key-id', 'key_material': MATERIAL_B64}, 'key_id is malformed'),
    ({'key_id': KEY_ID, 'key_material': 'this is not base64!'}, 'key_material is not valid base64'),
    ({'key_id': KEY_ID, 'key_material': base64.b64encode(os.urandom(31)).decode()}, 'decodes to 31 bytes'),
    ({'key_id': KEY_ID, 'key_material': base64.b64encode(os.urandom(33)).decode()}, 'decodes to 33 bytes'),
    ({'key_id': KEY_ID, 'key_material': MATERIAL_B64, 'expiration_time': '1500000000'}, 'is in the past'),
    ({'key_id': KEY_ID, 'key_material': MATERIAL_B64, 'expiration_time': 'next year'},
     'expiration_time must be epoch seconds or an ISO 8601 date'),
    ({'key_id': KEY_ID, 'key_material': MATERIAL_B64, 'expiration_time': '99999999999999999999'},
     'expiration_time is too far in the future: the latest accepted expiry is 9999-12-31T23:59:59Z'),
    ({'key_id': KEY_ID, 'key_material': MATERIAL_B64, 'project_id': AUTH['project_id'] + '/kms/enable-key?x='},
     'project_id (env HW_PROJECT_ID or OS_PROJECT_ID) is malformed: an IAM project ID is 32 hexadecimal'),
    ({'key_id': KEY_ID, 'key_material_path': '/nonexistent/aes.key'},
     'key_material_path /nonexistent/aes.key cannot be read'),
    ({'key_id': KEY_ID, 'import_token': 'short', 'encrypted_key_material': WRAPPED}, 'import_token is malformed'),
    ({'key_id': KEY_ID, 'import_token': IMPORT_TOKEN, 'encrypted_key_material': 'AAAA'},
     'encrypted_key_material is malformed'),
    ({'key_id': KEY_ID}, 'state is present but any of the following are missing'),
    ({'key_id': KEY_ID, 'key_material': MATERIAL_B64, 'wrapping_algorithm': 'RSAES_OAEP_SHA_512'},
     'value of wrapping_algorithm must be one of'),
    ({'key_id': KEY_ID, 'key_material': MATERIAL_B64, 'import_token': IMPORT_TOKEN, 'encrypted_key_material': WRAPPED},
     'mutually exclusive'),
    ({'key_id': KEY_ID, 'import_token': IMPORT_TOKEN}, 'parameters are required together'),
])
def test_bad_input_fails_before_any_call(kms, args, expected):
    result = run(args)

    assert result['failed'] and expected in result['msg'], result['msg']
    assert kms.actions() == []
    assert_no_secret(result, WRAPPED, IMPORT_TOKEN)


@pytest.mark.parametrize('size', [31, 33])
def test_binary_file_of_wrong_size(kms, tmp_path, size):
    path = tmp_path / 'aes.key'
    path.write_bytes(b'\xff' * size)

    result = run({'key_id': KEY_ID, 'key_material_path': str(path)})

    assert result['failed'] and 'it holds %d bytes' % size in result['msg'] and kms.actions() == []


def test_directory_is_refused(kms, tmp_path):
    result = run({'key_id': KEY_ID, 'key_material_path': str(tmp_path)})

    assert result['failed'] and kms.actions() == []
    assert result['msg'] == 'key_material_path %s is a directory: give the path of a file.' % tmp_path


def test_fifo_is_refused_without_waiting_for_a_writer(kms, tmp_path):
    fifo = tmp_path / 'material.fifo'
    os.mkfifo(str(fifo))

    result = run({'key_id': KEY_ID, 'key_material_path': str(fifo)})

    assert result['failed'] and kms.actions() == []
    assert 'key_material_path %s is not a regular file' % fifo in result['msg']


def test_too_large_file_is_refused(kms, tmp_path):
    path = tmp_path / 'big.pem'
    path.write_bytes(b'-' * (64 * 1024 + 1))

    result = run({'key_id': KEY_ID, 'key_material_path': str(path)})

    assert result['failed'] and kms.actions() == []
    assert result['msg'] == 'key_material_path %s is too large to hold key material: at most 65536 bytes.' % path


def test_pasted_material_in_the_path_option_is_not_echoed(kms):
    pasted = '-----BEGIN PRIVATE KEY-----\n' + 'A' * 300 + '\n-----END PRIVATE KEY-----\n'

    result = run({'key_id': KEY_ID, 'key_material_path': pasted})

    assert result['failed'] and kms.actions() == []
    assert result['msg'].startswith('key_material_path cannot be read: ') and 'AAAA' not in result['msg']


def test_iso_expiration_time(kms, import_params):
    kms.describe(state='5')
    import_params(kms)
    kms.add('import-key-material', {})

    run({'key_id': KEY_ID, 'key_material': MATERIAL_B64, 'expiration_time': '2030-01-01T01:00:00+01:00'})

    assert kms.bodies('import-key-material')[0]['expiration_time'] == FUTURE


# ------------------------------------------------------------------------------ wrong key or state

@pytest.mark.parametrize('info,expected', [
    ({'origin': 'kms', 'state': '2'},
     'has origin kms: key material can only be imported into a key created with origin external'),
    ({'state': '4'}, 'is pending deletion: cancel the deletion first'),
    ({'default': '1', 'alias': 'obs/default'}, 'is a Default Master Key'),
])
def test_wrong_key_is_refused_after_describe(kms, info, expected):
    kms.describe(**info)

    result = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64})

    assert result['failed'] and expected in result['msg'] and kms.actions() == ['describe-key']


def test_unknown_key(kms):
    kms.not_found()

    result = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64})

    assert result['failed'] and result['error_code'] == 'KMS.0207' and result['status'] == 404
    assert 'describe-key for key %s' % KEY_ID in result['msg'] and result['request_id'] == 'req-describe-key'


def test_alias_not_found(kms):
    kms.add('list-keys', {'keys': [], 'key_details': [], 'next_marker': '', 'truncated': 'false', 'total': 0})

    result = run({'key_id': 'alias/missing', 'key_material': MATERIAL_B64})

    assert result['failed'] and 'No KMS key has the alias missing' in result['msg']
    assert kms.actions() == ['list-keys']


def test_key_pending_activation_is_awaited_before_the_import(kms, import_params):
    kms.describe(state='1')
    kms.describe(state='1')
    kms.describe(state='5')
    import_params(kms)
    kms.add('import-key-material', {})
    kms.tagged()

    with mock.patch('time.sleep') as sleep:
        result = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64})

    assert not result['failed'] and result['changed'] and not result.get('warnings')
    assert [call.args[0] for call in sleep.call_args_list] == [0.2, 0.4]
    assert kms.actions() == ['describe-key'] * 3 + ['get-parameters-for-import', 'import-key-material', 'action']


def test_key_still_pending_activation_fails_naming_it(kms):
    kms.describe(state='1')

    result = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64, 'wait_timeout': 0})

    assert result['failed'] and 'Key %s is still pending activation (key state 1)' % KEY_ID in result['msg']
    assert kms.actions() == ['describe-key']


def test_wrapping_algorithm_the_cloud_does_not_offer_fails_before_any_call(kms):
    result = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64, 'cloud_provider': 'huaweicloud',
                  'wrapping_algorithm': 'RSAES_PKCS1_V1_5'})

    assert result['failed'] and kms.actions() == []
    assert 'RSAES_PKCS1_V1_5 is not offered by Huawei Cloud KMS' in result['msg']


# ------------------------------------------------------------------------------ pre-wrapped input

def test_pre_wrapped_import(kms):
    kms.describe(state='5')
    kms.add('import-key-material', {})

    result = run({'key_id': KEY_ID, 'import_token': IMPORT_TOKEN, 'encrypted_key_material': WRAPPED,
                  'expiration_time': str(FUTURE)})

    assert result['changed'] and kms.actions() == ['describe-key', 'import-key-material']
    assert kms.bodies('import-key-material')[0] == {
        'key_id': KEY_ID, 'import_token': IMPORT_TOKEN, 'encrypted_key_material': WRAPPED, 'expiration_time': FUTURE}
    assert_no_secret(result, IMPORT_TOKEN, WRAPPED)


@pytest.mark.parametrize('code,expected', [
    ('KMS.2601', 'import token has expired: fetch new import parameters'),
    ('KMS.2603', 'import token belongs to a different key'),
    ('KMS.2605', 'import token is invalid or damaged'),
])
def test_pre_wrapped_token_refused(kms, code, expected):
    kms.describe(state='5')
    kms.add('import-key-material', status=400, error=code)

    result = run({'key_id': KEY_ID, 'import_token': IMPORT_TOKEN, 'encrypted_key_material': WRAPPED})

    assert result['failed'] and result['error_code'] == code and expected in result['msg']
    assert kms.actions() == ['describe-key', 'import-key-material']
    assert_no_secret(result, IMPORT_TOKEN, WRAPPED)


def test_pre_wrapped_rsa_needs_private_key_blob(kms):
    kms.describe(state='5', spec='RSA_2048', usage='SIGN_VERIFY')

    result = run({'key_id': KEY_ID, 'import_token': IMPORT_TOKEN, 'encrypted_key_material': WRAPPED})

    assert result['failed'] and 'needs encrypted_privatekey too' in result['msg']
    assert kms.actions() == ['describe-key']


# ------------------------------------------------------------------------------ state absent

def test_absent_deletes_symmetric_material(kms):
    kms.describe(state='2', expiration=str(FUTURE * 1000))
    kms.add('delete-imported-key-material', {})

    result = run({'key_id': KEY_ID, 'state': 'absent'}, diff=True)

    assert result['changed'] and result['key']['key_state'] == '5'
    assert kms.actions() == ['describe-key', 'delete-imported-key-material']
    assert result['diff']['before']['expiration_time'] == FUTURE and result['diff']['after']['expiration_time'] is None


def test_absent_check_mode_and_idempotence(kms):
    kms.describe(state='3')
    kms.describe(state='5')

    checked = run({'key_id': KEY_ID, 'state': 'absent'}, check_mode=True)
    again = run({'key_id': KEY_ID, 'state': 'absent'})

    assert checked['changed'] and not again['changed']
    assert kms.actions() == ['describe-key', 'describe-key']


def test_absent_on_asymmetric_key_says_schedule_deletion(kms):
    kms.describe(state='2', spec='EC_P256', usage='SIGN_VERIFY')

    result = run({'key_id': KEY_ID, 'state': 'absent'})

    assert result['failed'] and 'schedule deletion of the key (dew.kms.kms_key state=absent)' in result['msg']
    assert kms.actions() == ['describe-key']


def test_absent_on_non_external_key(kms):
    kms.describe(state='2', origin='kms')

    result = run({'key_id': KEY_ID, 'state': 'absent'})

    assert result['failed'] and 'only imported (origin external) material can be deleted' in result['msg']


# ------------------------------------------------------------------------------ credentials and transport

def test_missing_credentials(kms):
    result = run_module(kms_key_material, {'key_id': KEY_ID, 'key_material': MATERIAL_B64, 'region': 'eu-de'})

    assert result['failed'] and kms.actions() == []
    assert 'auth_token' in result['msg'] and 'access_key' in result['msg']


def test_conflicting_credentials(kms):
    result = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64, 'access_key': 'AK', 'secret_key': 'SK-SECRET'})

    assert result['failed'] and kms.actions() == []
    assert 'auth_token' in result['msg'] and 'access_key' in result['msg']
    assert_no_secret(result, 'SK-SECRET')


def test_bad_signature_is_an_auth_failure(kms):
    kms.add('describe-key', status=401, error='APIGW.0301')

    result = run_module(kms_key_material, {
        'key_id': KEY_ID, 'key_material': MATERIAL_B64, 'access_key': 'AKUNIT', 'secret_key': 'SK-SECRET-UNIT',
        'project_id': AUTH['project_id'], 'kms_endpoint': AUTH['kms_endpoint'], 'retries': 0})

    assert result['failed'] and result['status'] == 401 and result['error_code'] == 'APIGW.0301'
    assert 'IAM authentication failed' in result['msg']
    assert_no_secret(result, 'SK-SECRET-UNIT')


@pytest.mark.parametrize('exception,expected', [
    (requests.exceptions.SSLError('certificate verify failed'), 'TLS verification'),
    (requests.exceptions.ConnectTimeout('timed out'), 'timed out'),
    (requests.exceptions.ConnectionError('Connection refused'), 'cannot connect'),
])
def test_transport_failures(kms, exception, expected):
    kms.add('describe-key', exception=exception)

    result = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64})

    assert result['failed'] and expected in result['msg'] and kms.actions() == ['describe-key']


def test_second_run_changes_nothing(kms, import_params):
    kms.describe(state='5')
    import_params(kms)
    kms.add('import-key-material', {})
    kms.describe(state='2')

    first = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64})
    second = run({'key_id': KEY_ID, 'key_material': MATERIAL_B64})

    assert first['changed'] and not second['changed']
