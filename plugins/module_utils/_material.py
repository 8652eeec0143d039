# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Importing key material into external KMS keys: loading, checking, wrapping, importing.

``Material`` (plaintext, loaded once by ``load_material`` / ``material_from_options``) and
``WrappedMaterial`` (wrapped elsewhere, validated once when built) describe the input; the
import functions trust them. Every rule about what may be imported where lives here once.
Private module: the interface may change between releases. See docs/dev/architecture.md.

``cryptography`` is imported (by ``_wrap``) only when material is loaded or wrapped.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import re

from ansible_collections.dew.kms.plugins.module_utils._errors import KmsError, KmsInputError
from ansible_collections.dew.kms.plugins.module_utils._files import read_capped
from ansible_collections.dew.kms.plugins.module_utils._keys import (
    HOLDS_MATERIAL_STATES,
    describe_key,
    epoch_seconds,
    iso8601,
    send_settled,
    validate_key_id,
    with_state,
)
# _wrap imports cryptography on first use only, so importing it here costs nothing
from ansible_collections.dew.kms.plugins.module_utils import _wrap
from ansible_collections.dew.kms.plugins.module_utils._material_check import (
    IMPORTED,
    NOT_CHECKED,
    check_held_material,
    record_check_value,
)
from ansible_collections.dew.kms.plugins.module_utils._wrap import SYMMETRIC_KEY_SPECS, WEAK_WRAPPING_ALGORITHMS

# the largest legal material file is an RSA_4096 private key in PEM (about 3.3 KiB); 64 KiB also
# leaves room for comments and certificates users keep next to the key
MAX_MATERIAL_FILE = 64 * 1024
BASE64_RE = re.compile(r'^[0-9a-zA-Z+/=]+$')
_IMPORT_TOKEN_RE = re.compile(r'^[0-9a-zA-Z+/=]{200,6144}$')
_WRAPPED_MATERIAL_RE = re.compile(r'^[0-9a-zA-Z+/=]{344,360}$')


# ----------------------------------------------------------------------------- the input

class Material:
    """Plaintext material of one key, classified once: 32 symmetric bytes or a private key."""

    def __init__(self, field, symmetric=None, private_key=None, key_spec='AES_256'):
        self.field = field              # the option it came from, for messages
        self.symmetric = symmetric      # 32 bytes (AES_256) or None
        self.private_key = private_key  # key object (RSA / EC) or None
        self.key_spec = key_spec        # what KMS key it fits: 'AES_256', 'RSA_2048', ...

    @property
    def kind(self):
        return 'symmetric' if self.private_key is None else 'private_key'

    def fits(self, key_spec):
        """The one rule of which material goes into which key: the key_specs are equal."""
        return self.key_spec == key_spec

    def description(self):
        if self.private_key is None:
            return '32 bytes of AES_256 material'
        return 'an %s private key' % self.key_spec


def load_material(data, field):
    """Classify plaintext material given as bytes (file) or text (option): a ``Material``.

    A PEM armour, or a DER structure (raw or base64) longer than symmetric material, means a
    private key; anything else must be 32 bytes, raw or base64. Raises KmsInputError naming
    ``field``, never the value.
    """
    raw = data.encode('utf-8') if isinstance(data, str) else bytes(data)
    stripped = b''.join(raw.split())
    der = _private_key_bytes(raw, stripped)
    if der is not None:
        private_key = _wrap.load_private_key(der, field)
        return Material(field, private_key=private_key, key_spec=_wrap.private_key_spec(private_key, field))
    if isinstance(data, bytes) and len(raw) != 32 and not BASE64_RE.match(stripped.decode('latin-1')):
        # a binary file of the wrong size: say so rather than "not valid base64"
        raise KmsInputError('%s must hold exactly 32 bytes of AES-256 key material (raw, or as base64 text) '
                            'or an RSA/EC private key (PEM or DER); it holds %d bytes.' % (field, len(raw)))
    return Material(field, symmetric=_wrap.decode_symmetric_material(raw, field))


def _private_key_bytes(raw, stripped):
    """PEM or DER bytes when the input looks like a private key rather than 32 bytes, else None."""
    if b'-----BEGIN' in raw or (len(raw) > 64 and raw[:1] == b'\x30'):
        return raw
    if len(stripped) > 88 and BASE64_RE.match(stripped.decode('latin-1')):
        decoded = base64.b64decode(stripped + b'=' * (-len(stripped) % 4))
        if decoded[:1] == b'\x30':
            return decoded
    return None


