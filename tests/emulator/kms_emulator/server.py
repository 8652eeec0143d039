"""HTTP/1.1 front end: keep-alive, one write per response, TLS, request log."""

import datetime
import json
import re
import socket
import ssl
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from .app import MAX_BODY_BYTES, dispatch
from .errors import gateway_error, kms_error
from .messages import Request, Response

# Bodies up to this size are read and discarded when over MAX_BODY_BYTES, so the client gets
# the KMS.0203 answer instead of a reset connection; beyond it the connection is closed.
MAX_DRAINED_BYTES = 12 * 1024 * 1024
# A chunk-size line is a hex size plus optional extensions; nothing legitimate comes near this.
MAX_CHUNK_LINE_BYTES = 1024
MAX_TRAILER_LINES = 32
CHUNK_SIZE = re.compile(rb"[0-9a-fA-F]{1,16}")


class FramingError(Exception):
    """The request's body framing is ambiguous or broken: the body is not read, the request is
    answered 400 and the connection closed (the next request's start cannot be found)."""


def _header_values(values):
    """Comma-separated values of all instances of one header, stripped."""
    return [value.strip() for value in ",".join(values).split(",")]


class RequestLog:
    """One line per request: never bodies, tokens, signatures, passwords or key material."""

    def __init__(self, stream):
        self._stream = stream
        self._lock = threading.Lock()

    def request(self, method, path, action, status, error_code, duration_ms, request_id):
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        line = "%s %s %s action=%s status=%d code=%s duration_ms=%.1f request_id=%s\n" % (
            stamp, method, path, action or "-", status, error_code or "-", duration_ms,
            request_id)
        self.write(line)

    def write(self, text):
        with self._lock:
            try:
                self._stream.write(text)
                self._stream.flush()
            except (OSError, ValueError):
                pass


class EmulatorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kms-emulator"
    sys_version = ""

    timeout = 300  # idle keep-alive connections are closed after this many seconds

    def setup(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.tls_failed = False
        if self.server.tls_context is not None:
            try:
                self.request = self.server.tls_context.wrap_socket(self.request,
                                                                   server_side=True)
            except (ssl.SSLError, OSError):
                self.tls_failed = True  # e.g. a client that does not trust the CA
        super().setup()

    def handle(self):
        if self.tls_failed:
            return
        try:
            super().handle()
        except (ConnectionError, OSError):
            pass  # the client went away or failed the TLS handshake

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # every request is logged by RequestLog instead

    def do_any(self):
        started = self.server.last_request = time.monotonic()
        request_id = uuid.uuid4().hex
        url = urlsplit(self.path)
        try:
            body, too_large = self._read_body()
        except FramingError as exc:
            self._refuse_framing(str(exc), url.path, started, request_id)
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = Request(self.command, url.path, url.query, headers, body, request_id)
        try:
            outcome = dispatch(self.server.emulator, request, too_large)
            response, name, error_code = outcome
        except Exception:  # a bug: answer like the service would, and leave a trace
            self.server.log.write(traceback.format_exc())
            error = kms_error("KMS.0101", "KMS error.", status=500)
            response = Response(500, error.body(request_id))
            name, error_code = None, error.code
        self._send(response, request_id)
        duration_ms = (time.monotonic() - started) * 1000
        self.server.log.request(self.command, url.path, name, response.status, error_code,
                                duration_ms, request_id)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_any

    def __getattr__(self, name):
        # http.server answers a method without a do_<METHOD> (TRACE, CONNECT, lower-case post...)
        # with its own HTML 501; do_any answers it as the service does (405 KMS.0215 on a known
        # path), with X-Request-Id and a line in the request log
        if name.startswith("do_"):
            return self.do_any
        raise AttributeError(name)

    def _refuse_framing(self, reason, path, started, request_id):
        self.close_connection = True
        error = gateway_error(400, "APIGW.0201", "Bad request: %s." % reason)
        self._send(Response(400, error.body(request_id)), request_id)
        self.server.log.request(self.command, path, None, 400, error.code,
                                (time.monotonic() - started) * 1000, request_id)

    def _read_body(self):
        lengths = self.headers.get_all("Content-Length") or []
        encodings = self.headers.get_all("Transfer-Encoding") or []
        if encodings:
            # Two framings at once are how requests get smuggled: refuse, never pick one.
            if lengths:
                raise FramingError("Transfer-Encoding and Content-Length must not be sent"
                                   " together")
            if [value.lower() for value in _header_values(encodings)] != ["chunked"]:
                raise FramingError("the only Transfer-Encoding supported is chunked")
            return self._read_chunked()
        values = set(_header_values(lengths)) if lengths else {"0"}
        if len(values) > 1:
            raise FramingError("several different Content-Length values")
        length = values.pop()
        if not (length.isascii() and length.isdigit()):  # e.g. "abc", "-1", "+5", "1_0"
            self.close_connection = True
            return b"", True
        length = int(length)
        if length > MAX_BODY_BYTES:
            if length > MAX_DRAINED_BYTES:
                self.close_connection = True
            else:
                self.rfile.read(length)
            return b"", True
        return self.rfile.read(length), False

    def _bounded_line(self, what):
        line = self.rfile.readline(MAX_CHUNK_LINE_BYTES + 1)
        if len(line) > MAX_CHUNK_LINE_BYTES:
            raise FramingError("a %s is longer than %d bytes" % (what, MAX_CHUNK_LINE_BYTES))
        if not line.endswith(b"\n"):
            raise FramingError("the chunked body ends early")
        return line

    def _chunk_size(self):
        text = self._bounded_line("chunk size line").split(b";")[0].strip()
        if not CHUNK_SIZE.fullmatch(text):  # e.g. "-5", "", "0x10", 17+ digits
            raise FramingError("invalid chunk size")
        return int(text, 16)

    def _skip_trailers(self):
        for _line in range(MAX_TRAILER_LINES):
            if self._bounded_line("trailer line").strip() == b"":
                return
        raise FramingError("more than %d trailer lines" % MAX_TRAILER_LINES)

    def _read_chunked(self):
        chunks, total = [], 0
        while True:
            size = self._chunk_size()
            if size == 0:
                self._skip_trailers()
                break
            total += size
            if total > MAX_DRAINED_BYTES:
                self.close_connection = True
                return b"", True
            chunks.append(self.rfile.read(size))
            if self._bounded_line("chunk end").strip() != b"":
                raise FramingError("a chunk is longer than its size says")
        body = b"".join(chunks)
        return (b"", True) if total > MAX_BODY_BYTES else (body, False)

    def _send(self, response, request_id):
        payload = b"" if response.body is None else json.dumps(response.body).encode("utf-8")
        reason = self.responses.get(response.status, ("",))[0]
        lines = ["HTTP/1.1 %d %s" % (response.status, reason),
                 "Server: " + self.server_version,
                 # the emulator clock, as a real service's Date is its own clock
                 "Date: " + self.date_time_string(self.server.emulator.clock.now()),
                 "Content-Type: application/json;charset=UTF-8",
                 "Content-Length: %d" % len(payload),
                 "X-Request-Id: " + request_id]
        lines.extend("%s: %s" % item for item in response.headers.items())
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        # Headers and body in one write: two small writes stall on Nagle + delayed ACK.
        self.wfile.write(head if self.command == "HEAD" else head + payload)


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address, emulator, log, tls_context=None):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, EmulatorHandler)
        self.emulator = emulator
        self.log = log
        self.tls_context = tls_context
        self.last_request = time.monotonic()  # for --exit-when-idle

    def wait_until_idle(self, idle_seconds, stop, deadline=None):
        """Block until ``stop`` is set, ``deadline`` passes, or no request came for a while."""
        while not stop.is_set():
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return
            if idle_seconds is not None and now - self.last_request >= idle_seconds:
                return
            stop.wait(1.0)

    def handle_error(self, request, client_address):
        self.log.write("connection error from %s:\n%s" % (client_address[0],
                                                          traceback.format_exc()))


def open_log(path):
    return RequestLog(open(path, "a", encoding="utf-8") if path else sys.stderr)
