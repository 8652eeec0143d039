# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which material a key holds: proof before a key with material is reported as matched.

KMS never tells which material a key holds. For RSA/EC keys the public key tells
(get-publickey against the public half of the given private key). For AES-256 keys the
collection records, when it imports, the key-bound record ``_check_values.material_record``
(AES-CMAC keyed with the material over the key id, 128 bits) as the key tag ``dew-kms-record``,
and compares it on later runs. Only the holder of the material can compute the record of a key,
and a record copied from another key never matches, so a co-tenant with tag rights can plant
nothing that passes. This rests on KMS's rule that a key only ever accepts the material of its
first import again. Anything else (no record, the 6-digit KCV of the legacy tag ``dew-kms-kcv``)
is a claim: the key is reported ``unproven``, and nothing that could leave it without its
material is done. A batch reads the records of all its keys at once (``recorded_check_values``,
the documented query of keys by tag); a key missing from that answer is confirmed by its own
tags, since no source defines what the query answers in every case.
Private module: the interface may change between releases. See docs/dev/architecture.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

from ansible_collections.dew.kms.plugins.module_utils._check_values import is_material_record, material_record
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsError
from ansible_collections.dew.kms.plugins.module_utils._keys import (
    HOLDS_MATERIAL_STATES,
    failure_summary,
    get_public_key,
    validate_key_id,
)
from ansible_collections.dew.kms.plugins.module_utils import _wrap

RECORD_TAG = 'dew-kms-record'
# written by earlier versions: a 6-digit KCV, the same for every key with the material; a claim
LEGACY_KCV_TAG = 'dew-kms-kcv'
# keys per page of the query of keys by tag (the references allow 1-1000)
TAGGED_PAGE_SIZE = 1000

# the values of material_check in results
IMPORTED = 'imported'                       # this run imported the material
MATCHED = 'matched'                         # the key-bound record is the material's for this key
PUBLIC_KEY_MATCHED = 'public key matched'   # get-publickey equals the private key's public key
UNPROVEN = 'unproven'                       # AES key without a readable key-bound record
NOT_CHECKED = 'not checked'                 # pre-wrapped input: the material is not known here


class MaterialMismatchError(KmsError):
    """The key holds other material than the one given: that key fails, nothing changes."""


def key_tags(client, key_id):
    """{tag key: value} of a key (GET .../kms/{key_id}/tags)."""
    validate_key_id(key_id)
    answer = client.call('%s/tags' % key_id, key_id=key_id, method='GET')
    tags = answer.get('tags')
    if not isinstance(tags, list) or not all(isinstance(tag, dict) for tag in tags):
        raise KmsError('the tags of key %s came back in an unexpected form (no "tags" list).' % key_id)
    return dict((tag.get('key'), tag.get('value')) for tag in tags)


def recorded_check_values(client, page_size=TAGGED_PAGE_SIZE):
    """{key_id: material record} of the keys of the project with the record tag, read through the
    query of keys by tag (POST .../kms/resource_instances/action, paged by offset). A key missing
    there is confirmed by its own tags before it is called unproven (``_record_of``). None when
    the service refuses or fails the query, or answers in a form not understood: callers then
    read the tags of each key (``key_tags``), as without it."""
    values, offset = {}, 0
    body = {'action': 'filter', 'tags': [{'key': RECORD_TAG, 'values': []}], 'limit': str(page_size)}
    while True:
        try:
            answer = client.call('resource_instances/action', dict(body, offset=str(offset)))
        except KmsError:
            return None
        resources = answer.get('resources')
        if not isinstance(resources, list):
            return None
        for resource in resources:
            found = _tagged_check_value(resource)
            if found is None:
                return None
            key_id, value = found
            if value:
                values[key_id] = value
        offset += len(resources)
        total = _count(answer.get('total_count'))
        last_page = offset >= total if total is not None else len(resources) < page_size
        if not resources or last_page:
            return values


def _tagged_check_value(resource):
    """(key_id, check value or '') of one answered key, or None for a form not understood."""
    if not isinstance(resource, dict) or not isinstance(resource.get('resource_id'), str):
        return None
    tags = resource.get('tags')
    if not isinstance(tags, list) or not all(isinstance(tag, dict) for tag in tags):
        return None
    value = dict((tag.get('key'), tag.get('value')) for tag in tags).get(RECORD_TAG)
    return resource['resource_id'], value if isinstance(value, str) else ''