def material_from_options(params, path_option='key_material_path', value_option='key_material'):
    """The ``Material`` of a file option (read capped) or of a no_log text option."""
    if params.get(path_option) is not None:
        data = read_capped(params[path_option], path_option, MAX_MATERIAL_FILE, 'key material')
        return load_material(data, path_option)
    return load_material(params[value_option], value_option)


class WrappedMaterial:
    """Material wrapped for one import token: built by ``import_material``, or from the options
    of material wrapped elsewhere (``from_options`` checks their format before any call)."""

    def __init__(self, import_token, encrypted_key_material, encrypted_privatekey=None):
        self.import_token = import_token
        self.encrypted_key_material = encrypted_key_material
        self.encrypted_privatekey = encrypted_privatekey

    @classmethod
    def from_options(cls, import_token, encrypted_key_material, encrypted_privatekey=None):
        """KmsInputError for input the API would refuse by its format, naming the option."""
        _check_base64_field(import_token, 'import_token', _IMPORT_TOKEN_RE,
                            '200 to 6144 base64 characters as returned by kms_import_params')
        _check_base64_field(encrypted_key_material, 'encrypted_key_material', _WRAPPED_MATERIAL_RE,
                            '344 to 360 base64 characters (one RSA-2048 ciphertext)')
        if encrypted_privatekey is not None:
            _check_base64_field(encrypted_privatekey, 'encrypted_privatekey', _IMPORT_TOKEN_RE,
                                '200 to 6144 base64 characters (a wrapped PKCS#8 private key)')
        return cls(import_token, encrypted_key_material, encrypted_privatekey)


def _check_base64_field(value, field, pattern, rule):
    if not isinstance(value, str) or not pattern.match(value):
        raise KmsInputError('%s is malformed: it must be %s.' % (field, rule))


def warn_weak_algorithm(wrapping_algorithm, warn):
    """The one warning for a weak wrapping algorithm."""
    if wrapping_algorithm in WEAK_WRAPPING_ALGORITHMS:
        warn('wrapping_algorithm %s is weak; use RSAES_OAEP_SHA_256 unless old tooling needs it.'
             % wrapping_algorithm)


# ----------------------------------------------------------------------------- API calls

def get_import_params(client, key_id, wrapping_algorithm):
    """get-parameters-for-import: key_id, import_token, public_key (base64 DER),
    public_key_pem, expiration_time (epoch s), expiration_date (ISO 8601 UTC)."""
    validate_key_id(key_id)
    answer = client.call('get-parameters-for-import',
                         {'key_id': key_id, 'wrapping_algorithm': wrapping_algorithm}, key_id=key_id)
    expiration = epoch_seconds(answer.get('expiration_time'))
    _wrap.check_wrapping_public_key(answer.get('public_key'))
    return {
        'key_id': answer.get('key_id') or key_id,
        'import_token': answer.get('import_token'),
        'public_key': answer.get('public_key'),
        'public_key_pem': _wrap.public_key_pem_from_b64_der(answer.get('public_key')),
        'expiration_time': expiration,
        'expiration_date': iso8601(expiration),
    }


def import_key_material(client, key_id, wrapped, expiration_time=None):
    """import-key-material with a ``WrappedMaterial`` (never retried by the client)."""
    body = {'key_id': key_id, 'import_token': wrapped.import_token,
            'encrypted_key_material': wrapped.encrypted_key_material}
    if wrapped.encrypted_privatekey:
        body['encrypted_privatekey'] = wrapped.encrypted_privatekey
    if expiration_time is not None:
        body['expiration_time'] = int(expiration_time)
    client.call('import-key-material', body, key_id=key_id, idempotent=False)


def delete_imported_key_material(client, key_id):
    client.call('delete-imported-key-material', {'key_id': key_id}, key_id=key_id)


# ----------------------------------------------------------------------------- rules

def check_importable(key, material=None, expiration_time=None):
    """Raise KmsInputError unless this material may go into this key (state aside).

    ``material``: a ``Material``, or None for pre-wrapped material (not known locally).
    """
    ref = key['key_id']
    if key['default_key']:
        raise KmsInputError('Key %s is a Default Master Key: material cannot be imported into it.' % ref)
    if key['origin'] != 'external':
        raise KmsInputError(
            'Key %s has origin %s: key material can only be imported into a key created with origin '
            'external. Create a new key with dew.kms.kms_key origin=external and import into that.'
            % (ref, key['origin']))
    symmetric_key = key['key_spec'] in SYMMETRIC_KEY_SPECS
    if material is not None and not material.fits(key['key_spec']):
        raise KmsInputError(_misfit_message(key, material, symmetric_key))
    if expiration_time is not None and not symmetric_key:
        raise KmsInputError(
            'expiration_time applies only to symmetric keys: material of the %s key %s is permanent; '
            'omit expiration_time.' % (key['key_spec'], ref))


