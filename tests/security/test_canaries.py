# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets never leak: canary runs of every module and the role.

The secrets of a run are real: key material that gets imported, the emulator users' passwords
and secret keys that IAM and the signature check accept, an IAM token and temporary credentials
(with their security token) that the emulator issued. Failing cases add secrets of their own
(a wrong password, a forged token, material that does not fit). ``playbooks/leaks.yml`` runs
every module and the role with them, successfully and failing, at ``-vvvv``:

* run A: ansible-playbook, normal mode with ``--diff``, default stdout callback showing task
  arguments, plus the ``tree`` (JSON per host) and ``junit`` callbacks;
* run B: ansible-runner, normal mode (as AWX runs a job): JSON job events, whole artifacts dir;
* run C: ansible-playbook, ``--check --diff``, ``minimal`` stdout callback (prints whole results),
  pipelining on;
* run E: ad-hoc ``ansible -m`` with credentials from the environment and ``--tree`` JSON.

Then no canary, in any of its forms (literal, base64, urlsafe base64, hex, PEM body lines, DER
pieces), may be in stdout/stderr, the registered results (dumped to files), diffs, the tree /
junit / runner artifacts, the emulator's log, or any file left in the run's TMPDIR and HOME
(``~/.ansible/tmp``). Inputs (the vars file, the material files, clouds.yaml) live apart.
"""

import base64
import binascii
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest
import yaml

import helpers
from canaries import Secrets, scan_text, scan_tree

PLAYBOOK = os.path.join(helpers.HERE, 'playbooks', 'leaks.yml')

# Any token the emulator issues, whoever asked for it (the modules' own IAM tokens included).
TOKEN_PATTERNS = {
    'an IAM token issued by the emulator': re.compile(r'MIIemu[A-Za-z0-9_-]{40,}'),
    'a security token issued by the emulator': re.compile(r'emu-sts-[A-Za-z0-9_-]{40,}'),
}

# Tasks that must succeed (normal mode), and tasks that must fail, in the registered results.
MUST_SUCCEED_CHANGED = ('pw_create', 'pw_aes', 'pw_rsa', 'pw_ec', 'pw_public_rsa', 'pw_public_ec',
                        'pw_absent', 'pw_update', 'pw_delete_key', 'ak_import', 'st_import',
                        'tk_import', 'cloud_import')
MUST_SUCCEED = MUST_SUCCEED_CHANGED + ('pw_info', 'pw_params', 'pw_aes_again', 'ak_info', 'tk_public')
MUST_FAIL = ('pw_fail_aes_into_rsa', 'pw_fail_rsa_into_aes', 'pw_fail_ec_into_rsa', 'pw_fail_kms_origin',
             'pw_fail_deleting', 'pw_fail_31_bytes', 'pw_fail_31_inline', 'pw_fail_not_base64',
             'pw_fail_hex', 'pw_fail_prewrapped', 'pw_fail_public', 'pw_fail_key_spec', 'pw_byok',
             'pw_fail_wrong_password',
             'ak_fail_wrong_secret_key', 'st_fail_forged', 'tk_fail_forged')
MUST_FAIL_WITH_ENV = ('env_fail',)
# Only the service can refuse a pre-wrapped import token: check mode predicts the import.
CHECK_MODE_PREDICTS = ('pw_fail_prewrapped',)
# Fail only once an earlier task changed the key (in check mode the key still waits for import).
MUST_FAIL_AFTER_CHANGES = ('pw_fail_params',)


class Session:
    """What the canary runs share: emulator, secrets, inputs, collection tree."""

    def __init__(self, emulator, collections_root, workdir):
        self.emulator = emulator
        self.collections_root = collections_root
        self.workdir = workdir
        self.inputs = os.path.join(workdir, 'inputs')      # secrets on purpose: never scanned
        os.makedirs(self.inputs)
        self.secrets = Secrets(self.inputs)
        self.files = self.secrets.write_material_files(os.path.join(self.inputs, 'material'))
        p1, p2 = emulator.projects[0], emulator.projects[1]
        self.p1, self.p2 = p1, p2
        self.auth_token = emulator.issue_token(0)
        self.temporary = emulator.issue_temporary_credentials(0)
        for name, value in (('password of project 1', p1['password']),
                            ('secret key of project 1', p1['secret_key']),
                            ('password of project 2 (clouds.yaml)', p2['password']),
                            ('secret key of project 2 (environment)', p2['secret_key']),
                            ('IAM token', self.auth_token),
                            ('temporary secret key', self.temporary['secret_key']),
                            ('security token', self.temporary['security_token'])):
            self.secrets.add(name, value)
        self.clouds_yaml = os.path.join(self.inputs, 'clouds.yaml')
        with open(self.clouds_yaml, 'w') as handle:
            yaml.safe_dump({'clouds': {'sec-project2': {
                'region_name': emulator.info['region'],
                'auth': {'auth_url': emulator.iam, 'username': p2['username'], 'password': p2['password'],
                         'user_domain_name': p2['domain_name'], 'project_name': p2['project_name']}}}},
                handle)
        os.chmod(self.clouds_yaml, 0o600)
        self.started = time.time()

    def env_credentials(self):
        """Project 2's AK/SK as the environment gives them (AWX credential injection style)."""
        return {'HW_ACCESS_KEY': self.p2['access_key'], 'HW_SECRET_KEY': self.p2['secret_key'],
                'OS_PROJECT_NAME': self.p2['project_name'], 'HW_KMS_ENDPOINT': self.emulator.kms,
                'HW_IAM_ENDPOINT': self.emulator.iam}

    def prepare_run(self, name):
        """Fresh keys for one run and the vars file with everything the playbook needs."""
        emu, run = self.emulator, '%s%d' % (name.lower(), int(time.time() * 1000) % 100000)
        keys = {
            'k_aes': emu.create_key('sec-%s-aes' % run),
            'k_aes_path': emu.create_key('sec-%s-aes-path' % run),
            'k_rsa': emu.create_key('sec-%s-rsa' % run, 'RSA_2048'),
            'k_rsa_2': emu.create_key('sec-%s-rsa2' % run, 'RSA_2048'),
            'k_ec': emu.create_key('sec-%s-ec' % run, 'EC_P256'),
            'k_kms': emu.create_key('sec-%s-kms' % run, origin='kms'),
            'k_deleting': emu.create_key('sec-%s-deleting' % run),
            'k_temporary': emu.create_key('sec-%s-tmp' % run),
            'k_token': emu.create_key('sec-%s-token' % run),
            'k_p2_env': emu.create_key('sec-%s-p2-env' % run, project_index=1),
            'k_p2_cloud': emu.create_key('sec-%s-p2-cloud' % run, project_index=1),
        }
        emu.schedule_deletion(keys['k_deleting'])
        workdir = os.path.join(self.workdir, 'run-' + name)
        out = os.path.join(workdir, 'out')
        os.makedirs(out)
        s = self.secrets
        variables = dict(keys, run=run, out=out, files=self.files,
                         kms_endpoint=emu.kms, iam_endpoint=emu.iam,
                         p1=self.p1, auth_token=self.auth_token, temporary=self.temporary,
                         aes_b64=base64.b64encode(s.aes).decode(),
                         aes_hex=binascii.hexlify(s.aes).decode(),
                         aes31_b64=base64.b64encode(s.aes_31).decode(),
                         rsa_pem=s.pem(s.rsa), ec_pem=s.pem(s.ec),
                         wrong_password=s.wrong_password, wrong_secret_key=s.wrong_secret_key,
                         forged_token=s.forged_token, forged_security_token=s.forged_security_token)
        vars_file = os.path.join(self.inputs, 'vars-%s.yml' % name)
        with open(vars_file, 'w') as handle:
            yaml.safe_dump(variables, handle)
        return workdir, out, vars_file, keys

    def ansible_env(self, workdir, env_credentials, extra=None):
        env = {'OS_CLIENT_CONFIG_FILE': self.clouds_yaml, 'ANSIBLE_DEPRECATION_WARNINGS': 'false'}
        if env_credentials:
            env.update(self.env_credentials())
        env.update(extra or {})
        return helpers.AnsibleEnv(self.collections_root, workdir, env)


