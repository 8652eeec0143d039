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


def _framing_request(kms, framing, body=b""):
    extra = b"Content-Type: application/json\r\nX-Auth-Token: %s\r\n%s" % (
        kms.session.headers["X-Auth-Token"].encode(), framing)
    return _request("POST", urlsplit(kms.url("list-keys")).path, extra, body)


def _assert_refused_unread(emulator, data):
    """400 APIGW.0201 at once, connection closed: the body was never waited for."""
    started = time.monotonic()
    status, headers, body = _exchange(emulator, data)
    assert time.monotonic() - started < 3
    assert status == 400, body
    assert json.loads(body)["error_code"] == "APIGW.0201"
    assert headers["connection"] == "close" and headers["x-request-id"]
    assert len(_log_lines(emulator, headers["x-request-id"])) == 1


@pytest.mark.parametrize("framing", [
    b"Transfer-Encoding: chunked\r\nContent-Length: 2\r\n",
    b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n",
    b"Content-Length: 2\r\nContent-Length: 20\r\n",
    b"Content-Length: 2, 20\r\n",
    b"Transfer-Encoding: gzip, chunked\r\n",
    b"Transfer-Encoding: identity\r\n",
])
def test_conflicting_or_unknown_framing_is_refused_without_reading(emulator, kms, framing):
    # No body follows: a server that picked one framing would wait for it.
    _assert_refused_unread(emulator, _framing_request(kms, framing))


@pytest.mark.parametrize("chunks", [
    b"-5\r\n{}\r\n0\r\n\r\n",
    b"\r\n",
    b"0x2\r\n{}\r\n0\r\n\r\n",
    b"1" * 17 + b"\r\n",
    b"2;" + b"x" * 2000 + b"\r\n{}\r\n0\r\n\r\n",
    b"2\r\n{}}}}\r\n0\r\n\r\n",
])
def test_broken_chunk_framing_is_refused(emulator, kms, chunks):
    _assert_refused_unread(emulator, _framing_request(kms, b"Transfer-Encoding: chunked\r\n",
                                                      chunks))


def test_endless_trailers_are_refused(emulator, kms):
    trailers = b"".join(b"X-T%d: v\r\n" % index for index in range(40))
    _assert_refused_unread(emulator, _framing_request(
        kms, b"Transfer-Encoding: chunked\r\n", b"2\r\n{}\r\n0\r\n" + trailers + b"\r\n"))


def test_repeated_equal_content_length_and_chunk_extensions_are_fine(emulator, kms):
    status, _headers, body = _exchange(emulator, _framing_request(
        kms, b"Content-Length: 2\r\nContent-Length: 2\r\n", b"{}"))
    assert status == 200, body
    status, _headers, body = _exchange(emulator, _framing_request(
        kms, b"Transfer-Encoding: chunked\r\n", b"1;name=value\r\n{\r\n1\r\n}\r\n0\r\nX-T: v\r\n\r\n"))
    assert status == 200, body
