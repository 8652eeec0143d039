# Copyright: dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark plumbing: the emulator process (tests/support) with a small KMS client for set-up
and checks, and a measured subprocess runner; the collection tree comes from tests/support.

Nothing here is measured itself: keys are created, states checked and counters read outside
the timed window of a scenario run.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import psutil
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))  # tests/support

# pylint: disable=wrong-import-position
from support.activation import wait_for_activation  # noqa: E402
from support.collection import build_collection_tree  # noqa: E402,F401  (pylint: disable=unused-import)
from support.emulator import EmulatorError, EmulatorProcess  # noqa: E402


class BenchError(Exception):
    """A scenario or the set-up failed: the benchmark cannot give a meaningful figure."""


# --------------------------------------------------------------------------- the emulator

class Emulator(EmulatorProcess):
    """One emulator process on a loopback port, started from a copy of a seed state file (so
    its RSA wrapping-key pool is loaded, not generated, and no earlier keys count against the
    key quota)."""

    def __init__(self, python, workdir, seed_state=None, latency_ms=0, exit_after=3600,
                 profile_out=None, state_file=None, cloud=None):
        own_state = state_file or os.path.join(workdir, 'emulator-%d.sqlite' % time.monotonic_ns())
        if seed_state and os.path.exists(seed_state) and not state_file:
            shutil.copyfile(seed_state, own_state)
        args = ['--latency-ms', latency_ms] if latency_ms else []
        if cloud:
            args += ['--cloud', cloud]
        # py-spy cannot attach to a running interpreter here, so it starts the emulator
        wrapper = [os.path.join(os.path.dirname(python), 'py-spy'), 'record', '--rate', '200',
                   '--format', 'raw', '--output', profile_out, '--'] if profile_out else []
        super().__init__(workdir, *args, python=python, state_file=own_state,
                         exit_after=exit_after, wrapper=wrapper)
        self.profile_out = profile_out
        self.ps = None
        self._token = None
        self._session = requests.Session()

    # -- life cycle
    def start(self, timeout=60):
        try:
            super().start(timeout)
        except EmulatorError as exc:
            raise BenchError(str(exc)) from exc
        self.ps = psutil.Process(self.pid)
        if self.profile_out:
            children = self.ps.children()
            if not children:
                self.stop()
                raise BenchError('py-spy started no emulator')
            self.ps = children[0]
        self.wait_idle()
        return self

    def wait_idle(self, quiet_for=0.4, timeout=120):
        """Wait until the emulator uses no CPU for ``quiet_for`` seconds (e.g. its wrapping key
        pool has filled up), so background work never lands inside a measured run."""
        deadline = time.monotonic() + timeout
        last = self.cpu_seconds()
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.2)
            now = self.cpu_seconds()
            if now - last > 0.01:
                quiet_since = time.monotonic()
            last = now
            if time.monotonic() - quiet_since >= quiet_for:
                return
        raise BenchError('the emulator stayed busy for %ds after start' % timeout)

    def stop(self, timeout=10):
        if self.profile_out and self.ps is not None and self.alive():
            try:  # end the emulator; py-spy then writes its profile and exits
                self.ps.send_signal(signal.SIGTERM)
                self.process.wait(timeout)
            except (psutil.Error, subprocess.TimeoutExpired):
                pass
        super().stop(timeout)
        self._session.close()

    # -- counters
    def cpu_seconds(self):
        t = self.ps.cpu_times()
        return t.user + t.system

    def stats(self):
        r = self._session.get(self.info['kms_endpoint'] + '/__emulator/stats', timeout=30)
        r.raise_for_status()
        return r.json()

    def reset_stats(self):
        r = self._session.post(self.info['kms_endpoint'] + '/__emulator/stats/reset', timeout=30)
        r.raise_for_status()

    # -- a minimal KMS client (token auth) for set-up and checks
    def token(self):
        if self._token is None:
            i = self.info
            body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
                'name': i['username'], 'password': i['password'],
                'domain': {'name': i['domain_name']}}}},
                'scope': {'project': {'id': i['project_id']}}}}
            r = self._session.post(iam_url(i['iam_endpoint'], 'auth/tokens'), json=body, timeout=30)
            if r.status_code != 201:
                raise BenchError('IAM token request failed: %s %s' % (r.status_code, r.text[:300]))
            self._token = r.headers['X-Subject-Token']
        return self._token

    def kms(self, action, body):
        url = '%s/v1.0/%s/kms/%s' % (self.info['kms_endpoint'], self.info['project_id'], action)
        r = self._session.post(url, json=body, headers={'X-Auth-Token': self.token()}, timeout=60)
        if r.status_code != 200:
            raise BenchError('%s failed: %s %s' % (action, r.status_code, r.text[:300]))
        return r.json() if r.content else {}

    def create_key(self, alias, key_spec='AES_256', origin='external', key_usage=None):
        """The id of a new key; it is pending activation for a moment (``wait_usable``)."""
        body = {'key_alias': alias, 'key_spec': key_spec, 'origin': origin}
        if key_usage:
            body['key_usage'] = key_usage
        return self.kms('create-key', body)['key_info']['key_id']

    def wait_usable(self, key_ids):
        """Return once every key has left pending activation (the keys activate in parallel:
        created first, waited for afterwards, set-up takes no longer than the slowest)."""
        for key_id in key_ids:
            wait_for_activation(lambda new_key: {'key_state': self.key_state(new_key)}, key_id)

    def key_state(self, key_id):
        return self.kms('describe-key', {'key_id': key_id})['key_info']['key_state']

    def check_imported(self, key_ids):
        """Raise BenchError unless every key is enabled (state 2: material imported)."""
        bad = {}
        for key_id in key_ids:
            state = self.key_state(key_id)
            if state != '2':
                bad[key_id] = state
        if bad:
            raise BenchError('%d of %d keys not imported (key_id: state): %s'
                             % (len(bad), len(key_ids), dict(list(bad.items())[:5])))