@pytest.fixture(scope='module')
def session(emulator, collections_root, tmp_path_factory):
    return Session(emulator, collections_root, str(tmp_path_factory.mktemp('canaries')))


# ------------------------------------------------------------------------------------- the runs

def _playbook_cmd(vars_file, inventory, *flags):
    return [os.path.join(helpers.BIN, 'ansible-playbook'), '-i', inventory, '-vvvv',
            '-e', '@' + vars_file, '-e', 'env_credentials=true'] + list(flags) + [PLAYBOOK]


class Run:
    """One finished run: where to look for leaks and what it registered."""

    def __init__(self, name, workdir, out, ansible_env, texts, scan_roots, keys, check_mode, env_credentials):
        self.name = name
        self.workdir = workdir
        self.out = out
        self.ansible_env = ansible_env
        self.texts = texts                   # {label: text} of stdout/stderr
        self.scan_roots = scan_roots
        self.keys = keys
        self.check_mode = check_mode
        self.env_credentials = env_credentials

    def registered(self, name):
        if not hasattr(self, '_registered'):
            with open(os.path.join(self.out, 'registered.json')) as handle:
                self._registered = json.load(handle)
        assert self._registered.get(name), 'run %s did not register %s' % (self.name, name)
        return self._registered[name]


def start_playbook_run(session, name, flags, stdout_callback, extra_env=None):
    workdir, out, vars_file, keys = session.prepare_run(name)
    extra = {'ANSIBLE_STDOUT_CALLBACK': stdout_callback}
    extra.update(extra_env or {})
    aenv = session.ansible_env(workdir, True, extra)
    inventory = helpers.write_inventory(os.path.join(session.inputs, 'inventory-%s' % name))
    stdout = open(os.path.join(workdir, 'stdout'), 'wb')
    stderr = open(os.path.join(workdir, 'stderr'), 'wb')
    proc = subprocess.Popen(_playbook_cmd(vars_file, inventory, *flags), cwd=workdir, env=aenv.env,
                            stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL)

    def finish():
        proc.wait(600)
        stdout.close()
        stderr.close()
        texts = {}
        for label in ('stdout', 'stderr'):
            with open(os.path.join(workdir, label), encoding='utf-8', errors='replace') as handle:
                texts['%s %s' % (name, label)] = handle.read()
        assert proc.returncode == 0, 'run %s failed (rc %s):\n%s' % (
            name, proc.returncode, texts['%s stdout' % name][-6000:] + texts['%s stderr' % name][-3000:])
        return Run(name, workdir, out, aenv, texts, [workdir] + aenv.scan_roots(), keys,
                   '--check' in flags, True)
    return finish


