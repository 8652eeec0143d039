#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kms_key
short_description: Manage keys in Huawei Cloud / Open Telekom Cloud KMS
version_added: 0.1.0
description:
  - Creates a KMS key, or finds an existing one by O(alias) or O(key_id), and makes its
    description and enabled state match.
  - With O(state=absent) the key is scheduled for deletion after O(pending_days) days.
  - A key pending deletion is never brought back silently. With O(state=present) the module
    fails unless O(cancel_deletion=true) is set; then the deletion is cancelled, which leaves the
    key disabled as KMS does (add O(enabled=true) to enable it again).
  - The algorithm (O(key_spec)), usage (O(key_usage)) and origin (O(origin)) of a key never
    change. When the existing key differs from what is asked, the module fails and says so.
  - Keys with O(origin=external) start without key material, in state C(pending_import). Import
    the material with M(dew.kms.kms_key_material); until then O(enabled) is ignored with a warning.
author:
  - dew.kms developers (!UNKNOWN)
extends_documentation_fragment:
  - dew.kms.auth
  - dew.kms.wait
  - dew.kms.requirements
  - dew.kms.attributes
options:
  alias:
    description:
      - Alias of the key. Letters, digits, C(:), C(/), C(_) and C(-), 1 to 255 characters.
      - A C(alias/) prefix is dropped, so V(alias/app-data) and V(app-data) name the same key.
      - Needed to create a key. With O(key_id) as well, the key found by its ID gets this alias.
      - One of O(alias) and O(key_id) is required.
    type: str
  key_id:
    description:
      - ID of an existing key, or an alias reference C(alias/<name>).
      - When no key has this ID the module fails; it creates keys only when found by O(alias).
    type: str
  state:
    description:
      - V(present) creates the key if needed and updates it.
      - V(absent) schedules the key for deletion. A key that does not exist or is already
        pending deletion is left as it is.
    type: str
    choices: [present, absent]
    default: present
  key_spec:
    description:
      - Algorithm of a new key. Default V(AES_256) when the key is created.
      - For an existing key, the module fails when it differs.
      - Keys with O(origin=external) can be V(AES_256), V(RSA_2048), V(RSA_3072), V(RSA_4096),
        V(EC_P256) or V(EC_P384).
    type: str
    choices: [AES_256, SM4, RSA_2048, RSA_3072, RSA_4096, EC_P256, EC_P384, SECP256K1, SM2,
              ED25519, HMAC_256, HMAC_384, HMAC_512, HMAC_SM3]
  key_usage:
    description:
      - Usage of a new key. When not set, KMS picks the usage that fits O(key_spec)
        (C(ENCRYPT_DECRYPT) for AES, C(SIGN_VERIFY) for RSA and EC).
      - For an existing key, the module fails when it differs.
    type: str
    choices: [ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC]
  origin:
    description:
      - V(kms) lets KMS generate the key material; V(external) creates a key for your own
        material (bring your own key), imported with M(dew.kms.kms_key_material).
      - Default V(kms) when the key is created. For an existing key, the module fails when it differs.
    type: str
    choices: [kms, external]
  description:
    description:
      - Description of the key, at most 255 characters. V("") removes it.
      - Not set means the description of an existing key is left as it is.
    type: str
  enabled:
    description:
      - V(true) enables a disabled key, V(false) disables an enabled one.
      - Not set means the key stays as it is.
      - Ignored, with a warning, while an external key waits for its material.
    type: bool
  pending_days:
    description:
      - With O(state=absent), how many days (7 to 1096) KMS waits before deleting the key.
    type: int
    default: 7
  cancel_deletion:
    description:
      - With O(state=present), allows the module to cancel the scheduled deletion of the key.
      - Without it, O(state=present) on a key pending deletion fails.
    type: bool
    default: false
attributes:
  check_mode:
    details: In check mode the module reads the key and predicts the result; it makes no change call.
  diff_mode:
    support: full
    details: The diff shows the key before and after, as returned in RV(key).
