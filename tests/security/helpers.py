# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plumbing of the security suite: the emulator process, a small KMS client of its own, the
collection tree, and running ansible-playbook / ansible / ansible-runner with an isolated
TMPDIR and HOME.

The client here is deliberately not the collection's: the suite must see the emulator's state
through an independent path (describe before and after, counters), so that a bug in the
collection's client cannot hide itself.
"""

import json
import os
import resource
import subprocess
import sys
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))
BIN = os.path.dirname(sys.executable)

# KMS actions that change state. Any of them during a bad-input run is a finding.
STATE_CHANGING_ACTIONS = frozenset((
    'create-key', 'import-key-material', 'delete-imported-key-material',
    'enable-key', 'disable-key', 'schedule-key-deletion', 'cancel-key-deletion',
    'update-key-alias', 'update-key-description', 'create-grant', 'revoke-grant',
    'retire-grant', 'create-key-tag', 'delete-key-tag', 'batch-create-kms-tags',
    'enable-key-rotation', 'disable-key-rotation', 'update-key-rotation-interval',
))


def is_state_changing(action):
    return action in STATE_CHANGING_ACTIONS or action.startswith(('update-', 'create-', 'delete-'))


# --------------------------------------------------------------------------------------- emulator

class Emulator:
    """A running emulator: its ready line (``info``), log file and a direct API of our own."""

    def __init__(self, proc, info, log_path):
        self.proc = proc
        self.info = info
        self.log_path = log_path
        self.kms = info['kms_endpoint']
        self.iam = info['iam_endpoint']
        self.admin = info['admin_url']
        self.projects = info['projects']
        self._http = requests.Session()
        self._tokens = {}

    @classmethod
    def start(cls, workdir, exit_after=900, python=None):
        out_path = os.path.join(workdir, 'emulator.stdout')
        log_path = os.path.join(workdir, 'emulator.log')
        env = dict(os.environ, PYTHONPATH=os.path.join(REPO, 'tests', 'emulator'))
        with open(out_path, 'wb') as out:
            proc = subprocess.Popen(
                [python or sys.executable, '-m', 'kms_emulator', '--port', '0',
                 '--exit-after', str(exit_after), '--log-file', log_path, '--projects', '2'],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=workdir)
        deadline = time.time() + 60
        while time.time() < deadline:
            with open(out_path, 'rb') as handle:
                first = handle.readline()
            if first.endswith(b'\n'):
                return cls(proc, json.loads(first), log_path)
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        proc.kill()
        with open(out_path, 'rb') as handle:
            raise RuntimeError('the KMS emulator did not start: %s' % handle.read().decode('utf-8', 'replace'))

    def stop(self):
        self._http.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    # admin calls --------------------------------------------------------------------------
    def stats(self):
        return self._http.get(self.admin + '/stats', timeout=10).json()

    def reset_stats(self):
        self._http.post(self.admin + '/stats/reset', timeout=10).raise_for_status()

    def log_lines(self):
        with open(self.log_path, encoding='utf-8', errors='replace') as handle:
            return handle.read().splitlines()

    # IAM ----------------------------------------------------------------------------------
    def issue_token(self, project_index=0):
        """A real IAM token of the project's user (scoped to the project), as the emulator issues it."""
        project = self.projects[project_index]
        body = {'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'name': project['username'], 'password': project['password'],
                'domain': {'name': project['domain_name']}}}},
            'scope': {'project': {'id': project['project_id']}}}}
        answer = self._http.post(self.iam + '/auth/tokens?nocatalog=true', json=body, timeout=10)
        assert answer.status_code == 201, answer.text
        return answer.headers['X-Subject-Token']

    def issue_temporary_credentials(self, project_index=0):
        """Temporary AK/SK + security token (IAM securitytokens) of the project's user."""
        token = self.issue_token(project_index)
        root = self.kms
        body = {'auth': {'identity': {'methods': ['token'], 'token': {'duration_seconds': 3600}}}}
        answer = self._http.post(root + '/v3.0/OS-CREDENTIAL/securitytokens', json=body,
                                 headers={'X-Auth-Token': token}, timeout=10)
        assert answer.status_code == 201, answer.text
        credential = answer.json()['credential']
        return {'access_key': credential['access'], 'secret_key': credential['secret'],
                'security_token': credential['securitytoken']}

    # KMS (token auth, our own client) -----------------------------------------------------
    def call(self, action, body, project_index=0):
        if project_index not in self._tokens:
            self._tokens[project_index] = self.issue_token(project_index)
        project_id = self.projects[project_index]['project_id']
        answer = self._http.post('%s/v1.0/%s/kms/%s' % (self.kms, project_id, action), json=body,
                                 headers={'X-Auth-Token': self._tokens[project_index]}, timeout=30)
        if answer.status_code >= 300:
            raise AssertionError('%s %s -> %s %s' % (action, body, answer.status_code, answer.text))
        return answer.json() if answer.content else {}

    def create_key(self, alias, key_spec='AES_256', origin='external', project_index=0, **extra):
        body = dict(key_alias=alias, key_spec=key_spec, origin=origin, **extra)
        return self.call('create-key', body, project_index)['key_info']['key_id']

    def describe(self, key_id, project_index=0):
        return self.call('describe-key', {'key_id': key_id}, project_index)['key_info']

    def import_material(self, key_id, material=None, private_key=None, project_index=0,
                        expiration_time=None):
        """Import 32 bytes (AES) or a private key (RSA/EC) the way the provider documents it."""
        from cryptography.hazmat.primitives import hashes, keywrap, serialization
        from cryptography.hazmat.primitives.asymmetric import padding
        import base64

        params = self.call('get-parameters-for-import',
                           {'key_id': key_id, 'wrapping_algorithm': 'RSAES_OAEP_SHA_256'}, project_index)
        public = serialization.load_der_public_key(base64.b64decode(params['public_key']))
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
        body = {'key_id': key_id, 'import_token': params['import_token']}
        if private_key is None:
            body['encrypted_key_material'] = base64.b64encode(public.encrypt(material, oaep)).decode()
        else:
            temporary = os.urandom(32)
            der = private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption())
            body['encrypted_key_material'] = base64.b64encode(public.encrypt(temporary, oaep)).decode()
            body['encrypted_privatekey'] = base64.b64encode(
                keywrap.aes_key_wrap_with_padding(temporary, der)).decode()
        if expiration_time is not None:
            body['expiration_time'] = str(expiration_time)
        self.call('import-key-material', body, project_index)

    def schedule_deletion(self, key_id, days=7, project_index=0):
        self.call('schedule-key-deletion', {'key_id': key_id, 'pending_days': str(days)}, project_index)

    def disable(self, key_id, project_index=0):
        self.call('disable-key', {'key_id': key_id}, project_index)


