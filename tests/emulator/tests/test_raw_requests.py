"""Requests http.server would answer on its own: unknown methods, invalid Content-Length."""

import json
import socket
import time

from urllib.parse import urlsplit

import pytest


def _exchange(emulator, data):
    """Send raw bytes, return (status, headers dict with lower-case names, body bytes)."""
    with socket.create_connection(("127.0.0.1", urlsplit(emulator.url).port), timeout=5) as sock:
        sock.sendall(data)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
        head, _blank, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict((name.lower(), value.strip()) for name, _colon, value in
                       (line.partition(":") for line in lines[1:]))
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(4096)
            if not chunk:
                break
            body += chunk
    return int(lines[0].split()[1]), headers, body


def _request(method, path, extra=b"", body=b""):
    return (b"%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n%s"
            % (method.encode(), path.encode(), extra, body))


def _log_lines(emulator, request_id):
    for _attempt in range(50):
        with open(emulator.log_file) as handle:
            found = [line for line in handle.read().splitlines() if request_id in line]
        if found:
            return found
        time.sleep(0.05)
    return []


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "post", "BREW"])
def test_method_without_handler_is_json_405_kms_0215_and_logged(emulator, kms, method):
    status, headers, body = _exchange(emulator, _request(method, urlsplit(kms.url("describe-key")).path))
    assert status == 405, body
    assert headers["content-type"].startswith("application/json")
    assert json.loads(body)["error"]["error_code"] == "KMS.0215"
    request_id = headers["x-request-id"]
    lines = _log_lines(emulator, request_id)
    assert len(lines) == 1 and lines[0].split()[1] == method and "status=405" in lines[0], lines


@pytest.mark.parametrize("length", ["-1", "-5", "+2", "1_0", "abc"])
def test_invalid_content_length_is_answered_400_at_once(emulator, kms, length):
    path = urlsplit(kms.url("list-keys")).path
    extra = b"Content-Type: application/json\r\nX-Auth-Token: %s\r\nContent-Length: %s\r\n" % (
        kms.session.headers["X-Auth-Token"].encode(), length.encode())
    started = time.monotonic()
    status, headers, body = _exchange(emulator, _request("POST", path, extra, b"{}"))
    assert time.monotonic() - started < 3
    assert status == 400, body
    assert headers["x-request-id"] and "error" in json.loads(body)
