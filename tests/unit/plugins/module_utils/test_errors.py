# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dew.kms.plugins.module_utils import _errors
from ansible_collections.dew.kms.plugins.module_utils._errors import (
    KmsAuthError,
    KmsError,
    KmsNotFoundError,
    error_from_response,
    explain,
    parse_error_body,
)

KEY_ID = '0d0466b0-e727-4d9c-b35d-f84bb474a37f'


@pytest.mark.parametrize('code', [
    'KMS.0207', 'KMS.0205', 'KMS.0209', 'KMS.0210', 'KMS.0309', 'KMS.0310', 'KMS.0311',
    'KMS.2601', 'KMS.2602', 'KMS.2603', 'KMS.2604', 'KMS.2605', 'KMS.2606', 'KMS.2608', 'KMS.2609',
    'KMS.2610', 'KMS.2701', 'KMS.2702', 'KMS.0301', 'KMS.0303', 'KMS.0321', 'APIGW.0301',
    'APIGW.0308', 'KMS.1104', 'KMS.1201', 'KMS.1301', 'KMS.1401', 'KMS.1402', 'KMS.1501', 'KMS.0331',
])
def test_well_known_codes_are_explained(code):
    assert explain(code)


def test_explanations_in_plain_words():
    assert explain('KMS.0310') == 'key is not waiting for import: its material is already imported'
    assert 'not found' in explain('KMS.0207')
    assert 'external' in explain('KMS.0309')
    assert explain('APIG.0308') == explain('APIGW.0308')
    assert explain('KMS.9999') is None
    assert explain(None) is None


def test_parse_nested_kms_body():
    body = {'error': {'error_code': 'KMS.0207', 'error_msg': 'Key not found'}}
    assert parse_error_body(body) == ('KMS.0207', 'Key not found', None)


def test_parse_flat_gateway_body():
    body = {'error_msg': 'Incorrect IAM authentication information', 'error_code': 'APIGW.0301',
            'request_id': 'abc123'}
    assert parse_error_body(body) == ('APIGW.0301', 'Incorrect IAM authentication information', 'abc123')


def test_parse_lenient_variants():
    assert parse_error_body({'errorCode': 'X.1', 'errorMsg': 'm'}) == ('X.1', 'm', None)
    assert parse_error_body({'error': {'code': 401, 'message': 'Unauthorized', 'title': 't'}}) == (
        '401', 'Unauthorized', None)
    assert parse_error_body({'error': {'error_code': 'KMS.0310'}}) == ('KMS.0310', None, None)
    assert parse_error_body('<html>bad gateway</html>') == (None, None, None)
    assert parse_error_body(None) == (None, None, None)
    assert parse_error_body({'unrelated': 1}) == (None, None, None)


def test_error_from_nested_body_names_operation_key_and_explains():
    body = {'error': {'error_code': 'KMS.0310', 'error_msg': 'The key state is invalid'}}
    err = error_from_response('KMS import-key-material', 400, body, 'req-1', KEY_ID)

    assert isinstance(err, KmsError) and not isinstance(err, (KmsAuthError, KmsNotFoundError))
    assert err.msg == (
        'KMS import-key-material for key %s failed: HTTP 400 KMS.0310. Key is not waiting for '
        'import: its material is already imported. Service message: The key state is invalid. '
        'Request ID: req-1.' % KEY_ID)
    assert err.as_fail_kwargs() == {
        'msg': err.msg, 'status': 400, 'error_code': 'KMS.0310',
        'error_msg': 'The key state is invalid', 'request_id': 'req-1'}


def test_error_from_flat_body_takes_request_id_from_body_unless_header():
    body = {'error_code': 'APIGW.0308', 'error_msg': 'over ratelimit', 'request_id': 'in-body'}
    assert error_from_response('KMS list-keys', 429, body).request_id == 'in-body'
    assert error_from_response('KMS list-keys', 429, body, 'in-header').request_id == 'in-header'


@pytest.mark.parametrize('status,code', [(401, 'APIGW.0301'), (403, 'KMS.0303'), (403, 'APIGW.0302'),
                                         (401, None)])
def test_401_and_403_are_auth_errors_with_hint(status, code):
    body = {'error': {'error_code': code, 'error_msg': 'nope'}} if code else None
    err = error_from_response('KMS describe-key', status, body, hint='Check the token.')
    assert isinstance(err, KmsAuthError)
    assert err.msg.endswith('Check the token.')
    default = error_from_response('KMS describe-key', status, body)
    assert _errors.AUTH_HINT in default.msg


def test_not_found_type():
    body = {'error': {'error_code': 'KMS.0207', 'error_msg': 'x'}}
    assert isinstance(error_from_response('KMS describe-key', 404, body, key_id=KEY_ID), KmsNotFoundError)
    assert isinstance(error_from_response('KMS describe-key', 404, None), KmsNotFoundError)
    assert not isinstance(error_from_response('KMS describe-key', 400,
                                              {'error': {'error_code': 'KMS.0310'}}), KmsNotFoundError)


def test_non_json_body_is_shortened_into_message():
    err = error_from_response('KMS describe-key', 502, '<html>' + 'x' * 1000 + '</html>')
    assert err.msg.startswith('KMS describe-key failed: HTTP 502. Response: <html>xxx')
    assert len(err.msg) < 700
    assert err.error_code is None


def test_missing_library_error_carries_traceback():
    def fail_to_import():
        try:
            raise ImportError('no module named nothing')
        except ImportError:
            return _errors.missing_library('nothing', 'to test')

    kwargs = fail_to_import().as_fail_kwargs()
    assert 'nothing' in kwargs['msg']
    assert 'ImportError' in kwargs['exception']


@pytest.mark.parametrize('secret', ['pa\nss"word\\x', 'tøken-ü+/=', 'AKSK/with space&more'])
def test_scrub_removes_every_spelling_of_a_secret(secret):
    import base64
    import json
    from urllib.parse import quote, quote_plus
    from ansible_collections.dew.kms.plugins.module_utils._errors import scrub
    forms = [secret, repr(secret), ascii(secret), json.dumps(secret), repr(secret.encode('utf-8')),
             quote(secret, safe=''), quote_plus(secret), base64.b64encode(secret.encode('utf-8')).decode()]
    text = scrub(' | '.join(forms), [secret])
    for form in forms:
        assert form.strip('\'"b') not in text
    assert scrub('GET https://h/p?sig=abc&x=1 failed', []) == 'GET https://h/p?... failed'
