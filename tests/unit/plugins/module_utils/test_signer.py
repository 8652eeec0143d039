# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SDK-HMAC-SHA256 against the test vectors V1-V3 of the KMS API spec (section 6.2.1)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib

from ansible_collections.dew.kms.plugins.module_utils import _signer

AK = 'EXAMPLEAK00000000000'
SK = 'EXAMPLESKabcdefghijklmnopqrstuvwxyz0123456'
PROJECT = '0123456789abcdef0123456789abcdef'
DATE = '20250101T000000Z'


def _sha(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def _unsigned(headers):
    return dict((name, value) for name, value in headers.items() if name != 'Authorization')


def test_vector_v1_post_describe_key():
    url = 'https://kms.eu-de.otc.t-systems.com/v1.0/%s/kms/describe-key' % PROJECT
    body = b'{"key_id": "0d0466b0-e727-4d9c-b35d-f84bb474a37f"}'
    assert len(body) == 50
    headers = {'Content-Type': 'application/json;charset=utf-8', 'X-Sdk-Date': DATE,
               'X-Project-Id': PROJECT, 'Host': 'kms.eu-de.otc.t-systems.com'}

    canonical = _signer.canonical_request('POST', url, headers, body)
    assert canonical == '\n'.join([
        'POST',
        '/v1.0/%s/kms/describe-key/' % PROJECT,
        '',
        'content-type:application/json;charset=utf-8',
        'host:kms.eu-de.otc.t-systems.com',
        'x-project-id:%s' % PROJECT,
        'x-sdk-date:%s' % DATE,
        '',
        'content-type;host;x-project-id;x-sdk-date',
        'a53cf1735740c07f57f84ca42c122ec503677b4ddde8d1726011b2edb25af8a1',
    ])
    assert _signer.string_to_sign(canonical, DATE) == (
        'SDK-HMAC-SHA256\n%s\n92741c5f65fcabc1759145d9a4b26dc3bfd3fcc349322d13c470fa1a5c6930cf' % DATE)

    signed = _signer.sign('POST', url, headers, body, AK, SK)
    assert signed['Authorization'] == (
        'SDK-HMAC-SHA256 Access=EXAMPLEAK00000000000, '
        'SignedHeaders=content-type;host;x-project-id;x-sdk-date, '
        'Signature=11323db9d22b9f0c93b0d97ce760f49f172d29acacd9a746edd0656057bd3eec')


def test_vector_v2_get_with_query_host_added_by_signer():
    url = 'https://iam.eu-de.otc.t-systems.com/v3/projects?name=eu-de'
    headers = {'Content-Type': 'application/json', 'X-Sdk-Date': DATE, 'X-Project-Id': PROJECT}

    signed = _signer.sign('GET', url, headers, b'', AK, SK)

    assert signed['Host'] == 'iam.eu-de.otc.t-systems.com'
    canonical = _signer.canonical_request('GET', url, _unsigned(signed), b'')
    lines = canonical.split('\n')
    assert lines[:3] == ['GET', '/v3/projects/', 'name=eu-de']
    assert lines[-1] == 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    assert _sha(canonical) == '90548b5caf739d4d0d8e8fdcf101675984c14a1e5635dbb3d368a33b7bb9c14c'
    assert signed['Authorization'].endswith(
        'Signature=baae05cff2a16d3720f0f0f7f9d70018f63fbef2253e45791c28a96c704679bd')


def test_vector_v3_temporary_credentials_non_default_port():
    url = 'https://127.0.0.1:8443/v1.0/%s/kms/get-parameters-for-import' % PROJECT
    body = (b'{"key_id": "0d0466b0-e727-4d9c-b35d-f84bb474a37f", '
            b'"wrapping_algorithm": "RSAES_OAEP_SHA_256"}')
    headers = {'Content-Type': 'application/json;charset=utf-8', 'X-Sdk-Date': DATE,
               'X-Project-Id': PROJECT, 'X-Security-Token': 'EXAMPLESECURITYTOKEN'}

    signed = _signer.sign('POST', url, headers, body, AK, SK)

    assert signed['Host'] == '127.0.0.1:8443'
    assert _signer.payload_hash(body) == '60e6e549df589360ba7f44282e4bb3c1d4ebf07317ed3f55f75c0220ce01652c'
    assert _sha(_signer.canonical_request('POST', url, _unsigned(signed), body)) == (
        'db1d622618d5ad1db98d37985efdbed309a9a593f34515db5e02fad287cf43c7')
    assert signed['Authorization'] == (
        'SDK-HMAC-SHA256 Access=EXAMPLEAK00000000000, '
        'SignedHeaders=content-type;host;x-project-id;x-sdk-date;x-security-token, '
        'Signature=c5347f74ed3801dd2d9859424afca5a3f948ddae34c05301036e7af00aa98be7')


def test_date_header_from_clock_and_inputs_left_untouched():
    headers = {'Content-Type': 'application/json'}
    moment = datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=datetime.timezone.utc)

    signed = _signer.sign('GET', 'https://h.example/x', headers, None, AK, SK, now=moment)

    assert signed['X-Sdk-Date'] == '20260304T050607Z'
    assert headers == {'Content-Type': 'application/json'}


def test_body_changes_signature():
    headers = {'Content-Type': 'application/json', 'X-Sdk-Date': DATE}
    one = _signer.sign('POST', 'https://h.example/a', headers, b'{"a": 1}', AK, SK)['Authorization']
    two = _signer.sign('POST', 'https://h.example/a', headers, b'{"a": 2}', AK, SK)['Authorization']
    assert one != two


def test_canonical_uri_and_query_encoding():
    assert _signer.canonical_uri('/v1.0/p/kms/a%20b') == '/v1.0/p/kms/a%20b/'
    assert _signer.canonical_uri('/already/') == '/already/'
    assert _signer.canonical_uri('') == '/'
    assert _signer.encode_query({'name': 'eu de', 'b': ['2', '1'], 'flag': True}) == (
        'b=1&b=2&flag=true&name=eu%20de')
    assert _signer.encode_query({'x': 'a+b/c~'}) == 'x=a%2Bb%2Fc~'
    assert _signer.encode_query(None) == ''


def test_headers_with_underscore_are_not_signed():
    headers = {'Content-Type': 'application/json', 'X-Sdk-Date': DATE, 'X_Custom': 'x'}
    signed = _signer.sign('GET', 'https://h.example/', headers, b'', AK, SK)
    assert 'SignedHeaders=content-type;host;x-sdk-date,' in signed['Authorization']
