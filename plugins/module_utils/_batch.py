# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The batch engine of kms_byok (and so of the role dew.kms.byok): the BYOK chain for a whole
key list in one module process, over a bounded thread pool and one client.

``Batch(km).run()`` in phases: reject repeats, prepare (local checks), resolve (one paged
listing), process (create, import, verify per key), outcome. A ``KmsError`` in a per-key step
fails only that entry. Private module: the interface may change between releases. See
docs/dev/architecture.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os

from ansible_collections.dew.kms.plugins.module_utils._common import key_diff
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsError, KmsInputError, KmsNotFoundError
from ansible_collections.dew.kms.plugins.module_utils._keys import (
    complete_key,
    create_key,
    decrypt_data,
    describe_key,
    encrypt_data,
    find_key_by_alias,
    get_public_key,
    iso8601,
    list_keys,
    normalize_key,
    parse_expiration_time,
    state_fields,
    strip_alias_prefix,
    wait_until_usable,
    with_state,
)
from ansible_collections.dew.kms.plugins.module_utils._material import (
    check_importable,
    import_material,
    material_from_options,
    warn_weak_algorithm,
)
from ansible_collections.dew.kms.plugins.module_utils._material_check import (
    holds_recorded_material,
    needs_check_value,
    recorded_check_values,
)
from ansible_collections.dew.kms.plugins.module_utils._regions import check_wrapping_algorithm
from ansible_collections.dew.kms.plugins.module_utils._phases import check_options, finish, handle_held_material, run_phase

MAX_WORKERS_LIMIT = 32   # the client's connection pool holds 32 connections
FAILED_DETAILS_IN_MSG = 5


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
        self.alias = strip_alias_prefix(params['alias'])
        self.key_id = params['key_id']
        self.label = self.alias or self.key_id
        self.key_spec = params['key_spec']
        self.material = None        # _material.Material, loaded in the prepare phase
        self.expiration_time = None
        self.key = None             # normalised key from KMS, None while not found
        self.raced = False          # its creation met a key another run created meanwhile
        self.before = None          # the key before this run changed it (diff)
        self.error = None
        self.result = None
        self.export = None          # its export-bundle entry (phase export)
        self.bundle_entry = None    # its wrapped-bundle entry (phase import)

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
        'material_check': key.get('material_check'),
        'expiration_time': expiration,
        'expiration_date': iso8601(expiration),
        'error': None,
        'error_code': None,
        'request_id': None,
    }


# ----------------------------------------------------------------------------- the batch engine

