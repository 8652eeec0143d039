# Copyright: dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""dew.kms BYOK benchmark against the local KMS emulator (``make bench``, ``make bench-smoke``).

Scenarios, each importing N fresh AES_256 keys that the harness creates beforehand through the
API (creation is not measured):

* A-off / A-on: the ``dew.kms.byok`` role, ``byok_verify`` false / true, IAM password auth.
* B: the documented uri + openssl flow as a plain playbook (playbooks/baseline.yml).
* C: a plain Python loop with the official huaweicloudsdkkms client and AK/SK (sdk_import.py).

Every run gets its own emulator (started from a seed state file, so its wrapping key pool is
loaded and no earlier keys exist) and its own fresh keys. Measured per run: wall time of the
whole process (interpreter start included), KMS calls and IAM token requests from the
emulator's counters, peak RSS of the process tree, and the emulator's own CPU time. After a
run every key is checked to be enabled (state 2) through the API.

The full run also times a single ad-hoc ``kms_public_key`` call against ``ansible.builtin.uri``
making the same POST, and makes diagnostic runs (not part of the medians): the emulator under
py-spy, and per-task timings of A and B through callback_plugins/bench_timings.py.

Results: ``<out>/results.json``, ``<out>/results.md``, ``<out>/time_per_key.png`` and the
summary on stdout. ``--report-only`` rebuilds the report from results.json.
"""

import argparse
import collections
import datetime
import json
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import _harness as h
import _report

SCENARIOS = ('A-off', 'A-on', 'B', 'C')
RECAP_RE = re.compile(r'^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)',
                      re.MULTILINE)
INVENTORY = """all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: "{{ ansible_playbook_python }}"
"""


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    p.add_argument('--smoke', action='store_true',
                   help='quick check: N=5, 0 ms, one run of A-off, A-on, B and C; fails on any '
                        'error or missing import, never on timing')
    p.add_argument('--ns', default='1,10,50,100', help='key counts (default %(default)s)')
    p.add_argument('--latencies', default='0,20', help='emulator latency in ms (default %(default)s)')
    p.add_argument('--cloud', choices=('otc', 'huaweicloud'), default=None,
                   help="the emulator's cloud profile (default: the emulator's default)")
    p.add_argument('--scenarios', default=','.join(SCENARIOS), help='default %(default)s')
    p.add_argument('--reps', type=int, default=3, help='runs per cell (default %(default)s)')
    p.add_argument('--slow-reps', type=int, default=1,
                   help='runs per B cell with N >= --slow-n (default %(default)s; B cells with '
                        '10 <= N < --slow-n get at most 2)')
    p.add_argument('--slow-n', type=int, default=50)
    p.add_argument('--rerun-reps', type=int, default=1,
                   help='A cells: how many of the runs are followed by an identical second run '
                        '(idempotence and second-run calls; default %(default)s)')
    p.add_argument('--baseline', choices=('loop', 'include'), default='loop',
                   help='B written with per-step loops (default) or one include_tasks per key')
    p.add_argument('--adhoc-reps', type=int, default=7)
    p.add_argument('--no-adhoc', action='store_true')
    p.add_argument('--no-diagnostics', action='store_true',
                   help='skip the emulator profile and per-task timing runs')
    p.add_argument('--out', default=os.path.join(h.REPO, 'tests', 'output', 'bench'))
    p.add_argument('--report-only', action='store_true')
    p.add_argument('--keep-workdir', action='store_true')
    args = p.parse_args(argv)
    if args.smoke:
        args.ns, args.latencies, args.reps, args.slow_reps = '5', '0', 1, 1
        args.no_adhoc = args.no_diagnostics = True
        if args.out == p.get_default('out'):
            args.out = os.path.join(args.out, 'smoke')
    args.ns = [int(x) for x in args.ns.split(',') if x]
    args.latencies = [int(x) for x in args.latencies.split(',') if x]
    args.scenarios = [x for x in args.scenarios.split(',') if x]
    for s in args.scenarios:
        if s not in SCENARIOS:
            p.error('unknown scenario %r (one of %s)' % (s, ', '.join(SCENARIOS)))
    return args


class Bench:
    def __init__(self, args):
        self.args = args
        self.python = sys.executable
        self.bindir = os.path.dirname(os.path.abspath(sys.executable))
        self.workdir = tempfile.mkdtemp(prefix='dew-kms-bench-')
        self.results = []
        self.failures = []
        self.extra = {}
        self.meta_cache = {}

    # ----------------------------------------------------------------- set-up
    def setup(self):
        h.eprint('bench: work directory %s' % self.workdir)
        self.collections = h.build_collection_tree(os.path.join(self.workdir, 'collections'))
        self.inventory = os.path.join(self.workdir, 'inventory.yml')
        with open(self.inventory, 'w') as f:
            f.write(INVENTORY)
        self.home = os.path.join(self.workdir, 'home')
        os.makedirs(self.home)
        self.materials = os.path.join(self.workdir, 'materials')
        os.makedirs(self.materials)
        t0 = time.perf_counter()
        self.seed = h.make_seed_state(self.python, self.workdir, cloud=self.args.cloud)
        h.eprint('bench: emulator seed state ready in %.1fs' % (time.perf_counter() - t0))
        self.env = self._env()

    def _env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(('ANSIBLE_', 'OS_', 'HW_', 'HUAWEICLOUD_'))}
        env.update({
            'PATH': self.bindir + os.pathsep + env.get('PATH', '/usr/bin:/bin'),
            'HOME': self.home,
            'ANSIBLE_HOME': os.path.join(self.workdir, 'ansible-home'),
            'ANSIBLE_COLLECTIONS_PATH': self.collections,
            'ANSIBLE_LOCAL_TEMP': os.path.join(self.workdir, 'ansible-tmp'),
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_RETRY_FILES_ENABLED': 'false',
            'PYTHONDONTWRITEBYTECODE': '1',
        })
        return env

    def new_emulator(self, latency_ms, profile_out=None, state_file=None):
        emu = h.Emulator(self.python, self.workdir, seed_state=self.seed, latency_ms=latency_ms,
                         profile_out=profile_out, state_file=state_file, cloud=self.args.cloud)
        return emu.start()

    def make_keys(self, emu, n, tag):
        """n fresh external AES_256 keys with a material file each."""
        keys = []
        for i in range(n):
            alias = 'bench-%s-%03d-%s' % (tag, i, secrets.token_hex(3))
            key_id = emu.create_key(alias)
            path = os.path.join(self.materials, alias + '.bin')
            with open(path, 'wb') as f:
                f.write(os.urandom(32))
            keys.append({'alias': alias, 'key_id': key_id, 'key_material_path': path})
        emu.wait_usable([key['key_id'] for key in keys])
        return keys

    # ----------------------------------------------------------------- commands
    def _vars_file(self, emu, payload):
        path = os.path.join(self.workdir, 'vars-%s.json' % secrets.token_hex(4))
        data = {k: emu.info[k] for k in ('kms_endpoint', 'iam_endpoint', 'project_id', 'region',
                                         'project_name', 'domain_name', 'username', 'password')}
        data.update(payload)
        with open(path, 'w') as f:
            json.dump(data, f)
        return path

    def command(self, scenario, emu, keys):
        if scenario in ('A-off', 'A-on'):
            bench_keys = [{'alias': k['alias'], 'key_spec': 'AES_256',
                           'key_material_path': k['key_material_path']} for k in keys]
            vars_path = self._vars_file(emu, {'bench_keys': bench_keys,
                                              'bench_verify': scenario == 'A-on'})
            return [os.path.join(self.bindir, 'ansible-playbook'), '-i', self.inventory,
                    '-e', '@' + vars_path, os.path.join(h.HERE, 'playbooks', 'role.yml')]
        if scenario == 'B':
            bench_keys = [{'key_id': k['key_id'], 'key_material_path': k['key_material_path']}
                          for k in keys]
            vars_path = self._vars_file(emu, {'bench_keys': bench_keys})
            book = 'baseline.yml' if self.args.baseline == 'loop' else 'baseline_include.yml'
            return [os.path.join(self.bindir, 'ansible-playbook'), '-i', self.inventory,
                    '-e', '@' + vars_path, os.path.join(h.HERE, 'playbooks', book)]
        if scenario == 'C':
            job = {k: emu.info[k] for k in ('kms_endpoint', 'project_id', 'access_key',
                                            'secret_key')}
            job['keys'] = [{'key_id': k['key_id'], 'key_material_path': k['key_material_path']}
                           for k in keys]
            path = os.path.join(self.workdir, 'job-%s.json' % secrets.token_hex(4))
            with open(path, 'w') as f:
                json.dump(job, f)
            return [self.python, os.path.join(h.HERE, 'sdk_import.py'), path]
        raise ValueError(scenario)

    # ----------------------------------------------------------------- one run
    def measure(self, scenario, emu, keys, env=None):
        cmd = self.command(scenario, emu, keys)
        emu.reset_stats()
        load = os.getloadavg()[0]
        cpu0 = emu.cpu_seconds()
        m = h.run_measured(cmd, env or self.env, cwd=self.workdir)
        emu_cpu = emu.cpu_seconds() - cpu0
        stats = emu.stats()
        kms, tokens, iam_other, per_action = h.split_counts(stats)
        n = len(keys)
        rec = {
            'wall': m.wall, 'per_key': m.wall / n, 'rc': m.rc,
            'kms_calls': kms, 'kms_calls_per_key': kms / float(n), 'iam_tokens': tokens,
            'iam_other': iam_other, 'per_action': per_action,
            'maxrss_kib': m.maxrss_kib, 'tree_peak_kib': m.tree_peak_kib, 'emu_cpu': emu_cpu,
            'cpu': m.cpu, 'load_before': load,
            # CPU used on this machine during the run by anything but the measured process
            # tree, the emulator and the harness: other people's work disturbing the figure
            'foreign_cpu_share': max(0.0, m.cpu['machine'] - m.cpu['tree'] - emu_cpu
                                     - m.cpu['harness']) / (m.wall * (os.cpu_count() or 1)),
        }
        recap = RECAP_RE.search(m.stdout)
        if recap:
            rec['changed'] = int(recap.group(2))
            rec['failed'] = int(recap.group(4))
        if m.rc != 0:
            tail = (m.stdout[-3000:] + '\n' + m.stderr[-2000:]).strip()
            raise h.BenchError('%s (N=%d) exited %d:\n%s' % (scenario, n, m.rc, tail))
        return rec

    def run_cell(self, scenario, n, latency, rep):
        label = '%s N=%d %dms #%d' % (scenario, n, latency, rep + 1)
        emu = self.new_emulator(latency)
        try:
            keys = self.make_keys(emu, n, '%s-%d' % (scenario.lower(), rep))
            rec = self.measure(scenario, emu, keys)
            emu.check_imported([k['key_id'] for k in keys])
            rec.update(scenario=scenario, n=n, latency_ms=latency, rep=rep, cloud=emu.info.get('cloud'))
            if scenario.startswith('A') and rep < self.args.rerun_reps:
                again = self.measure(scenario, emu, keys)
                rec['rerun'] = again
            h.eprint('bench: %-22s %7.2fs  %6.3fs/key  %4.1f KMS calls/key  %d IAM token(s)%s'
                     % (label, rec['wall'], rec['per_key'], rec['kms_calls_per_key'],
                        rec['iam_tokens'],
                        ('  [2nd run %.2fs, %.2f calls/key, changed=%s]'
                         % (rec['rerun']['wall'], rec['rerun']['kms_calls_per_key'],
                            rec['rerun'].get('changed'))) if 'rerun' in rec else ''))
            self.results.append(rec)
        except h.BenchError as e:
            h.eprint('bench: %s FAILED: %s' % (label, e))
            self.failures.append({'run': label, 'error': str(e)})
        finally:
            emu.stop()

    def reps_for(self, scenario, n):
        # B costs seconds per key: fewer runs of its big cells keep `make bench` near 20 min
        if scenario == 'B' and n >= self.args.slow_n:
            return min(self.args.reps, self.args.slow_reps)
        if scenario == 'B' and n >= 10:
            return min(self.args.reps, 2)
        return self.args.reps

    def run_matrix(self):
        # Interleaved: every scenario's first run at a given size before any second run, so
        # slow drift of the machine spreads over all scenarios.
        for latency in self.args.latencies:
            for n in self.args.ns:
                for rep in range(self.args.reps):
                    for scenario in self.args.scenarios:
                        if rep < self.reps_for(scenario, n):
                            self.run_cell(scenario, n, latency, rep)
                    self.save()

    # ----------------------------------------------------------------- ad-hoc
    def run_adhoc(self):
        emu = self.new_emulator(0)
        try:
            key_id = emu.create_key('bench-adhoc-rsa-%s' % secrets.token_hex(3),
                                    key_spec='RSA_2048', origin='kms', key_usage='SIGN_VERIFY')
            emu.wait_usable([key_id])
            token = emu.token()
            info = emu.info
            ansible = os.path.join(self.bindir, 'ansible')
            uri_args = json.dumps({
                'url': '%s/v1.0/%s/kms/get-publickey' % (info['kms_endpoint'], info['project_id']),
                'method': 'POST', 'body_format': 'json', 'body': {'key_id': key_id},
                'headers': {'X-Auth-Token': token}})
            token_env = dict(self.env, HW_AUTH_TOKEN=token, HW_KMS_ENDPOINT=info['kms_endpoint'],
                             HW_PROJECT_ID=info['project_id'])
            password_env = dict(self.env, OS_USERNAME=info['username'],
                                OS_PASSWORD=info['password'],
                                OS_USER_DOMAIN_NAME=info['domain_name'],
                                OS_PROJECT_NAME=info['project_name'],
                                OS_AUTH_URL=info['iam_endpoint'],
                                HW_PROJECT_ID=info['project_id'],
                                HW_KMS_ENDPOINT=info['kms_endpoint'])
            base = [ansible, 'localhost', '-i', self.inventory]
            variants = collections.OrderedDict([
                ('kms_public_key (token)', (base + ['-m', 'dew.kms.kms_public_key', '-a',
                                                    'key_id=%s' % key_id], token_env)),
                ('uri get-publickey (token)', (base + ['-m', 'ansible.builtin.uri', '-a',
                                                       uri_args], self.env)),
                ('kms_public_key (password)', (base + ['-m', 'dew.kms.kms_public_key', '-a',
                                                       'key_id=%s' % key_id], password_env)),
                ('ping', (base + ['-m', 'ansible.builtin.ping'], self.env)),
            ])
            times = collections.OrderedDict((k, []) for k in variants)
            calls = {}
            for rep in range(self.args.adhoc_reps):
                order = list(variants) if rep % 2 == 0 else list(reversed(variants))
                for name in order:
                    cmd, env = variants[name]
                    emu.reset_stats()
                    m = h.run_measured(cmd, env, cwd=self.workdir)
                    if m.rc != 0:
                        raise h.BenchError('ad-hoc %s exited %d: %s' % (
                            name, m.rc, (m.stdout[-1500:] + m.stderr[-1500:])))
                    times[name].append(m.wall)
                    calls[name] = h.split_counts(emu.stats())[:2]
            self.extra['adhoc'] = {
                name: {'median': h.median(v), 'runs': v, 'kms_calls': calls[name][0],
                       'iam_tokens': calls[name][1]} for name, v in times.items()}
            for name, v in self.extra['adhoc'].items():
                h.eprint('bench: ad-hoc %-28s median %.3fs (%s KMS call(s), %s IAM token(s))'
                         % (name, v['median'], v['kms_calls'], v['iam_tokens']))
        except h.BenchError as e:
            h.eprint('bench: ad-hoc FAILED: %s' % e)
            self.failures.append({'run': 'ad-hoc', 'error': str(e)})
        finally:
            emu.stop()

    # ----------------------------------------------------------------- diagnostics
    def run_diagnostics(self):
        """Not part of the medians: the emulator under py-spy while A-on (N=100), B (N=10) and
        C (N=100) run at 0 ms, with per-task timings of the playbooks."""
        diag = {}
        # 'B+pipelining': B with ANSIBLE_PIPELINING on, to show how much of B is Ansible's
        # per-module-run overhead that the defaults (used by every measured run) leave in
        plan = [('A-on', 100), ('A-off', 100), ('B', 10), ('B+pipelining', 10), ('C', 100)]
        callbacks = os.path.join(h.HERE, 'callback_plugins')
        for name, n in plan:
            scenario = name.split('+', maxsplit=1)[0]
            if scenario not in self.args.scenarios:
                continue
            prof = os.path.join(self.workdir, 'pyspy-%s.txt' % name)
            timings = os.path.join(self.workdir, 'timings-%s.json' % name)
            env = dict(self.env, ANSIBLE_CALLBACK_PLUGINS=callbacks,
                       ANSIBLE_CALLBACKS_ENABLED='bench_timings', BENCH_TIMINGS_FILE=timings)
            if name.endswith('+pipelining'):
                env['ANSIBLE_PIPELINING'] = 'true'
            # keys are made by a first emulator; the profiled one starts on the same state
            # file, so its profile holds start-up plus the measured run and nothing else
            emu = self.new_emulator(0)
            try:
                keys = self.make_keys(emu, n, 'diag-%s' % scenario.lower())
            finally:
                emu.stop()
            emu = h.Emulator(self.python, self.workdir, state_file=emu.state_file,
                             profile_out=prof, cloud=self.args.cloud)
            try:
                emu.start()
                t0 = time.time()
                rec = self.measure(scenario, emu, keys, env=env)
                run_seconds = time.time() - t0
            except h.BenchError as e:
                h.eprint('bench: diagnostics %s FAILED: %s' % (name, e))
                self.failures.append({'run': 'diagnostics %s' % name, 'error': str(e)})
                continue
            finally:
                emu.stop()
            emu = self.new_emulator(0, state_file=emu.state_file)
            try:
                emu.check_imported([k['key_id'] for k in keys])
            except h.BenchError as e:
                self.failures.append({'run': 'diagnostics %s' % name, 'error': str(e)})
            finally:
                emu.stop()
            entry = {'n': n, 'wall': rec['wall'], 'emu_cpu': rec['emu_cpu'],
                     'kms_calls': rec['kms_calls'], 'iam_tokens': rec['iam_tokens']}
            if os.path.exists(prof):
                entry['profile'] = _report.summarize_pyspy(prof, run_seconds)
                shutil.copyfile(prof, os.path.join(self.args.out, 'emulator-pyspy-%s.txt' % name))
            if os.path.exists(timings):
                with open(timings) as f:
                    entry['timings'] = json.load(f)
            diag[name] = entry
            h.eprint('bench: diagnostics %s N=%d: %.2fs, emulator CPU %.2fs' % (
                name, n, rec['wall'], rec['emu_cpu']))
        self.extra['diagnostics'] = diag
        self.extra['import_time'] = self.import_times()

    def import_times(self):
        """Start-up cost of the interpreter plus ansible-playbook's imports (-X importtime)."""
        out = {}
        for name, cmd in (('ansible-playbook --version', [self.python, '-X', 'importtime',
                                                          os.path.join(self.bindir, 'ansible-playbook'),
                                                          '--version']),
                          ('python -c pass', [self.python, '-c', 'pass'])):
            walls = []
            for dummy in range(3):
                m = h.run_measured(cmd, self.env, cwd=self.workdir)
                walls.append(m.wall)
            out[name] = h.median(walls)
        return out

    # ----------------------------------------------------------------- output
    def meta(self):
        def version(cmd):
            try:
                return subprocess.run(cmd, capture_output=True, text=True, env=self.env,
                                      timeout=60, check=False).stdout.splitlines()[0].strip()
            except Exception:  # pylint: disable=broad-except
                return None
        return {
            'date': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
            'cpus': os.cpu_count(),
            'cpu_model': _cpu_model(),
            'platform': platform.platform(),
            'python': platform.python_version(),
            'ansible_core': version([os.path.join(self.bindir, 'ansible'), '--version']),
            'openssl': version(['openssl', 'version']),
            'sdk': _dist_version('huaweicloudsdkkms'),
            'baseline': self.args.baseline,
            'args': {k: v for k, v in vars(self.args).items() if k not in ('out',)},
        }

    def save(self, final=False):
        data = {'meta': self.meta_cache, 'results': self.results, 'failures': self.failures,
                'extra': self.extra, 'complete': final}
        h.json_dump(os.path.join(self.args.out, 'results.json'), data)

    def cleanup(self):
        if self.args.keep_workdir:
            h.eprint('bench: kept %s' % self.workdir)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