def start_runner_run(session, name, flags):
    """ansible-runner the way AWX drives it: private data dir, JSON job events, artifacts."""
    workdir, out, vars_file, keys = session.prepare_run(name)
    aenv = session.ansible_env(workdir, False)
    private = os.path.join(workdir, 'runner')
    os.makedirs(os.path.join(private, 'project'))
    os.makedirs(os.path.join(private, 'inventory'))
    shutil.copy(PLAYBOOK, os.path.join(private, 'project', 'leaks.yml'))
    helpers.write_inventory(os.path.join(private, 'inventory', 'hosts'))
    os.makedirs(os.path.join(private, 'env'))
    with open(os.path.join(private, 'env', 'cmdline'), 'w') as handle:
        handle.write('-vvvv -e @%s -e env_credentials=false %s' % (vars_file, ' '.join(flags)))
    # Credentials are never passed as environment variables here: ansible-runner writes its
    # whole environment to artifacts/<id>/command (its behaviour, not the collection's).
    proc = subprocess.Popen(
        [sys.executable, '-m', 'ansible_runner', 'run', private, '-p', 'leaks.yml', '--ident', name],
        cwd=workdir, env=aenv.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)

    def finish():
        stdout, stderr = proc.communicate(timeout=600)
        texts = {'%s stdout' % name: stdout.decode('utf-8', 'replace'),
                 '%s stderr' % name: stderr.decode('utf-8', 'replace')}
        artifacts = os.path.join(private, 'artifacts', name)
        assert os.path.isdir(os.path.join(artifacts, 'job_events')), texts
        with open(os.path.join(artifacts, 'rc')) as handle:
            rc = handle.read().strip()
        assert rc == '0', 'runner run %s failed (rc %s):\n%s' % (name, rc, texts['%s stdout' % name][-6000:])
        events = os.listdir(os.path.join(artifacts, 'job_events'))
        assert len(events) > 50, 'too few job events in run %s' % name
        return Run(name, workdir, out, aenv, texts, [workdir] + aenv.scan_roots(), keys,
                   '--check' in flags, False)
    return finish