def iam_url(endpoint, path):
    """IAM endpoints are given as OS_AUTH_URL is: with the /v3 suffix (added if missing)."""
    endpoint = endpoint.rstrip('/')
    if not endpoint.endswith('/v3'):
        endpoint += '/v3'
    return endpoint + '/' + path


def make_seed_state(python, workdir, pool_timeout=300, cloud=None):
    """Start an emulator on a fresh state file, wait until it is idle (its wrapping key pool
    generated), stop it and return the state file to copy for every measured emulator."""
    emu = Emulator(python, workdir, cloud=cloud)
    emu.start()
    try:
        emu.wait_idle(quiet_for=1.5, timeout=pool_timeout)
    finally:
        emu.stop()
    seed = os.path.join(workdir, 'seed.sqlite')
    shutil.move(emu.state_file, seed)
    return seed


def split_counts(stats):
    """(kms_calls, iam_token_requests, other_iam_calls, per_action) from an emulator snapshot."""
    kms = iam_tokens = iam_other = 0
    per_action = {}
    for name, count in (stats.get('requests') or {}).items():
        per_action[name] = count
        low = name.lower()
        if low.startswith('iam'):
            if 'token' in low and 'securitytoken' not in low:
                iam_tokens += count
            else:
                iam_other += count
        elif low.startswith('__emulator') or low.startswith('admin'):
            continue
        else:
            kms += count
    return kms, iam_tokens, iam_other, per_action


# --------------------------------------------------------------------------- measured runs

class Measured:
    """Result of one measured subprocess."""

    def __init__(self, cmd, rc, wall, maxrss_kib, tree_peak_kib, stdout, stderr, cpu):
        self.cmd = cmd
        self.cpu = cpu                        # dict: tree, machine, harness (CPU seconds)
        self.rc = rc
        self.wall = wall
        self.maxrss_kib = maxrss_kib          # largest single process of the tree (wait4)
        self.tree_peak_kib = tree_peak_kib    # sampled peak of the summed RSS of the tree
        self.stdout = stdout
        self.stderr = stderr


def _tree_rss(proc):
    total = 0
    try:
        procs = [proc] + proc.children(recursive=True)
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_measured(cmd, env, cwd, timeout=1800, sample_interval=0.2):
    """Run ``cmd``, return a Measured: wall time, peak RSS of the largest process in its tree
    (from wait4's rusage) and the sampled peak of the whole tree's summed RSS."""
    out_f = tempfile.TemporaryFile()
    err_f = tempfile.TemporaryFile()
    machine0 = _machine_cpu()
    self0 = _own_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out_f, stderr=err_f,
                            stdin=subprocess.DEVNULL)
    ps = psutil.Process(proc.pid)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(ps))
            done.wait(sample_interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    deadline = start + timeout
    status = rusage = None
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            pid, status, rusage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.005)
    wall = time.perf_counter() - start
    machine1 = _machine_cpu()
    self1 = _own_cpu()
    done.set()
    sampler.join()
    cpu = {'tree': rusage.ru_utime + rusage.ru_stime, 'machine': machine1 - machine0,
           'harness': self1 - self0}
    proc.returncode = os.waitstatus_to_exitcode(status)
    out_f.seek(0)
    err_f.seek(0)
    stdout = out_f.read().decode('utf-8', 'replace')
    stderr = err_f.read().decode('utf-8', 'replace')
    out_f.close()
    err_f.close()
    return Measured(cmd, proc.returncode, wall, rusage.ru_maxrss, peak[0] // 1024, stdout, stderr,
                    cpu)


def _machine_cpu():
    """CPU seconds spent by the whole machine (every core, every process) so far."""
    t = psutil.cpu_times()
    return sum(getattr(t, f, 0.0) for f in ('user', 'nice', 'system', 'irq', 'softirq'))


def _own_cpu():
    t = os.times()
    return t.user + t.system


def python_version(python):
    return subprocess.run([python, '-c', 'import sys; print(sys.version.split()[0])'],
                          capture_output=True, text=True, check=True).stdout.strip()


def median(values):
    values = sorted(values)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2.0


def json_dump(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def eprint(*args):
    print(*args, file=sys.stderr, flush=True)
