# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""KmsClient against hostile or odd answers and ambient settings: size limit, deadline, key id,
no ~/.netrc, proxies only from the documented variables, no retry of local failures."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import threading
import time

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NameResolutionError

from ansible_collections.dew.kms.plugins.module_utils import _auth, _client
from ansible_collections.dew.kms.plugins.module_utils._client import KmsClient
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsConnectionError, KmsError

from ansible_collections.dew.kms.tests.unit.plugins.module_utils.helpers import KEY_ID, PROJECT_ID, kms_url

DESCRIBE = kms_url('describe-key')
OTHER_KEY = '11111111-2222-3333-4444-555555555555'
TOKEN = 'tok-3f9a+/=secret'


# --------------------------------------------------------------------------------- size and deadline

@responses.activate
def test_an_answer_over_the_size_limit_is_not_read_nor_retried(make_client):
    responses.add(responses.POST, DESCRIBE, body=b'{' + b' ' * _client.MAX_ANSWER_BYTES + b'}')
    client = make_client(auth_token=TOKEN, project_id=PROJECT_ID, retries=3)
    with pytest.raises(KmsConnectionError, match='larger than 1048576 bytes') as caught:
        client.call('describe-key', {'key_id': KEY_ID}, key_id=KEY_ID)
    assert caught.value.retryable is False
    assert len(responses.calls) == 1


@responses.activate
def test_an_answer_at_the_size_limit_is_read(make_client):
    body = b'{"key_info": {"key_id": "%s"}}' % KEY_ID.encode()
    responses.add(responses.POST, DESCRIBE, body=body + b' ' * (_client.MAX_ANSWER_BYTES - len(body)))
    client = make_client(auth_token=TOKEN, project_id=PROJECT_ID)
    assert client.call('describe-key', {'key_id': KEY_ID}, key_id=KEY_ID)['key_info']['key_id'] == KEY_ID


class _TricklingServer(threading.Thread):
    """Loopback HTTP server that sends headers, then one body byte every ``interval`` seconds."""

    def __init__(self, interval=0.05, limit=5.0):
        super(_TricklingServer, self).__init__(daemon=True)
        self.listener = socket.socket()
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(1)
        self.listener.settimeout(limit)
        self.port = self.listener.getsockname()[1]
        self.interval, self.limit = interval, limit

    def run(self):
        try:
            conn, _addr = self.listener.accept()
        except socket.timeout:
            return
        with conn:
            conn.recv(65536)
            conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n')
            stop = time.monotonic() + self.limit  # stops by itself
            try:
                while time.monotonic() < stop:
                    conn.sendall(b' ')
                    time.sleep(self.interval)
            except OSError:
                pass
        self.listener.close()


def test_a_trickling_answer_fails_at_the_deadline(make_client):
    server = _TricklingServer()
    server.start()
    client = make_client(auth_token=TOKEN, project_id=PROJECT_ID, retries=0, timeout=1,
                         kms_endpoint='http://127.0.0.1:%d' % server.port)
    started = time.monotonic()
    with pytest.raises(KmsConnectionError, match='did not arrive completely within 1 s'):
        client.call('describe-key', {'key_id': KEY_ID}, key_id=KEY_ID)
    assert time.monotonic() - started < 2.5
    server.join(6)


# --------------------------------------------------------------------------------- key id

@responses.activate
@pytest.mark.parametrize('answer', [
    {'key_info': {'key_id': OTHER_KEY}},
    {'key_id': OTHER_KEY, 'import_token': 'x'},
    {'key_id': KEY_ID, 'key_info': {'key_id': OTHER_KEY}},
])
def test_an_answer_about_another_key_fails(make_client, answer):
    responses.add(responses.POST, DESCRIBE, json=answer)
    client = make_client(auth_token=TOKEN, project_id=PROJECT_ID)
    with pytest.raises(KmsError, match='returned an answer about another key; nothing was done with it'):
        client.call('describe-key', {'key_id': KEY_ID}, key_id=KEY_ID)


@responses.activate
def test_answers_about_the_key_asked_for_pass(make_client):
    responses.add(responses.POST, DESCRIBE, json={'key_info': {'key_id': KEY_ID.upper(), 'key_alias': 'app'}})
    client = make_client(auth_token=TOKEN, project_id=PROJECT_ID)
    assert client.call('describe-key', {'key_id': KEY_ID}, key_id=KEY_ID)
    assert client.call('describe-key', {'key_id': 'alias/app'}, key_id='alias/app')
    with pytest.raises(KmsError, match='about another key'):
        client.call('describe-key', {'key_id': 'alias/other'}, key_id='alias/other')


# --------------------------------------------------------------------------------- ambient settings

@responses.activate
def test_netrc_credentials_are_never_sent(make_client, tmp_path, monkeypatch):
    (tmp_path / '.netrc').write_text(u'machine kms.eu-de.otc.t-systems.com login netrc-user password netrc-pw\n')
    monkeypatch.setenv('HOME', str(tmp_path))
    monkeypatch.setenv('NETRC', str(tmp_path / '.netrc'))
    responses.add(responses.POST, DESCRIBE, json={})
    make_client(auth_token=TOKEN, project_id=PROJECT_ID).call('describe-key', {'key_id': KEY_ID})
    assert 'Authorization' not in responses.calls[0].request.headers


