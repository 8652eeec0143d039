# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A co-tenant with tag rights cannot make a claim pass for proof.

The owner imports material M into key W through the collection, which writes W's material record.
A co-tenant then imports its own material X into keys V and L and writes what it can read: W's
record onto V (copied), and the 6-digit KCV of M, printed in every report, onto L as the legacy
tag. The owner's runs with M must never say ``matched`` for V or L, and the renewal due on both
must delete nothing: V fails as holding other material, L as unproven.
"""

import base64
import os
import time

from support.ansible import run_playbook

PLAY = '''
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/dew.kms.kms: {kms_endpoint: "{{ kms }}", project_id: "{{ project_id }}",
                        access_key: "{{ access_key }}", secret_key: "{{ secret_key }}"}
  tasks:
    - dew.kms.kms_byok:
        keys: "{{ keys_in }}"
        renew_within_days: "{{ renew | int }}"
      register: run
      # the keys under attack must fail: the test reads why from the registered result
      ignore_errors: true
    - ansible.builtin.copy:
        content: "{{ run | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
'''


def _run(emulator, collections_root, workdir, keys, renew=0):
    project = emulator.projects[0]
    run = run_playbook(collections_root, workdir, PLAY, {
        'kms': emulator.kms, 'project_id': project['project_id'], 'access_key': project['access_key'],
        'secret_key': project['secret_key'], 'keys_in': keys, 'renew': renew})
    results = run.results()
    assert results is not None, run.output
    results['printed_warnings'] = run.warnings()
    return results


def test_copied_records_and_legacy_check_values_are_never_proof(emulator, collections_root, tmp_path):
    stamp = '%05d' % (int(time.time() * 1000) % 100000)
    owner_material = base64.b64encode(os.urandom(32)).decode()
    first = _run(emulator, collections_root, tmp_path, [{'alias': 'forge-w-%s' % stamp,
                                                         'key_material': owner_material}])
    assert not first.get('failed'), first.get('msg')
    owner_key, kcv = first['results'][0]['key_id'], first['results'][0]['check_value']
    owner_record = emulator.tags(owner_key)['dew-kms-record']
    assert len(owner_record) == 22

    # the co-tenant's keys: its own material, expiring soon (a renewal is due), and planted tags
    soon = int(time.time()) + 5 * 86400
    planted = {}
    for name, tag in (('v', {'key': 'dew-kms-record', 'value': owner_record}),
                      ('l', {'key': 'dew-kms-kcv', 'value': kcv})):
        alias = 'forge-%s-%s' % (name, stamp)
        key_id = emulator.create_key(alias)
        emulator.import_material(key_id, material=os.urandom(32), expiration_time=soon)
        emulator.call('%s/tags/action' % key_id, {'action': 'create', 'tags': [tag]})
        planted[name] = (alias, key_id)

    keys = [{'alias': planted[name][0], 'key_material': owner_material} for name in ('v', 'l')]
    deletes_before = emulator.stats()['requests'].get('delete-imported-key-material', 0)
    plain = _run(emulator, collections_root, tmp_path / 'plain', keys)
    renewal = _run(emulator, collections_root, tmp_path / 'renew',
                   [dict(key, expiration_time=int(time.time()) + 400 * 86400) for key in keys], renew=30)

    copied, legacy = plain['results']
    assert copied['action'] == 'failed' and copied['material_check'] is None
    assert 'does not hold the material of' in copied['error'] and 'dew-kms-record' in copied['error']
    assert legacy['action'] == 'unchanged' and legacy['material_check'] == 'unproven'
    assert any('cannot be proven' in warning and planted['l'][1] in warning for warning in plain['printed_warnings'])
    assert 'matched' not in [result['material_check'] for result in plain['results'] + renewal['results']]

    renew_copied, renew_legacy = renewal['results']
    assert renewal['failed'] and renew_copied['action'] == renew_legacy['action'] == 'failed'
    assert 'holds other material than the one given' in renew_copied['error']
    assert 'cannot be proven to be the one KMS holds' in renew_legacy['error']
    assert 'Nothing was changed' in renew_legacy['error']
    # nothing was destroyed on a claim: no material deleted, both keys keep the co-tenant's
    assert emulator.stats()['requests'].get('delete-imported-key-material', 0) == deletes_before
    for _alias, key_id in planted.values():
        assert emulator.describe(key_id)['key_state'] == '2'
