# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A loopback HTTP proxy in front of the emulator that turns its answers hostile.

The first path segment picks the behaviour: ``http://127.0.0.1:<port>/<mode>/v1.0/...`` is
forwarded to ``<emulator>/v1.0/...``. Only KMS answers (``/kms/`` in the path) are tampered
with; IAM passes through, so every authentication mode works. Modes:

* ``pass``: unchanged.
* ``weak-wrapping-key`` / ``ec-wrapping-key``: get-parameters-for-import answers carry an
  RSA-1024 / EC P-256 public key instead of the emulator's RSA wrapping key.
* ``other-key``: every ``key_id`` and ``key_alias`` in the answer names another key.
* ``trickle``: headers, then one body byte every ``TRICKLE_INTERVAL`` seconds.
* ``endless``: a chunked body that never ends (until ``ENDLESS_LIMIT`` bytes).
* ``malformed``: a 200 answer that is not JSON.

Bounded by construction: the server binds 127.0.0.1, every slow or endless answer stops after
``STREAM_SECONDS``, and the whole server stops after ``exit_after`` seconds.
"""

import base64
import http.client
import json
import threading
import time

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

MODES = ('pass', 'weak-wrapping-key', 'ec-wrapping-key', 'other-key', 'trickle', 'endless', 'malformed')
OTHER_KEY_ID = '0ddba11d-0000-4000-8000-00000000beef'
OTHER_ALIAS = 'another-key'
TRICKLE_INTERVAL = 0.2
STREAM_SECONDS = 30.0
ENDLESS_LIMIT = 64 * 1024 * 1024


def _spki_b64(public_key):
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode('ascii')


WRAPPING_KEYS = {
    'weak-wrapping-key': _spki_b64(rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()),
    'ec-wrapping-key': _spki_b64(ec.generate_private_key(ec.SECP256R1()).public_key()),
}


def _rename_keys(value):
    if isinstance(value, dict):
        renamed = {'key_id': OTHER_KEY_ID, 'key_alias': OTHER_ALIAS}
        return dict((k, renamed[k] if k in renamed else _rename_keys(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_rename_keys(v) for v in value]
    return value


def _tampered(mode, path, body):
    """The JSON body to send instead of ``body`` (bytes), or None to send it unchanged."""
    try:
        data = json.loads(body.decode('utf-8'))
    except ValueError:
        return None
    if mode in WRAPPING_KEYS and path.endswith('/get-parameters-for-import') and isinstance(data, dict):
        data['public_key'] = WRAPPING_KEYS[mode]
        return json.dumps(data).encode('utf-8')
    if mode == 'other-key':
        return json.dumps(_rename_keys(data)).encode('utf-8')
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass  # quiet: the suite reads the emulator's log, not ours

    def _forward(self):
        mode, _sep, rest = self.path.lstrip('/').partition('/')
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        if mode not in MODES:
            return self._send(404, b'{"error": "unknown tamper mode"}')
        self.server.requests.append((mode, self.command, '/' + rest.split('?')[0]))
        is_kms = '/kms/' in rest
        if is_kms and mode == 'trickle':
            return self._trickle()
        if is_kms and mode == 'endless':
            return self._endless()
        if is_kms and mode == 'malformed':
            return self._send(200, b'<html><body>Service Unavailable</body></html>', 'text/html')
        upstream = http.client.HTTPConnection(self.server.upstream.hostname, self.server.upstream.port, timeout=30)
        headers = dict((k, v) for k, v in self.headers.items() if k.lower() not in ('host', 'connection'))
        upstream.request(self.command, '/' + rest, body=body or None, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        upstream.close()
        if is_kms and 200 <= answer.status < 300:
            data = _tampered(mode, rest.split('?')[0], data) or data
        extra = dict((k, v) for k, v in answer.getheaders()
                     if k.lower() in ('x-subject-token', 'x-request-id'))
        return self._send(answer.status, data, answer.getheader('Content-Type') or 'application/json', extra)

    do_GET = do_POST = do_PUT = do_DELETE = _forward

    def _send(self, status, data, content_type='application/json', extra=None):
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _trickle(self):
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', '100000')
        self.end_headers()
        stop = time.monotonic() + STREAM_SECONDS
        try:
            self.wfile.write(b'{')
            while time.monotonic() < stop:
                self.wfile.write(b' ')
                self.wfile.flush()
                time.sleep(TRICKLE_INTERVAL)
        except OSError:
            pass
        self.close_connection = True

    def _endless(self):
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Transfer-Encoding', 'chunked')
        self.end_headers()
        chunk = b' ' * 65536
        sent, stop = 0, time.monotonic() + STREAM_SECONDS
        try:
            self.wfile.write(b'1\r\n{\r\n')
            while sent < ENDLESS_LIMIT and time.monotonic() < stop:
                self.wfile.write(b'%x\r\n%s\r\n' % (len(chunk), chunk))
                sent += len(chunk)
        except OSError:
            pass
        self.close_connection = True


class TamperProxy:
    """``TamperProxy(upstream_url).url(mode)`` is an endpoint that answers like ``mode``."""

    def __init__(self, upstream_url, exit_after=600):
        self.server = ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
        self.server.daemon_threads = True
        self.server.upstream = urlsplit(upstream_url)
        self.server.requests = []
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.timer = threading.Timer(exit_after, self.stop)
        self.timer.daemon = True
        self.timer.start()

    @property
    def requests(self):
        """``[(mode, method, path)]`` of every request the proxy received."""
        return list(self.server.requests)

    def url(self, mode, path=''):
        return 'http://127.0.0.1:%d/%s%s' % (self.server.server_address[1], mode, path)

    def stop(self):
        self.timer.cancel()
        self.server.shutdown()
        self.server.server_close()
