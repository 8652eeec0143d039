# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The key ceremony phases of kms_byok: export (online), wrap (offline), import (online),
the evidence report, and the expiry of imported material.

``run_phase(batch)`` runs one phase other than ``all`` over a ``_batch.Batch``; ``finish(batch)``
adds what every phase that touched keys reports (expiry warnings, the evidence report). The
wrap phase never touches ``batch.km.client``: it needs no credentials and opens no connection.
Private module: the interface may change between releases. See docs/dev/architecture.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
import time

from ansible_collections.dew.kms.plugins.module_utils import _ceremony, _check_values, _evidence
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsError, KmsInputError
from ansible_collections.dew.kms.plugins.module_utils._keys import (
    HOLDS_MATERIAL_STATES,
    create_key,
    decrypt_data,
    describe_key,
    encrypt_data,
    expires_in_days,
    get_public_key,
    iso8601,
    complete_key,
    parse_expiration_time,
    update_key_alias,
    wait_until_usable,
)
from ansible_collections.dew.kms.plugins.module_utils._material import (
    WrappedMaterial,
    check_importable,
    check_state_for_import,
    delete_material,
    get_import_params,
    import_material,
    import_wrapped_material,
)
from ansible_collections.dew.kms.plugins.module_utils._material_check import (
    RECORD_TAG,
    material_matches,
    proof_of,
    record_material,
)

PHASES = ('all', 'export', 'wrap', 'import')
PATHS_NEEDED = {'all': (), 'export': ('bundle_path',), 'wrap': ('bundle_path', 'wrapped_path'),
                'import': ('wrapped_path',)}
# the files each phase writes: their directory must exist before anything runs
PATHS_WRITTEN = {'all': ('report_path',), 'export': ('bundle_path',), 'wrap': ('wrapped_path',),
                 'import': ('report_path',)}
PHASES_NEEDING_MATERIAL = ('all', 'wrap')
# the digest of the file a phase reads, typed in by the operator from the phase that wrote it
DIGEST_NEEDED = {'wrap': ('bundle_digest', 'bundle_path', 'the export phase'),
                 'import': ('wrapped_digest', 'wrapped_path', 'the wrap phase')}
PHASES_WITH_REPORT = ('all', 'import')


def check_options(params):
    """KmsInputError, before anything else runs, for options the chosen phase cannot work with."""
    _check_paths(params)
    for option, meaning in (('expiry_warning_days', 'no warning'), ('renew_within_days', 'no renewal')):
        if (params.get(option) or 0) < 0:
            raise KmsInputError('%s must be 0 (%s) or a positive number of days.' % (option, meaning))
    _check_material_at_hand(params)
    _check_digest_given(params)


def _check_digest_given(params):
    """The phases that read a bundle carried across the air gap need its digest, given out of band."""
    if params['phase'] not in DIGEST_NEEDED:
        return
    option, path_option, writer = DIGEST_NEEDED[params['phase']]
    if not params.get(option):
        raise KmsInputError('phase=%s needs %s: the digest %s printed for %s, read to you over a channel other '
                            'than the one that carried the file (for example by phone, or from the screen of '
                            'the other station). It proves that the file was not changed on the way. Nothing '
                            'was done.' % (params['phase'], option, writer, path_option))


def _check_paths(params):
    """The files the phase reads are named; the directories of those it writes exist."""
    phase = params['phase']
    for option in PATHS_NEEDED[phase]:
        if not params.get(option):
            raise KmsInputError('phase=%s needs %s: %s.' % (phase, option, _PATH_PURPOSE[option]))
    for option in PATHS_WRITTEN[phase]:
        path = params.get(option)
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise KmsInputError('%s (%s) is in a directory that does not exist: create the directory first. '
                                'Nothing was changed.' % (option, path))


def _check_material_at_hand(params):
    """Renewal and rotation need phase=all; the phases that wrap need every key's material."""
    phase = params['phase']
    if phase != 'all':
        if params.get('renew_within_days'):
            raise KmsInputError('renew_within_days needs phase=all: a renewal imports the material again, '
                                'so the material must be at hand.')
        if any(key.get('rotate') for key in params['keys']):
            raise KmsInputError('keys[].rotate needs phase=all: a rotation imports the new material into a new '
                                'key, so the material must be at hand.')
    if phase in PHASES_NEEDING_MATERIAL:
        for index, key in enumerate(params['keys']):
            if key.get('key_material') is None and key.get('key_material_path') is None:
                raise KmsInputError('keys[%d] has neither key_material nor key_material_path: phase=%s '
                                    'needs the material of every key (the export and import phases do not).'
                                    % (index, phase))