def run_adhoc(session):
    """Ad-hoc ``ansible -m`` with environment credentials, default callback and --tree JSON."""
    workdir, out, _vars_file, keys = session.prepare_run('E')
    aenv = session.ansible_env(workdir, True, {'ANSIBLE_LOAD_CALLBACK_PLUGINS': '1'})
    inventory = helpers.write_inventory(os.path.join(session.inputs, 'inventory-E'))
    tree = os.path.join(workdir, 'tree')
    texts = {}
    cases = (
        ('import', 'key_id=%s key_material_path=%s retries=0' % (keys['k_p2_env'], session.files['aes.bin']), 0),
        ('wrong size', 'key_id=%s key_material_path=%s' % (keys['k_p2_cloud'], session.files['aes31.bin']), 2),
        ('wrong type', 'key_id=%s key_material_path=%s' % (keys['k_p2_cloud'], session.files['ec.der']), 2),
    )
    for label, args, expected_rc in cases:
        rc, stdout, stderr = helpers.run(
            [os.path.join(helpers.BIN, 'ansible'), 'localhost', '-i', inventory, '-vvvv', '--tree', tree,
             '-m', 'dew.kms.kms_key_material', '-a', args], aenv, workdir)
        texts['E %s stdout' % label] = stdout
        texts['E %s stderr' % label] = stderr
        assert rc == expected_rc, (label, rc, stdout[-3000:], stderr[-2000:])
    assert os.listdir(tree)
    return Run('E', workdir, out, aenv, texts, [workdir] + aenv.scan_roots(), keys, False, True)


@pytest.fixture(scope='module')
def runs(session):
    """All runs, two at a time (the machine has two cores)."""
    started, cpu = time.time(), helpers.children_cpu()
    run_a = os.path.join(session.workdir, 'run-A')
    first = [
        start_playbook_run(session, 'A', ['--diff'], 'ansible.builtin.default', {
            'ANSIBLE_CALLBACKS_ENABLED': 'ansible.builtin.tree,ansible.builtin.junit',
            'ANSIBLE_LOAD_CALLBACK_PLUGINS': '1',
            'ANSIBLE_CALLBACK_TREE_DIR': os.path.join(run_a, 'tree'),
            'JUNIT_OUTPUT_DIR': os.path.join(run_a, 'junit'), 'JUNIT_HIDE_TASK_ARGUMENTS': 'false',
            'ANSIBLE_DISPLAY_ARGS_TO_STDOUT': 'true',
        }),
        start_runner_run(session, 'B', []),
    ]
    done = [finish() for finish in first]
    second = start_playbook_run(session, 'C', ['--check', '--diff'], 'ansible.builtin.minimal',
                                {'ANSIBLE_PIPELINING': 'true'})
    done.append(run_adhoc(session))
    done.append(second())
    session.duration, session.cpu = time.time() - started, helpers.children_cpu() - cpu
    helpers.TIMINGS['canaries: 3 playbook/runner runs + 3 ad-hoc'] = (session.duration, session.cpu)
    return dict((run.name, run) for run in done)


# ------------------------------------------------------------------------------------- assertions

def _format(findings):
    return '\n'.join('  %s: %s (%s)' % item for item in findings)