# --------------------------------------------------------------------------------------- ansible

def build_collection_tree(root):
    """``<root>/ansible_collections/dew/kms`` from the checkout (tracked + untracked, not ignored)."""
    tree = os.path.join(root, 'ansible_collections', 'dew', 'kms')
    os.makedirs(tree)
    files = subprocess.run(['git', 'ls-files', '-z', '-co', '--exclude-standard'], cwd=REPO, check=True,
                           stdout=subprocess.PIPE).stdout.split(b'\0')
    present = b'\0'.join(name for name in files if name and os.path.exists(os.path.join(REPO, os.fsdecode(name))))
    pack = subprocess.Popen(['tar', '--null', '-cf', '-', '-T', '-'], cwd=REPO, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    unpack = subprocess.Popen(['tar', '-xf', '-', '-C', tree], stdin=pack.stdout)
    pack.stdout.close()
    pack.communicate(present)
    assert unpack.wait() == 0 and pack.returncode == 0
    return root


class AnsibleEnv:
    """Environment for one ansible run: collections path, private HOME, dedicated TMPDIR."""

    def __init__(self, collections_root, workdir, extra_env=None):
        self.workdir = workdir
        self.home = os.path.join(workdir, 'home')
        self.tmpdir = os.path.join(workdir, 'tmp')
        for path in (self.home, self.tmpdir):
            os.makedirs(path, exist_ok=True)
        keep = ('PATH', 'LANG', 'LC_ALL', 'PYENV_ROOT')
        env = dict((name, os.environ[name]) for name in keep if name in os.environ)
        env.update({
            'PATH': BIN + os.pathsep + os.environ.get('PATH', ''),
            'HOME': self.home,                       # so ~/.ansible/tmp is ours to scan
            'TMPDIR': self.tmpdir,
            'ANSIBLE_COLLECTIONS_PATH': collections_root,
            'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false',
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_FORCE_COLOR': '0',
            'ANSIBLE_RETRY_FILES_ENABLED': 'false',
            'ANSIBLE_HOST_KEY_CHECKING': 'false',
            'ANSIBLE_LOCALHOST_WARNING': 'false',
            'ANSIBLE_INVENTORY_UNPARSED_WARNING': 'false',
            'ANSIBLE_DEPRECATION_WARNINGS': 'false',
            'PYTHONDONTWRITEBYTECODE': '1',
        })
        env.update(extra_env or {})
        self.env = env

    def scan_roots(self):
        """Where a run may leave files behind: TMPDIR and HOME (incl. ~/.ansible/tmp)."""
        return [self.tmpdir, self.home]


def write_inventory(path):
    with open(path, 'w') as handle:
        handle.write('localhost ansible_connection=local '
                     'ansible_python_interpreter="{{ ansible_playbook_python }}"\n')
    return path


# wall-clock and CPU seconds of the suite's runs, printed at the end of the session (conftest)
TIMINGS = {}


def children_cpu():
    """CPU seconds (user + system) used so far by waited-for child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd, ansible_env, cwd, timeout=600, stdout_path=None):
    """Run a command; returns (rc, stdout, stderr) as text."""
    proc = subprocess.run(cmd, cwd=cwd, env=ansible_env.env, stdout=subprocess.PIPE, check=False,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=timeout)
    out = proc.stdout.decode('utf-8', 'replace')
    err = proc.stderr.decode('utf-8', 'replace')
    if stdout_path:
        with open(stdout_path, 'w') as handle:
            handle.write(out)
        with open(stdout_path + '.stderr', 'w') as handle:
            handle.write(err)
    return proc.returncode, out, err
