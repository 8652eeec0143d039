"""HTTP/1.1 front end: keep-alive, one write per response, TLS, request log."""

import datetime
import json
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
from .errors import kms_error
from .messages import Request, Response

# Bodies up to this size are read and discarded when over MAX_BODY_BYTES, so the client gets
# the KMS.0203 answer instead of a reset connection; beyond it the connection is closed.
MAX_DRAINED_BYTES = 12 * 1024 * 1024


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
        except ValueError:  # broken chunked framing: the stream cannot be trusted any more
            self.close_connection = True
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

    def _read_body(self):
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = (length or "0").strip()
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

    def _read_chunked(self):
        chunks, total = [], 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                break
            total += size
            if total > MAX_DRAINED_BYTES:
                self.close_connection = True
                return b"", True
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        body = b"".join(chunks)
        return (b"", True) if total > MAX_BODY_BYTES else (body, False)

    def _send(self, response, request_id):
        payload = b"" if response.body is None else json.dumps(response.body).encode("utf-8")
        reason = self.responses.get(response.status, ("",))[0]
        lines = ["HTTP/1.1 %d %s" % (response.status, reason),
                 "Server: " + self.server_version,
                 "Date: " + self.date_time_string(),
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
