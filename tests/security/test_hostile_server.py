# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nothing from the wire is trusted: every module and the role against a hostile server.

A tampering proxy (``tamper_proxy.py``) sits in front of the emulator and serves weak and
wrong-type wrapping keys, answers about another key, trickling, endless and malformed answers.
ONE ``ansible-playbook -vvvv`` run holds every case; each must fail with a clear message, no
traceback and no secret in any output, and KMS must see no state-changing call.
"""

import base64
import json
import os
import re
import time

from urllib.parse import urlsplit

import pytest
import yaml

import helpers  # noqa: E402  (the suite's conftest puts this directory on sys.path)
from canaries import Secrets, scan_text, scan_tree
from tamper_proxy import TamperProxy

TIMEOUT = 1  # seconds: the trickling answers must fail at about this, not hang

EXPECTED = {
    'other-key': 'answer about another key',
    'malformed': 'unexpected answer (not a JSON object)',
    'trickle': 'did not arrive completely within %d s' % TIMEOUT,
    'endless': 'larger than 1048576 bytes',
    'ec-wrapping-key': 'is not an RSA key',
    'weak-wrapping-key': 'at least 2048 bits',
}
# Aliases are resolved through list-keys, whose answer names no key that was asked for, so a
# listing about other keys hides the key: the create-key that follows is refused by KMS because
# the alias exists, and the task fails saying so, having acted on no key.
HIDDEN_BY_LISTING = {
    'kms_key': 'KMS.1104',
    'role': 'exists, but no key with it was found',
}
ANSWER_MODES = ('other-key', 'malformed', 'trickle', 'endless')
WRAPPING_MODES = ('ec-wrapping-key', 'weak-wrapping-key')


# Each module and the role meets several hostile answers, each answer several targets, and the
# material importers every bad wrapping key: one playbook run stays short.
PLAN = {
    'kms_key_info': ('other-key', 'trickle'),
    'kms_key': ('other-key', 'endless'),
    'kms_import_params': ('malformed', 'other-key'),
    'kms_public_key': ('endless', 'malformed'),
    'kms_key_material': ('trickle',) + WRAPPING_MODES,
    'kms_byok': ('other-key', 'malformed') + WRAPPING_MODES,
    'role': ('endless', 'other-key') + WRAPPING_MODES,
}


def _cases():
    """(id, target, mode) for every module and the role."""
    return [('%s-%s' % (target, mode), target, mode) for target, modes in PLAN.items() for mode in modes]


CASES = _cases()


class HostileRun:
    def __init__(self, emulator, collections_root, workdir):
        self.emulator = emulator
        self.workdir = workdir
        self.proxy = TamperProxy(emulator.kms, exit_after=300)
        self.secrets = Secrets(workdir)
        self.token = emulator.issue_token(0)
        self.secrets.add('IAM token', self.token)
        tag = '%05d' % (int(time.time() * 1000) % 100000)
        self.alias = 'hostile-%s-aes' % tag
        self.aes_key = emulator.create_key(self.alias)
        self.rsa_key = emulator.create_key('hostile-%s-rsa' % tag, 'RSA_2048', origin='kms')
        self.before = self._describe()
        self.ansible_env = helpers.AnsibleEnv(collections_root, workdir, {'ANSIBLE_PIPELINING': 'true'})
        self.out = os.path.join(workdir, 'registered.json')
        self.playbook = os.path.join(workdir, 'hostile.yml')
        with open(self.playbook, 'w') as handle:
            yaml.safe_dump(self.plays(), handle, sort_keys=False, width=1000)

    def _describe(self):
        return [self.emulator.describe(key) for key in (self.aes_key, self.rsa_key)]

    def _auth(self, mode):
        kms_path = urlsplit(self.emulator.kms).path
        iam_path = urlsplit(self.emulator.iam).path
        return {'auth_token': self.token, 'project_id': self.emulator.projects[0]['project_id'],
                'kms_endpoint': self.proxy.url(mode, kms_path), 'iam_endpoint': self.proxy.url('pass', iam_path),
                'retries': 0, 'timeout': TIMEOUT}

    def _args(self, target):
        material = base64.b64encode(self.secrets.aes).decode()
        return {
            'kms_key_info': {'key_id': self.aes_key},
            'kms_key': {'alias': self.alias, 'description': 'changed by a hostile answer'},
            'kms_import_params': {'key_id': self.aes_key},
            'kms_public_key': {'key_id': self.rsa_key, 'dest': os.path.join(self.workdir, 'public.pem')},
            'kms_key_material': {'key_id': self.aes_key, 'key_material': material},
            'kms_byok': {'keys': [{'key_id': self.aes_key, 'key_material': material}]},
            'role': {'byok_keys': [{'alias': self.alias, 'key_material': material}]},
        }[target]

    def _task(self, index, case_id, target, mode):
        register = 'hostile_%d' % index
        defaults = {'group/dew.kms.kms': self._auth(mode)}
        if target == 'role':
            return {'name': case_id, 'module_defaults': defaults, 'block': [
                {'name': 'role', 'ansible.builtin.include_role': {'name': 'dew.kms.byok'}, 'vars': self._args(target)},
                {'name': 'the role did not fail', 'ansible.builtin.set_fact': {
                    register: {'failed': False, 'msg': 'the role did not fail'}}},
            ], 'rescue': [
                {'name': 'keep the failure', 'ansible.builtin.set_fact': {register: '{{ ansible_failed_result }}'}},
            ]}
        return {'name': case_id, 'module_defaults': defaults, 'dew.kms.' + target: self._args(target),
                'register': register, 'ignore_errors': True}

    def plays(self):
        registers = ['hostile_%d' % index for index in range(len(CASES))]
        tasks = [self._task(index, *case) for index, case in enumerate(CASES)]
        tasks.append({'name': 'Keep every result', 'ansible.builtin.copy': {
            'dest': self.out, 'mode': '0600',
            'content': "{{ dict(registers | zip(query('ansible.builtin.vars', *registers))) | to_nice_json }}\n"},
            'vars': {'registers': registers}})
        return [{'name': 'Hostile answers', 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}]

    def run(self):
        inventory = helpers.write_inventory(os.path.join(self.workdir, 'inventory'))
        log_start = len(self.emulator.log_lines())
        started, cpu = time.time(), helpers.children_cpu()
        try:
            rc, self.stdout, self.stderr = helpers.run(
                [os.path.join(helpers.BIN, 'ansible-playbook'), '-vvvv', '-i', inventory, self.playbook],
                self.ansible_env, self.workdir, timeout=300, stdout_path=os.path.join(self.workdir, 'stdout'))
        finally:
            self.proxy.stop()
        self.duration, self.cpu = time.time() - started, helpers.children_cpu() - cpu
        helpers.TIMINGS['hostile server: one ansible-playbook run'] = (self.duration, self.cpu)
        assert rc == 0, self.stdout[-5000:] + self.stderr[-3000:]
        self.log_lines = self.emulator.log_lines()[log_start:]
        self.after = self._describe()
        with open(self.out) as handle:
            self.results = json.load(handle)
        return self


@pytest.fixture(scope='module')
def hostile(emulator, collections_root, tmp_path_factory):
    return HostileRun(emulator, collections_root, str(tmp_path_factory.mktemp('hostile'))).run()


@pytest.mark.parametrize('index,case_id,target,mode', [(i,) + case for i, case in enumerate(CASES)],
                         ids=[case[0] for case in CASES])
def test_case_fails_clearly(hostile, index, case_id, target, mode):
    result = hostile.results['hostile_%d' % index]
    text = json.dumps(result)
    assert result.get('failed') is True, (case_id, text[:2000])
    expected = HIDDEN_BY_LISTING[target] if mode == 'other-key' and target in HIDDEN_BY_LISTING else EXPECTED[mode]
    assert expected in text, (case_id, text[:2000])
    assert 'Traceback' not in text and 'module_stderr' not in result, (case_id, text[:2000])


def test_no_traceback_and_no_secret_in_any_output(hostile):
    assert 'Traceback (most recent call last)' not in hostile.stdout + hostile.stderr
    assert scan_text(hostile.stdout + hostile.stderr, hostile.secrets.canaries) == []
    roots = hostile.ansible_env.scan_roots() + [hostile.out]
    assert scan_tree(roots, hostile.secrets.canaries) == []


def test_no_state_changing_call_succeeded_and_the_keys_are_unchanged(hostile):
    """A server that lies can make the collection try a call (a hidden key looks missing, so its
    creation is tried and refused); no such call may succeed, and no key may change."""
    succeeded = [line for line in hostile.log_lines
                 if re.search(r' action=(\S+) status=2', line)
                 and helpers.is_state_changing(re.search(r' action=(\S+)', line).group(1))]
    assert succeeded == []
    assert hostile.after == hostile.before
    assert not os.path.exists(os.path.join(hostile.workdir, 'public.pem'))


def test_every_case_reached_the_proxy(hostile):
    modes = set(mode for mode, _method, _path in hostile.proxy.requests)
    assert modes >= set(ANSWER_MODES + WRAPPING_MODES)
    assert set(mode for modes in PLAN.values() for mode in modes) == set(ANSWER_MODES + WRAPPING_MODES)


def test_runtime(hostile):
    """CPU time, not wall time: the wall time of a shared machine says more about the others."""
    assert hostile.cpu < 60, (hostile.cpu, hostile.duration)
