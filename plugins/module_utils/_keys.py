# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""KMS key operations on top of ``KmsClient.call()``, returning normalised dicts.

Private module: the interface may change between releases. See docs/dev/architecture.md.

Nothing here imports ``cryptography`` at load time: ``_wrap`` is imported inside the functions
that wrap or parse keys, so modules that only read or manage keys never pay for it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import fnmatch
import re
import time

from ansible_collections.dew.kms.plugins.module_utils._errors import (
    KmsConnectionError,
    KmsError,
    KmsInputError,
    KmsNotFoundError,
    expect_object,
    unexpected_answer,
)

KEY_ID_RE = re.compile(r'^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$')
ALIAS_RE = re.compile(r'^[a-zA-Z0-9:/_-]{1,255}$')
ALIAS_PREFIX = 'alias/'
BASE64_RE = re.compile(r'^[0-9a-zA-Z+/=]+$')

KEY_STATES = {
    '1': 'pending_activation',
    '2': 'enabled',
    '3': 'disabled',
    '4': 'pending_deletion',
    '5': 'pending_import',
    '7': 'frozen',
}
KEY_STATE_CODES = dict((name, code) for code, name in KEY_STATES.items())

KEY_SPECS = ('AES_256', 'SM4', 'RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_P256', 'EC_P384',
             'SECP256K1', 'SM2', 'ED25519', 'HMAC_256', 'HMAC_384', 'HMAC_512', 'HMAC_SM3')