_PATH_PURPOSE = {
    'bundle_path': 'the export bundle the export phase writes and the wrap phase reads',
    'wrapped_path': 'the wrapped bundle the wrap phase writes and the import phase reads',
}


def run_phase(batch):
    """Run ``batch.km.params['phase']`` (export, wrap or import); returns the task result."""
    phase = batch.km.params['phase']
    batch.reject_repeated(lambda e: ('alias', e.alias) if e.alias else ('key_id', e.key_id))
    if phase == 'wrap':
        return _wrap_phase(batch)
    if phase == 'export':
        return _export_phase(batch)
    return _import_phase(batch)


def finish(batch, result, wrapped_bundle=None):
    """Add expiry to every result, warn for material expiring soon, write the report."""
    params, now = batch.km.params, batch.km.now()
    for entry in batch.entries:
        if entry.material is not None and entry.error is None and 'check_value' not in entry.result:
            entry.result.update(check_value_fields(entry.material))
        entry.result['expires_in_days'] = expires_in_days(entry.result.get('expiration_time'), now)
    warn_days = params.get('expiry_warning_days') or 0
    for entry in batch.entries:
        days = entry.result['expires_in_days']
        if warn_days and days is not None and days < warn_days:
            batch.km.warn('The material of key %s (%s) expires on %s, in %d days: import it again before '
                          'then (see byok_renew_within_days in the BYOK guide).'
                          % (entry.label, entry.result['key_id'], entry.result['expiration_date'], days))
    # the export and wrap phases import nothing: the same variables serve every phase
    if params.get('report_path') and params['phase'] in PHASES_WITH_REPORT and not batch.check_mode:
        _write_report(batch, wrapped_bundle, now)
        result['report_path'] = params['report_path']
    return result


def _write_report(batch, wrapped_bundle, now):
    params = batch.km.params
    times = _evidence.phase_times(wrapped_bundle, now) if wrapped_bundle else {'import': now}
    runner = _evidence.runner_identity()
    records = []
    for entry in batch.entries:
        source = dict(entry.result)
        source.setdefault('wrapping_algorithm', params['wrapping_algorithm'])
        records.append(_evidence.evidence_record(source, times, _evidence.COLLECTION_VERSION, runner))
    config = batch.km.client.config
    digests = {'export_bundle': wrapped_bundle.export_digest, 'wrapped_bundle': wrapped_bundle.digest} \
        if wrapped_bundle else {}
    report = _evidence.build_report(records, cloud=config.cloud_provider, region=config.region, now=now,
                                    digests=digests)
    _evidence.write_report(params['report_path'], report, 'report_path')


def check_value_fields(material):
    """``{'check_value_type', 'check_value'}`` of a ``_material.Material``: safe to show."""
    value_type, value = _check_values.check_value_of(*_ceremony.material_pair(material))
    return {'check_value_type': value_type, 'check_value': value}


# ----------------------------------------------------------------------------- export

def _export_phase(batch):
    params = batch.km.params
    batch.resolve()
    batch.reject_repeated(lambda e: ('key', e.key['key_id']) if e.key else None)
    batch.parallel(lambda entry: _export_key(batch, entry), batch.live())
    exported = [entry.export for entry in batch.entries if entry.export and entry.error is None]
    result = _outcome_without_raising(batch)
    if exported and not batch.check_mode:
        config = batch.km.client.config
        document = _ceremony.build_export_bundle(exported, cloud=config.cloud_provider, region=config.region)
        result['bundle_digest'] = _ceremony.write_bundle(params['bundle_path'], document, 'bundle_path')
        result['bundle_path'] = params['bundle_path']
        result['changed'] = True
    return _raise_or_return(batch, finish(batch, result))


def _export_key(batch, entry):
    key, created = entry.key, False
    if key is None:
        batch.require_create_missing(entry)
        if batch.check_mode:
            entry.result = _result(entry, {'key_state': '5', 'key_state_name': 'pending_import'},
                                   'would_create+export', True)
            return
        key, created = batch.create(entry)
        if created:
            entry.result = _result(entry, key, 'failed', True)
    # a listed key may lack key_spec (OTC lists); a new one is pending activation for a moment
    key = wait_until_usable(batch.km.client, complete_key(batch.km.client, key), batch.km.wait_timeout)
    _check_spec(entry, key)
    check_importable(key)
    entry.key = key
    if not check_state_for_import(key):
        entry.result = _result(entry, key, 'unchanged', False)
        return
    if batch.check_mode:
        entry.result = _result(entry, key, 'would_export', True)
        return
    import_params = get_import_params(batch.km.client, key['key_id'], batch.wrapping_algorithm)
    entry.export = _ceremony.export_entry(key, import_params, batch.wrapping_algorithm)
    entry.result = _result(entry, key, 'created+exported' if created else 'exported', True)
    entry.result['token_expiration_date'] = import_params['expiration_date']
    entry.result['wrapping_key_sha256'] = _check_values.public_key_sha256(import_params['public_key'])


