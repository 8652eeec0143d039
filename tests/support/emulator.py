# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The KMS emulator as a child process: start it with any extra arguments, read its JSON line.

    from support.emulator import running_emulator, start_emulator

    with running_emulator('--cloud', 'huaweicloud') as emulator:
        info = emulator.info          # the JSON line as a dict: endpoints, credentials, ...

    emulator = start_emulator('--tls', '--latency-ms', '20')
    ...
    emulator.stop()

Extra arguments go to ``python -m kms_emulator`` unchanged and after the ones set here, so a
caller can override any of them (``--port``, ``--projects``, ...).
"""

import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlsplit

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EMULATOR_DIR = os.path.join(REPO, 'tests', 'emulator')
START_TIMEOUT = 60


class EmulatorError(RuntimeError):
    """The emulator did not start (the message holds the end of its stderr)."""


class EmulatorProcess:
    """One ``python -m kms_emulator`` process on a loopback port; ``info`` is its JSON line.

    ``args``: extra command line arguments (any value; numbers are turned into text).
    ``state_file``: SQLite state file, None for state in memory. ``log_file``: the request log,
    None for the emulator's stderr (kept in ``<workdir>/emulator.stderr``). ``port``: 0 for a
    free one; after ``start`` it is the port in use, so a restart can reuse it. ``exit_after``:
    the emulator stops by itself after this many seconds, so none outlives a hung test.
    ``wrapper``: a command that starts the emulator (e.g. a profiler); the first JSON line of
    stdout is the emulator's, other lines are skipped.
    """

    def __init__(self, workdir, *args, python=None, state_file=None, log_file=None, port=0,
                 exit_after=900, wrapper=()):
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.args = [str(arg) for arg in args]
        self.python = python or sys.executable
        self.state_file = str(state_file) if state_file else None
        self.log_file = str(log_file) if log_file else None
        self.stderr_file = os.path.join(self.workdir, 'emulator.stderr')
        self.port = port
        self.exit_after = exit_after
        self.wrapper = list(wrapper)
        self.process = None
        self.info = None
        self._drain = None

    def command(self):
        command = [self.python, '-m', 'kms_emulator', '--port', str(self.port),
                   '--exit-after', str(self.exit_after)]
        if self.state_file:
            command += ['--state-file', self.state_file]
        if self.log_file:
            command += ['--log-file', self.log_file]
        return self.wrapper + command + self.args

    def start(self, timeout=START_TIMEOUT):
        """Start the process and wait for its JSON line; returns ``self``."""
        env = dict(os.environ, PYTHONPATH=EMULATOR_DIR, PYTHONDONTWRITEBYTECODE='1')
        with open(self.stderr_file, 'ab') as stderr:
            self.process = subprocess.Popen(self.command(), cwd=self.workdir, env=env,
                                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                            stderr=stderr)
        line = self._json_line(timeout)
        if line is None:
            self.kill()
            raise EmulatorError('the KMS emulator did not start: %s' % self.stderr_text()[-2000:])
        self.info = json.loads(line)
        self.port = urlsplit(self.info['kms_endpoint']).port
        # anything printed later is drained, so a full pipe never blocks the emulator
        self._drain = threading.Thread(target=self._drain_stdout, args=(self.process.stdout,),
                                       daemon=True)
        self._drain.start()
        return self

    @staticmethod
    def _drain_stdout(stdout):
        with stdout:
            stdout.read()

    def _json_line(self, timeout):
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if not selector.select(max(0.0, deadline - time.monotonic())):
                    return None
                line = self.process.stdout.readline()
                if not line:
                    return None  # the process closed stdout: it exited
                if line.lstrip().startswith(b'{'):
                    return line.decode('utf-8')
        return None

    def stderr_text(self):
        try:
            with open(self.stderr_file, encoding='utf-8', errors='replace') as handle:
                return handle.read()
        except OSError:
            return ''

    @property
    def pid(self):
        return self.process.pid

    @property
    def url(self):
        return self.info['kms_endpoint']

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout=15):
        """SIGTERM and wait (the state file is closed cleanly); SIGKILL if it hangs."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close()

    def kill(self):
        """SIGKILL: no chance to flush or close anything."""
        if self.alive():
            self.process.kill()
            self.process.wait(15)
        self._close()

    def _close(self):
        """Close stdout once the process is gone (the drain thread closes it at its end)."""
        if self._drain is not None:
            self._drain.join(5)
        elif self.process and self.process.stdout and not self.process.stdout.closed:
            self.process.stdout.close()

    def __enter__(self):
        return self if self.process else self.start()

    def __exit__(self, *exc):
        self.stop()


def start_emulator(*args, workdir=None, **options):
    """Start an emulator with extra command line ``args`` (e.g. ``'--cloud', 'huaweicloud'``)
    and return the running ``EmulatorProcess``: ``.info`` is its JSON line as a dict, ``.stop()``
    stops it. ``workdir`` (default: a new temporary directory) holds its stderr and files;
    ``options`` are those of ``EmulatorProcess``."""
    return EmulatorProcess(workdir or tempfile.mkdtemp(prefix='kms-emulator-'), *args,
                           **options).start()


@contextlib.contextmanager
def running_emulator(*args, workdir=None, **options):
    """``start_emulator`` as a context manager: the emulator stops, and a temporary working
    directory is removed, when the block ends."""
    own_workdir = workdir is None
    emulator = start_emulator(*args, workdir=workdir, **options)
    try:
        yield emulator
    finally:
        emulator.stop()
        if own_workdir:
            shutil.rmtree(emulator.workdir, ignore_errors=True)