def _count(value):
    """total_count as an int (documented as an integer, shown as a string in an example)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def needs_check_value(key, material):
    """True when the material ``key`` holds is proven by a recorded material record: AES material
    for a key found holding material. A batch reads the records when any entry needs one."""
    return material.private_key is None and key is not None and key['key_state'] in HOLDS_MATERIAL_STATES


def holds_recorded_material(key, material, recorded):
    """True when the records read for a batch prove that ``key`` holds this AES material: it holds
    material, is external, and its record is the material's for this key id. Such a key needs no
    describe-key for its key_spec: the record is written only after an import into an AES_256
    key, and only someone holding this material can compute it for this key."""
    if recorded is None or not needs_check_value(key, material) or key.get('origin') != 'external':
        return False
    value = recorded.get(key['key_id'])
    return is_material_record(value) and value == _record_for(key['key_id'], material)


def _record_for(key_id, material):
    return material_record(material.symmetric, key_id, material.field)


def record_check_value(client, key_id, material, warn):
    """Record the key-bound record of AES material as a key tag; a failure only warns (the
    import stands). Creating the same tag again changes nothing, so the call may be repeated."""
    if material.private_key is not None:
        return
    record_material(client, key_id, _record_for(key_id, material), warn)


def record_material(client, key_id, record, warn):
    """Write a material record (``_check_values.material_record``) as the key tag; a failure
    only warns."""
    body = {'action': 'create', 'tags': [{'key': RECORD_TAG, 'value': record}]}
    try:
        client.call('%s/tags/action' % key_id, body, key_id=key_id)
    except KmsError as error:
        warn('The material of key %s was imported, but its material record could not be written as the key '
             'tag %s (%s). Later runs report material_check "unproven" for this key instead of proving '
             'the material.' % (key_id, RECORD_TAG, _why(error)))


def check_held_material(client, key, material, warn, raced=False, recorded=None):
    """``material_check`` of a key that already holds material, or MaterialMismatchError.

    ``raced``: the material arrived while this run was about to import (another run on the same
    key); then an AES key without a record fails too, since no one can tell whose material won.
    ``recorded``: the records read for a batch (``recorded_check_values``), or None to read
    this key's tags.
    """
    key_id = key['key_id']
    if material.private_key is not None:
        if not _public_key_matches(client, key_id, material):
            raise MaterialMismatchError(
                'Key %s already holds other material: its public key in KMS is not the public key of the '
                'private key in %s. Nothing was changed (KMS never replaces the material of a key). Give '
                'the private key this key was made with, or import this one into a new key.'
                % (key_id, material.field))
        return PUBLIC_KEY_MATCHED
    record = _record_of(client, key_id, warn, recorded)
    if record is None:
        if raced:
            raise MaterialMismatchError(
                'Key %s received material from another run at the same time and has no material record '
                '(tag %s) yet, so whether it holds the material of %s cannot be proven. Run the task '
                'again once the other run has finished.' % (key_id, RECORD_TAG, material.field))
        warn('Key %s holds material that cannot be proven to be the material of %s: it has no material '
             'record bound to it (tag %s; a check value or a %s tag is a claim anyone could copy). '
             'Nothing was changed; material_check is "unproven".'
             % (key_id, material.field, RECORD_TAG, LEGACY_KCV_TAG))
        return UNPROVEN
    if record != _record_for(key_id, material):
        raise MaterialMismatchError(
            'Key %s does not hold the material of %s: its material record (tag %s) is not the one that '
            'material gives for this key, so the key holds other material (or its record was altered). '
            'Nothing was changed (KMS only ever accepts the same material again). Give the material this '
            'key was made with, or import this one into a new key.' % (key_id, material.field, RECORD_TAG))
    return MATCHED


def material_matches(client, key, material, warn, recorded=None):
    """True when KMS provably holds ``material`` in ``key``, False when its proof says otherwise
    (its public key, or a record that is not the material's), None when there is no proof to
    compare with (an AES key without a record, or tags that cannot be read: a warning says so).
    The same proofs (and ``recorded``) as ``check_held_material``."""
    if material.private_key is not None:
        return _public_key_matches(client, key['key_id'], material)
    record = _record_of(client, key['key_id'], warn, recorded)
    if record is None:
        return None
    return record == _record_for(key['key_id'], material)


def proof_of(material):
    """``material_check`` of a key proven (``material_matches``) to hold ``material``."""
    return MATCHED if material.private_key is None else PUBLIC_KEY_MATCHED


def _public_key_matches(client, key_id, material):
    remote = get_public_key(client, key_id)['der_b64']
    return remote == base64.b64encode(_wrap.public_key_der_of(material.private_key)).decode('ascii')


def _record_of(client, key_id, warn, recorded=None):
    """The key's material record, or None (none, or tags that cannot be read: a warning says so).
    From ``recorded`` when the batch's query holds it; a key missing there is asked alone, since
    an empty or short answer of the query is no proof that the key has no record."""
    if recorded is not None and is_material_record(recorded.get(key_id)):
        return recorded[key_id]
    try:
        value = key_tags(client, key_id).get(RECORD_TAG)
    except KmsError as error:
        warn('The tags of key %s could not be read (%s): its material cannot be proven, material_check '
             'is "unproven".' % (key_id, _why(error)))
        return None
    return value if is_material_record(value) else None


def _why(error):
    """'HTTP 403 KMS.0303' for an answer, else the message (the client's names the failure)."""
    return failure_summary(error) if error.status else error.msg.rstrip('.')