def _misfit_message(key, material, symmetric_key):
    ref, spec = key['key_id'], key['key_spec']
    if material.kind == 'symmetric':
        return ('Key %s is a %s key: its material must be a private key of that type (PEM or DER, via '
                'key_material_path or key_material), not 32 bytes of symmetric material.' % (ref, spec))
    if symmetric_key:
        return ('Key %s is an %s key: its material must be exactly 32 bytes (base64 in key_material, '
                'or raw or base64 in key_material_path), not a private key.' % (ref, spec))
    return ('The private key is %s but key %s is %s: import a private key of the same type and size.'
            % (material.key_spec, ref, spec))


def check_wrapped_fits(key, wrapped):
    """Raise KmsInputError unless pre-wrapped material has the parts this key needs."""
    symmetric_key = key['key_spec'] in SYMMETRIC_KEY_SPECS
    if not symmetric_key and not wrapped.encrypted_privatekey:
        raise KmsInputError('Key %s is a %s key: importing its material needs encrypted_privatekey too.'
                            % (key['key_id'], key['key_spec']))
    if symmetric_key and wrapped.encrypted_privatekey:
        raise KmsInputError('Key %s is a symmetric %s key: encrypted_privatekey applies only to RSA and EC keys.'
                            % (key['key_id'], key['key_spec']))


def check_state_for_import(key):
    """True when the key waits for material, False when it has it; raise for other states."""
    state, ref = key['key_state'], key['key_id']
    if state == '5':
        return True
    if state in HOLDS_MATERIAL_STATES:
        return False
    if state == '4':
        raise KmsInputError(
            'Key %s is pending deletion: cancel the deletion first (dew.kms.kms_key with '
            'cancel_deletion=true), then import the material.' % ref)
    raise KmsInputError('Key %s is in state %s (%s): key material cannot be imported now.'
                        % (ref, state, key['key_state_name']))


def _material_warnings(key, expiration_time, warn):
    if warn and expiration_time is not None and key['expiration_time'] != expiration_time:
        warn('Key %s already has its material (expiry %s); expiration_time %s was not applied. To change '
             'the expiry, delete the material (state=absent) and import the same material again.'
             % (key['key_id'], iso8601(key['expiration_time']) or 'never', iso8601(expiration_time)))


def _imported(key, expiration_time):
    return with_state(key, '2', expiration_time=expiration_time)


def _unchanged_or_predicted(key, expiration_time, check_mode, warn):
    """``(changed, before, after)`` when no import call is due (material there, or check mode)."""
    if not check_state_for_import(key):
        _material_warnings(key, expiration_time, warn)
        return False, key, key
    if check_mode:
        return True, key, _imported(key, expiration_time)
    return None


# ----------------------------------------------------------------------------- importing

def _send_import(client, key, expiration_time, send, prepare=None, attempts=None, warn=None):
    """One import call through ``send_settled``: an unclear failure is settled by the key state
    (left pending import: the material is in; still pending: nothing was imported)."""
    key_id = key['key_id']

    def settle():
        now = describe_key(client, key_id)
        if now['key_state'] in HOLDS_MATERIAL_STATES:
            return now
        if now['key_state'] != '5':
            raise KmsError('key %s left pending import for another state' % key_id)
        return None

    def sent(attempt, *args):
        send(*args)
        return _imported(key, expiration_time)

    return send_settled(
        client, sent, settle, 'import-key-material for key %s' % key_id,
        'the key is still waiting for import, so it is imported again',
        'The key is still waiting for import, so running the task again is safe.',
        prepare=prepare, attempts=attempts, warn=warn)