def test_the_runs_did_their_work(session, runs):
    """A leak test proves little if the work never happened: check outcomes and key states."""
    emu = session.emulator
    for run in runs.values():
        if run.name == 'E':
            continue
        for name in MUST_FAIL + (MUST_FAIL_WITH_ENV if run.env_credentials else ()):
            if run.check_mode and name in CHECK_MODE_PREDICTS:
                continue
            result = run.registered(name)
            assert result.get('failed') is True, 'run %s: %s should have failed: %s' % (run.name, name, result)
            assert result.get('msg'), (run.name, name, result)
        if run.check_mode:
            for name in ('pw_aes', 'pw_rsa', 'pw_ec', 'ak_import', 'tk_import', 'st_import'):
                result = run.registered(name)
                assert not result.get('failed') and result.get('changed') is True, (run.name, name, result)
            for key_name in ('k_aes', 'k_rsa', 'k_temporary', 'k_token'):
                assert emu.describe(run.keys[key_name])['key_state'] == '5', (run.name, key_name)
            continue
        for name in MUST_FAIL_AFTER_CHANGES:
            assert run.registered(name).get('failed') is True, (run.name, name)
        for name in MUST_SUCCEED:
            result = run.registered(name)
            assert not result.get('failed'), 'run %s: %s failed: %s' % (run.name, name, result.get('msg'))
        for name in MUST_SUCCEED_CHANGED:
            assert run.registered(name).get('changed') is True, (run.name, name)
        actions = [r['action'] for r in run.registered('pw_byok')['results']]
        assert actions == ['created+imported', 'created+imported', 'failed', 'failed'], actions
        assert run.registered('role_failure').get('failed') is True
        assert [r['action'] for r in run.registered('role_results_good')] == ['unchanged', 'unchanged']
        for key_name in ('k_aes', 'k_rsa', 'k_ec', 'k_temporary', 'k_token'):
            assert emu.describe(run.keys[key_name])['key_state'] == '2', (run.name, key_name)
        assert emu.describe(run.keys['k_p2_cloud'], project_index=1)['key_state'] == '2'
        if run.env_credentials:
            assert not run.registered('env_import').get('failed')
            assert emu.describe(run.keys['k_p2_env'], project_index=1)['key_state'] == '2'
    assert emu.describe(runs['E'].keys['k_p2_env'], project_index=1)['key_state'] == '2'


def test_no_canary_in_output(session, runs):
    findings = []
    for run in runs.values():
        for label, text in run.texts.items():
            findings.extend((label, name, hits) for name, hits in scan_text(text, session.secrets.canaries))
            for what, pattern in TOKEN_PATTERNS.items():
                if pattern.search(text):
                    findings.append((label, what, 'pattern'))
    assert not findings, 'secrets in the output of ansible:\n' + _format(findings)


def test_no_canary_in_results_diffs_and_artifacts(session, runs):
    """Registered results, diffs (dest files, tree/junit JSON), runner artifacts: every file."""
    findings = []
    for run in runs.values():
        skip = [session.inputs]
        findings.extend(scan_tree(run.scan_roots, session.secrets.canaries, skip))
        for folder, _dirs, names in os.walk(run.workdir):
            for name in names:
                path = os.path.join(folder, name)
                with open(path, 'rb') as handle:
                    text = handle.read().decode('utf-8', 'replace')
                findings.extend((path, what, 'pattern') for what, pattern in TOKEN_PATTERNS.items()
                                if pattern.search(text))
    assert not findings, 'secrets in files written by the runs:\n' + _format(findings)
    # the places this test claims to have searched do exist and hold something
    run_a, run_b = runs['A'], runs['B']
    assert os.listdir(os.path.join(run_a.workdir, 'tree')) and os.listdir(os.path.join(run_a.workdir, 'junit'))
    assert os.path.isfile(os.path.join(run_b.workdir, 'runner', 'artifacts', 'B', 'stdout'))


