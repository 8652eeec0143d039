# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""KmsClient: transport, retries, error mapping and the auth flows, against mocked and local servers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import time

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from ansible_collections.dew.kms.plugins.module_utils import _client, _signer
from ansible_collections.dew.kms.plugins.module_utils._errors import (
    KmsAuthError,
    KmsConfigError,
    KmsConnectionError,
    KmsError,
    KmsNotFoundError,
)

from ansible_collections.dew.kms.tests.unit.plugins.module_utils.helpers import IAM, KEY_ID, PROJECT_ID, kms_url

DESCRIBE = kms_url('describe-key')
IMPORT = kms_url('import-key-material')
KEY_INFO = {'key_info': {'key_id': KEY_ID, 'key_state': '2'}}


def _refused():
    return requests.exceptions.ConnectionError(MaxRetryError(
        None, '/', NewConnectionError(None, 'Failed to establish a new connection: [Errno 111] Connection refused')))


def _reset():
    return requests.exceptions.ConnectionError(ProtocolError('Connection aborted.', ConnectionResetError(104)))


# --------------------------------------------------------------------------------- basics

@responses.activate
def test_token_call_sends_json_and_token_and_returns_object(make_client):
    responses.add(responses.POST, DESCRIBE, json=KEY_INFO, headers={'X-Request-Id': 'r1'})
    client = make_client(auth_token='TOKEN123', project_id=PROJECT_ID)

    assert client.call('describe-key', {'key_id': KEY_ID}, key_id=KEY_ID) == KEY_INFO

    request = responses.calls[0].request
    assert request.headers['X-Auth-Token'] == 'TOKEN123'
    assert request.headers['Content-Type'].startswith('application/json')
    assert json.loads(request.body) == {'key_id': KEY_ID}
    assert 'Authorization' not in request.headers


@responses.activate
def test_empty_success_body_is_empty_dict(make_client):
    responses.add(responses.POST, IMPORT, body=b'', status=200)
    client = make_client(auth_token='T', project_id=PROJECT_ID)
    assert client.call('import-key-material', {'key_id': KEY_ID}, key_id=KEY_ID, idempotent=False) == {}


