"""Shared pieces of the reliability suite: emulator processes (tests/support with the admin
calls), in-process clients, a recording proxy and the figures file; the collection tree and
playbook runs come from tests/support.

Nothing here talks to anything but loopback addresses; every loop is bounded in count and time.
"""

import fcntl
import http.client
import json
import os
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import requests

from support.ansible import run_playbook  # noqa: F401  (pylint: disable=unused-import)
from support.collection import build_collection_tree, import_collection  # noqa: F401  (pylint: disable=unused-import)
from support.emulator import EmulatorProcess

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
EMULATOR_DIR = REPO / "tests" / "emulator"
OUTPUT_DIR = REPO / "tests" / "output" / "reliability"

LONG = os.environ.get("RELIABILITY_PROFILE") == "long"


def budget(short, long):
    """The short budget for `make reliability-test`, the long one for `make reliability-long`."""
    return long if LONG else short


# ------------------------------------------------------------------------------- figures

def record_figure(name, value):
    """Keep a measured figure in tests/output/reliability/figures.json (merged across tests)."""
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUTPUT_DIR / ("figures-long.json" if LONG else "figures.json")
    # the suite runs in two worker processes (pytest-xdist): a file lock, not a thread lock
    with open(OUTPUT_DIR / "figures.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = json.loads(path.read_text()) if path.exists() else {}
        data[name] = value
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    print("FIGURE %s = %s" % (name, json.dumps(value, sort_keys=True)))


# ------------------------------------------------------------------------------- emulator

LOG_LINE = re.compile(
    r"^(?P<stamp>\S+) (?P<method>\S+) (?P<path>\S+) action=(?P<action>\S+) status=(?P<status>\d+)"
    r" code=(?P<code>\S+) duration_ms=(?P<duration>[0-9.]+) request_id=(?P<request_id>\S+)$")


class Emulator(EmulatorProcess):
    """One emulator subprocess with a state file and a request log in ``workdir``, and the admin
    calls and options the suite uses; ``info`` is its JSON line."""

    def __init__(self, workdir, *args, state_file=None, port=0, log_name="emulator.log",
                 exit_after=900):
        workdir = Path(workdir)
        super().__init__(workdir, *args, state_file=state_file or workdir / "state.sqlite",
                         log_file=workdir / log_name, port=port, exit_after=exit_after)
        self.workdir = workdir

    # -- admin and conveniences ---------------------------------------------------------------
    def admin(self, path, body=None):
        url = self.info["admin_url"] + path
        verify = self.info.get("ca_file", True)
        if body is None and not path.endswith("reset"):
            response = requests.get(url, timeout=10, verify=verify)
        else:
            response = requests.post(url, json=body or {}, timeout=10, verify=verify)
        assert response.status_code == 200, response.text
        return response.json()

    def stats(self):
        return self.admin("/stats")

    def reset_stats(self):
        return self.admin("/stats/reset")

    def advance_clock(self, seconds):
        return self.admin("/clock", {"advance_seconds": seconds})

    def set_faults(self, **settings):
        return self.admin("/faults", settings)

    def project(self, index=0):
        return self.info["projects"][index]

    def log_text(self):
        path = Path(self.log_file)
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def log_records(self):
        """The request lines of the log as dicts (action, status, code, ...)."""
        return [match.groupdict() for match in map(LOG_LINE.match, self.log_text().splitlines())
                if match]

    def module_options(self, index=0, auth="password", **extra):
        """Auth + endpoint options for dew.kms modules (module_defaults or KmsConfig params)."""
        project = self.project(index)
        options = {"kms_endpoint": self.url, "iam_endpoint": self.info["iam_endpoint"],
                   "project_id": project["project_id"], "region": self.info["region"]}
        if auth == "password":
            options.update(username=project["username"], password=project["password"],
                           domain_name=project["domain_name"])
        elif auth == "aksk":
            options.update(access_key=project["access_key"], secret_key=project["secret_key"])
        else:
            raise ValueError(auth)
        if "ca_file" in self.info:
            options["ca_path"] = self.info["ca_file"]
        options.update(extra)
        return options


def is_retry_warning(text):
    """A warning of the client announcing the retry of a call ("... Retrying in 1.0 s ...")."""
    return "retrying in" in text.lower()


def wait_until(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------------------- in-process client

def make_client(collections_root, options, warnings=None):
    """A KmsClient of the collection for ``options`` (module parameters)."""
    import_collection(collections_root)
    from ansible_collections.dew.kms.plugins.module_utils._auth import resolve_config
    from ansible_collections.dew.kms.plugins.module_utils._client import KmsClient

    params = dict(options)
    params.setdefault("validate_certs", True)
    params.setdefault("timeout", 30)
    params.setdefault("retries", 3)
    warn = warnings.append if warnings is not None else None
    return KmsClient(resolve_config(params, env={}), warn=warn)


# ------------------------------------------------------------------------------- recording proxy

class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def do_any(self):
        proxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers = {name: value for name, value in self.headers.items()
                   if name.lower() not in ("connection", "keep-alive", "proxy-connection")}
        record = proxy.begin(self.command, self.path, body)
        try:
            status, reason, out_headers, payload = proxy.forward(self.command, self.path, headers,
                                                                 body)
        except OSError as exc:
            proxy.finish(record, None, "%s: %s" % (type(exc).__name__, exc))
            self.close_connection = True  # the client sees the upstream's failure as a drop
            return
        proxy.finish(record, status, payload)
        self.send_response_only(status, reason)
        for name, value in out_headers:
            if name.lower() not in ("connection", "keep-alive", "transfer-encoding",
                                    "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_any


class RecordingProxy:
    """An HTTP proxy on loopback in front of an emulator that records, per KMS call, the action,
    the key_id of the JSON body, the status and the error code of the answer.

    The emulator's own log has action and status but no key, so per-key facts ("exactly one
    successful import-key-material per key") come from here.
    """

    KMS_PATH = re.compile(r"^/v1\.0/[^/]*/kms/([^/?]+)")

    def __init__(self, upstream_url):
        self.upstream = urlsplit(upstream_url)
        self.records = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
        self._server.daemon_threads = True
        self._server.proxy = self
        self.url = "http://127.0.0.1:%d" % self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    def set_upstream(self, upstream_url):
        self.upstream = urlsplit(upstream_url)

    def close(self):
        self._server.shutdown()
        self._server.server_close()

    def begin(self, method, path, body):
        match = self.KMS_PATH.match(path)
        key_id = None
        if match:
            try:
                parsed = json.loads(body or b"{}")
                key_id = parsed.get("key_id") if isinstance(parsed, dict) else None
            except ValueError:
                pass
        record = {"method": method, "path": path, "action": match.group(1) if match else None,
                  "key_id": key_id, "status": None, "code": None, "started": time.monotonic()}
        with self._lock:
            self.records.append(record)
        return record

    def finish(self, record, status, payload):
        record["status"] = status
        if status is None:
            record["code"] = payload  # the transport error
            return
        try:
            data = json.loads(payload or b"{}")
        except ValueError:
            data = None
        if isinstance(data, dict):
            error = data.get("error") if isinstance(data.get("error"), dict) else data
            record["code"] = error.get("error_code")
            if record["action"] == "create-key" and status == 200:
                record["key_id"] = (data.get("key_info") or {}).get("key_id")

    def forward(self, method, path, headers, body):
        """One request on a new upstream connection: a request is never sent twice."""
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=120)
        try:
            conn.request(method, path, body=body or None, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            return response.status, response.reason, response.getheaders(), payload
        finally:
            conn.close()

    def calls(self, action=None):
        with self._lock:
            return [dict(r) for r in self.records if action is None or r["action"] == action]