def _check_spec(entry, key):
    if key['key_spec'] != entry.key_spec:
        raise KmsInputError('Key %s (%s) has key_spec %s in KMS, but key_spec is %s here: give the key\'s '
                            'key_spec.' % (entry.label, key['key_id'], key['key_spec'], entry.key_spec))


# ----------------------------------------------------------------------------- wrap (offline)

def _wrap_phase(batch):
    """Material + export bundle -> wrapped bundle. Never touches ``batch.km.client``."""
    params = batch.km.params
    batch.parallel(batch.prepare, batch.live())
    bundle = _ceremony.read_bundle(params['bundle_path'], 'bundle_path', _ceremony.EXPORT_FORMAT,
                                   digest=params.get('bundle_digest'), digest_field='bundle_digest')
    requested = [_requested(entry, entry.material if entry.error is None else None) for entry in batch.entries]
    document, failures = _ceremony.wrap_offline(bundle, requested, warn=batch.km.warn, keys_field='keys')
    _refuse_foreign(failures)
    _fail_entries(batch, failures)
    wrapping_keys = dict((entry.key_id, entry.data['public_key']) for entry in bundle.entries)
    # the document holds, in order, exactly the keys that did not fail
    for entry, item in zip(batch.live(), document['keys']):
        key = {'key_id': item['key_id'], 'alias': item['alias'], 'key_spec': item['key_spec']}
        # the wrapped bundle is written anew on every run (new wrap, new check of every token)
        entry.result = _result(entry, key, 'would_wrap' if batch.check_mode else 'wrapped', True)
        entry.result.update(wrapping_algorithm=item['wrapping_algorithm'], check_value_type=item['check_value_type'],
                            check_value=item['check_value'], token_expiration_date=item['token_expiration_date'],
                            wrapping_key_sha256=_check_values.public_key_sha256(wrapping_keys[item['key_id']]))
    result = _outcome_without_raising(batch)
    result['bundle_digest'] = bundle.digest
    if document['keys'] and not batch.check_mode:
        result['wrapped_digest'] = _ceremony.write_bundle(params['wrapped_path'], document, 'wrapped_path')
        result['wrapped_path'] = params['wrapped_path']
    return _raise_or_return(batch, finish(batch, result))


def _requested(entry, material):
    return {'key_id': entry.key_id, 'alias': entry.alias, 'key_spec': entry.key_spec,
            'material': _ceremony.material_pair(material) if material is not None else None}


def _refuse_foreign(failures):
    foreign = [failure for failure in failures if failure.index is None]
    if foreign:
        raise KmsInputError('Nothing was done: %s' % ' '.join(failure.error.msg for failure in foreign))


def _fail_entries(batch, failures):
    for failure in failures:
        entry = batch.entries[failure.index]
        if entry.error is None:
            entry.fail(failure.error)


# ----------------------------------------------------------------------------- import

def _import_phase(batch):
    params = batch.km.params
    bundle = _ceremony.read_bundle(params['wrapped_path'], 'wrapped_path', _ceremony.WRAPPED_FORMAT,
                                   digest=params.get('wrapped_digest'), digest_field='wrapped_digest')
    requested = [_requested(entry, None) for entry in batch.entries]
    entries, failures = _ceremony.match_keys(bundle, requested, keys_field='keys')
    _refuse_foreign(failures)
    _fail_entries(batch, failures)
    for entry, bundle_entry in zip(batch.entries, entries):
        entry.bundle_entry = bundle_entry
        if bundle_entry is not None and entry.error is None and not entry.key_id:
            entry.key_id = bundle_entry.key_id  # the bundle names the key: no listing needed
    for entry in batch.live():
        try:
            entry.expiration_time = _expiration(entry)
        except KmsError as error:
            entry.fail(error)
    batch.parallel(batch.describe, batch.live())
    batch.parallel(lambda entry: _import_key(batch, entry), batch.live())
    result = _outcome_without_raising(batch)
    result['wrapped_digest'] = bundle.digest
    return _raise_or_return(batch, finish(batch, result, bundle))


