# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input never harms: the table of ``bad_inputs.py`` through ONE ansible-playbook run.

Every row becomes one task (``register`` + ``ignore_errors``; role rows a block that keeps
``ansible_failed_result``), preceded by a marker that records the time, so that each request the
emulator logs can be attributed to the row that caused it. For each row: the task failed, its
message holds the row's distinctive fragments (the problem and the fix), the emulator saw no
state-changing call while it ran, and the message echoes no secret. For the whole run: the
request counters show no state-changing call, and every test key is described exactly as before.

Rows that currently fail because of a bug in the collection are listed in ``KNOWN_FINDINGS``
(and in ``FINDINGS.md``): they run as non-strict xfail until the owners fix them.
"""

import base64
import binascii
import json
import os
import time

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

import bad_inputs
import helpers

# row id -> what is wrong (kept in sync with FINDINGS.md by test_findings_file_lists_known_findings)
KNOWN_FINDINGS = {}
FINDINGS_FILE = os.path.join(helpers.HERE, 'FINDINGS.md')

# Keys the known findings are known to change (excluded from the unchanged-keys check while open).
KEYS_CHANGED_BY_FINDINGS = {}

STAMP_FMT = '%Y-%m-%dT%H:%M:%S.%f'


def _pem(key, encryption=None):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             encryption or serialization.NoEncryption()).decode('ascii')


def _write(directory, name, data, mode=0o600):
    path = os.path.join(directory, name)
    with open(path, 'wb' if isinstance(data, bytes) else 'w') as handle:
        handle.write(data)
    os.chmod(path, mode)
    return path


def _fifo(directory, name):
    path = os.path.join(directory, name)
    os.mkfifo(path, 0o600)
    return path


class BadInputRun:
    """Fixtures (keys, files), the generated playbook, its run and what it registered."""

    def __init__(self, emulator, collections_root, workdir):
        self.emulator = emulator
        self.workdir = workdir
        files = os.path.join(workdir, 'files')
        os.makedirs(os.path.join(files, 'a-directory'))
        self.context, self.secrets = self._context(emulator, files)
        self.keys = self._create_keys(emulator)
        for name, key_id in self.keys.items():
            self.context[name] = key_id
            self.context[name + '_alias'] = 'secbad-%s-%s' % (self.tag, name.replace('_', '-'))
        first = self.keys['aes_pending']
        self.context['aes_pending_homoglyph'] = '\u0430' + first[1:] if first[0] == 'a' else first[:-1] + '\u0430'
        clouds = _write(files, 'clouds.yaml', yaml.safe_dump(
            {'clouds': {'secbad-empty': {'region_name': 'eu-de', 'auth': {'auth_url': emulator.iam}}}}))
        self.ansible_env = helpers.AnsibleEnv(collections_root, workdir, {
            'OS_CLIENT_CONFIG_FILE': clouds, 'ANSIBLE_PIPELINING': 'true'})
        self.out = os.path.join(workdir, 'registered.json')
        self.playbook = os.path.join(workdir, 'bad_inputs.yml')
        with open(self.playbook, 'w') as handle:
            yaml.safe_dump(self.plays(), handle, sort_keys=False, width=1000)

    # ---------------------------------------------------------------------------- fixtures
    def _context(self, emulator, files):
        p1 = emulator.projects[0]
        aes = os.urandom(32)
        urlsafe = b'\xfb\xff\xfe' + os.urandom(29)
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ec_key = ec.generate_private_key(ec.SECP256R1())
        temporary = emulator.issue_temporary_credentials(0)
        token = emulator.issue_token(0)
        rsa_pem = _pem(rsa_key)
        context = {
            'kms_endpoint': emulator.kms, 'iam_endpoint': emulator.iam,
            'project_id': p1['project_id'], 'project_name': p1['project_name'],
            'username': p1['username'], 'password': p1['password'], 'domain_name': p1['domain_name'],
            'access_key': p1['access_key'], 'secret_key': p1['secret_key'], 'auth_token': token,
            'temp_access_key': temporary['access_key'], 'temp_secret_key': temporary['secret_key'],
            'aes_b64': base64.b64encode(aes).decode(),
            'b64_31': base64.b64encode(os.urandom(31)).decode(),
            'b64_16': base64.b64encode(os.urandom(16)).decode(),
            'hex_64': binascii.hexlify(os.urandom(32)).decode(),
            'urlsafe_b64': base64.urlsafe_b64encode(urlsafe).decode(),
            'rsa_pem': rsa_pem,
            'ec_pem': _pem(ec_key),
            'wrapped_344': base64.b64encode(os.urandom(256)).decode(),
            'token_like': base64.b64encode(os.urandom(300)).decode(),
            'a_directory': os.path.join(files, 'a-directory'),
            'a_fifo': _fifo(files, 'a-fifo'),
            'private_key_dest': _write(files, 'private-dest.pem', rsa_pem),
            'big_file': _write(files, 'big.bin', os.urandom(70 * 1024)),
            'aes31_bin': _write(files, 'aes31.bin', os.urandom(31)),
            'rsa1024_pem': _write(files, 'rsa1024.pem', _pem(rsa.generate_private_key(65537, 1024))),
            'secp256k1_pem': _write(files, 'k1.pem', _pem(ec.generate_private_key(ec.SECP256K1()))),
            'ed25519_pem': _write(files, 'ed25519.pem', _pem(ed25519.Ed25519PrivateKey.generate())),
            'encrypted_pem': _write(files, 'encrypted.pem', _pem(
                rsa_key, serialization.BestAvailableEncryption(b'secbad-passphrase'))),
            'truncated_pem': _write(files, 'truncated.pem', rsa_pem[:len(rsa_pem) // 2]),
        }
        assert '-' in context['urlsafe_b64'] or '_' in context['urlsafe_b64']
        # what no message may echo
        secrets = [context[name] for name in ('password', 'secret_key', 'auth_token', 'temp_secret_key',
                                              'aes_b64', 'b64_31', 'b64_16', 'hex_64', 'urlsafe_b64',
                                              'wrapped_344', 'token_like')]
        secrets += [line for line in (rsa_pem + context['ec_pem']).splitlines() if len(line) >= 40]
        return context, secrets

    def _create_keys(self, emu):
        self.tag = '%05d' % (int(time.time() * 1000) % 100000)
        keys = {}
        for name, (spec, origin, state) in bad_inputs.FIXTURE_KEYS.items():
            alias = 'secbad-%s-%s' % (self.tag, name.replace('_', '-'))
            keys[name] = emu.create_key(alias, spec, origin)
            if origin == 'external' and state == 'enabled':
                if spec == 'AES_256':
                    emu.import_material(keys[name], material=os.urandom(32))
                else:
                    emu.import_material(keys[name], private_key=rsa.generate_private_key(65537, 2048))
            elif state == 'pending_deletion':
                emu.schedule_deletion(keys[name])
            elif state == 'disabled':
                emu.disable(keys[name])
        return keys

    def describe_all(self):
        return dict((name, self.emulator.describe(key_id)) for name, key_id in self.keys.items())

    # ---------------------------------------------------------------------------- the playbook
    def _mark(self, index):
        return {'name': 'mark %d' % index, 'ansible.builtin.set_fact': {
            'secbad_mark_%d' % index: "{{ now(utc=true, fmt='%s') }}" % STAMP_FMT}}

    def _task(self, index, row):
        args = bad_inputs.substitute(row.args, self.context)
        register = 'secbad_row_%d' % index
        if row.is_role:
            return {'name': row.id, 'block': [
                {'name': 'role', 'ansible.builtin.include_role': {'name': 'dew.kms.byok'}, 'vars': args},
                {'name': 'the role did not fail', 'ansible.builtin.set_fact': {
                    register: {'failed': False, 'msg': 'the role did not fail'}}},
            ], 'rescue': [
                {'name': 'keep the failure', 'ansible.builtin.set_fact': {register: '{{ ansible_failed_result }}'}},
            ]}
        return {'name': row.id, row.module: args, 'register': register, 'ignore_errors': True}

    def plays(self):
        module_rows = [(i, row) for i, row in enumerate(bad_inputs.TABLE) if not row.is_auth]
        auth_rows = [(i, row) for i, row in enumerate(bad_inputs.TABLE) if row.is_auth]

        def tasks(rows):
            result = []
            for index, row in rows:
                result += [self._mark(index), self._task(index, row)]
            return result

        count = len(bad_inputs.TABLE)
        rows = ['secbad_row_%d' % i for i in range(count)]
        marks = ['secbad_mark_%d' % i for i in range(count)]
        default_auth = bad_inputs.substitute(bad_inputs.TOKEN_AUTH, self.context)
        return [
            {'name': 'Bad inputs of modules and the role', 'hosts': 'localhost', 'gather_facts': False,
             'module_defaults': {'group/dew.kms.kms': default_auth}, 'tasks': tasks(module_rows)},
            {'name': 'Bad authentication inputs', 'hosts': 'localhost', 'gather_facts': False,
             'tasks': tasks(auth_rows) + [self._mark(count), {
                 'name': 'Keep every result', 'ansible.builtin.copy': {
                     'dest': self.out, 'mode': '0600',
                     'content': "{{ {'rows': dict(rows | zip(query('ansible.builtin.vars', *rows, default={}))),"
                                " 'marks': dict(marks | zip(query('ansible.builtin.vars', *marks)))}"
                                " | to_nice_json }}\n"},
                 'vars': {'rows': rows, 'marks': marks + ['secbad_mark_%d' % count]}}]},
        ]

    # ---------------------------------------------------------------------------- run and read
    def run(self):
        inventory = helpers.write_inventory(os.path.join(self.workdir, 'inventory'))
        self.before = self.describe_all()
        self.emulator.reset_stats()
        self.log_start = len(self.emulator.log_lines())
        started, cpu = time.time(), helpers.children_cpu()
        rc, self.stdout, self.stderr = helpers.run(
            [os.path.join(helpers.BIN, 'ansible-playbook'), '-i', inventory, self.playbook],
            self.ansible_env, self.workdir, stdout_path=os.path.join(self.workdir, 'stdout'))
        self.duration, self.cpu = time.time() - started, helpers.children_cpu() - cpu
        helpers.TIMINGS['bad inputs: one ansible-playbook run'] = (self.duration, self.cpu)
        assert rc == 0, self.stdout[-5000:] + self.stderr[-3000:]
        self.stats = self.emulator.stats()
        self.after = self.describe_all()
        with open(self.out) as handle:
            data = json.load(handle)
        self.results = data['rows']
        marks = data['marks']
        self.requests = self._attribute(self.emulator.log_lines()[self.log_start:], marks)

    def _attribute(self, lines, marks):
        """{row index: [(action, status, code)]}: each logged request to the row whose window holds it."""
        windows = sorted((stamp, int(name.rsplit('_', 1)[1])) for name, stamp in marks.items())
        attributed = dict((index, []) for index in range(len(bad_inputs.TABLE)))
        for line in lines:
            parts = line.split()
            if len(parts) < 6 or not parts[0][:4].isdigit():
                continue
            stamp = parts[0].rstrip('Z')
            fields = dict(part.split('=', 1) for part in parts[3:] if '=' in part)
            owner = None
            for start, index in windows:
                if start <= stamp:
                    owner = index
            action = fields.get('action')
            if action in (None, '-') and '/kms/' in parts[2]:
                action = parts[2].rsplit('/', 1)[1]   # a request the emulator failed to dispatch
            if owner is not None and owner < len(bad_inputs.TABLE):
                attributed[owner].append((action, fields.get('status'), fields.get('code')))
        return attributed


@pytest.fixture(scope='module')
def bad_run(emulator, collections_root, tmp_path_factory):
    run = BadInputRun(emulator, collections_root, str(tmp_path_factory.mktemp('bad-inputs')))
    run.run()
    return run


def _row_params():
    params = []
    for index, row in enumerate(bad_inputs.TABLE):
        marks = []
        if row.id in KNOWN_FINDINGS:
            marks.append(pytest.mark.xfail(reason='known finding: ' + KNOWN_FINDINGS[row.id], strict=False))
        params.append(pytest.param(index, id=row.id, marks=marks))
    return params


@pytest.mark.parametrize('index', _row_params())
def test_row(bad_run, index):
    row = bad_inputs.TABLE[index]
    result = bad_run.results.get('secbad_row_%d' % index)
    assert result, 'row %s registered nothing' % row.id
    msg = str(result.get('msg') or '')
    changing = [call for call in bad_run.requests[index] if call[0] and helpers.is_state_changing(call[0])]
    assert not changing, 'row %s made state-changing calls %s; message: %s' % (row.id, changing, msg)
    assert result.get('failed') is True, 'row %s did not fail: %s' % (row.id, json.dumps(result)[:2000])
    missing = [fragment for fragment in row.expect if fragment not in msg]
    assert not missing, 'row %s: message lacks %s.\nMessage: %s' % (row.id, missing, msg)
    wrong = [fragment for fragment in row.reject if fragment in msg]
    assert not wrong, 'row %s: message should not say %s.\nMessage: %s' % (row.id, wrong, msg)
    echoed = [secret[:12] + '...' for secret in bad_run.secrets if secret in json.dumps(result)]
    assert not echoed, 'row %s echoes secrets %s' % (row.id, echoed)


def test_table_is_large_and_varied():
    rows = bad_inputs.TABLE
    assert len(rows) >= 40
    assert len(set(row.id for row in rows)) == len(rows), 'row ids must be unique'
    targets = set(row.module for row in rows)
    assert {bad_inputs.KM, bad_inputs.IP, bad_inputs.PK, bad_inputs.KK, bad_inputs.KI, bad_inputs.KB,
            bad_inputs.ROLE} <= targets
    assert sum(row.is_role for row in rows) >= 5 and sum(row.is_auth for row in rows) >= 10
    categories = set(row.category for row in rows)
    assert {'malformed id', 'alias', 'size', 'encoding', 'algorithm', 'token', 'expiry', 'path', 'type',
            'credentials', 'conflicting', 'missing', 'key state', 'key spec', 'unicode', 'oversized'} <= categories


def test_no_state_changing_call_in_the_whole_run(bad_run):
    """The counters agree with the log: no state-changing action, except rows of known findings."""
    counted = dict((action, n) for action, n in bad_run.stats['requests'].items() if helpers.is_state_changing(action))
    known = {}
    for index, row in enumerate(bad_inputs.TABLE):
        if row.id in KNOWN_FINDINGS:
            for action, _status, _code in bad_run.requests[index]:
                if action and helpers.is_state_changing(action):
                    known[action] = known.get(action, 0) + 1
    assert counted == known, 'state-changing calls: %s (of them from known findings: %s)' % (counted, known)
    assert sum(bad_run.stats['requests'].values()) > 0   # the rows that reach KMS did talk to it


def test_keys_are_unchanged(bad_run):
    allowed = set()
    for row_id, names in KEYS_CHANGED_BY_FINDINGS.items():
        allowed.update(names)
    changed = dict((name, (bad_run.before[name], bad_run.after[name])) for name in bad_run.keys
                   if bad_run.before[name] != bad_run.after[name] and name not in allowed)
    assert not changed, 'keys changed by bad inputs: %s' % json.dumps(changed, indent=1)


def test_a_dest_holding_a_private_key_is_left_alone(bad_run):
    """The private key at dest-private-key's dest is as it was, and no copy of it was made."""
    dest = bad_run.context['private_key_dest']
    with open(dest) as handle:
        assert handle.read() == bad_run.context['rsa_pem']
    copies = [name for name in os.listdir(os.path.dirname(dest))
              if name.startswith(os.path.basename(dest)) and name != os.path.basename(dest)]
    assert not copies, copies


def test_findings_file_lists_known_findings():
    """FINDINGS.md exists exactly while known findings are open, and names each row."""
    if not KNOWN_FINDINGS:
        assert not os.path.exists(FINDINGS_FILE), 'no open findings: delete tests/security/FINDINGS.md'
        return
    with open(FINDINGS_FILE) as handle:
        text = handle.read()
    for row_id in KNOWN_FINDINGS:
        assert '`%s`' % row_id in text, '%s is not described in FINDINGS.md' % row_id


def test_the_docs_page_matches_the_table():
    with open(bad_inputs.DOC) as handle:
        on_disk = handle.read()
    assert on_disk == bad_inputs.render_doc(), (
        'docs/docsite/rst/bad_inputs.rst is out of date: run python tests/security/bad_inputs.py --write-doc')


def test_runtime(bad_run):
    """A budget on CPU time (wall time depends on what else the machine runs): one playbook run
    for the whole table, not one per row. Measured: about 60 s of CPU for 105 rows."""
    assert bad_run.cpu < 150, 'the bad-input playbook used %.0f s of CPU' % bad_run.cpu
    assert bad_run.duration < 600, 'the bad-input playbook took %.0f s' % bad_run.duration