notes:
  - Default Master Keys (aliases ending in C(/default)) belong to cloud services; the module
    refuses to change them.
  - KMS needs a key to wait at least 7 days before it is deleted; until then the deletion can be
    cancelled with O(cancel_deletion=true).
  - If creating the key fails without a clear answer (a server error or a lost connection), the
    module looks the alias up. A key with it is the key just created; no key means nothing was
    created, and the key is created again, at most O(retries) times, with a warning each time.
    A key is never created twice.
seealso:
  - module: dew.kms.kms_key_info
    description: Look up keys without changing them.
  - module: dew.kms.kms_key_material
    description: Import key material into a key created with O(origin=external).
  - module: dew.kms.kms_import_params
    description: Fetch the wrapping key and import token of an external key.
  - name: Key states of KMS
    description: The states a key goes through (enabled, disabled, pending deletion, pending import).
    link: https://docs.otc.t-systems.com/key-management-service/umn/
"""

EXAMPLES = r"""
- name: Manage KMS keys
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/dew.kms.kms:
      region: eu-de
      access_key: "{{ otc_access_key }}"
      secret_key: "{{ otc_secret_key }}"
      project_id: "{{ otc_project_id }}"
  tasks:
    - name: An AES key for your own material
      dew.kms.kms_key:
        alias: report-data
        origin: external
        key_spec: AES_256
        description: Data key of the reports (BYOK)

    - name: An RSA signing key generated by KMS
      dew.kms.kms_key:
        alias: release-signing
        key_spec: RSA_3072
        key_usage: SIGN_VERIFY
      register: signing_key

    - name: A key that exists but is disabled
      dew.kms.kms_key:
        alias: old-data
        enabled: false

    - name: Schedule deletion in 30 days
      dew.kms.kms_key:
        key_id: "{{ signing_key.key.key_id }}"
        state: absent
        pending_days: 30

    - name: Change of mind, keep the key and use it again
      dew.kms.kms_key:
        key_id: "{{ signing_key.key.key_id }}"
        cancel_deletion: true
        enabled: true

# Ad-hoc, with the credentials in the environment:
#   HW_ACCESS_KEY=... HW_SECRET_KEY=... HW_PROJECT_ID=... HW_REGION_NAME=eu-de \
#   ansible localhost -m dew.kms.kms_key -a 'alias=report-data origin=external'
"""

RETURN = r"""
key:
  description:
    - The key after the task (predicted in check mode). Empty when O(state=absent) found no key.
  returned: always
  type: dict
  contains:
    key_id:
      description: ID of the key.
      type: str
      sample: 0d0466b0-e727-4d9c-b35d-f84bb474a37f
    alias:
      description: Alias of the key.
      type: str
      sample: app-data
    description:
      description: Description of the key, an empty string when it has none.
      type: str
      sample: Data key of the app (BYOK)
    key_spec:
      description: Algorithm of the key.
      type: str
      sample: AES_256
    key_usage:
      description: Usage of the key.
      type: str
      sample: ENCRYPT_DECRYPT
    origin:
      description: V(kms) for keys generated by KMS, V(external) for keys with imported material.
      type: str
      sample: external
    key_state:
      description:
        - State code as the API gives it, V(1) pending activation, V(2) enabled, V(3) disabled,
          V(4) pending deletion, V(5) pending import.
      type: str
      sample: '5'
    key_state_name:
      description: The state in words.
      type: str
      sample: pending_import
      choices: [pending_activation, enabled, disabled, pending_deletion, pending_import, frozen, unknown]
    enabled:
      description: Whether the key is enabled.
      type: bool
      sample: false
    creation_date:
      description: Creation time, epoch seconds.
      type: int
      sample: 1735689600
    expiration_time:
      description: Expiry of imported key material, epoch seconds; V(null) when it does not expire.
      type: int
      sample: null
    scheduled_deletion_date:
      description: When a key pending deletion will be deleted, epoch seconds; V(null) otherwise.
      type: int
      sample: null
    default_key:
      description: Whether this is a Default Master Key created by a cloud service.
      type: bool
      sample: false
    domain_id:
      description: ID of the account (domain) that owns the key.
      type: str
      sample: b168fe00ff56492495a7d22974df2d0b