class Batch:
    """Runs the per-key chain for every entry over a bounded thread pool and one client."""

    def __init__(self, km, on_done=None):
        self.km = km                # the KmsModule: params, check_mode, diff_mode, warn, client
        self.on_done = on_done      # called with each entry once its result is final (progress)
        params = km.params
        self.check_mode = km.check_mode
        self.wrapping_algorithm = params['wrapping_algorithm']
        self.create_missing = params['create_missing']
        self.verify = params['verify']
        self.max_workers = params['max_workers']
        self.phase = params['phase']
        self.entries = [Entry(index, key) for index, key in enumerate(params['keys'])]
        self.quota_reached = False  # set once create-key answered KMS.1105: create no more keys
        self.check_values = None    # {key_id: recorded check value}, read once (read_check_values)

    def run(self):
        if not 1 <= self.max_workers <= MAX_WORKERS_LIMIT:
            raise KmsInputError('max_workers must be between 1 and %d.' % MAX_WORKERS_LIMIT)
        check_options(self.km.params)  # here, so that the module and the action plugin both check
        if self.phase != 'all':
            return run_phase(self)
        check_wrapping_algorithm(self.km.client.config.cloud_provider, self.wrapping_algorithm)
        warn_weak_algorithm(self.wrapping_algorithm, self.km.warn)
        self.reject_repeated(lambda e: ('alias', e.alias) if e.alias else ('key_id', e.key_id))
        self.parallel(self.prepare, self.live())
        self.resolve()
        self.reject_repeated(lambda e: ('key', e.key['key_id']) if e.key else None)
        for entry in self.entries:
            if entry.error is not None:
                self.done(entry)
        self.read_check_values()
        self.parallel(self.process, self.live(), report=True)
        return self.outcome()

    def done(self, entry):
        if self.on_done is not None:
            self.on_done(entry)

    def warn_for(self, entry):
        """A warn function whose messages name the entry's alias (KMS messages name the key id)."""
        if not entry.alias:
            return self.km.warn
        return lambda msg: self.km.warn(msg if 'alias %s' % entry.alias in msg else '%s: %s' % (entry.alias, msg))

    def live(self):
        return [entry for entry in self.entries if entry.error is None]

    def parallel(self, step, entries, report=False):
        """``step(entry)`` for each entry; a KmsError fails only that entry."""
        def guarded(entry):
            try:
                step(entry)
            except KmsError as error:
                entry.fail(error)
            if report:
                self.done(entry)

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
        material = material_from_options(entry.params)
        if not material.fits(entry.key_spec):
            raise KmsInputError(
                'key_spec is %s, but %s holds %s: set key_spec to %s, or give material of the kind %s needs.'
                % (entry.key_spec, material.field, material.description(), material.key_spec, entry.key_spec))
        entry.material = material
        entry.expiration_time = parse_expiration_time(entry.params['expiration_time'])
        # the input's key_spec stands for the key until KMS is asked
        check_importable(planned_key(entry), material, entry.expiration_time)

    # ------------------------------------------------------------------------- 2. find the keys

    def resolve(self):
        """Find every key: one paged listing for aliases, describe-key for lone IDs."""
        entries = self.live()
        if not entries:
            return
        by_id = [entry for entry in entries if entry.key_id]
        if len(entries) > 1 or not by_id:
            index_id, index_alias = index_keys(list_keys(self.km.client))
            for entry in entries:
                entry.key = index_id.get(entry.key_id) if entry.key_id else index_alias.get(entry.alias)
        # IDs the listing did not show (another enterprise project, or no listing): ask for each
        self.parallel(self.describe, [entry for entry in by_id if entry.key is None])

    def describe(self, entry):
        try:
            entry.key = describe_key(self.km.client, entry.key_id)
        except KmsError as error:
            if isinstance(error, KmsNotFoundError):
                raise KmsError('Key %s was not found in this project and region: keys named by '
                               'key_id are never created; check key_id, or name the key by alias.'
                               % entry.key_id, status=error.status, error_code=error.error_code,
                               request_id=error.request_id)
            raise

    def read_check_values(self):
        """The recorded check values of all keys in one query, when an entry needs one (AES
        material for a key that holds material); failing that, each such key is asked alone."""
        if any(needs_check_value(entry.key, entry.material) for entry in self.live()):
            self.check_values = recorded_check_values(self.km.client)

    def recorded_for(self, entry):
        """The check values read for the batch, None (ask KMS) for a key another run created:
        its record may be younger than the batch's."""
        return None if entry.raced else self.check_values

    # ------------------------------------------------------------------------- 3. per key chain

    def require_create_missing(self, entry):
        """The one rule for an alias no key has: only created with create_missing."""
        if not self.create_missing:
            raise KmsInputError('No key has the alias %s and create_missing is false: create '
                                'the key first, or set create_missing.' % entry.alias)

    def process(self, entry):
        key, created = entry.key, False
        if key is None:
            self.require_create_missing(entry)
            if self.check_mode:
                after = with_state(planned_key(entry), '2', expiration_time=entry.expiration_time)
                after['key_id'] = None
                entry.result = result_of(entry, after, 'would_create+import', True)
                return
            key, created = self.create(entry)
            if created:
                # should the import fail now, the result still says that a key was created
                entry.result = result_of(entry, key, 'failed', True)
        # a new key is pending activation for a moment
        key = wait_until_usable(self.km.client, self.complete(entry, key), self.km.wait_timeout)
        if key['key_spec'] != entry.key_spec:
            raise KmsInputError('Key %s (%s) has key_spec %s in KMS, but key_spec is %s here: give the '
                                'key\'s key_spec and material of that kind.'
                                % (entry.label, key['key_id'], key['key_spec'], entry.key_spec))
        entry.key = key
        if not created and handle_held_material(self, entry, key):
            return
        self.import_into(entry, key, created)

    def complete(self, entry, key):
        """A listed key may lack key_spec (OTC lists none): described, unless its recorded check
        value proves that it holds the entry's AES material, which only an AES_256 key can."""
        if not key.get('key_spec') and holds_recorded_material(key, entry.material, self.recorded_for(entry)):
            return dict(key, key_spec=entry.material.key_spec)
        return complete_key(self.km.client, key)

    def import_into(self, entry, key, created):
        """Import the entry's material into its key, then verify it when asked to."""
        changed, before, after = import_material(
            self.km.client, key, entry.material, wrapping_algorithm=self.wrapping_algorithm,
            expiration_time=entry.expiration_time, check_mode=self.check_mode, warn=self.warn_for(entry),
            raced=entry.raced, recorded=self.recorded_for(entry))
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
                after = dict(self.verify_key(entry, after), material_check=after['material_check'])
            except KmsError as error:
                entry.result['verified'] = False
                raise KmsError('The material of key %s was imported, but its verification failed: %s'
                               % (after['key_id'], error.msg), status=error.status,
                               error_code=error.error_code, request_id=error.request_id)
            entry.result = result_of(entry, after, action, True, verified=True)

    def create(self, entry):
        """create-key with origin external: ``(key, created)``; a new key waits for its material."""
        params = entry.params
        if self.quota_reached:
            raise KmsError('Key %s was not created: key quota reached (create-key answered KMS.1105 for '
                           'another key of this task). Schedule deletion of keys that are no longer used, '
                           'or ask the cloud provider for a higher key quota, then run the task again.'
                           % entry.alias, error_code='KMS.1105')
        try:
            # no re-describe: the new key is built from the request (state 1, pending activation);
            # an unclear failure is settled by looking the alias up (see _keys.create_key)
            return create_key(self.km.client, entry.alias, key_spec=entry.key_spec,
                              key_usage=params['key_usage'] or None, origin='external',
                              description=params['description'] or None, reread=False,
                              warn=self.warn_for(entry)), True
        except KmsError as error:
            self.quota_reached = self.quota_reached or error.error_code == 'KMS.1105'
            if error.error_code != 'KMS.1104':
                raise
        # the alias exists after all (created meanwhile, or not shown by the listing)
        entry.raced = True
        key = find_key_by_alias(self.km.client, entry.alias)
        if key is None:
            raise KmsError('create-key reported that alias %s exists, but no key with it was found.'
                           % entry.alias, error_code='KMS.1104')
        return key, False

    def verify_key(self, entry, key):
        """Re-read the key and prove it works with this material; returns the key as read."""
        client = self.km.client
        key_id = key['key_id']
        now = describe_key(client, key_id)
        if now['key_state'] != '2':
            raise KmsError('key %s is %s, not enabled.' % (key_id, now['key_state_name']))
        if entry.material.private_key is None:
            probe = base64.b64encode(os.urandom(24)).decode('ascii')
            cipher_text = encrypt_data(client, key_id, probe)
            if decrypt_data(client, cipher_text) != probe:
                raise KmsError('an encrypt/decrypt round trip through KMS with key %s did not return '
                               'the probe.' % key_id)
        else:
            from ansible_collections.dew.kms.plugins.module_utils._wrap import public_key_der_of

            remote = get_public_key(client, key_id)
            local = base64.b64encode(public_key_der_of(entry.material.private_key)).decode('ascii')
            if remote['der_b64'] != local:
                raise KmsError('the public key of key %s in KMS differs from the one of the local '
                               'private key.' % key_id)
        return now

    # ------------------------------------------------------------------------- 4. the task result

    def outcome(self):
        results = [entry.result for entry in self.entries]
        result = finish(self, {'changed': any(r['changed'] for r in results), 'results': results})
        if self.km.diff_mode:
            result['diff'] = [diff_of(entry) for entry in self.entries
                              if entry.result['changed'] and entry.error is None]
        failed = [entry for entry in self.entries if entry.error is not None]
        if failed:
            raise BatchFailed(failure_message(failed, len(self.entries)), result)
        return result


