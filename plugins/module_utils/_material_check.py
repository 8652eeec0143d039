# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which material a key holds: proof before a key with material is reported as unchanged.

KMS never tells which material a key holds. For RSA/EC keys the public key tells
(get-publickey against the public half of the given private key). For AES-256 keys the
collection records the key check value (``_check_values.kcv``, 24 bits of a CMAC: no help in
finding the key) as the key tag ``dew-kms-kcv`` when it imports, and compares it on later
runs; a key without that tag has no record, and nothing is guessed. A batch reads the recorded
values of all its keys at once (``recorded_check_values``, the documented query of keys by tag)
instead of one tag query per key.
Private module: the interface may change between releases. See docs/dev/architecture.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

from ansible_collections.dew.kms.plugins.module_utils._check_values import kcv
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsError
from ansible_collections.dew.kms.plugins.module_utils._keys import (
    HOLDS_MATERIAL_STATES,
    failure_summary,
    get_public_key,
    validate_key_id,
)
from ansible_collections.dew.kms.plugins.module_utils import _wrap

KCV_TAG = 'dew-kms-kcv'
# keys per page of the query of keys by tag (the references allow 1-1000)
TAGGED_PAGE_SIZE = 1000

# the values of material_check in results
IMPORTED = 'imported'                       # this run imported the material
MATCHED = 'matched'                         # the recorded check value equals the material's
PUBLIC_KEY_MATCHED = 'public key matched'   # get-publickey equals the private key's public key
NO_RECORD = 'no record'                     # AES key without a recorded check value
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
    """{key_id: recorded check value} of every key of the project with the tag, read through the
    query of keys by tag (POST .../kms/resource_instances/action, paged by offset); a key missing
    there has no record. None when the service refuses or fails the query, or answers in a form
    not understood: callers then read the tags of each key (``key_tags``), as without it."""
    values, offset = {}, 0
    body = {'action': 'filter', 'tags': [{'key': KCV_TAG, 'values': []}], 'limit': str(page_size)}
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
    value = dict((tag.get('key'), tag.get('value')) for tag in tags).get(KCV_TAG)
    return resource['resource_id'], value if isinstance(value, str) else ''


def _count(value):
    """total_count as an int (documented as an integer, shown as a string in an example)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def needs_check_value(key, material):
    """True when the material ``key`` holds is proven by a recorded check value: AES material
    for a key found holding material. A batch reads the records when any entry needs one."""
    return material.private_key is None and key is not None and key['key_state'] in HOLDS_MATERIAL_STATES


def holds_recorded_material(key, material, recorded):
    """True when the records read for a batch prove that ``key`` holds this AES material: it holds
    material, is external, and its recorded check value is the material's. Such a key needs no
    describe-key for its key_spec: the value is recorded only after an import into an AES_256 key,
    and only someone holding this material can compute it."""
    if recorded is None or not needs_check_value(key, material) or key.get('origin') != 'external':
        return False
    value = _from_records(recorded, key['key_id'])
    return value is not None and value.upper() == kcv(material.symmetric, material.field)


def _from_records(recorded, key_id):
    """The check value the batch's records hold for ``key_id``, or None (no record)."""
    value = recorded.get(key_id)
    return value if isinstance(value, str) and value else None


def record_check_value(client, key_id, material, warn):
    """Record the check value of AES material as a key tag; a failure only warns (the import
    stands). Creating the same tag again changes nothing, so the call may be repeated."""
    if material.private_key is not None:
        return
    record_kcv(client, key_id, kcv(material.symmetric), warn)


def record_kcv(client, key_id, check_value, warn):
    """Record an AES check value (six hex digits) as the key tag; a failure only warns."""
    body = {'action': 'create', 'tags': [{'key': KCV_TAG, 'value': check_value}]}
    try:
        client.call('%s/tags/action' % key_id, body, key_id=key_id)
    except KmsError as error:
        warn('The material of key %s was imported, but its check value could not be recorded as the key '
             'tag %s (%s). Later runs report material_check "no record" for this key instead of comparing '
             'the material.' % (key_id, KCV_TAG, _why(error)))


def check_held_material(client, key, material, warn, raced=False, recorded=None):
    """``material_check`` of a key that already holds material, or MaterialMismatchError.

    ``raced``: the material arrived while this run was about to import (another run on the same
    key); then an AES key without a record fails too, since no one can tell whose material won.
    ``recorded``: the check values read for a batch (``recorded_check_values``), or None to read
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
    recorded = _recorded_check_value(client, key_id, warn, recorded)
    if recorded is None:
        if raced:
            raise MaterialMismatchError(
                'Key %s received material from another run at the same time and has no recorded check '
                'value (tag %s) yet, so whether it holds the material of %s cannot be told. Run the task '
                'again once the other run has finished.' % (key_id, KCV_TAG, material.field))
        return NO_RECORD
    given = kcv(material.symmetric, material.field)
    if recorded.upper() != given:
        raise MaterialMismatchError(
            'Key %s already holds other material: its recorded check value (tag %s) is %s, the material '
            'of %s has check value %s. Nothing was changed (KMS only ever accepts the same material '
            'again). Give the material this key was made with, or import this one into a new key.'
            % (key_id, KCV_TAG, recorded, material.field, given))
    return MATCHED


def material_matches(client, key, material, warn, recorded=None):
    """True when KMS provably holds ``material`` in ``key``, False when it provably holds other
    material, None when there is no record to compare with (an AES key without the tag, or tags
    that cannot be read: a warning says so). The same proofs (and ``recorded``) as
    ``check_held_material``."""
    if material.private_key is not None:
        return _public_key_matches(client, key['key_id'], material)
    recorded = _recorded_check_value(client, key['key_id'], warn, recorded)
    if recorded is None:
        return None
    return recorded.upper() == kcv(material.symmetric, material.field)


def proof_of(material):
    """``material_check`` of a key proven (``material_matches``) to hold ``material``."""
    return MATCHED if material.private_key is None else PUBLIC_KEY_MATCHED


def _public_key_matches(client, key_id, material):
    remote = get_public_key(client, key_id)['der_b64']
    return remote == base64.b64encode(_wrap.public_key_der_of(material.private_key)).decode('ascii')


def _recorded_check_value(client, key_id, warn, recorded=None):
    """The recorded check value, or None (no tag, or tags cannot be read: a warning says so);
    from ``recorded`` when the batch read them, else from the key's tags."""
    if recorded is not None:
        return _from_records(recorded, key_id)
    try:
        value = key_tags(client, key_id).get(KCV_TAG)
    except KmsError as error:
        warn('The tags of key %s could not be read (%s): its material cannot be compared, material_check '
             'is "no record".' % (key_id, _why(error)))
        return None
    return value if isinstance(value, str) and value else None


def _why(error):
    """'HTTP 403 KMS.0303' for an answer, else the message (the client's names the failure)."""
    return failure_summary(error) if error.status else error.msg.rstrip('.')