def _cpu_model():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _dist_version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:  # pylint: disable=broad-except
        return None


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    os.makedirs(args.out, exist_ok=True)
    if args.report_only:
        with open(os.path.join(args.out, 'results.json')) as f:
            data = json.load(f)
        print(_report.write_report(data, args.out))
        return 0
    bench = Bench(args)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    started = time.perf_counter()
    try:
        bench.setup()
        bench.meta_cache = bench.meta()
        bench.run_matrix()
        if not args.no_adhoc:
            bench.run_adhoc()
        if not args.no_diagnostics:
            bench.run_diagnostics()
        bench.extra['total_seconds'] = time.perf_counter() - started
        bench.save(final=True)
    finally:
        bench.cleanup()
    with open(os.path.join(args.out, 'results.json')) as f:
        data = json.load(f)
    print(_report.write_report(data, args.out, plot=not args.smoke))
    h.eprint('bench: %d run(s) in %.0fs, %d failure(s); results in %s' % (
        len(bench.results), time.perf_counter() - started, len(bench.failures), args.out))
    if bench.failures:
        for f in bench.failures:
            lines = [x for x in f['error'].splitlines() if x.strip()]
            h.eprint('bench: FAILED %s: %s' % (f['run'], ' / '.join(lines[:1] + lines[-2:])[:600]))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