def _proxies_sent(monkeypatch, env, url_endpoint='https://kms.eu-de.otc.t-systems.com'):
    seen = []

    def spy(self, method, url, **kwargs):
        seen.append(kwargs.get('proxies'))
        raise requests.exceptions.ConnectTimeout('stop here')

    monkeypatch.setattr(requests.Session, 'request', spy)
    config = _auth.resolve_config({'auth_token': TOKEN, 'project_id': PROJECT_ID, 'retries': 0,
                                   'kms_endpoint': url_endpoint}, env={})
    with KmsClient(config, env=env) as client:
        with pytest.raises(KmsConnectionError):
            client.call('describe-key', {'key_id': KEY_ID})
    return seen[0]


@pytest.mark.parametrize('env,expected', [
    ({}, {}),
    ({'HTTPS_PROXY': 'http://proxy.example:3128'}, {'https': 'http://proxy.example:3128'}),
    ({'https_proxy': 'http://lower.example:3128'}, {'https': 'http://lower.example:3128'}),
    ({'HTTP_PROXY': 'http://proxy.example:3128'}, {}),  # only for http:// endpoints
    ({'HTTPS_PROXY': 'http://p:1', 'NO_PROXY': 'example.org,.otc.t-systems.com'}, {}),
    ({'HTTPS_PROXY': 'http://p:1', 'no_proxy': '*'}, {}),
    ({'HTTPS_PROXY': 'http://p:1', 'NO_PROXY': 't-systems.co'}, {'https': 'http://p:1'}),
    ({'ALL_PROXY': 'http://p:1', 'REQUESTS_CA_BUNDLE': '/nowhere'}, {}),  # not documented: ignored
])
def test_proxies_only_from_the_documented_variables(monkeypatch, env, expected):
    assert _proxies_sent(monkeypatch, env) == expected


def test_session_does_not_trust_the_environment(make_client):
    client = make_client(auth_token=TOKEN, project_id=PROJECT_ID)
    assert client._session.trust_env is False  # pylint: disable=protected-access


@pytest.mark.parametrize('endpoint,warned', [
    ('http://kms.example.com', True),
    ('http://10.0.0.5:8080', True),
    ('http://127.0.0.1:8080', False),
    ('http://localhost:8080', False),
    ('http://[::1]:8080', False),
    ('https://kms.example.com', False),
])
def test_plain_http_to_another_host_warns(make_client, recorder, endpoint, warned):
    make_client(auth_token=TOKEN, project_id=PROJECT_ID, kms_endpoint=endpoint, iam_endpoint='https://iam.example')
    assert any('plain http://' in w and 'travel in clear' in w for w in recorder.warnings) is warned


# --------------------------------------------------------------------------------- local failures

@responses.activate
def test_invalid_header_is_not_retried_and_its_text_is_scrubbed(make_client):
    escaped = repr(TOKEN + '\n')  # how requests quotes a bad header value
    responses.add(responses.POST, DESCRIBE, body=requests.exceptions.InvalidHeader(
        'Invalid leading whitespace, reserved character(s), or return character(s) in header value: %s'
        % escaped))
    client = make_client(auth_token=TOKEN, project_id=PROJECT_ID, retries=3)
    with pytest.raises(KmsConnectionError, match='failed before sending') as caught:
        client.call('describe-key', {'key_id': KEY_ID})
    assert len(responses.calls) == 1
    assert TOKEN not in caught.value.msg and TOKEN[:8] not in caught.value.msg


@responses.activate
def test_a_name_that_does_not_resolve_is_not_retried(make_client):
    reason = NameResolutionError('kms.eu-de.otc.t-systems.com', None, socket.gaierror(-2, 'Name or service not known'))
    responses.add(responses.POST, DESCRIBE,
                  body=requests.exceptions.ConnectionError(MaxRetryError(None, '/x?token=' + TOKEN, reason)))
    client = make_client(auth_token=TOKEN, project_id=PROJECT_ID, retries=3)
    with pytest.raises(KmsConnectionError, match='does not resolve') as caught:
        client.call('describe-key', {'key_id': KEY_ID})
    assert len(responses.calls) == 1
    assert caught.value.retryable is False and caught.value.maybe_sent is False
    assert TOKEN not in caught.value.msg


@responses.activate
def test_library_text_with_secrets_in_url_query_and_encodings_is_scrubbed(make_client):
    import base64
    from urllib.parse import quote
    text = 'broken: /v1.0/x?X-Auth-Token=%s raw=%s b64=%s' % (
        quote(TOKEN, safe=''), TOKEN, base64.b64encode(TOKEN.encode()).decode())
    responses.add(responses.POST, DESCRIBE, body=requests.exceptions.ConnectionError(text))
    client = make_client(auth_token=TOKEN, project_id=PROJECT_ID, retries=0)
    with pytest.raises(KmsConnectionError) as caught:
        client.call('describe-key', {'key_id': KEY_ID})
    for form in (TOKEN, quote(TOKEN, safe=''), base64.b64encode(TOKEN.encode()).decode()):
        assert form not in caught.value.msg
    assert 'X-Auth-Token' not in caught.value.msg  # the query string is gone


def test_an_answer_read_by_the_adapter_itself_is_size_checked_too(make_client, monkeypatch):
    def preloaded(self, method, url, **kwargs):
        response = requests.models.Response()
        response.status_code = 200
        response._content = b' ' * (_client.MAX_ANSWER_BYTES + 1)  # pylint: disable=protected-access
        return response

    monkeypatch.setattr(requests.Session, 'request', preloaded)
    client = make_client(auth_token=TOKEN, project_id=PROJECT_ID, retries=3)
    with pytest.raises(KmsConnectionError, match='larger than 1048576 bytes'):
        client.call('describe-key', {'key_id': KEY_ID})
