"""Shared pieces of the reliability suite: emulator processes, the collection tree, playbooks,
in-process clients, a recording proxy and the figures file.

Nothing here talks to anything but loopback addresses; every loop is bounded in count and time.
"""

import http.client
import json
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import tarfile
import io
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import requests

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
EMULATOR_DIR = REPO / "tests" / "emulator"
START_TIMEOUT = 60
OUTPUT_DIR = REPO / "tests" / "output" / "reliability"

LONG = os.environ.get("RELIABILITY_PROFILE") == "long"


def budget(short, long):
    """The short budget for `make reliability-test`, the long one for `make reliability-long`."""
    return long if LONG else short


# ------------------------------------------------------------------------------- figures

_figures_lock = threading.Lock()


def record_figure(name, value):
    """Keep a measured figure in tests/output/reliability/figures.json (merged across tests)."""
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUTPUT_DIR / ("figures-long.json" if LONG else "figures.json")
    with _figures_lock:
        data = json.loads(path.read_text()) if path.exists() else {}
        data[name] = value
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    print("FIGURE %s = %s" % (name, json.dumps(value, sort_keys=True)))


# ------------------------------------------------------------------------------- emulator

LOG_LINE = re.compile(
    r"^(?P<stamp>\S+) (?P<method>\S+) (?P<path>\S+) action=(?P<action>\S+) status=(?P<status>\d+)"
    r" code=(?P<code>\S+) duration_ms=(?P<duration>[0-9.]+) request_id=(?P<request_id>\S+)$")


class Emulator:
    """One emulator subprocess (``python -m kms_emulator``); ``info`` is its JSON line."""

    def __init__(self, workdir, *args, state_file=None, port=0, log_name="emulator.log",
                 exit_after=900):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.state_file = str(state_file or self.workdir / "state.sqlite")
        self.log_file = str(self.workdir / log_name)
        self.args = [str(arg) for arg in args]
        self.port = port
        self.exit_after = exit_after
        self.process = None
        self.info = None

    def start(self):
        env = dict(os.environ, PYTHONPATH=str(EMULATOR_DIR))
        command = [sys.executable, "-m", "kms_emulator", "--port", str(self.port),
                   "--state-file", self.state_file, "--log-file", self.log_file,
                   "--exit-after", str(self.exit_after)] + self.args
        self.process = subprocess.Popen(command, cwd=str(self.workdir), env=env,
                                        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        ready = selector.select(START_TIMEOUT)
        selector.close()
        line = self.process.stdout.readline() if ready else b""
        if not line:
            self.kill()
            raise RuntimeError("the emulator did not start: %s"
                               % self.process.stderr.read().decode("utf-8", "replace")[-2000:])
        self.info = json.loads(line.decode("utf-8"))
        self.port = urlsplit(self.info["kms_endpoint"]).port
        return self

    @property
    def pid(self):
        return self.process.pid

    @property
    def url(self):
        return self.info["kms_endpoint"]

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self):
        """SIGTERM and wait: the state file is closed cleanly."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_pipes()

    def kill(self):
        """SIGKILL: no chance to flush or close anything."""
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(15)
        self._close_pipes()

    def _close_pipes(self):
        if self.process:
            for pipe in (self.process.stdout, self.process.stderr):
                if pipe and not pipe.closed:
                    pipe.close()

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


# ------------------------------------------------------------------------------- collection

def build_collection_tree(root):
    """Copy the checkout (tracked and untracked-but-not-ignored files) to
    ``<root>/ansible_collections/dew/kms``; return ``root`` (the collections path)."""
    tree = Path(root) / "ansible_collections" / "dew" / "kms"
    tree.mkdir(parents=True, exist_ok=True)
    listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=str(REPO), check=True, stdout=subprocess.PIPE).stdout
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name in filter(None, listing.decode("utf-8").split("\0")):
            source = REPO / name
            if source.is_file():
                archive.add(str(source), arcname=name, recursive=False)
    buffer.seek(0)
    with tarfile.open(fileobj=buffer, mode="r") as archive:
        archive.extractall(str(tree), filter="data")
    return Path(root)


def import_collection(collections_root):
    """Make ``ansible_collections.dew.kms`` importable in this process (in-process tests)."""
    root = str(collections_root)
    if root not in sys.path:
        sys.path.insert(0, root)


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


# ------------------------------------------------------------------------------- playbooks

class PlaybookRun:
    def __init__(self, completed, seconds, result_file):
        self.returncode = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.seconds = seconds
        self.result_file = result_file

    @property
    def output(self):
        return self.stdout + self.stderr

    def results(self):
        """What the playbook wrote to ``result_file`` (JSON), or None."""
        path = Path(self.result_file)
        return json.loads(path.read_text()) if path.exists() and path.read_text() else None

    def warnings(self):
        """The [WARNING] lines ansible-playbook printed (folded continuation lines joined)."""
        found, current = [], None
        for line in self.output.splitlines():
            if line.startswith("[WARNING]:"):
                if current is not None:
                    found.append(current)
                current = line[len("[WARNING]:"):].strip()
            elif current is not None and line.startswith(" ") and line.strip():
                current += " " + line.strip()
            else:
                if current is not None:
                    found.append(current)
                current = None
        if current is not None:
            found.append(current)
        return found


def run_playbook(collections_root, workdir, playbook, extra_vars=None, timeout=600, env=None,
                 verbosity=0):
    """ansible-playbook on localhost with the collection from ``collections_root``.

    ``playbook``: the YAML text. ``extra_vars`` go in as a JSON file (secrets stay off the
    command line). A play can write its findings to ``{{ result_file }}``.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    stamp = "%d-%d" % (os.getpid(), time.monotonic_ns())
    playbook_path = workdir / ("play-%s.yml" % stamp)
    playbook_path.write_text(playbook)
    inventory = workdir / "inventory.yml"
    inventory.write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
                         "      ansible_python_interpreter: \"{{ ansible_playbook_python }}\"\n")
    result_file = workdir / ("result-%s.json" % stamp)
    variables = dict(extra_vars or {}, result_file=str(result_file))
    vars_path = workdir / ("vars-%s.json" % stamp)
    vars_path.write_text(json.dumps(variables))
    bindir = str(Path(sys.executable).parent)
    run_env = dict(os.environ)
    run_env.update({
        "PATH": bindir + os.pathsep + run_env.get("PATH", ""),
        "ANSIBLE_COLLECTIONS_PATH": str(collections_root),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_HOME": str(workdir / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(workdir / "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_DISPLAY_ARGS_TO_STDOUT": "false",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    for name in list(run_env):
        if name.startswith(("HW_", "OS_")):
            del run_env[name]  # the play says which credentials it uses
    run_env.update(env or {})
    command = [os.path.join(bindir, "ansible-playbook"), "-i", str(inventory),
               "-e", "@" + str(vars_path), str(playbook_path)]
    if verbosity:
        command.append("-" + "v" * verbosity)
    started = time.monotonic()
    completed = subprocess.run(command, cwd=str(workdir), env=run_env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=timeout, check=False)
    return PlaybookRun(completed, time.monotonic() - started, result_file)


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