def test_no_canary_in_the_ceremony_bundles_and_the_evidence_report(session, runs):
    """The export bundle, the wrapped bundle and the report (JSON and Markdown) of a ceremony."""
    from cryptography.hazmat.primitives import cmac, hashes, serialization
    from cryptography.hazmat.primitives.ciphers import algorithms

    mac = cmac.CMAC(algorithms.AES(session.secrets.aes))
    mac.update(bytes(16))
    kcv = binascii.hexlify(mac.finalize()[:3]).decode().upper()
    digest = hashes.Hash(hashes.SHA256())
    digest.update(session.secrets.ec.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    ec_sha256 = digest.finalize().hex()
    for run in runs.values():
        if run.check_mode or run.name == 'E':
            continue
        folder = os.path.join(run.out, 'ceremony')
        assert sorted(os.listdir(folder)) == ['bundle.json', 'report.json', 'report.md', 'wrapped.json'], run.name
        assert [r['action'] for r in run.registered('ceremony_results')] == ['imported', 'imported']
        with open(os.path.join(folder, 'report.json')) as handle:
            report = json.load(handle)
        # the files are about the canary material: a leak of it would be in them
        assert [record['check_value'] for record in report['keys']] == [kcv, ec_sha256], run.name
        findings = scan_tree([folder], session.secrets.canaries)
        for name in os.listdir(folder):
            with open(os.path.join(folder, name), encoding='utf-8') as handle:
                text = handle.read()
            findings.extend((name, what, 'pattern') for what, pattern in TOKEN_PATTERNS.items() if pattern.search(text))
        assert not findings, 'secrets in the ceremony files of run %s:\n%s' % (run.name, _format(findings))


def test_no_canary_in_the_emulator_log(session, runs):
    with open(session.emulator.log_path, 'rb') as handle:
        data = handle.read()
    assert data.count(b'action=import-key-material') >= 10
    findings = [(session.emulator.log_path, name, hits) for name, hits in
                scan_text(data.decode('utf-8', 'replace'), session.secrets.canaries)]
    assert not findings, _format(findings)


def test_temp_dirs_are_left_empty(session, runs):
    """Nothing of a run may stay in its TMPDIR or ~/.ansible/tmp: module temp files are removed."""
    leftovers = []
    for run in runs.values():
        roots = [run.ansible_env.tmpdir, os.path.join(run.ansible_env.home, '.ansible', 'tmp')]
        for root in roots:
            for folder, _dirs, names in os.walk(root):
                leftovers.extend(os.path.join(folder, name) for name in names)
    assert not leftovers, 'files left in temporary directories:\n  ' + '\n  '.join(leftovers)


def test_no_canary_in_the_real_ansible_tmp(session, runs):
    """Belt and braces: nothing written to the real ~/.ansible/tmp during the runs holds a secret."""
    real = os.path.join(os.path.expanduser('~'), '.ansible', 'tmp')
    if not os.path.isdir(real):
        return
    recent = []
    for folder, _dirs, names in os.walk(real):
        for name in names:
            path = os.path.join(folder, name)
            try:
                if os.path.getmtime(path) >= session.started - 1:
                    recent.append(path)
            except OSError:
                continue
    findings = scan_tree(recent, session.secrets.canaries)
    assert not findings, _format(findings)


def test_dest_holds_only_the_public_key(session, runs):
    from cryptography.hazmat.primitives import serialization

    run = runs['A']
    with open(os.path.join(run.out, 'rsa-public.pem'), 'rb') as handle:
        pem = handle.read()
    assert pem.startswith(b'-----BEGIN PUBLIC KEY-----') and b'PRIVATE' not in pem
    expected = session.secrets.rsa.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert pem == expected
    assert oct(os.stat(os.path.join(run.out, 'rsa-public.pem')).st_mode & 0o777) == '0o644'
    with open(os.path.join(run.out, 'ec-public.der'), 'rb') as handle:
        der = handle.read()
    assert der == session.secrets.ec.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_canaries_are_many_and_the_runs_fast_enough(session, runs):
    assert len(session.secrets.canaries) >= 16
    assert sum(len(c.forms) for c in session.secrets.canaries) >= 100
    # A budget on CPU time (wall time depends on what else the machine runs). Measured: about
    # 80 s of CPU for all runs, i.e. about a minute of wall time on two idle cores.
    assert session.cpu < 200, 'canary runs used %.0f s of CPU' % session.cpu
    assert session.duration < 600, 'canary runs took %.0f s' % session.duration
