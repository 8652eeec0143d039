# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""KmsClient against small real servers on 127.0.0.1: TLS verification, timeouts, threads."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import socket
import ssl
import threading

from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.dew.kms.plugins.module_utils._errors import KmsConnectionError
from ansible_collections.dew.kms.tests.unit.plugins.module_utils.helpers import KEY_ID, PROJECT_ID


class _FakeKms(BaseHTTPRequestHandler):
    """IAM token + KMS describe-key on one port; counts requests per path."""
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def _reply(self, status, body, headers=None):
        payload = json.dumps(body).encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self):
        length = int(self.headers.get('Content-Length') or 0)
        self.rfile.read(length)
        server = self.server
        with server.lock:
            server.counts[self.path.split('?')[0]] = server.counts.get(self.path.split('?')[0], 0) + 1
        if self.path.startswith('/v3/auth/tokens'):
            with server.lock:
                server.tokens_issued += 1
            self._reply(201, {'token': {'project': {'id': PROJECT_ID}}}, {'X-Subject-Token': 'LIVE-TOKEN'})
        elif self.headers.get('X-Auth-Token') != 'LIVE-TOKEN':
            self._reply(401, {'error_code': 'APIGW.0301', 'error_msg': 'bad token'})
        else:
            self._reply(200, {'key_info': {'key_id': KEY_ID, 'key_state': '2'}})


@pytest.fixture
def fake_kms():
    server = ThreadingHTTPServer(('127.0.0.1', 0), _FakeKms)
    server.lock = threading.Lock()
    server.counts = {}
    server.tokens_issued = 0
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_sixteen_threads_share_one_client_and_one_token(make_client, fake_kms, recorder):
    base = 'http://127.0.0.1:%d' % fake_kms.server_address[1]
    client = make_client(username='u', password='p', domain_name='d', kms_endpoint=base,
                         iam_endpoint=base + '/v3')

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda _n: client.call('describe-key', {'key_id': KEY_ID}), range(64)))

    assert all(r['key_info']['key_id'] == KEY_ID for r in results)
    assert fake_kms.tokens_issued == 1
    assert fake_kms.counts['/v1.0/%s/kms/describe-key' % PROJECT_ID] == 64
    assert recorder.warnings == []


def _self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u'dew-kms-test')])
    now = datetime.datetime.now(datetime.timezone.utc)
    import ipaddress
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(u'127.0.0.1'))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path = tmp_path / 'cert.pem'
    key_path = tmp_path / 'key.pem'
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


@pytest.fixture
def tls_kms(fake_kms, tmp_path):
    cert_path, key_path = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    fake_kms.socket = context.wrap_socket(fake_kms.socket, server_side=True)
    return 'https://127.0.0.1:%d' % fake_kms.server_address[1], cert_path


def test_tls_verification_failure_is_explained_and_ca_path_fixes_it(make_client, tls_kms, recorder):
    base, cert_path = tls_kms
    strict = make_client(auth_token='LIVE-TOKEN', project_id=PROJECT_ID, kms_endpoint=base)
    with pytest.raises(KmsConnectionError) as caught:
        strict.call('describe-key', {'key_id': KEY_ID}, key_id=KEY_ID)
    assert 'TLS verification of %s failed' % base in caught.value.msg
    assert 'ca_path' in caught.value.msg and 'validate_certs' in caught.value.msg
    assert recorder.sleeps == []  # never retried

    trusting = make_client(auth_token='LIVE-TOKEN', project_id=PROJECT_ID, kms_endpoint=base, ca_path=cert_path)
    assert trusting.call('describe-key', {'key_id': KEY_ID})['key_info']['key_id'] == KEY_ID

    unverified = make_client(auth_token='LIVE-TOKEN', project_id=PROJECT_ID, kms_endpoint=base,
                             validate_certs=False)
    assert unverified.call('describe-key', {'key_id': KEY_ID})['key_info']['key_id'] == KEY_ID


def test_validate_certs_false_beats_requests_ca_bundle(make_client, tls_kms, monkeypatch, tmp_path):
    base, _cert_path = tls_kms
    other_ca, _key = _self_signed(tmp_path / '..')
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', other_ca)
    client = make_client(auth_token='LIVE-TOKEN', project_id=PROJECT_ID, kms_endpoint=base, validate_certs=False)
    assert client.call('describe-key', {'key_id': KEY_ID})['key_info']['key_id'] == KEY_ID


def test_read_timeout_against_silent_server(make_client, recorder):
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(4)
    try:
        client = make_client(auth_token='T', project_id=PROJECT_ID, timeout=1, retries=1,
                             kms_endpoint='http://127.0.0.1:%d' % listener.getsockname()[1])
        with pytest.raises(KmsConnectionError, match='did not answer within 1 s'):
            client.call('describe-key', {'key_id': KEY_ID})
        assert len(recorder.sleeps) == 1  # idempotent: retried once
    finally:
        listener.close()