def import_material(client, key, material, wrapping_algorithm, expiration_time=None,
                    check_mode=False, warn=None, raced=False, recorded=None):
    """Import a ``Material`` into a described key, wrapping it in-process.

    ``key``: normalised key (from describe_key). ``expiration_time``: epoch seconds (validated)
    or None. Validates everything locally before any state-changing call, then
    get-parameters-for-import -> wrap -> import-key-material. One retry with fresh parameters if
    the token expired (KMS.2601). An unclear failure of the import is settled by the key state
    (``_send_import``), with fresh parameters for each new attempt.
    A key that holds material already is compared with ``material`` (``_material_check``): other
    material fails it, also when another run imported it meanwhile (KMS.0310, or ``raced``: the
    caller found the key created by another run; then no record is no proof either).
    ``recorded``: check values a batch read for all its keys (``_material_check``), or None.
    Calls: 1 when the material is already there (get-publickey or the key's tags; none for AES
    material with ``recorded``), 2 for a first
    import (plus the check value tag of AES material).
    Returns ``(changed, before, after)`` normalised keys; ``after`` is predicted, not re-read, and
    has ``material_check`` (None in check mode when an import is due).
    """
    check_importable(key, material, expiration_time)
    done = _unchanged_or_predicted(key, expiration_time, check_mode, warn)
    if done is not None:
        if done[0]:
            return done
        check = check_held_material(client, key, material, warn, raced, recorded)
        return False, key, dict(key, material_check=check)
    key_id = key['key_id']

    def prepare():
        """Fresh parameters and the material wrapped for them, for each attempt."""
        params = get_import_params(client, key_id, wrapping_algorithm)
        if material.private_key is None:
            return (WrappedMaterial(params['import_token'], _wrap.wrap_symmetric_material(
                params['public_key'], material.symmetric, wrapping_algorithm)),)
        wrapped, wrapped_private = _wrap.wrap_private_key(params['public_key'], material.private_key,
                                                          wrapping_algorithm)
        return (WrappedMaterial(params['import_token'], wrapped, wrapped_private),)

    def send(wrapped):
        import_key_material(client, key_id, wrapped, expiration_time)

    try:
        try:
            after = _send_import(client, key, expiration_time, send, prepare, warn=warn)
        except KmsError as err:
            if err.error_code != 'KMS.2601':
                raise
            # the token expired between issue and use (clock skew, slow run): once more, fresh
            after = _send_import(client, key, expiration_time, send, prepare, warn=warn)
    except KmsError as err:
        if err.error_code != 'KMS.0310':
            raise
        return _imported_by_another_run(client, key, material, err, warn)
    record_check_value(client, key_id, material, warn)
    return True, key, dict(after, material_check=IMPORTED)


def _imported_by_another_run(client, key, material, error, warn):
    """KMS.0310 for a key that waited for material: if it holds material now, another run put
    it there; succeed only when it is provably this material."""
    now = describe_key(client, key['key_id'])
    if now['key_state'] not in HOLDS_MATERIAL_STATES:
        raise error
    return False, key, dict(now, material_check=check_held_material(client, now, material, warn, raced=True))


def import_wrapped_material(client, key, wrapped, expiration_time=None, check_mode=False, warn=None):
    """Import a ``WrappedMaterial``. Same contract as import_material; an expired token cannot be
    renewed here: the error tells to fetch new parameters."""
    check_importable(key, None, expiration_time)
    check_wrapped_fits(key, wrapped)
    done = _unchanged_or_predicted(key, expiration_time, check_mode, warn)
    if done is not None:
        # the material is not known here: a key that has material cannot be compared with it
        return done if done[0] else (False, key, dict(key, material_check=NOT_CHECKED))
    # one attempt only: the token and the wrapped material came from elsewhere and cannot be
    # renewed; an unclear failure with the key still pending import says so
    after = _send_import(client, key, expiration_time,
                         lambda: import_key_material(client, key['key_id'], wrapped, expiration_time),
                         attempts=1, warn=warn)
    return True, key, dict(after, material_check=IMPORTED)


def delete_material(client, key, check_mode=False):
    """Ensure a symmetric external key has no material; returns (changed, before, after)."""
    ref = key['key_id']
    if key['origin'] != 'external':
        raise KmsInputError('Key %s has origin %s: only imported (origin external) material can be deleted.'
                            % (ref, key['origin']))
    if key['key_state'] == '5':
        return False, key, key
    if key['key_spec'] not in SYMMETRIC_KEY_SPECS:
        raise KmsInputError(
            'Key %s is a %s key: imported private key material cannot be deleted. To get rid of it, '
            'schedule deletion of the key (dew.kms.kms_key state=absent).' % (ref, key['key_spec']))
    if key['key_state'] not in HOLDS_MATERIAL_STATES:
        raise KmsInputError(
            'Key %s is %s: its material can only be deleted while the key is enabled or disabled%s.'
            % (ref, key['key_state_name'],
               ' (cancel the deletion first with dew.kms.kms_key cancel_deletion=true)'
               if key['key_state'] == '4' else ''))
    if not check_mode:
        delete_imported_key_material(client, ref)
    return True, key, with_state(key, '5', expiration_time=None)