def index_keys(listed):
    """({key_id: key}, {alias: key}) of a listing; a live key wins over a deleted one with its
    alias (aliases are unique per project, but a key pending deletion may still show up)."""
    index_id = dict((key['key_id'], key) for key in listed)
    index_alias = {}
    for key in sorted(listed, key=lambda k: k['key_state'] != '4'):
        if key['alias']:
            index_alias[key['alias']] = key
    return index_id, index_alias


def failure_message(failed, total):
    """'2 of 5 keys failed (a, b). a: <why>. b: <why>.' with the details of at most five keys."""
    details = ' '.join('%s: %s' % (entry.label, entry.error.msg.rstrip('.') + '.')
                       for entry in failed[:FAILED_DETAILS_IN_MSG])
    more = len(failed) - FAILED_DETAILS_IN_MSG
    if more > 0:
        details += ' And %d more: see results.' % more
    return '%d of %d keys failed (%s). %s' % (len(failed), total, ', '.join(entry.label for entry in failed), details)


def planned_key(entry):
    """The key as the input describes it (before KMS is asked, or one to be created)."""
    return normalize_key({
        'key_id': entry.key_id or entry.label,
        'key_alias': entry.alias,
        'key_spec': entry.key_spec,
        'key_usage': entry.params['key_usage'],
        'key_description': entry.params['description'],
        'origin': 'external',
        'key_state': '5',
    })


def diff_of(entry):
    """The diff of one changed key: its state fields before and after ({} for a new key)."""
    header = '%s (%s)' % (entry.label, entry.result['key_id'] or 'new key')
    return key_diff(header, state_fields(entry.before), state_fields(entry.result))
