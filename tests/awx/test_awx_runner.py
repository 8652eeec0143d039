# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX path end to end: the dew.kms.byok role run by ansible-runner against the emulator.

AWX runs a job with ansible-runner: a private data directory with the project, an inventory,
extra vars, and the credential injected as environment variables rendered from the credential
type's injectors. This test does the same with the built and installed collection (as an
execution environment has it), then checks the result, idempotence, and that no secret or key
material shows up in what AWX would store and display (the runner's stdout and job events).
"""

from __future__ import absolute_import, division, print_function

import base64
import binascii
import json
import os
import re
import stat
import sys

from urllib.request import urlopen

import ansible_runner
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import awx_injection

PLAYBOOK = [{
    'name': 'BYOK job as AWX runs it',
    'hosts': 'localhost',
    'connection': 'local',
    'gather_facts': False,
    # like a vaulted vars file in the AWX project, opened by a Vault credential
    'vars_files': ['vars/byok_keys.yml'],
    'roles': [{'role': 'dew.kms.byok'}],
    'post_tasks': [
        {
            'name': 'Read the keys back',
            'dew.kms.kms_key_info': {'alias': '{{ item }}'},
            # never loop over byok_keys itself: a loop label hides the item only from the display,
            # the job events still carry the whole item, inline material included
            'loop': "{{ byok_keys | map(attribute='alias') }}",
            'register': 'awx_test_keys',
        },
        {
            'name': 'Report the key states',
            'ansible.builtin.debug': {
                'msg': "{{ awx_test_keys.results | map(attribute='kms_keys') | flatten(levels=1) }}",
            },
        },
    ],
}]


def _b64(data):
    return base64.b64encode(data).decode('ascii')


@pytest.fixture(scope='module')
def material(tmp_path_factory):
    """Key material files on the 'controller' and the strings that must never be shown."""
    work = tmp_path_factory.mktemp('material')
    aes = os.urandom(32)
    (work / 'aes.bin').write_bytes(aes)
    inline = os.urandom(32)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forbidden = []
    for raw in (aes, inline):
        forbidden.extend([_b64(raw), binascii.hexlify(raw).decode('ascii'), binascii.hexlify(raw).decode('ascii').upper()])
    for name, key in (('ec.pem', ec_key), ('rsa.pem', rsa_key)):
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
        (work / name).write_bytes(pem)
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        # any 40-character piece of the PEM body or of the PKCS#8 DER in base64
        body = ''.join(pem.decode('ascii').splitlines()[1:-1])
        forbidden.extend([body[:40], body[-40:], _b64(der)[:40], _b64(der)[100:140]])
    keys = [
        {'alias': 'awx-aes', 'key_spec': 'AES_256', 'key_material_path': str(work / 'aes.bin')},
        {'alias': 'awx-ec', 'key_spec': 'EC_P256', 'key_material_path': str(work / 'ec.pem')},
        {'alias': 'awx-rsa', 'key_spec': 'RSA_2048', 'key_material_path': str(work / 'rsa.pem')},
        {'alias': 'awx-inline', 'key_spec': 'AES_256', 'key_material': _b64(inline)},
    ]
    return {'keys': keys, 'forbidden': forbidden}


def _stats(emulator):
    base = emulator.get('admin_url') or emulator['kms_endpoint'].rstrip('/') + '/__emulator'
    with urlopen(base + '/stats', timeout=10) as response:
        return json.loads(response.read().decode('utf-8'))['requests']


def _run_job(tmp_path, collections_path, env, keys, verbosity, cmdline=None):
    """One AWX-style job: project playbook, inventory, extra vars, credential env vars."""
    private = tmp_path / 'private_data_dir'
    (private / 'project').mkdir(parents=True)
    (private / 'inventory').mkdir()
    (private / 'project' / 'vars').mkdir()
    (private / 'project' / 'byok.yml').write_text(yaml.safe_dump(PLAYBOOK, sort_keys=False))
    (private / 'project' / 'vars' / 'byok_keys.yml').write_text(yaml.safe_dump({'byok_keys': keys}))
    (private / 'inventory' / 'hosts').write_text(
        'localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
    envvars = dict(env)
    envvars.update({
        'ANSIBLE_COLLECTIONS_PATH': collections_path,
        'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false',
        'ANSIBLE_HOME': str(tmp_path / 'ansible_home'),
        'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible_tmp'),
        'ANSIBLE_REMOTE_TMP': str(tmp_path / 'ansible_remote_tmp'),
        'ANSIBLE_NOCOLOR': '1',
        'PATH': os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', ''),
    })
    result = ansible_runner.run(
        private_data_dir=str(private), playbook='byok.yml', ident='job',
        envvars=envvars, verbosity=verbosity, cmdline=cmdline,
        quiet=True, timeout=600)
    return result, private / 'artifacts' / 'job'


def _events(result):
    return list(result.events)


def _task_results(events, task):
    return [e['event_data'].get('res', {}) for e in events
            if e.get('event') == 'runner_on_ok' and e.get('event_data', {}).get('task') == task]


def _assert_no_secrets(artifacts, secrets):
    """Nothing AWX stores or shows (stdout, stderr, job events, ...) holds a secret."""
    command = artifacts / 'command'
    # ansible-runner's own record of the command line and environment it started: like the
    # credential itself it holds the secrets, readable by the job's user only.
    assert command.exists()
    assert stat.S_IMODE(os.stat(str(command)).st_mode) == 0o600
    checked = 0
    for dirpath, _dirnames, filenames in os.walk(str(artifacts)):
        for filename in filenames:
            path = os.path.join(dirpath, filename)
            if path == str(command):
                continue
            with open(path, 'rb') as handle:
                text = handle.read().decode('utf-8', 'replace')
            checked += 1
            for secret in secrets:
                assert secret not in text, 'a secret or key material leaked into %s' % path
    assert checked > 3


def test_byok_role_runs_like_an_awx_job(tmp_path_factory, emulator, installed_collection,
                                        credential_type, material):
    secrets = [emulator['password'], emulator['secret_key']] + material['forbidden']
    inputs_password = {
        'region': emulator['region'],
        'kms_endpoint': emulator['kms_endpoint'],
        'iam_endpoint': emulator['iam_endpoint'],
        'username': emulator['username'],
        'password': emulator['password'],
        'domain_name': emulator['domain_name'],
        'project_name': emulator['project_name'],
    }
    inputs_aksk = {
        'region': emulator['region'],
        'kms_endpoint': emulator['kms_endpoint'],
        'iam_endpoint': emulator['iam_endpoint'],
        'access_key': emulator['access_key'],
        'secret_key': emulator['secret_key'],
        'project_id': emulator['project_id'],
    }
    before = _stats(emulator)

    # First job: IAM password credential, AWX's default verbosity. Creates and imports.
    env = awx_injection.render_env(credential_type, inputs_password)
    first, artifacts = _run_job(tmp_path_factory.mktemp('job1'), installed_collection, env,
                                material['keys'], verbosity=0)
    stdout = (artifacts / 'stdout').read_text()
    assert first.status == 'successful', stdout
    assert first.rc == 0
    events = _events(first)
    states = _task_results(events, 'Report the key states')
    assert len(states) == 1, stdout
    keys = states[0]['msg']
    assert [k['alias'] for k in keys] == ['awx-aes', 'awx-ec', 'awx-rsa', 'awx-inline']
    assert [k['key_state_name'] for k in keys] == ['enabled'] * 4, keys
    assert [k['origin'] for k in keys] == ['external'] * 4, keys
    assert sum(first.stats['changed'].values()) > 0
    _assert_no_secrets(artifacts, secrets)
    # the job output shows each key as it completes, the totals line and the table
    shown = '\n'.join(event.get('stdout', '') for event in events)
    for alias in ('awx-aes', 'awx-ec', 'awx-rsa', 'awx-inline'):
        assert re.search(r'kms_byok \[[1-4]/4\] %s: created\+imported, enabled, verified' % alias, shown), stdout
        assert re.search(r'(?m)^%s +\S+ +created\+imported +enabled +yes ' % alias, shown), stdout
    assert 'kms_byok 4 keys: 4 created and imported, 0 imported, 0 unchanged, 0 failed' in shown, stdout
    # set_stats: an AWX workflow receives byok_results as an artifact of the job
    artifact = [e['event_data'].get('artifact_data', {}) for e in events if e.get('event') == 'playbook_on_stats']
    assert [r['alias'] for r in artifact[0]['byok_results']] == ['awx-aes', 'awx-ec', 'awx-rsa', 'awx-inline'], artifact

    after_first = _stats(emulator)
    imports = after_first.get('import-key-material', 0) - before.get('import-key-material', 0)
    assert imports == 4, after_first

    # Second job: AK/SK credential, high verbosity (what a user turns on to debug): no change,
    # no import call, still nothing secret in the output.
    env = awx_injection.render_env(credential_type, inputs_aksk)
    second, artifacts = _run_job(tmp_path_factory.mktemp('job2'), installed_collection, env,
                                 material['keys'], verbosity=3)
    stdout = (artifacts / 'stdout').read_text()
    assert second.status == 'successful', stdout
    assert sum(second.stats.get('changed', {}).values()) == 0, stdout
    keys = _task_results(_events(second), 'Report the key states')[0]['msg']
    assert [k['key_state_name'] for k in keys] == ['enabled'] * 4, keys
    _assert_no_secrets(artifacts, secrets)
    after_second = _stats(emulator)
    assert after_second.get('import-key-material', 0) == after_first.get('import-key-material', 0)
    assert after_second.get('create-key', 0) == after_first.get('create-key', 0)

    # Third job: a check job with diff (AWX job type "check", "show changes") and one new key:
    # reports the change, creates and imports nothing, shows no material.
    new_key = dict(material['keys'][0], alias='awx-check')
    third, artifacts = _run_job(tmp_path_factory.mktemp('job3'), installed_collection, env,
                                material['keys'] + [new_key], verbosity=1, cmdline='--check --diff')
    stdout = (artifacts / 'stdout').read_text()
    assert third.status == 'successful', stdout
    assert 'awx-check' in stdout and sum(third.stats.get('changed', {}).values()) > 0, stdout
    _assert_no_secrets(artifacts, secrets)
    after_third = _stats(emulator)
    for action in ('create-key', 'get-parameters-for-import', 'import-key-material'):
        assert after_third.get(action, 0) == after_second.get(action, 0), (action, after_third)
