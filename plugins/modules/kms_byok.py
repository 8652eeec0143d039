#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: kms_byok
short_description: Import your own key material into many KMS keys in one task
version_added: 0.1.0
description:
  - Brings customer key material into Huawei Cloud or Open Telekom Cloud KMS (bring your own key,
    BYOK) for a whole list of keys in one task. This is the engine of the role
    P(dew.kms.byok#role).
  - For every entry of O(keys) it finds the key (by O(keys[].alias) or O(keys[].key_id)), creates
    an external key under the alias when it is missing and O(create_missing=true), fetches import
    parameters, wraps the material locally, imports it and, with O(verify=true), checks the result.
  - All keys share one HTTP connection pool and one set of credentials (a single IAM token with
    password authentication) and are processed in parallel by at most O(max_workers) threads.
    Aliases are resolved with one paged key listing rather than one lookup per key.
  - "Material is wrapped on the host that runs the module. Run it on the controller
    (C(delegate_to: localhost)) so that plaintext key material never leaves it."
  - One failing key (pending deletion, not an external key, material of the wrong size or type, ...)
    fails only its own entry of RV(results). The other keys are still processed; the module then
    fails and its message names the keys that failed.
  - Idempotent by key state. A key that already holds material is reported as V(unchanged) and no
    import call is made for it. KMS accepts only the same material again for a key, so the module
    cannot change the material of a key.
  - Key material is never part of the results, the messages, the diff or the warnings.
author:
  - dew.kms developers (!UNKNOWN)
options:
  keys:
    description:
      - The keys to bring in. The order is kept in RV(results).
      - Each entry needs exactly one of O(keys[].alias) and O(keys[].key_id), and exactly one of
        O(keys[].key_material) and O(keys[].key_material_path).
      - An alias or key ID may appear only once in the list.
    type: list
    elements: dict
    required: true
    suboptions:
      alias:
        description:
          - Alias of the key (without the C(alias/) prefix).
          - When no key has this alias and O(create_missing=true), an external key with this alias,
            O(keys[].key_spec), O(keys[].key_usage) and O(keys[].description) is created.
        type: str
      key_id:
        description:
          - ID of an existing external key. Keys named by ID are never created.
        type: str
      key_spec:
        description:
          - Algorithm of the key. It must match the existing key and the material.
        type: str
        default: AES_256
        choices: [AES_256, RSA_2048, RSA_3072, RSA_4096, EC_P256, EC_P384]
      key_usage:
        description:
          - Usage of a key the module creates. Ignored for existing keys.
          - Defaults to what KMS chooses for O(keys[].key_spec) - V(ENCRYPT_DECRYPT) for V(AES_256),
            V(SIGN_VERIFY) for RSA and EC keys. EC keys support only V(SIGN_VERIFY).
        type: str
        choices: [ENCRYPT_DECRYPT, SIGN_VERIFY]
      key_material:
        description:
          - The key material as text. For V(AES_256), the base64 of the 32 key bytes. For RSA and
            EC keys, the private key as PEM text or base64 DER.
          - Never logged. Prefer O(keys[].key_material_path), or keep the variable in a vault.
        type: str
      key_material_path:
        description:
          - File holding the key material, on the host that runs the module.
          - For V(AES_256), exactly 32 raw bytes or their base64 text. For RSA and EC keys, an
            unencrypted private key in PEM or DER (PKCS#8, PKCS#1 or SEC1).
        type: path
      expiration_time:
        description:
          - When KMS should delete the imported material again, as epoch seconds or an ISO 8601
            date and time (UTC unless an offset is given). It must be in the future.
          - Omit it for material that never expires. Only for V(AES_256) keys; the material of
            RSA and EC keys is permanent.
          - Applied only when material is imported; a warning says so when a key already holds
            material with another expiry.
        type: str
      description:
        description:
          - Description of a key the module creates (at most 255 characters). Existing keys keep
            theirs.
        type: str
  wrapping_algorithm:
    description:
      - Algorithm that wraps the material with the import public key of KMS.
      - V(RSAES_OAEP_SHA_1) and V(RSAES_PKCS1_V1_5) are weak and only for regions that lack
        V(RSAES_OAEP_SHA_256); using them shows a warning.
    type: str
    default: RSAES_OAEP_SHA_256
    choices: [RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1, RSAES_PKCS1_V1_5]
  create_missing:
    description:
      - Create an external key for an O(keys[].alias) that no key has yet.
      - With V(false), such an entry fails.
    type: bool
    default: true
  verify:
    description:
      - After importing material, check the key. It must be enabled; an V(AES_256) key must
        encrypt and decrypt a random probe through KMS; for an RSA or EC key, the public key KMS
        returns must equal the one derived from the local private key.
      - Only keys whose material this task imported are verified. Keys that already held material
        are not, so that a second run stays cheap; their RV(results[].verified) is V(null).
    type: bool
    default: true
  max_workers:
    description:
      - Maximum number of keys processed at the same time (threads sharing one connection pool).
      - Between 1 and 32. Lower it if the cloud throttles the account (HTTP 429).
    type: int
    default: 8
extends_documentation_fragment:
  - dew.kms.auth
  - dew.kms.requirements
  - dew.kms.requirements.cryptography
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  check_mode:
    support: full
    details:
      - Reports what would be created and imported; makes no call that changes a key.
  diff_mode:
    support: full
    details:
      - One diff per changed key, with the key state and material expiry before and after.
        Never the material.
  platform:
    platforms: all
  action_group:
    membership:
      - dew.kms.kms
notes:
  - "Calls per key - one key listing for all aliases (one call per 100 keys in the project), then
    for a key waiting for its material C(get-parameters-for-import) and C(import-key-material),
    plus C(create-key) for a key that is created. Verification adds C(describe-key) and either
    C(encrypt-data) and C(decrypt-data) or C(get-publickey). A key that already holds its
    material costs no call beyond the listing."
  - "When C(create-key) or C(import-key-material) fails unclearly (a 5xx answer, or a connection
    lost after the request was sent), the module reads the key state before it acts again - it
    looks the alias up, or describes the key. A key that exists or holds its material is used as
    it is; otherwise the call is made again (an import with fresh import parameters), at most
    O(retries) times, each time with a warning. Nothing is ever created or imported twice."
  - B(Keep a backup of your key material.) A key that once held material accepts only the same
    material again, after it expired or was deleted. Without the backup, the key and all data
    encrypted under it are lost.
seealso:
  - module: dew.kms.kms_key_material
    description: Import material into one key, or delete imported material.
  - module: dew.kms.kms_key
    description: Create, enable, disable and schedule deletion of keys.
  - module: dew.kms.kms_public_key
    description: Read the public key of an RSA or EC key.
  - ref: ansible_collections.dew.kms.docsite.design_decisions
    description: Why a batch module exists beside the single-key modules.
'''

EXAMPLES = r'''
# Authentication as for every dew.kms module: module_defaults for group/dew.kms.kms, or the
# environment. Relative paths are relative to the directory ansible-playbook runs in.

- name: Import three keys on the controller, creating the missing ones
  dew.kms.kms_byok:
    keys:
      - alias: batch-data
        key_material_path: keys/batch-data.bin       # 32 raw bytes
      - alias: batch-archive
        key_material: "{{ vault_batch_archive_b64 }}"  # base64 of 32 bytes
        expiration_time: "2031-01-01T00:00:00Z"
      - alias: batch-signing
        key_spec: RSA_2048
        key_material_path: keys/batch-signing.pem    # RSA private key
    region: eu-de
  delegate_to: localhost
  run_once: true
  register: byok

- name: Show what happened to each key
  ansible.builtin.debug:
    msg: "{{ byok.results | map(attribute='action') }}"

- name: An external key made elsewhere (here with dew.kms.kms_key)
  dew.kms.kms_key:
    alias: legacy-data
    origin: external
  register: legacy

- name: Import material into existing keys given by ID, without verification
  dew.kms.kms_byok:
    keys:
      - key_id: "{{ legacy.key.key_id }}"
        key_material_path: keys/legacy-data.bin
    verify: false
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
results:
  description:
    - One entry per element of O(keys), in the same order. Never contains key material.
  returned: always, also when the module fails because some keys failed
  type: list
  elements: dict
  contains:
    alias:
      description: Alias of the key (from KMS, or as given when the key was not found).
      type: str
      sample: app-data
    key_id:
      description: ID of the key; V(null) if it does not exist (yet).
      type: str
      sample: 0d0466b0-e727-4d9c-b35d-f84bb474a37f
    key_spec:
      description: Algorithm of the key.
      type: str
      sample: AES_256
    key_state:
      description: >-
        State code as KMS gives it (V(2) enabled, V(3) disabled, V(4) pending deletion,
        V(5) pending import); in check mode, the predicted state. V(null) if unknown.
      type: str
      sample: '2'
    key_state_name:
      description: >-
        The state in words - V(enabled), V(disabled), V(pending_deletion), V(pending_import), ...
      type: str
      sample: enabled
    changed:
      description: Whether this key was (or, in check mode, would be) changed.
      type: bool
    action:
      description:
        - What happened to the key. V(created+imported) - the key was created and its material
          imported. V(imported) - material was imported into an existing key. V(unchanged) - the
          key already held its material. V(would_create+import) and V(would_import) - the same
          in check mode. V(failed) - see RV(results[].error).
      type: str
      choices: [created+imported, imported, unchanged, would_create+import, would_import, failed]
      sample: created+imported
    verified:
      description:
        - V(true) when the verification after the import passed, V(false) when it failed, V(null)
          when it did not run (O(verify=false), check mode, no import in this run).
      type: bool
    expiration_time:
      description: Expiry of the key material in epoch seconds; V(null) when it never expires.
      type: int
      sample: 1924992000
    expiration_date:
      description: RV(results[].expiration_time) as ISO 8601 UTC.
      type: str
      sample: '2031-01-01T00:00:00Z'
    error:
      description: Why this key failed (V(null) when it did not).
      type: str
      sample: >-
        Key 0d0466b0-e727-4d9c-b35d-f84bb474a37f is pending deletion: cancel the deletion first
        (dew.kms.kms_key with cancel_deletion=true), then import the material.
    error_code:
      description: KMS or API gateway error code of the failure, if the service gave one.
      type: str
      sample: KMS.0310
    request_id:
      description: Request ID of the failed call, for the cloud's support, if any.
      type: str
'''

import base64
import os

from ansible_collections.dew.kms.plugins.module_utils import _keys
from ansible_collections.dew.kms.plugins.module_utils._common import KmsModule
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsError, KmsInputError, KmsNotFoundError
from ansible_collections.dew.kms.plugins.module_utils._wrap import (
    ASYMMETRIC_KEY_SPECS,
    SYMMETRIC_KEY_SPECS,
    WEAK_WRAPPING_ALGORITHMS,
    WRAPPING_ALGORITHMS,
    private_key_spec,
    public_key_der_of,
)

MAX_WORKERS_LIMIT = 32   # the client's connection pool holds 32 connections
FAILED_DETAILS_IN_MSG = 5

KEY_OPTIONS = dict(
    alias=dict(type='str'),
    key_id=dict(type='str'),
    key_spec=dict(type='str', default='AES_256', choices=list(SYMMETRIC_KEY_SPECS + ASYMMETRIC_KEY_SPECS)),
    key_usage=dict(type='str', choices=['ENCRYPT_DECRYPT', 'SIGN_VERIFY']),
    key_material=dict(type='str', no_log=True),
    key_material_path=dict(type='path'),
    expiration_time=dict(type='str'),
    description=dict(type='str'),
)

ARGUMENT_SPEC = dict(
    keys=dict(type='list', elements='dict', required=True, options=KEY_OPTIONS, no_log=False,
              mutually_exclusive=[['alias', 'key_id'], ['key_material', 'key_material_path']],
              required_one_of=[['alias', 'key_id'], ['key_material', 'key_material_path']]),
    wrapping_algorithm=dict(type='str', default='RSAES_OAEP_SHA_256', choices=list(WRAPPING_ALGORITHMS)),
    create_missing=dict(type='bool', default=True),
    verify=dict(type='bool', default=True),
    max_workers=dict(type='int', default=8),
)


class BatchFailed(KmsError):
    """Some keys failed: fail the task, but return every result."""

    def __init__(self, msg, result):
        super(BatchFailed, self).__init__(msg)
        self.result = result

    def as_fail_kwargs(self):
        kwargs = dict(self.result)
        kwargs['msg'] = self.msg
        return kwargs


class Entry:
    """One element of ``keys``: its input, local material, the key in KMS and the outcome."""

    def __init__(self, index, params):
        self.index = index
        self.params = params
        self.alias = params['alias']
        self.key_id = params['key_id']
        self.label = self.alias or self.key_id
        self.key_spec = params['key_spec']
        self.material = None        # 32 bytes (AES_256)
        self.private_key = None     # key object (RSA / EC)
        self.expiration_time = None
        self.key = None             # normalised key from KMS, None while not found
        self.before = None          # the key before this run changed it (diff)
        self.error = None
        self.result = None

    def fail(self, error):
        """Record the failure; a result already there (imported, then verification failed) stays."""
        self.error = error
        result = self.result or result_of(self, self.key, 'failed', False)
        result.update(action='failed', error=error.msg, error_code=error.error_code,
                      request_id=error.request_id)
        self.result = result


def result_of(entry, key, action, changed, verified=None):
    """The public result of one entry: identifiers, state and outcome; never material."""
    key = key or {}
    expiration = key.get('expiration_time')
    return {
        'alias': key.get('alias') or entry.alias,
        'key_id': key.get('key_id') or entry.key_id,
        'key_spec': key.get('key_spec') or entry.key_spec,
        'key_state': key.get('key_state'),
        'key_state_name': key.get('key_state_name'),
        'changed': changed,
        'action': action,
        'verified': verified,
        'expiration_time': expiration,
        'expiration_date': _keys.iso8601(expiration),
        'error': None,
        'error_code': None,
        'request_id': None,
    }


# ----------------------------------------------------------------------------- the batch engine

class Batch:
    """Runs the per-key chain for every entry over a bounded thread pool and one client."""

    def __init__(self, km):
        self.km = km
        params = km.params
        self.check_mode = km.check_mode
        self.wrapping_algorithm = params['wrapping_algorithm']
        self.create_missing = params['create_missing']
        self.verify = params['verify']
        self.max_workers = params['max_workers']
        self.entries = [Entry(index, key) for index, key in enumerate(params['keys'])]

    def run(self):
        if not 1 <= self.max_workers <= MAX_WORKERS_LIMIT:
            raise KmsInputError('max_workers must be between 1 and %d.' % MAX_WORKERS_LIMIT)
        if self.wrapping_algorithm in WEAK_WRAPPING_ALGORITHMS:
            self.km.warn('wrapping_algorithm %s is weak; use RSAES_OAEP_SHA_256 where the region '
                         'offers it.' % self.wrapping_algorithm)
        self.reject_repeated(lambda e: ('alias', e.alias) if e.alias else ('key_id', e.key_id))
        self.parallel(self.prepare, self.live())
        self.resolve()
        self.reject_repeated(lambda e: ('key', e.key['key_id']) if e.key else None)
        self.parallel(self.process, self.live())
        return self.outcome()

    def live(self):
        return [entry for entry in self.entries if entry.error is None]

    def parallel(self, step, entries):
        """``step(entry)`` for each entry; a KmsError fails only that entry."""
        def guarded(entry):
            try:
                step(entry)
            except KmsError as error:
                entry.fail(error)

        workers = min(self.max_workers, len(entries))
        if workers <= 1:
            for entry in entries:
                guarded(entry)
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix='kms_byok') as pool:
            # list() re-raises anything unexpected (a bug) instead of losing it
            list(pool.map(guarded, entries))

    def reject_repeated(self, identity):
        """Fail every later entry naming a key an earlier entry already names."""
        first = {}
        for entry in self.live():
            ident = identity(entry)
            if ident is None:
                continue
            if ident in first:
                what = 'key %s' % ident[1] if ident[0] == 'key' else '%s %s' % ident
                entry.fail(KmsInputError(
                    'keys[%d] names the same %s as keys[%d] (%s): give each key only once.'
                    % (entry.index, what, first[ident].index, first[ident].label)))
            else:
                first[ident] = entry

    # ------------------------------------------------------------------------- 1. local checks

    def prepare(self, entry):
        """Load and check the material locally, before any API call for this key."""
        params = entry.params
        if params['key_material_path'] is not None:
            field = 'key_material_path'
            data = read_material_file(params['key_material_path'])
        else:
            field = 'key_material'
            data = params['key_material']
        kind, value = _keys.load_material(data, field)
        if kind == 'symmetric':
            entry.material = value
            spec = None
        else:
            entry.private_key = value
            spec = private_key_spec(value, field)
        material_spec = spec or 'AES_256'
        if material_spec != entry.key_spec:
            raise KmsInputError(
                'key_spec is %s, but %s holds %s: set key_spec to %s, or give material of the kind %s needs.'
                % (entry.key_spec, field,
                   'an %s private key' % spec if spec else '32 bytes of AES_256 material',
                   material_spec, entry.key_spec))
        entry.expiration_time = _keys.parse_expiration_time(params['expiration_time'])
        # the input's key_spec stands for the key until KMS is asked
        _keys.check_importable(planned_key(entry), kind, spec, entry.expiration_time)

    # ------------------------------------------------------------------------- 2. find the keys

    def resolve(self):
        """Find every key: one paged listing for aliases, describe-key for lone IDs."""
        entries = self.live()
        if not entries:
            return
        client = self.km.client
        by_id = [entry for entry in entries if entry.key_id]
        if len(entries) == 1 and by_id:
            listed = None
        else:
            listed = _keys.list_keys(client)
        if listed is not None:
            index_id = dict((key['key_id'], key) for key in listed)
            index_alias = {}
            # aliases are unique per project; prefer a live key if a deleted one still shows up
            for key in sorted(listed, key=lambda k: k['key_state'] != '4'):
                if key['alias']:
                    index_alias[key['alias']] = key
            for entry in entries:
                entry.key = index_id.get(entry.key_id) if entry.key_id else index_alias.get(entry.alias)
        # IDs the listing did not show (another enterprise project, or no listing): ask for each
        self.parallel(self.describe, [entry for entry in by_id if entry.key is None])

    def describe(self, entry):
        try:
            entry.key = _keys.describe_key(self.km.client, entry.key_id)
        except KmsError as error:
            if isinstance(error, KmsNotFoundError):
                raise KmsError('Key %s was not found in this project and region: keys named by '
                               'key_id are never created; check key_id, or name the key by alias.'
                               % entry.key_id, status=error.status, error_code=error.error_code,
                               request_id=error.request_id)
            raise

    # ------------------------------------------------------------------------- 3. per key chain

    def process(self, entry):
        client = self.km.client
        key, created = entry.key, False
        if key is None:
            if not self.create_missing:
                raise KmsInputError('No key has the alias %s and create_missing is false: create '
                                    'the key first, or set create_missing.' % entry.alias)
            if self.check_mode:
                after = _keys.with_state(planned_key(entry), '2', expiration_time=entry.expiration_time)
                after['key_id'] = None
                entry.result = result_of(entry, after, 'would_create+import', True)
                return
            key, created = self.create(entry)
            if created:
                # should the import fail now, the result still says that a key was created
                entry.result = result_of(entry, key, 'failed', True)
        if key['key_spec'] != entry.key_spec:
            raise KmsInputError('Key %s (%s) has key_spec %s in KMS, but key_spec is %s here: give the '
                                'key\'s key_spec and material of that kind.'
                                % (entry.label, key['key_id'], key['key_spec'], entry.key_spec))
        entry.key = key
        changed, before, after = _keys.import_material(
            client, key, material=entry.material, private_key=entry.private_key,
            wrapping_algorithm=self.wrapping_algorithm, expiration_time=entry.expiration_time,
            check_mode=self.check_mode, warn=self.km.warn)
        entry.before = None if created else before
        if not changed:
            entry.result = result_of(entry, after, 'unchanged', False)
            return
        if self.check_mode:
            entry.result = result_of(entry, after, 'would_import', True)
            return
        action = 'created+imported' if created else 'imported'
        entry.result = result_of(entry, after, action, True)
        if self.verify:
            try:
                after = self.verify_key(entry, after)
            except KmsError as error:
                entry.result['verified'] = False
                raise KmsError('The material of key %s was imported, but its verification failed: %s'
                               % (after['key_id'], error.msg), status=error.status,
                               error_code=error.error_code, request_id=error.request_id)
            entry.result = result_of(entry, after, action, True, verified=True)

    def create(self, entry):
        """create-key with origin external: ``(key, created)``; a new key waits for its material."""
        params = entry.params
        try:
            # no re-describe: the new key is built from the request (state 5, pending import);
            # an unclear failure is settled by looking the alias up (see _keys.create_key)
            return _keys.create_key(self.km.client, entry.alias, key_spec=entry.key_spec,
                                    key_usage=params['key_usage'] or None, origin='external',
                                    description=params['description'] or None, reread=False,
                                    warn=self.km.warn), True
        except KmsError as error:
            if error.error_code != 'KMS.1104':
                raise
        # the alias exists after all (created meanwhile, or not shown by the listing)
        key = _keys.find_key_by_alias(self.km.client, entry.alias)
        if key is None:
            raise KmsError('create-key reported that alias %s exists, but no key with it was found.'
                           % entry.alias, error_code='KMS.1104')
        return key, False

    def verify_key(self, entry, key):
        """Re-read the key and prove it works with this material; returns the key as read."""
        client = self.km.client
        key_id = key['key_id']
        now = _keys.describe_key(client, key_id)
        if now['key_state'] != '2':
            raise KmsError('key %s is %s, not enabled.' % (key_id, now['key_state_name']))
        if entry.private_key is None:
            probe = base64.b64encode(os.urandom(24)).decode('ascii')
            cipher_text = _keys.encrypt_data(client, key_id, probe)
            if _keys.decrypt_data(client, cipher_text) != probe:
                raise KmsError('an encrypt/decrypt round trip through KMS with key %s did not return '
                               'the probe.' % key_id)
        else:
            remote = _keys.get_public_key(client, key_id)
            local = base64.b64encode(public_key_der_of(entry.private_key)).decode('ascii')
            if remote['der_b64'] != local:
                raise KmsError('the public key of key %s in KMS differs from the one of the local '
                               'private key.' % key_id)
        return now

    # ------------------------------------------------------------------------- 4. the task result

    def outcome(self):
        results = [entry.result for entry in self.entries]
        result = {'changed': any(r['changed'] for r in results), 'results': results}
        if self.km.module._diff:
            result['diff'] = [diff_of(entry) for entry in self.entries
                              if entry.result['changed'] and entry.error is None]
        failed = [entry for entry in self.entries if entry.error is not None]
        if failed:
            details = ' '.join('%s: %s' % (entry.label, entry.error.msg.rstrip('.') + '.')
                               for entry in failed[:FAILED_DETAILS_IN_MSG])
            more = len(failed) - FAILED_DETAILS_IN_MSG
            if more > 0:
                details += ' And %d more: see results.' % more
            raise BatchFailed('%d of %d keys failed (%s). %s'
                              % (len(failed), len(self.entries),
                                 ', '.join(entry.label for entry in failed), details), result)
        return result


def planned_key(entry):
    """The key as the input describes it (before KMS is asked, or one to be created)."""
    return _keys.normalize_key({
        'key_id': entry.key_id or entry.label,
        'key_alias': entry.alias,
        'key_spec': entry.key_spec,
        'key_usage': entry.params['key_usage'],
        'key_description': entry.params['description'],
        'origin': 'external',
        'key_state': '5',
    })


def read_material_file(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError) as error:
        raise KmsInputError('key_material_path %s cannot be read: %s.' % (path, error.strerror or error))


def diff_of(entry):
    def state(key):
        if not key:
            return 'key: absent\n'
        return 'key_state: %s\nexpiration_date: %s\n' % (
            key.get('key_state_name'), _keys.iso8601(key.get('expiration_time')) or 'never')

    result = entry.result
    header = '%s (%s)' % (entry.label, result['key_id'] or 'new key')
    return {'before_header': header, 'after_header': header,
            'before': state(entry.before), 'after': state(result)}


def main():
    km = KmsModule(ARGUMENT_SPEC)
    km.run(lambda km: Batch(km).run())


if __name__ == '__main__':
    main()