@responses.activate
def test_session_is_reused_across_calls(make_client, monkeypatch):
    responses.add(responses.POST, DESCRIBE, json=KEY_INFO)
    client = make_client(auth_token='T', project_id=PROJECT_ID)
    sessions = []
    original = requests.Session.request

    def spy(self, *args, **kwargs):
        sessions.append(id(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(requests.Session, 'request', spy)
    client.call('describe-key', {'key_id': KEY_ID})
    client.call('describe-key', {'key_id': KEY_ID})
    assert len(sessions) == 2 and len(set(sessions)) == 1


@responses.activate
def test_non_object_success_answer_is_an_error(make_client):
    responses.add(responses.POST, DESCRIBE, body='<html>portal</html>', status=200)
    client = make_client(auth_token='T', project_id=PROJECT_ID)
    with pytest.raises(KmsError, match='unexpected answer'):
        client.call('describe-key', {'key_id': KEY_ID}, key_id=KEY_ID)


@responses.activate
def test_redirects_are_not_followed(make_client):
    responses.add(responses.POST, DESCRIBE, status=302, headers={'Location': 'https://elsewhere.example/'})
    client = make_client(auth_token='T', project_id=PROJECT_ID)
    with pytest.raises(KmsError, match='redirect to https://elsewhere.example. Redirects'):
        client.call('describe-key', {'key_id': KEY_ID})
    assert len(responses.calls) == 1


def test_validate_certs_false_warns(make_client, recorder):
    make_client(auth_token='T', project_id=PROJECT_ID, validate_certs=False)
    assert any('validate_certs is false' in w for w in recorder.warnings)


# --------------------------------------------------------------------------------- retries

@responses.activate
def test_retry_on_5xx_then_success_with_warnings(make_client, recorder):
    responses.add(responses.POST, DESCRIBE, status=503,
                  json={'error': {'error_code': 'KMS.0104', 'error_msg': 'busy'}})
    responses.add(responses.POST, DESCRIBE, status=502, body='bad gateway')
    responses.add(responses.POST, DESCRIBE, json=KEY_INFO)
    client = make_client(auth_token='T', project_id=PROJECT_ID)

    assert client.call('describe-key', {'key_id': KEY_ID}, key_id=KEY_ID) == KEY_INFO

    assert len(responses.calls) == 3
    assert len(recorder.warnings) == 2
    assert 'HTTP 503 KMS.0104' in recorder.warnings[0] and KEY_ID in recorder.warnings[0]
    assert 'retry 1 of 3' in recorder.warnings[0] and 'retry 2 of 3' in recorder.warnings[1]
    # jittered exponential backoff: first within [0.5, 1], second within [1, 2]
    assert 0.5 <= recorder.sleeps[0] <= 1.0 and 1.0 <= recorder.sleeps[1] <= 2.0


@responses.activate
def test_retry_after_is_honoured_and_capped(make_client, recorder):
    responses.add(responses.POST, DESCRIBE, status=429, headers={'Retry-After': '7'},
                  json={'error_code': 'APIGW.0308', 'error_msg': 'over ratelimit', 'request_id': 'x'})
    responses.add(responses.POST, DESCRIBE, status=429, headers={'Retry-After': '3600'})
    responses.add(responses.POST, DESCRIBE, json=KEY_INFO)
    client = make_client(auth_token='T', project_id=PROJECT_ID)

    client.call('describe-key', {'key_id': KEY_ID})

    assert recorder.sleeps == [7.0, _client.RETRY_AFTER_CAP]
    assert 'HTTP 429 APIGW.0308' in recorder.warnings[0]


def test_retry_after_parsing():
    assert _client._retry_after_seconds('2.5') == 2.5
    assert _client._retry_after_seconds('-4') == 0.0
    assert _client._retry_after_seconds('Wed, 21 Oct 2015 07:28:00 GMT') == 0.0  # in the past
    assert _client._retry_after_seconds('soon') is None
    assert _client._retry_after_seconds(None) is None


@responses.activate
def test_now_is_the_kms_clock_of_the_latest_answer(make_client):
    from email.utils import formatdate
    ahead = time.time() + 15 * 86400
    responses.add(responses.POST, DESCRIBE, json=KEY_INFO)  # no Date: our clock
    responses.add(responses.POST, DESCRIBE, json=KEY_INFO, headers={'Date': formatdate(ahead, usegmt=True)})
    responses.add(responses.POST, DESCRIBE, json=KEY_INFO, headers={'Date': 'not a date'})
    client = make_client(auth_token='T', project_id=PROJECT_ID)

    assert abs(client.now() - time.time()) < 2  # before any answer
    client.call('describe-key', {'key_id': KEY_ID})
    assert abs(client.now() - time.time()) < 2
    client.call('describe-key', {'key_id': KEY_ID})
    assert abs(client.now() - ahead) < 2
    client.call('describe-key', {'key_id': KEY_ID})  # an unreadable Date keeps what was known
    assert abs(client.now() - ahead) < 2


@responses.activate
def test_retries_exhausted_raise_last_error(make_client, recorder):
    for _attempt in range(3):
        responses.add(responses.POST, DESCRIBE, status=500, headers={'X-Request-Id': 'last'},
                      json={'error': {'error_code': 'KMS.0101', 'error_msg': 'internal'}})
    client = make_client(auth_token='T', project_id=PROJECT_ID, retries=2)

    with pytest.raises(KmsError) as caught:
        client.call('describe-key', {'key_id': KEY_ID}, key_id=KEY_ID)

    assert len(responses.calls) == 3
    assert len(recorder.sleeps) == 2
    assert caught.value.status == 500 and caught.value.error_code == 'KMS.0101'
    assert caught.value.request_id == 'last'


@responses.activate
def test_retries_zero_means_one_attempt(make_client, recorder):
    responses.add(responses.POST, DESCRIBE, status=503)
    client = make_client(auth_token='T', project_id=PROJECT_ID, retries=0)
    with pytest.raises(KmsError):
        client.call('describe-key', {'key_id': KEY_ID})
    assert len(responses.calls) == 1 and recorder.warnings == []


@responses.activate
def test_state_changing_request_is_not_retried_on_5xx(make_client, recorder):
    responses.add(responses.POST, IMPORT, status=503, headers={'X-Request-Id': 'imp-1'},
                  json={'error': {'error_code': 'KMS.0104', 'error_msg': 'unavailable'}})
    responses.add(responses.POST, IMPORT, body=b'')
    client = make_client(auth_token='T', project_id=PROJECT_ID)

    with pytest.raises(KmsError) as caught:
        client.call('import-key-material', {'key_id': KEY_ID}, key_id=KEY_ID, idempotent=False)

    assert len(responses.calls) == 1
    assert caught.value.status == 503 and caught.value.request_id == 'imp-1'
    assert recorder.sleeps == []


@responses.activate
def test_state_changing_request_is_retried_on_429(make_client, recorder):
    responses.add(responses.POST, IMPORT, status=429, headers={'Retry-After': '1'})
    responses.add(responses.POST, IMPORT, body=b'')
    client = make_client(auth_token='T', project_id=PROJECT_ID)

    assert client.call('import-key-material', {'key_id': KEY_ID}, idempotent=False) == {}
    assert len(responses.calls) == 2 and recorder.sleeps == [1.0]


@responses.activate
def test_state_changing_request_retried_only_when_never_connected(make_client, recorder):
    responses.add(responses.POST, IMPORT, body=_refused())
    responses.add(responses.POST, IMPORT, body=b'')
    client = make_client(auth_token='T', project_id=PROJECT_ID)
    assert client.call('import-key-material', {'key_id': KEY_ID}, idempotent=False) == {}
    assert len(responses.calls) == 2

    responses.add(responses.POST, IMPORT, body=_reset())
    responses.add(responses.POST, IMPORT, body=b'')
    with pytest.raises(KmsConnectionError) as caught:
        client.call('import-key-material', {'key_id': KEY_ID}, key_id=KEY_ID, idempotent=False)
    assert caught.value.maybe_sent is True
    assert len(responses.calls) == 3


@responses.activate
def test_idempotent_request_retried_after_connection_reset(make_client, recorder):
    responses.add(responses.POST, DESCRIBE, body=_reset())
    responses.add(responses.POST, DESCRIBE, json=KEY_INFO)
    client = make_client(auth_token='T', project_id=PROJECT_ID)
    assert client.call('describe-key', {'key_id': KEY_ID}) == KEY_INFO
    assert 'cannot connect' in recorder.warnings[0]


@responses.activate
def test_read_timeout_is_explained_and_not_retried_when_state_changing(make_client):
    responses.add(responses.POST, IMPORT, body=requests.exceptions.ReadTimeout('read timed out'))
    client = make_client(auth_token='T', project_id=PROJECT_ID, timeout=5)
    with pytest.raises(KmsConnectionError) as caught:
        client.call('import-key-material', {'key_id': KEY_ID}, key_id=KEY_ID, idempotent=False)
    assert 'did not answer within 5 s' in caught.value.msg and 'timeout' in caught.value.msg
    assert caught.value.maybe_sent is True and len(responses.calls) == 1


@responses.activate
def test_connect_timeout_is_explained(make_client):
    responses.add(responses.POST, DESCRIBE, body=requests.exceptions.ConnectTimeout('connect timed out'))
    client = make_client(auth_token='T', project_id=PROJECT_ID, retries=0, timeout=3)
    with pytest.raises(KmsConnectionError, match='timed out after 3 s.*raise timeout') as caught:
        client.call('describe-key', {'key_id': KEY_ID})
    assert caught.value.maybe_sent is False


# --------------------------------------------------------------------------------- error mapping

@responses.activate
def test_nested_error_body_mapped(make_client):
    responses.add(responses.POST, kms_url('get-parameters-for-import'), status=400,
                  headers={'X-Request-Id': 'req-42'},
                  json={'error': {'error_code': 'KMS.0309', 'error_msg': 'Key origin is not external'}})
    client = make_client(auth_token='T', project_id=PROJECT_ID)
    with pytest.raises(KmsError) as caught:
        client.call('get-parameters-for-import', {'key_id': KEY_ID}, key_id=KEY_ID)
    err = caught.value
    assert (err.status, err.error_code, err.error_msg, err.request_id) == (
        400, 'KMS.0309', 'Key origin is not external', 'req-42')
    assert err.msg.startswith('KMS get-parameters-for-import for key %s failed: HTTP 400 KMS.0309.' % KEY_ID)
    assert 'not an external key' in err.msg


@responses.activate
def test_flat_gateway_error_is_auth_error_with_mode_hint(make_client):
    responses.add(responses.POST, DESCRIBE, status=401,
                  json={'error_msg': 'Incorrect IAM authentication information: verify aksk signature fail',
                        'error_code': 'APIGW.0301', 'request_id': 'gw-7'})
    client = make_client(access_key='AK', secret_key='SK', project_id=PROJECT_ID)
    with pytest.raises(KmsAuthError) as caught:
        client.call('describe-key', {'key_id': KEY_ID}, key_id=KEY_ID)
    assert caught.value.request_id == 'gw-7' and caught.value.error_code == 'APIGW.0301'
    assert 'access_key and secret_key' in caught.value.msg
    assert 'SK' not in caught.value.msg.replace('AK/SK', '')


@responses.activate
def test_not_found_mapped(make_client):
    responses.add(responses.POST, DESCRIBE, status=404,
                  json={'error': {'error_code': 'KMS.0207', 'error_msg': 'Key not found'}})
    client = make_client(auth_token='T', project_id=PROJECT_ID)
    with pytest.raises(KmsNotFoundError, match='not found'):
        client.call('describe-key', {'key_id': KEY_ID}, key_id=KEY_ID)


def test_connection_refused_on_real_closed_port(make_client, recorder):
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    client = make_client(auth_token='T', project_id=PROJECT_ID, retries=1,
                         kms_endpoint='http://127.0.0.1:%d' % port)
    with pytest.raises(KmsConnectionError) as caught:
        client.call('describe-key', {'key_id': KEY_ID}, key_id=KEY_ID, idempotent=False)
    err = caught.value
    assert 'cannot connect to http://127.0.0.1:%d' % port in err.msg
    assert 'kms_endpoint' in err.msg and err.maybe_sent is False
    assert len(recorder.sleeps) == 1  # never connected: retried even though state-changing


def test_dns_failure_is_explained(make_client):
    client = make_client(auth_token='T', project_id=PROJECT_ID, retries=0,
                         kms_endpoint='https://kms.does-not-exist.invalid')
    with pytest.raises(KmsConnectionError, match='cannot connect to https://kms.does-not-exist.invalid: its host name does not resolve'):
        client.call('describe-key', {'key_id': KEY_ID})


# --------------------------------------------------------------------------------- auth flows

@responses.activate
def test_password_flow_one_token_for_many_calls_project_from_token(make_client):
    token_call = responses.add(
        responses.POST, IAM + '/auth/tokens?nocatalog=true', status=201,
        headers={'X-Subject-Token': 'ISSUED'},
        json={'token': {'project': {'id': 'aaaabbbbccccddddeeeeffff00001111', 'name': 'eu-de'}}})
    url = kms_url('describe-key', project_id='aaaabbbbccccddddeeeeffff00001111')
    responses.add(responses.POST, url, json=KEY_INFO)
    client = make_client(username='alice', password='s3cret', domain_name='ACME')

    for _call in range(3):
        client.call('describe-key', {'key_id': KEY_ID})

    assert token_call.call_count == 1
    assert client.project_id == 'aaaabbbbccccddddeeeeffff00001111'
    sent = json.loads(responses.calls[0].request.body)
    assert sent == {'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'name': 'alice', 'password': 's3cret', 'domain': {'name': 'ACME'}}}},
        'scope': {'project': {'name': 'eu-de'}}}}
    assert 'X-Auth-Token' not in responses.calls[0].request.headers
    assert all(c.request.headers['X-Auth-Token'] == 'ISSUED' for c in responses.calls[1:])


@responses.activate
def test_password_flow_scopes_by_project_id_or_name(make_client):
    responses.add(responses.POST, IAM + '/auth/tokens?nocatalog=true', status=201,
                  headers={'X-Subject-Token': 'ISSUED'}, json={'token': {}})
    responses.add(responses.POST, DESCRIBE, json=KEY_INFO)
    by_id = make_client(username='u', password='p', domain_name='d', project_id=PROJECT_ID)
    by_id.call('describe-key', {'key_id': KEY_ID})
    assert json.loads(responses.calls[0].request.body)['auth']['scope'] == {'project': {'id': PROJECT_ID}}

    by_name = make_client(username='u', password='p', domain_name='d', project_name='eu-de_sub',
                          project_id=PROJECT_ID)
    by_name.call('describe-key', {'key_id': KEY_ID})
    assert json.loads(responses.calls[2].request.body)['auth']['scope'] == {'project': {'id': PROJECT_ID}}


def _iam_refusing(project_ok, password_ok):
    """IAM token endpoint: 401 unless the password is right and (for a project scope) the project too."""
    def answer(request):
        scope = json.loads(request.body)['auth']['scope']
        if password_ok and ('domain' in scope or project_ok):
            return 201, {'X-Subject-Token': 'ISSUED-TOKEN-1234'}, json.dumps({'token': {}})
        return 401, {}, json.dumps({'error': {'code': 401, 'message': 'refused'}})
    responses.add_callback(responses.POST, IAM + '/auth/tokens?nocatalog=true', callback=answer)


@responses.activate
def test_wrong_password_is_named_as_such_without_the_password(make_client):
    _iam_refusing(project_ok=True, password_ok=False)
    client = make_client(username='alice', password='s3cret-pw', domain_name='ACME', project_name='eu-de_x')
    with pytest.raises(KmsAuthError) as caught:
        client.call('describe-key', {'key_id': KEY_ID})
    assert caught.value.msg.startswith('IAM token request for user alice of domain ACME in project eu-de_x '
                                       'failed: HTTP 401')
    assert 'IAM refused the credentials of user alice of domain ACME. Check username, password and ' \
           'domain_name' in caught.value.msg
    assert 's3cret-pw' not in caught.value.msg
    scopes = [json.loads(call.request.body)['auth']['scope'] for call in responses.calls]
    assert scopes == [{'project': {'name': 'eu-de_x'}}, {'domain': {'name': 'ACME'}}]


@responses.activate
def test_wrong_project_is_named_as_such(make_client):
    _iam_refusing(project_ok=False, password_ok=True)
    client = make_client(username='alice', password='s3cret-pw', domain_name='ACME', project_name='eu-de_x')
    with pytest.raises(KmsAuthError) as caught:
        client.call('describe-key', {'key_id': KEY_ID})
    assert 'failed: HTTP 401' in caught.value.msg
    assert 'IAM accepted the password of user alice of domain ACME but refused a token for project ' \
           'eu-de_x. Check project_id' in caught.value.msg
    assert 'ISSUED-TOKEN-1234' not in caught.value.msg and 's3cret-pw' not in caught.value.msg
    assert len(responses.calls) == 2


@responses.activate
def test_password_flow_without_subject_token_header(make_client):
    responses.add(responses.POST, IAM + '/auth/tokens?nocatalog=true', status=201, json={'token': {}})
    client = make_client(username='u', password='p', domain_name='d', project_id=PROJECT_ID)
    with pytest.raises(KmsError, match='no X-Subject-Token'):
        client.call('describe-key', {'key_id': KEY_ID})


def _verify_signature(request, secret_key):
    """Rebuild the signature from what was actually sent (headers named in SignedHeaders, body)."""
    auth = request.headers['Authorization']
    fields = dict(part.split('=', 1) for part in auth[len('SDK-HMAC-SHA256 '):].split(', '))
    names = fields['SignedHeaders'].split(';')
    sent = dict((name, request.headers[name]) for name in names)
    recomputed = _signer.sign(request.method, request.url, sent, request.body or b'',
                              fields['Access'], secret_key)
    return recomputed['Authorization'] == auth, names


@responses.activate
def test_aksk_signs_exact_bytes_and_project_header(make_client):
    responses.add(responses.POST, DESCRIBE, json=KEY_INFO)
    client = make_client(access_key='MYAK', secret_key='MYSK', project_id=PROJECT_ID)
    client.call('describe-key', {'key_id': KEY_ID, 'note': u'caf\u00e9'})

    request = responses.calls[0].request
    valid, names = _verify_signature(request, 'MYSK')
    assert valid
    assert names == ['content-type', 'host', 'x-project-id', 'x-sdk-date']
    assert request.headers['X-Project-Id'] == PROJECT_ID
    assert request.headers['Host'] == 'kms.eu-de.otc.t-systems.com'
    assert request.headers['Authorization'].startswith('SDK-HMAC-SHA256 Access=MYAK, ')
    assert 'X-Security-Token' not in request.headers
    assert not _verify_signature(request, 'OTHER')[0]


@responses.activate
def test_aksk_temporary_credentials_send_and_sign_security_token(make_client):
    responses.add(responses.POST, DESCRIBE, json=KEY_INFO)
    client = make_client(access_key='TMPAK', secret_key='TMPSK', security_token='SECTOKEN',
                         project_id=PROJECT_ID)
    client.call('describe-key', {'key_id': KEY_ID})
    request = responses.calls[0].request
    valid, names = _verify_signature(request, 'TMPSK')
    assert valid and 'x-security-token' in names
    assert request.headers['X-Security-Token'] == 'SECTOKEN'


@responses.activate
def test_aksk_project_lookup_once_by_region(make_client):
    lookup = responses.add(responses.GET, IAM + '/projects?name=eu-de',
                           json={'projects': [{'id': 'f' * 32, 'name': 'eu-de'}], 'links': {}})
    responses.add(responses.POST, kms_url('describe-key', project_id='f' * 32), json=KEY_INFO)
    client = make_client(access_key='AK', secret_key='SK')

    client.call('describe-key', {'key_id': KEY_ID})
    client.call('describe-key', {'key_id': KEY_ID})

    assert lookup.call_count == 1
    lookup_request = responses.calls[0].request
    assert _verify_signature(lookup_request, 'SK')[0]
    assert 'X-Project-Id' not in lookup_request.headers
    assert responses.calls[1].request.headers['X-Project-Id'] == 'f' * 32


@responses.activate
def test_project_lookup_prefers_project_name_and_exact_match(make_client):
    responses.add(responses.GET, IAM + '/projects?name=eu-de_team',
                  json={'projects': [{'id': 'a' * 32, 'name': 'eu-de_team'}]})
    client = make_client(access_key='AK', secret_key='SK', project_name='eu-de_team')
    assert client.project_id == 'a' * 32


@responses.activate
@pytest.mark.parametrize('projects', [[], [{'id': 'a' * 32, 'name': 'x'}, {'id': 'b' * 32, 'name': 'y'}]])
def test_project_lookup_needs_exactly_one(make_client, projects):
    responses.add(responses.GET, IAM + '/projects?name=eu-de', json={'projects': projects})
    client = make_client(access_key='AK', secret_key='SK')
    with pytest.raises(KmsConfigError, match='found %d projects; set project_id' % len(projects)):
        client.call('describe-key', {'key_id': KEY_ID})


@responses.activate
def test_token_mode_project_lookup_uses_token(make_client):
    responses.add(responses.GET, IAM + '/projects?name=eu-de', json={'projects': [{'id': 'c' * 32, 'name': 'eu-de'}]})
    client = make_client(auth_token='TOK')
    assert client.project_id == 'c' * 32
    assert responses.calls[0].request.headers['X-Auth-Token'] == 'TOK'


@responses.activate
def test_project_id_from_iam_is_validated_before_it_goes_into_a_url(make_client):
    responses.add(responses.GET, IAM + '/projects?name=eu-de',
                  json={'projects': [{'id': PROJECT_ID + '/kms/enable-key?x=', 'name': 'eu-de'}]})
    client = make_client(access_key='AK', secret_key='SK')
    with pytest.raises(KmsConfigError, match='IAM project lookup for project eu-de returned a project id that is '
                                             'not 32 hexadecimal characters; set project_id'):
        client.call('describe-key', {'key_id': KEY_ID})
    assert [call.request.url for call in responses.calls] == [IAM + '/projects?name=eu-de']


@responses.activate
def test_project_id_from_token_scope_is_validated_before_it_goes_into_a_url(make_client):
    responses.add(responses.POST, IAM + '/auth/tokens?nocatalog=true', status=201,
                  headers={'X-Subject-Token': 'ISSUED'},
                  json={'token': {'project': {'id': '../../__emulator/stats/reset', 'name': 'eu-de'}}})
    client = make_client(username='alice', password='s3cret', domain_name='ACME')
    with pytest.raises(KmsConfigError, match='The IAM token of user alice returned a project id that is not 32 '
                                             'hexadecimal characters'):
        client.call('describe-key', {'key_id': KEY_ID})
    assert len(responses.calls) == 1


def test_project_lookup_without_iam_endpoint_is_config_error(make_client):
    client = make_client(access_key='AK', secret_key='SK', region=None, project_name='p',
                         kms_endpoint='https://kms.example')
    with pytest.raises(KmsConfigError, match='needs the IAM endpoint'):
        client.call('describe-key', {'key_id': KEY_ID})

    nameless = make_client(access_key='AK', secret_key='SK', region=None, kms_endpoint='https://kms.example')
    with pytest.raises(KmsConfigError, match='project_id is unknown'):
        nameless.call('describe-key', {'key_id': KEY_ID})
