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

import collections
import contextlib
import json
import os
import queue
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
STDERR_LINES = 200


class EmulatorError(RuntimeError):
    """The emulator did not start (the message holds the end of its stderr)."""


class EmulatorProcess:
    """One ``python -m kms_emulator`` process on a loopback port; ``info`` is its JSON line.

    ``args``: extra command line arguments (any value; numbers are turned into text).
    ``state_file``: SQLite state file, None for state in memory. ``log_file``: the request log,
    None for the emulator's stderr (its last lines are kept in memory: ``stderr_text()``, and
    nothing is written to ``workdir`` the emulator does not write itself). ``port``: 0 for a
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
        self.port = port
        self.exit_after = exit_after
        self.wrapper = list(wrapper)
        self.process = None
        self.info = None
        self._stdout_reader = None
        self._stderr_reader = None
        self._stderr_tail = collections.deque(maxlen=STDERR_LINES)

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
        self.info = None
        self.process = subprocess.Popen(self.command(), cwd=self.workdir, env=env,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE)
        self._stderr_reader = self._read_in_background(self.process.stderr, self._stderr_tail.append)
        # stdout is read by a thread too: until the JSON line its lines go to a queue, later
        # ones are dropped, so a full pipe never blocks the emulator
        stdout_lines = queue.Queue()
        self._stdout_reader = self._read_in_background(
            self.process.stdout, lambda line: None if self.info else stdout_lines.put(line),
            at_eof=lambda: stdout_lines.put(b''))
        line = self._json_line(stdout_lines, timeout)
        if line is None:
            self.kill()  # the readers have seen everything the emulator wrote
            raise EmulatorError('the KMS emulator did not start: %s' % self.stderr_text()[-2000:])
        self.info = json.loads(line)
        self.port = urlsplit(self.info['kms_endpoint']).port
        return self

    @staticmethod
    def _read_in_background(pipe, consume, at_eof=lambda: None):
        """A daemon thread passing each line of ``pipe`` to ``consume``; it closes the pipe at EOF."""
        def read():
            with pipe:
                for line in pipe:
                    consume(line)
            at_eof()

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        return thread

    @staticmethod
    def _json_line(lines, timeout):
        """The first line from ``lines`` that is a JSON object (others, e.g. a wrapper's banner,
        are skipped); None at EOF or after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if not line:
                return None  # EOF: the process exited
            if line.lstrip().startswith(b'{'):
                return line.decode('utf-8')

    def stderr_text(self):
        """The last lines the emulator wrote to stderr."""
        return b''.join(self._stderr_tail).decode('utf-8', 'replace')

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
        """Once the process is gone: the reader threads see EOF and close the pipes."""
        for reader in (self._stdout_reader, self._stderr_reader):
            if reader is not None:
                reader.join(5)

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