def _expiration(entry):
    return parse_expiration_time(entry.params['expiration_time'])


def _import_key(batch, entry):
    key, data = entry.key, entry.bundle_entry.data
    _check_spec(entry, key)
    if entry.alias and key.get('alias') and key['alias'] != entry.alias:
        raise KmsInputError('Key %s has the alias %s in KMS, not %s: the wrapped bundle is for another key.'
                            % (key['key_id'], key['alias'], entry.alias))
    wrapped = WrappedMaterial(data['import_token'], data['encrypted_key_material'], data.get('encrypted_privatekey'))
    try:
        changed, before, after = import_wrapped_material(batch.km.client, key, wrapped, entry.expiration_time,
                                                         batch.check_mode, batch.km.warn)
    except KmsError as error:
        if error.error_code in ('KMS.2601', 'KMS.0311', 'KMS.2602'):
            raise KmsError('The import token of key %s was refused (%s): it expired or was replaced since the '
                           'export. Run the export and wrap phases again, then the import phase.'
                           % (key['key_id'], error.error_code), status=error.status,
                           error_code=error.error_code, request_id=error.request_id)
        raise
    entry.before = before
    fields = {'wrapping_algorithm': data['wrapping_algorithm'], 'check_value_type': data['check_value_type'],
              'check_value': data['check_value']}
    if not changed:
        entry.result = _result(entry, after, 'unchanged', False)
    elif batch.check_mode:
        entry.result = _result(entry, after, 'would_import', True)
    else:
        entry.result = _result(entry, after, 'imported', True)
        if data.get('material_record'):
            # the wrap phase computed the key-bound record with the material: later runs prove with it
            record_material(batch.km.client, key['key_id'], data['material_record'], batch.km.warn)
        if batch.verify:
            entry.result.update(fields)
            try:
                after = _verify_imported(batch.km.client, after, data)
            except KmsError as error:
                entry.result['verified'] = False
                raise KmsError('The material of key %s was imported, but its verification failed: %s'
                               % (key['key_id'], error.msg), status=error.status,
                               error_code=error.error_code, request_id=error.request_id)
            entry.result = _result(entry, after, 'imported', True, verified=True)
    entry.result.update(fields)


def _verify_imported(client, key, data):
    """The key enabled and working: an AES round trip, or the public key's check value."""
    key_id = key['key_id']
    now = describe_key(client, key_id)
    if now['key_state'] != '2':
        raise KmsError('key %s is %s, not enabled.' % (key_id, now['key_state_name']))
    if data['check_value_type'] == _check_values.PUBLIC_KEY_SHA256:
        remote = get_public_key(client, key_id)
        value = _check_values.public_key_sha256(base64.b64decode(remote['der_b64']), 'the public key in KMS')
        if value != data['check_value']:
            raise KmsError('the public key of key %s in KMS does not have the check value of the wrapped '
                           'bundle.' % key_id)
    else:
        probe = base64.b64encode(os.urandom(24)).decode('ascii')
        if decrypt_data(client, encrypt_data(client, key_id, probe)) != probe:
            raise KmsError('an encrypt/decrypt round trip through KMS with key %s did not return the probe.'
                           % key_id)
    return now


# ----------------------------------------------------------------------------- results

def _result(entry, key, action, changed, verified=None):
    from ansible_collections.dew.kms.plugins.module_utils._batch import result_of

    return result_of(entry, key, action, changed, verified)


def _outcome_without_raising(batch):
    results = [entry.result for entry in batch.entries]
    return {'changed': any(result['changed'] for result in results), 'results': results}


def _raise_or_return(batch, result):
    from ansible_collections.dew.kms.plugins.module_utils._batch import BatchFailed, failure_message

    failed = [entry for entry in batch.entries if entry.error is not None]
    if failed:
        raise BatchFailed(failure_message(failed, len(batch.entries)), result)
    return result


# ----------------------------------------------------------------------------- renewal and rotation