KEY_USAGES = ('ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'GENERATE_VERIFY_MAC')
ORIGINS = ('kms', 'external')
SYMMETRIC_IMPORT_SPECS = ('AES_256',)
PENDING_DAYS_MIN = 7
PENDING_DAYS_MAX = 1096
LIST_PAGE_SIZE = 100
# The latest material expiry accepted: 9999-12-31T23:59:59Z. The API documents no maximum, but a
# later moment cannot be written as ISO 8601 (four-digit years) nor as describe-key's epoch
# milliseconds in a signed 64-bit integer; such a value is a typo, never an intended expiry.
MAX_EXPIRATION_TIME = 253402300799

# describe-key by alias is documented by OTC; services that refuse the alias form answer these
_ALIAS_REFUSED_CODES = ('KMS.0205', 'KMS.0207')
_IMPORT_TOKEN_RE = re.compile(r'^[0-9a-zA-Z+/=]{200,6144}$')
_WRAPPED_MATERIAL_RE = re.compile(r'^[0-9a-zA-Z+/=]{344,360}$')


# ----------------------------------------------------------------------------- normalising

def _epoch_number(value):
    """Epoch seconds (int) from int or decimal string in s or ms, without an upper bound; else None."""
    if value is None or value == '':
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    if number <= 0:
        return None
    if number > 10 ** 11:  # 13-digit values are milliseconds
        number //= 1000
    return number


def epoch_seconds(value):
    """Epoch seconds (int) from an API timestamp: int, or decimal string in s or ms; else None.

    None too for a moment after ``MAX_EXPIRATION_TIME``, which no date can render.
    """
    number = _epoch_number(value)
    if number is None or number > MAX_EXPIRATION_TIME:
        return None
    return number


def iso8601(seconds):
    """'2030-01-01T00:00:00Z' for epoch seconds; None for None or a moment no date can render."""
    if seconds is None:
        return None
    try:
        moment = datetime.datetime.fromtimestamp(int(seconds), tz=datetime.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def _key_info(answer, operation, key_id=None):
    """The ``key_info`` object of a describe-key / create-key answer; KmsError if it is not one."""
    return expect_object(answer.get('key_info'), 'KMS %s' % operation, key_id, what='key_info')


def normalize_key(info):
    """The collection's key dict from a ``key_info`` / ``key_details[]`` object of the API."""
    state = str(info.get('key_state') or '')
    return {
        'key_id': info.get('key_id'),
        'alias': info.get('key_alias') or None,
        'description': info.get('key_description') or '',
        'key_spec': info.get('key_spec') or None,
        'key_usage': info.get('key_usage') or None,
        'origin': info.get('origin') or None,
        'key_state': state or None,
        'key_state_name': KEY_STATES.get(state, 'unknown' if state else None),
        'enabled': state == '2',
        'creation_date': epoch_seconds(info.get('creation_date')),
        'expiration_time': epoch_seconds(info.get('expiration_time')),
        'scheduled_deletion_date': epoch_seconds(info.get('scheduled_deletion_date')),
        'default_key': str(info.get('default_key_flag') or '0') == '1',
        'domain_id': info.get('domain_id') or None,
    }


def with_state(key, state, **changes):
    """A copy of a normalised key in another state (predicted results without a re-read)."""
    new = dict(key)
    new.update(changes)
    new['key_state'] = state
    new['key_state_name'] = KEY_STATES.get(state, 'unknown')
    new['enabled'] = state == '2'
    return new


# ----------------------------------------------------------------------------- retries by key state

def is_unclear_failure(err):
    """True when a failed state-changing call may still have taken effect on the server:
    a 5xx, or a connection error that may have reached it."""
    if isinstance(err, KmsConnectionError):
        return bool(err.maybe_sent)
    return (err.status or 0) >= 500


def failure_summary(err):
    """'HTTP 503 KMS.0104' or 'a connection error' for a warning."""
    if err.status:
        return 'HTTP %s%s' % (err.status, ' ' + err.error_code if err.error_code else '')
    return 'a connection error'


def _state_retries(client):
    """How often a state-changing call may be sent again once the key state shows it is safe:
    the client's ``retries`` setting."""
    config = getattr(client, 'config', None)
    return max(0, int(getattr(config, 'retries', 0) or 0))


def _warner(client, warn):
    return warn or getattr(client, 'warn', None) or (lambda msg: None)


# ----------------------------------------------------------------------------- local validation

def is_alias_ref(value):
    return isinstance(value, str) and value.startswith(ALIAS_PREFIX)


def validate_key_id(value, field='key_id', allow_alias=False):
    """Raise KmsInputError unless ``value`` is a key id (or ``alias/<name>`` when allowed)."""
    if allow_alias and is_alias_ref(value):
        validate_alias(value[len(ALIAS_PREFIX):], field=field)
        return value
    if not isinstance(value, str) or not KEY_ID_RE.match(value):
        expected = 'a key ID such as 0d0466b0-e727-4d9c-b35d-f84bb474a37f'
        if allow_alias:
            expected += ' or an alias reference alias/<name>'
        raise KmsInputError('%s is malformed: expected %s.' % (field, expected))
    return value


def validate_alias(value, field='alias'):
    if not isinstance(value, str) or not ALIAS_RE.match(value):
        raise KmsInputError(
            '%s is invalid: a key alias has 1 to 255 characters from letters, digits, ":", "/", '
            '"_" and "-".' % field)
    if value.endswith('/default'):
        raise KmsInputError(
            '%s must not end in "/default": such aliases belong to the Default Master Keys of '
            'cloud services.' % field)
    return value


def validate_pending_days(days):
    if days is None or not PENDING_DAYS_MIN <= int(days) <= PENDING_DAYS_MAX:
        raise KmsInputError('pending_days must be between %d and %d.' % (PENDING_DAYS_MIN, PENDING_DAYS_MAX))
    return int(days)


def parse_expiration_time(value, now=None, field='expiration_time'):
    """Epoch seconds from epoch seconds (int or digits) or an ISO 8601 date/time; must be future.

    A date without time means midnight UTC; a time without offset is UTC. None stays None.
    At most ``MAX_EXPIRATION_TIME`` (9999-12-31T23:59:59Z); KmsInputError naming ``field`` otherwise.
    """
    if value is None or value == '':
        return None
    text = str(value).strip()
    if re.match(r'^\d+$', text):
        seconds = _epoch_number(text)
    else:
        seconds = _parse_iso8601(text, field)
    if seconds is None:
        raise KmsInputError('%s must be epoch seconds or an ISO 8601 date such as 2030-01-31T00:00:00Z.' % field)
    if seconds > MAX_EXPIRATION_TIME:
        raise KmsInputError(
            '%s is too far in the future: the latest accepted expiry is %s (epoch %d seconds, or '
            '%d in milliseconds); omit %s for material that never expires.'
            % (field, iso8601(MAX_EXPIRATION_TIME), MAX_EXPIRATION_TIME, MAX_EXPIRATION_TIME * 1000 + 999,
               field))
    now = time.time() if now is None else now
    if seconds <= now:
        raise KmsInputError(
            '%s (%s) is in the past: key material expiry must be in the future; omit %s for '
            'material that never expires.' % (field, iso8601(seconds), field))
    return seconds


def _parse_iso8601(text, field):
    candidate = text[:-1] + '+00:00' if text.endswith(('Z', 'z')) else text
    try:
        if len(candidate) == 10:
            moment = datetime.datetime.strptime(candidate, '%Y-%m-%d')
        else:
            moment = datetime.datetime.fromisoformat(candidate.replace(' ', 'T', 1))
    except ValueError:
        raise KmsInputError('%s must be epoch seconds or an ISO 8601 date such as 2030-01-31T00:00:00Z.' % field)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return int((moment - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)).total_seconds())


def _validate_base64_field(value, field, pattern, rule):
    if not isinstance(value, str) or not pattern.match(value):
        raise KmsInputError('%s is malformed: it must be %s.' % (field, rule))


# ----------------------------------------------------------------------------- reading keys

def describe_key(client, key_ref):
    """Normalised key by id or ``alias/<name>``; raises KmsNotFoundError when there is none.

    Describing by alias is lenient: if the service refuses the alias form (KMS.0205/KMS.0207),
    the keys are listed (every key_spec) and matched on their alias.
    """
    if is_alias_ref(key_ref):
        key = find_key_by_alias(client, key_ref[len(ALIAS_PREFIX):])
        if key is None:
            raise KmsNotFoundError(
                'No KMS key has the alias %s in this project and region: check the alias, or '
                'create the key with dew.kms.kms_key.' % key_ref[len(ALIAS_PREFIX):],
                error_code='KMS.0207')
        return key
    validate_key_id(key_ref)
    return normalize_key(_key_info(client.call('describe-key', {'key_id': key_ref}, key_id=key_ref),
                                   'describe-key', key_ref))


def find_key_by_alias(client, alias):
    """Normalised key with this alias (name without the ``alias/`` prefix), or None."""
    validate_alias(alias)
    if not getattr(client, '_dew_alias_describe_refused', False):
        try:
            info = _key_info(client.call('describe-key', {'key_id': ALIAS_PREFIX + alias},
                                         key_id=ALIAS_PREFIX + alias), 'describe-key', ALIAS_PREFIX + alias)
        except KmsError as err:
            if err.error_code not in _ALIAS_REFUSED_CODES:
                raise
            if err.error_code == 'KMS.0205':
                # this service does not accept aliases as key ids: list straight away next time
                client._dew_alias_describe_refused = True
        else:
            key = normalize_key(info)
            if key['alias'] in (None, alias):
                return key
    matches = [key for key in list_keys(client) if key['alias'] == alias]
    if not matches:
        return None
    # aliases are unique per project; prefer a live key if a deleted one still shows up
    matches.sort(key=lambda k: k['key_state'] == '4')
    return matches[0]


def find_key(client, key_id=None, alias=None):
    """Normalised key by id (preferred) or alias, or None when there is none."""
    if key_id:
        try:
            return describe_key(client, key_id)
        except KmsNotFoundError as err:
            if err.error_code == 'KMS.0205' and not is_alias_ref(key_id):
                raise
            return None
    if alias:
        return find_key_by_alias(client, alias)
    return None


def key_matches(key, key_state=None, key_spec=None, origin=None, alias_pattern=None):
    """True when a normalised key passes every given filter (``alias_pattern``: shell-style)."""
    if key_state and key['key_state'] != KEY_STATE_CODES.get(key_state, key_state):
        return False
    if key_spec and key_spec != 'ALL' and key['key_spec'] != key_spec:
        return False
    if origin and key['origin'] != origin:
        return False
    return not alias_pattern or fnmatch.fnmatchcase(key['alias'] or '', alias_pattern)


def list_keys(client, key_state=None, key_spec='ALL', origin=None, alias_pattern=None,
              page_size=LIST_PAGE_SIZE):
    """Every key of the project as normalised dicts, following ``next_marker``.

    ``key_state`` (code or name) and ``key_spec`` filter on the service (and again locally, for
    services that ignore them); ``origin`` and ``alias_pattern`` (e.g. ``app-*``) filter locally.
    """
    body = {'limit': str(page_size), 'key_spec': key_spec or 'ALL'}
    if key_state:
        body['key_state'] = KEY_STATE_CODES.get(key_state, key_state)
    keys, seen_markers = [], set()
    while True:
        page = client.call('list-keys', dict(body))
        details = page.get('key_details') or []
        if not isinstance(details, list):
            raise unexpected_answer('KMS list-keys', detail='key_details is not a list')
        infos = [expect_object(info, 'KMS list-keys', what='an element of key_details') for info in details]
        keys.extend(key for key in (normalize_key(info) for info in infos)
                    if key_matches(key, key_state, key_spec, origin, alias_pattern))
        marker = str(page.get('next_marker') or '')
        if str(page.get('truncated')).lower() != 'true' or not marker or marker in seen_markers:
            return keys
        seen_markers.add(marker)
        body['marker'] = marker


# ----------------------------------------------------------------------------- managing keys

def create_key(client, alias, key_spec=None, key_usage=None, origin=None, description=None,
               reread=True, warn=None):
    """Create a key under ``alias``; returns the normalised key.

    ``reread=True``: the key as described right after creation (one more call).
    ``reread=False``: the key built from what was sent and the create-key answer, without a call:
    state 5 (pending import) for origin external, else 2; options not sent are None.

    Safe by state on an unclear failure (a 5xx, or a connection error that may have reached the
    server): the alias is looked up; a key with it means the create happened and that key is
    returned (described), none means it did not, and create-key is sent again, at most
    ``client.config.retries`` times, each with a warning (``warn``, default the client's).
    """
    validate_alias(alias)
    body = {'key_alias': alias}
    for field, value in (('key_spec', key_spec), ('key_usage', key_usage), ('origin', origin),
                         ('key_description', description)):
        if value is not None:
            body[field] = value
    warn = _warner(client, warn)
    attempts = _state_retries(client) + 1
    for attempt in range(1, attempts + 1):
        try:
            # create-key is not idempotent: the client never repeats it blindly
            answer = client.call('create-key', body, idempotent=False)
            break
        except KmsError as err:
            if attempt > 1 and err.error_code == 'KMS.1104':
                # the alias exists now: an earlier, unclear attempt created the key after all
                existing = find_key_by_alias(client, alias)
                if existing is not None:
                    return existing
                raise
            if not is_unclear_failure(err):
                raise
            try:
                existing = find_key_by_alias(client, alias)
            except KmsError:
                raise err
            if existing is not None:
                return existing
            if attempt == attempts:
                raise KmsError('%s No key has the alias %s, so running the task again is safe.'
                               % (err.msg, alias), status=err.status, error_code=err.error_code,
                               error_msg=err.error_msg, request_id=err.request_id)
            warn('create-key for alias %s failed with %s; no key has the alias, so it is created '
                 'again (attempt %d of %d).' % (alias, failure_summary(err), attempt + 1, attempts))
    info = _key_info(answer, 'create-key for alias %s' % alias)
    if not isinstance(info.get('key_id'), str) or not info['key_id']:
        raise unexpected_answer('KMS create-key for alias %s' % alias, detail='key_info.key_id is missing')
    if reread:
        return describe_key(client, info['key_id'])
    sent = dict(body, key_id=info.get('key_id'), domain_id=info.get('domain_id'), default_key_flag='0',
                key_state='5' if origin == 'external' else '2')
    return normalize_key(sent)


def enable_key(client, key_id):
    client.call('enable-key', {'key_id': key_id}, key_id=key_id)


def disable_key(client, key_id):
    client.call('disable-key', {'key_id': key_id}, key_id=key_id)


def schedule_key_deletion(client, key_id, pending_days=PENDING_DAYS_MIN):
    days = validate_pending_days(pending_days)
    client.call('schedule-key-deletion', {'key_id': key_id, 'pending_days': str(days)}, key_id=key_id)


def cancel_key_deletion(client, key_id):
    client.call('cancel-key-deletion', {'key_id': key_id}, key_id=key_id)


def update_key_alias(client, key_id, alias):
    validate_alias(alias)
    client.call('update-key-alias', {'key_id': key_id, 'key_alias': alias}, key_id=key_id)


def update_key_description(client, key_id, description):
    client.call('update-key-description', {'key_id': key_id, 'key_description': description or ''},
                key_id=key_id)


# ----------------------------------------------------------------------------- import parameters

def warn_weak_algorithm(wrapping_algorithm, warn):
    from ansible_collections.dew.kms.plugins.module_utils import _wrap

    if wrapping_algorithm in _wrap.WEAK_WRAPPING_ALGORITHMS:
        warn('wrapping_algorithm %s is weak; use RSAES_OAEP_SHA_256 unless old tooling needs it.'
             % wrapping_algorithm)


def get_import_params(client, key_id, wrapping_algorithm):
    """get-parameters-for-import: key_id, import_token, public_key (base64 DER),
    public_key_pem, expiration_time (epoch s), expiration_date (ISO 8601 UTC)."""
    from ansible_collections.dew.kms.plugins.module_utils import _wrap

    validate_key_id(key_id)
    answer = client.call('get-parameters-for-import',
                         {'key_id': key_id, 'wrapping_algorithm': wrapping_algorithm}, key_id=key_id)
    expiration = epoch_seconds(answer.get('expiration_time'))
    return {
        'key_id': answer.get('key_id') or key_id,
        'import_token': answer.get('import_token'),
        'public_key': answer.get('public_key'),
        'public_key_pem': _wrap.public_key_pem_from_b64_der(answer.get('public_key')),
        'expiration_time': expiration,
        'expiration_date': iso8601(expiration),
    }


def import_key_material(client, key_id, import_token, encrypted_key_material,
                        encrypted_privatekey=None, expiration_time=None):
    """import-key-material with pre-wrapped material (never retried by the client)."""
    body = {'key_id': key_id, 'import_token': import_token, 'encrypted_key_material': encrypted_key_material}
    if encrypted_privatekey:
        body['encrypted_privatekey'] = encrypted_privatekey
    if expiration_time is not None:
        body['expiration_time'] = int(expiration_time)
    client.call('import-key-material', body, key_id=key_id, idempotent=False)


def delete_imported_key_material(client, key_id):
    client.call('delete-imported-key-material', {'key_id': key_id}, key_id=key_id)


# ----------------------------------------------------------------------------- public key, data

def get_public_key(client, key_ref):
    """Public key of an asymmetric key by id or ``alias/<name>``.

    Returns key_id, pem (LF, SubjectPublicKeyInfo), der_b64, fingerprint_sha256, key_spec.
    The service's PEM is parsed leniently (SPKI or PKCS#1 inside the armour, CRLF or LF).
    """
    from ansible_collections.dew.kms.plugins.module_utils import _wrap

    validate_key_id(key_ref, allow_alias=True)
    try:
        answer = client.call('get-publickey', {'key_id': key_ref}, key_id=key_ref)
    except KmsError as err:
        if not is_alias_ref(key_ref) or err.error_code not in _ALIAS_REFUSED_CODES:
            raise
        answer = None
    if answer is None:
        key_id = describe_key(client, key_ref)['key_id']
        answer = client.call('get-publickey', {'key_id': key_id}, key_id=key_id)
    result = dict(_wrap.normalize_public_key(answer.get('public_key') or ''))
    result['key_id'] = answer.get('key_id') or key_ref
    return result


def encrypt_data(client, key_id, plain_text, encryption_algorithm=None):
    body = {'key_id': key_id, 'plain_text': plain_text}
    if encryption_algorithm:
        body['encryption_algorithm'] = encryption_algorithm
    return client.call('encrypt-data', body, key_id=key_id).get('cipher_text')


def decrypt_data(client, cipher_text, key_id=None, encryption_algorithm=None):
    body = {'cipher_text': cipher_text}
    if key_id and encryption_algorithm:
        body['key_id'] = key_id
        body['encryption_algorithm'] = encryption_algorithm
    return client.call('decrypt-data', body, key_id=key_id).get('plain_text')


# ----------------------------------------------------------------------------- material import flow

def load_material(data, field):
    """Classify plaintext material given as bytes (file) or text (option).

    Returns ``('symmetric', 32 bytes)`` or ``('private_key', key object)``. A PEM armour, or a DER
    structure (raw or base64) longer than symmetric material, means a private key; anything else
    must be 32 bytes, raw or base64. Raises KmsInputError naming ``field``, never the value.
    """
    from ansible_collections.dew.kms.plugins.module_utils import _wrap

    raw = data.encode('utf-8') if isinstance(data, str) else bytes(data)
    if b'-----BEGIN' in raw or (len(raw) > 64 and raw[:1] == b'\x30'):
        return 'private_key', _wrap.load_private_key(raw, field)
    stripped = b''.join(raw.split())
    if len(stripped) > 88 and BASE64_RE.match(stripped.decode('latin-1')):
        der = base64.b64decode(stripped + b'=' * (-len(stripped) % 4))
        if der[:1] == b'\x30':
            return 'private_key', _wrap.load_private_key(der, field)
    if isinstance(data, bytes) and len(raw) != 32 and not BASE64_RE.match(stripped.decode('latin-1')):
        # a binary file of the wrong size: say so rather than "not valid base64"
        raise KmsInputError('%s must hold exactly 32 bytes of AES-256 key material (raw, or as base64 text) '
                            'or an RSA/EC private key (PEM or DER); it holds %d bytes.' % (field, len(raw)))
    return 'symmetric', _wrap.decode_symmetric_material(raw, field)


def check_importable(key, kind=None, private_key_spec=None, expiration_time=None):
    """Raise KmsInputError unless material of this kind may go into this key (state aside).

    ``kind`` is 'symmetric', 'private_key' or None (pre-wrapped material, not known locally).
    """
    ref = key['key_id']
    if key['default_key']:
        raise KmsInputError('Key %s is a Default Master Key: material cannot be imported into it.' % ref)
    if key['origin'] != 'external':
        raise KmsInputError(
            'Key %s has origin %s: key material can only be imported into a key created with origin '
            'external. Create a new key with dew.kms.kms_key origin=external and import into that.'
            % (ref, key['origin']))
    symmetric_key = key['key_spec'] in SYMMETRIC_IMPORT_SPECS
    if kind == 'symmetric' and not symmetric_key:
        raise KmsInputError(
            'Key %s is a %s key: its material must be a private key of that type (PEM or DER, via '
            'key_material_path or key_material), not 32 bytes of symmetric material.' % (ref, key['key_spec']))
    if kind == 'private_key':
        if symmetric_key:
            raise KmsInputError(
                'Key %s is an %s key: its material must be exactly 32 bytes (base64 in key_material, '
                'or raw or base64 in key_material_path), not a private key.' % (ref, key['key_spec']))
        if private_key_spec != key['key_spec']:
            raise KmsInputError(
                'The private key is %s but key %s is %s: import a private key of the same type and size.'
                % (private_key_spec or 'of an unsupported type', ref, key['key_spec']))
    if expiration_time is not None and not symmetric_key:
        raise KmsInputError(
            'expiration_time applies only to symmetric keys: material of the %s key %s is permanent; '
            'omit expiration_time.' % (key['key_spec'], ref))


def check_state_for_import(key):
    """True when the key waits for material, False when it has it; raise for other states."""
    state, ref = key['key_state'], key['key_id']
    if state == '5':
        return True
    if state in ('2', '3'):
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


def _import_outcome(client, key, expiration_time, prepare, send, retries=0, warn=None):
    """Import with ``send(prepare())`` (one import-key-material call); safe by key state.

    A 5xx or a connection error may hide a successful import, so the key is described: if it
    has left the pending-import state, the material is in and the import is not repeated. If it
    still waits for import, nothing was imported and, while ``retries`` allow, ``prepare()``
    (fresh import parameters, material wrapped again) and ``send`` run once more, each time with
    a warning. Errors of ``prepare()`` are not retried here (the client has retried them).
    Returns the key after the import.
    """
    warn = _warner(client, warn)
    attempts = retries + 1
    for attempt in range(1, attempts + 1):
        args = prepare()
        try:
            send(*args)
        except KmsError as err:
            if not is_unclear_failure(err):
                raise
            try:
                now = describe_key(client, key['key_id'])
            except KmsError:
                raise err
            if now['key_state'] in ('2', '3'):
                return now
            if now['key_state'] != '5':
                raise err
            if attempt == attempts:
                raise KmsError('%s The key is still waiting for import, so running the task again is safe.'
                               % err.msg, status=err.status, error_code=err.error_code,
                               error_msg=err.error_msg, request_id=err.request_id)
            warn('import-key-material for key %s failed with %s; the key is still waiting for import, '
                 'so it is imported again (attempt %d of %d).'
                 % (key['key_id'], failure_summary(err), attempt + 1, attempts))
        else:
            return _imported(key, expiration_time)
    raise AssertionError('unreachable')  # pragma: no cover


def import_material(client, key, material=None, private_key=None,
                    wrapping_algorithm='RSAES_OAEP_SHA_256', expiration_time=None,
                    check_mode=False, warn=None):
    """Import plaintext material into a described key, wrapping it in-process.

    ``key``: normalised key (from describe_key). ``material``: 32 bytes for AES_256, or
    ``private_key``: a loaded private key (``_wrap.load_private_key``) for RSA/EC keys.
    ``expiration_time``: epoch seconds (validated) or None.

    Validates everything locally before any state-changing call, then get-parameters-for-import
    -> wrap -> import-key-material. One retry with fresh parameters if the token expired
    (KMS.2601). After an unclear failure of the import (5xx, connection lost) the key is
    described: material there -> done; still pending import -> fresh parameters and another
    import, at most ``client.config.retries`` times, each with a warning (see _import_outcome).
    Calls: 0 when the material is already there, 2 for a first import.
    Returns ``(changed, before, after)`` normalised keys; ``after`` is predicted, not re-read.
    """
    from ansible_collections.dew.kms.plugins.module_utils import _wrap

    if (material is None) == (private_key is None):
        raise KmsInputError('Give either symmetric key material or a private key.')
    kind = 'symmetric' if material is not None else 'private_key'
    spec = _wrap.private_key_spec(private_key) if private_key is not None else None
    check_importable(key, kind, spec, expiration_time)
    if not check_state_for_import(key):
        _material_warnings(key, expiration_time, warn)
        return False, key, key
    if check_mode:
        return True, key, _imported(key, expiration_time)

    key_id = key['key_id']

    def prepare():
        params = get_import_params(client, key_id, wrapping_algorithm)
        if material is not None:
            wrapped, wrapped_private = _wrap.wrap_symmetric_material(
                params['public_key'], material, wrapping_algorithm), None
        else:
            wrapped, wrapped_private = _wrap.wrap_private_key(params['public_key'], private_key, wrapping_algorithm)
        return params['import_token'], wrapped, wrapped_private

    def send(import_token, wrapped, wrapped_private):
        import_key_material(client, key_id, import_token, wrapped, wrapped_private, expiration_time)

    # with fresh parameters for each attempt, an import is repeated while the key state shows
    # that nothing was imported (bounded by the client's retries)
    retries = _state_retries(client)
    try:
        after = _import_outcome(client, key, expiration_time, prepare, send, retries, warn)
    except KmsError as err:
        if err.error_code != 'KMS.2601':
            raise
        # the token expired between issue and use (clock skew, slow run): once more, fresh
        after = _import_outcome(client, key, expiration_time, prepare, send, retries, warn)
    return True, key, after


def validate_wrapped_input(import_token, encrypted_key_material, encrypted_privatekey=None):
    """Raise KmsInputError for pre-wrapped input that the API would refuse by its format."""
    _validate_base64_field(import_token, 'import_token', _IMPORT_TOKEN_RE,
                           '200 to 6144 base64 characters as returned by kms_import_params')
    _validate_base64_field(encrypted_key_material, 'encrypted_key_material', _WRAPPED_MATERIAL_RE,
                           '344 to 360 base64 characters (one RSA-2048 ciphertext)')
    if encrypted_privatekey is not None:
        _validate_base64_field(encrypted_privatekey, 'encrypted_privatekey', _IMPORT_TOKEN_RE,
                               '200 to 6144 base64 characters (a wrapped PKCS#8 private key)')


def import_wrapped_material(client, key, import_token, encrypted_key_material, encrypted_privatekey=None,
                            expiration_time=None, check_mode=False, warn=None):
    """Import material wrapped elsewhere (from kms_import_params). Same contract as import_material;
    an expired token cannot be renewed here: the error tells to fetch new parameters."""
    validate_wrapped_input(import_token, encrypted_key_material, encrypted_privatekey)
    check_importable(key, None, None, expiration_time)
    if key['key_spec'] not in SYMMETRIC_IMPORT_SPECS and not encrypted_privatekey:
        raise KmsInputError('Key %s is a %s key: importing its material needs encrypted_privatekey too.'
                            % (key['key_id'], key['key_spec']))
    if key['key_spec'] in SYMMETRIC_IMPORT_SPECS and encrypted_privatekey:
        raise KmsInputError('Key %s is a symmetric %s key: encrypted_privatekey applies only to RSA and EC keys.'
                            % (key['key_id'], key['key_spec']))
    if not check_state_for_import(key):
        _material_warnings(key, expiration_time, warn)
        return False, key, key
    if check_mode:
        return True, key, _imported(key, expiration_time)
    # no second attempt here: the import token and the wrapped material came from elsewhere and
    # cannot be renewed; an unclear failure with the key still pending import says so
    after = _import_outcome(client, key, expiration_time, lambda: (), lambda: import_key_material(
        client, key['key_id'], import_token, encrypted_key_material, encrypted_privatekey, expiration_time),
        warn=warn)
    return True, key, after


def delete_material(client, key, check_mode=False):
    """Ensure a symmetric external key has no material; returns (changed, before, after)."""
    ref = key['key_id']
    if key['origin'] != 'external':
        raise KmsInputError('Key %s has origin %s: only imported (origin external) material can be deleted.'
                            % (ref, key['origin']))
    if key['key_state'] == '5':
        return False, key, key
    if key['key_spec'] not in SYMMETRIC_IMPORT_SPECS:
        raise KmsInputError(
            'Key %s is a %s key: imported private key material cannot be deleted. To get rid of it, '
            'schedule deletion of the key (dew.kms.kms_key state=absent).' % (ref, key['key_spec']))
    if key['key_state'] not in ('2', '3'):
        raise KmsInputError(
            'Key %s is %s: its material can only be deleted while the key is enabled or disabled%s.'
            % (ref, key['key_state_name'],
               ' (cancel the deletion first with dew.kms.kms_key cancel_deletion=true)'
               if key['key_state'] == '4' else ''))
    if not check_mode:
        delete_imported_key_material(client, ref)
    return True, key, with_state(key, '5', expiration_time=None)