"""

import time

from ansible_collections.dew.kms.plugins.module_utils._common import WAIT_ARGSPEC, KmsModule, key_diff
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsInputError
from ansible_collections.dew.kms.plugins.module_utils import _keys

IMMUTABLE = ('key_spec', 'key_usage', 'origin')
# what create-key applies when key_spec / origin are not sent (for the check-mode prediction)
KMS_CREATE_DEFAULTS = {'key_spec': 'AES_256', 'origin': 'kms'}


def check_input(p):
    if p['key_id']:
        _keys.validate_key_id(p['key_id'], allow_alias=True)
    if p['alias']:
        # alias/<name> (the habit of other clouds' tools) names the key <name>
        p['alias'] = _keys.validate_alias(_keys.strip_alias_prefix(p['alias']))
    if p['state'] == 'absent':
        _keys.validate_pending_days(p['pending_days'])
    if p['description'] is not None and len(p['description']) > 255:
        raise KmsInputError('description is too long: at most 255 characters.')


def absent(kms, key):
    p = kms.params
    if key is None or key['key_state'] == '4':
        return False, key
    if key['default_key']:
        raise KmsInputError('Key %s is a Default Master Key of a cloud service: it cannot be deleted.' % key['key_id'])
    if kms.check_mode:
        return True, _keys.with_state(key, '4', scheduled_deletion_date=int(time.time()) + p['pending_days'] * _keys.DAY)
    _keys.schedule_key_deletion(kms.client, key['key_id'], p['pending_days'])
    return True, _keys.describe_key(kms.client, key['key_id'])


def create(kms):
    p = kms.params
    if not p['alias']:
        raise KmsInputError('No key has the ID %s. To create a key, give its alias instead of key_id.' % p['key_id'])
    if kms.check_mode:
        key = dict((name, None) for name in _keys.normalize_key({}))
        key.update(alias=p['alias'], description=p['description'] or '', key_usage=p['key_usage'],
                   key_spec=p['key_spec'] or KMS_CREATE_DEFAULTS['key_spec'],
                   origin=p['origin'] or KMS_CREATE_DEFAULTS['origin'], default_key=False)
        return _keys.with_state(key, '5' if p['origin'] == 'external' else '2')
    return _keys.create_key(kms.client, p['alias'], key_spec=p['key_spec'], key_usage=p['key_usage'],
                            origin=p['origin'], description=p['description'])


def check_immutable(p, key):
    """Fail when the task asks for another key_spec, key_usage or origin than the key has."""
    differing = [name for name in IMMUTABLE if p[name] is not None and p[name] != key[name]]
    if differing:
        raise KmsInputError('Key %s cannot change %s: %s. Create a new key with another alias instead.' % (
            key['key_id'], ' and '.join(differing),
            ', '.join('%s is %s, the task asks for %s' % (name, key[name], p[name]) for name in differing)))


def deletion_step(p, key):
    """The cancel-deletion step for a key pending deletion (or a failure), else None."""
    if key['key_state'] != '4':
        return None
    if not p['cancel_deletion']:
        raise KmsInputError(
            'Key %s is pending deletion (scheduled for %s). Set cancel_deletion=true to cancel the deletion '
            'and keep the key, or use state=absent.' % (key['key_id'], _keys.iso8601(key['scheduled_deletion_date'])))
    # KMS leaves a key disabled when its deletion is cancelled
    return (_keys.cancel_key_deletion, {}, {'key_state': '3', 'scheduled_deletion_date': None})


def enabled_step(kms, key, state):
    """The enable/disable step ``enabled`` asks for in ``state``, or None."""
    enabled = kms.params['enabled']
    if enabled is None:
        return None
    if state == '5':
        kms.warn('Key %s waits for its key material: enabled is ignored until the material is imported '
                 '(dew.kms.kms_key_material), which enables the key.' % key['key_id'])
        return None
    if enabled and state == '3':
        return (_keys.enable_key, {}, {'key_state': '2'})
    if not enabled and state == '2':
        return (_keys.disable_key, {}, {'key_state': '3'})
    if state not in ('2', '3'):
        raise KmsInputError('Key %s is %s: it cannot be %s now.'
                            % (key['key_id'], key['key_state_name'], 'enabled' if enabled else 'disabled'))
    return None


def plan_changes(kms, key):
    """[(call, keyword arguments, fields of the key it changes)] in the order KMS needs them."""
    p = kms.params
    cancel = deletion_step(p, key)
    state = cancel[2]['key_state'] if cancel else key['key_state']
    steps = [cancel]
    if p['alias'] and p['alias'] != key['alias']:
        steps.append((_keys.update_key_alias, {'alias': p['alias']}, {'alias': p['alias']}))
    if p['description'] is not None and p['description'] != key['description']:
        steps.append((_keys.update_key_description, {'description': p['description']},
                      {'description': p['description']}))
    steps.append(enabled_step(kms, key, state))
    return [step for step in steps if step is not None]


def present(kms, key):
    """Make an existing key match; returns (changed, key after)."""
    check_immutable(kms.params, key)
    plan = plan_changes(kms, key)
    if not plan:
        return False, key
    if key['default_key']:
        raise KmsInputError('Key %s is a Default Master Key of a cloud service: it cannot be changed.' % key['key_id'])
    if kms.check_mode:
        after = dict(key)
        for _call, _kwargs, changes in plan:
            after.update(changes)
        return True, _keys.with_state(after, after['key_state'])
    if plan[0][0] is _keys.cancel_key_deletion:
        # the state after the cancel depends on the key (an external key that never got material
        # waits for it again): read it before the other steps
        _keys.cancel_key_deletion(kms.client, key['key_id'])
        key = _keys.describe_key(kms.client, key['key_id'])
        plan = plan_changes(kms, key)
    for call, kwargs, _changes in plan:
        call(kms.client, key['key_id'], **kwargs)
    return True, _keys.describe_key(kms.client, key['key_id'])


def run(kms):
    p = kms.params
    check_input(p)
    key = _keys.find_key(kms.client, key_id=p['key_id'], alias=None if p['key_id'] else p['alias'])
    if p['state'] == 'absent':
        changed, after = absent(kms, key)
    elif key is None:
        changed, after = True, create(kms)
        if not kms.check_mode:
            after = _keys.wait_until_usable(kms.client, after, kms.wait_timeout)
        if p['enabled'] is not None:
            after = present(kms, after)[1]
    else:
        changed, after = present(kms, _keys.wait_until_usable(kms.client, key, kms.wait_timeout))
    result = {'changed': changed, 'key': after or {}}
    if kms.diff_mode:
        result['diff'] = diff_of(p, key or {}, after or {})
    return result


def diff_of(p, before, after):
    """The whole key before and after, under its ID (its alias or the given ID while it has none)."""
    header = after.get('key_id') or before.get('key_id') or p['alias'] or p['key_id']
    return key_diff(header, before, after)


def main():
    KmsModule(
        dict(
            WAIT_ARGSPEC,
            alias=dict(type='str'),
            key_id=dict(type='str', no_log=False),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            key_spec=dict(type='str', no_log=False, choices=list(_keys.KEY_SPECS)),
            key_usage=dict(type='str', no_log=False, choices=list(_keys.KEY_USAGES)),
            origin=dict(type='str', choices=list(_keys.ORIGINS)),
            description=dict(type='str'),
            enabled=dict(type='bool'),
            pending_days=dict(type='int', default=_keys.PENDING_DAYS_MIN),
            cancel_deletion=dict(type='bool', default=False),
        ),
        required_one_of=[('alias', 'key_id')],
    ).run(run)


if __name__ == '__main__':
    main()