def handle_held_material(batch, entry, key):
    """Renew or rotate a key that already holds material, when the entry asks for it.

    Proof (``_material_check.material_matches``): the public key of an RSA/EC key, the key-bound
    material record of an AES key; without it nothing is deleted or rotated. Returns True when it
    set ``entry.result``; False leaves the key to the usual import path (which compares the
    material and reports it unchanged).
    """
    if key['key_state'] not in HOLDS_MATERIAL_STATES:
        return False
    rotate = entry.params.get('rotate')
    renew_days = batch.km.params.get('renew_within_days') or 0
    days = expires_in_days(key['expiration_time'], batch.km.now())
    renew_due = bool(renew_days) and days is not None and days < renew_days
    if not rotate and not renew_due:
        return False
    matches = material_matches(batch.km.client, key, entry.material, batch.warn_for(entry),
                               batch.recorded_for(entry))
    if matches is None:
        raise KmsInputError(
            'Key %s (%s) keeps its material: the material given cannot be proven to be the one KMS holds '
            '(the key has no material record bound to it, tag %s: its material was imported before this '
            'collection wrote records, or by another tool; a check value is a claim, not a proof), and %s '
            'only with that proof. Nothing was changed. Its material expires on %s.'
            % (entry.label, key['key_id'], RECORD_TAG, 'rotation is done' if rotate else 'renewal deletes material',
               iso8601(key['expiration_time']) or 'never'))
    if matches and not renew_due:
        # rotate, but the key holds this material already: nothing to do, and proven once
        entry.result = _result(entry, dict(key, material_check=proof_of(entry.material)), 'unchanged', False)
        return True
    if not matches:
        if rotate:
            _rotate(batch, entry, key)
            return True
        raise KmsInputError(
            'Key %s (%s) holds other material than the one given, so it is not renewed and keeps its '
            'material: give the material it holds, or set rotate to move the alias to a new key with '
            'the new material.' % (entry.label, key['key_id']))
    _renew(batch, entry, key)
    return True


def _renew(batch, entry, key):
    """Delete the material and import the same material again with the later expiry."""
    if entry.expiration_time is None or entry.expiration_time <= (key['expiration_time'] or 0):
        raise KmsInputError(
            'Key %s (%s) is due for renewal (its material expires on %s), but expiration_time is %s: give a '
            'later expiration_time.' % (entry.label, key['key_id'], iso8601(key['expiration_time']),
                                        iso8601(entry.expiration_time) or 'not set'))
    if batch.check_mode:
        entry.result = _result(entry, dict(key, expiration_time=entry.expiration_time), 'would_renew', True)
        return
    client = batch.km.client
    _changed, before, emptied = delete_material(client, key)
    entry.before = before
    entry.result = _result(entry, emptied, 'failed', True)  # should the import fail, say what happened
    _changed, _before, after = import_material(client, emptied, entry.material, batch.wrapping_algorithm,
                                               entry.expiration_time, warn=batch.warn_for(entry))
    after, verified = _verified(batch, entry, after)
    entry.result = _result(entry, after, 'renewed', True, verified)


def _rotate(batch, entry, key):
    """A new external key with the new material takes the alias; the old key is renamed and kept."""
    stamp = time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())
    retired_alias = '%s-retired-%s' % (entry.alias or key['alias'], stamp)
    if batch.check_mode:
        entry.result = _result(entry, {'key_state': '2', 'key_state_name': 'enabled'}, 'would_rotate', True)
        entry.result.update(key_id=None, retired_key_id=key['key_id'], retired_alias=retired_alias)
        return
    client, alias = batch.km.client, entry.alias or key['alias']
    # the new key is complete before the alias moves: create and import under a temporary alias
    new_key = create_key(client, '%s-rotating-%s' % (alias, stamp), key_spec=entry.key_spec,
                         key_usage=entry.params['key_usage'] or key['key_usage'], origin='external',
                         description=entry.params['description'] or None, reread=False, warn=batch.km.warn)
    entry.result = _result(entry, new_key, 'failed', True)
    new_key = wait_until_usable(client, new_key, batch.km.wait_timeout)
    _changed, _before, after = import_material(client, new_key, entry.material, batch.wrapping_algorithm,
                                               entry.expiration_time, warn=batch.warn_for(entry))
    after, verified = _verified(batch, entry, after)
    update_key_alias(client, key['key_id'], retired_alias)
    update_key_alias(client, new_key['key_id'], alias)
    entry.result = _result(entry, dict(after, alias=alias), 'rotated', True, verified)
    entry.result.update(retired_key_id=key['key_id'], retired_alias=retired_alias)


def _verified(batch, entry, after):
    """``(key, verified)`` after an import: re-read and proven when ``verify`` asks for it, with
    the import's ``material_check`` kept."""
    if not batch.verify:
        return after, None
    return dict(batch.verify_key(entry, after), material_check=after['material_check']), True
