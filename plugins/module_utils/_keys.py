# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""KMS key management on top of ``KmsClient.call()``, returning normalised dicts.

Reading, creating and changing keys, their public key and data calls; importing material lives
in ``_material``. Private module: the interface may change between releases. See
docs/dev/architecture.md.

Nothing here imports ``cryptography`` at load time: ``_wrap`` is imported inside
``get_public_key`` only, so modules that only read or manage keys never pay for it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import fnmatch
import re
import time
import weakref

from ansible_collections.dew.kms.plugins.module_utils._regions import lists_by_key_spec
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

KEY_STATES = {
    '1': 'pending_activation',
    '2': 'enabled',
    '3': 'disabled',
    '4': 'pending_deletion',
    '5': 'pending_import',
    '7': 'frozen',
}
KEY_STATE_CODES = dict((name, code) for code, name in KEY_STATES.items())
# the states in which a key holds material (enabled, disabled)
HOLDS_MATERIAL_STATES = ('2', '3')

KEY_SPECS = ('AES_256', 'SM4', 'RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_P256', 'EC_P384',
             'SECP256K1', 'SM2', 'ED25519', 'HMAC_256', 'HMAC_384', 'HMAC_512', 'HMAC_SM3')
KEY_USAGES = ('ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'GENERATE_VERIFY_MAC')
ORIGINS = ('kms', 'external')
PENDING_DAYS_MIN = 7
PENDING_DAYS_MAX = 1096
LIST_PAGE_SIZE = 100
# The latest material expiry accepted: 9999-12-31T23:59:59Z. The API documents no maximum, but a
# later moment cannot be written as ISO 8601 (four-digit years) nor as describe-key's epoch
# milliseconds in a signed 64-bit integer; such a value is a typo, never an intended expiry.
MAX_EXPIRATION_TIME = 253402300799

# Waiting for a new key to leave state 1 (pending activation): the default bound of the
# wait_timeout option, and the polling backoff (doubling from the first pause up to the last).
WAIT_TIMEOUT_DEFAULT = 60
WAIT_FIRST_PAUSE = 0.2
WAIT_MAX_PAUSE = 3.0
# errors of calls a key refuses while it is not in a usable state (pending activation among them)
WRONG_STATE_CODES = ('KMS.1301', 'KMS.1201', 'KMS.0310', 'KMS.2701')

# list-keys fields a list entry may lack (OTC lists none of them): describe-key has them
LIST_ENTRY_GAPS = ('key_spec', 'key_usage', 'origin')
# clients of an unknown cloud whose service refused list-keys' key_spec field: list without it
# from then on
_KEY_SPEC_REFUSED = weakref.WeakSet()
_INVALID_PARAMETER_CODES = ('KMS.0308',)


# ----------------------------------------------------------------------------- normalising

_EPOCH_NUMBER_RE = re.compile(r'^\d+(\.\d*)?$')


def _epoch_number(value):
    """Epoch seconds (int) from a number or decimal string in s, ms or us, without an upper bound;
    else None.

    The unit follows from the size: up to 10**11 seconds (until year 5138), up to 10**15
    milliseconds (a moment too late for any expiry), beyond that microseconds (from September
    2001 on). A fraction is dropped.
    """
    if value is None or value == '' or isinstance(value, bool):
        return None
    text = str(value).strip()
    if not _EPOCH_NUMBER_RE.match(text):
        return None
    number = int(text.partition('.')[0])
    if number <= 0:
        return None
    if number > 10 ** 15:  # 16-digit values are microseconds
        number //= 1000000
    elif number > 10 ** 11:  # 13-digit values are milliseconds
        number //= 1000
    return number


def epoch_seconds(value):
    """Epoch seconds (int) from an API timestamp: number or decimal string in s, ms or us; else None.

    None too for a moment after ``MAX_EXPIRATION_TIME``, which no date can render.
    """
    number = _epoch_number(value)
    if number is None or number > MAX_EXPIRATION_TIME:
        return None
    return number


DAY = 86400


def expires_in_days(expiration_time, now):
    """Whole days from ``now`` until material expiring at ``expiration_time`` expires; None: never.

    Both in epoch seconds; ``now`` is KMS's clock (``KmsModule.now``), the one that expires it.
    """
    if expiration_time is None:
        return None
    return int((int(expiration_time) - now) // DAY)


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


STATE_FIELDS = ('key_state', 'key_state_name', 'expiration_time')


def state_fields(key):
    """The state and material expiry of a key, as diffs show them; {} for no key."""
    if not key:
        return {}
    return dict((field, key.get(field)) for field in STATE_FIELDS)


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


def send_settled(client, send, settle, what, again, safe_note, prepare=None, attempts=None, warn=None):
    """Send a state-changing call and settle an unclear failure by what KMS holds now.

    ``send(attempt, *prepare())`` makes the call (the client never repeats it blindly); its
    value is returned. After an unclear failure (see ``is_unclear_failure``) ``settle()`` reads
    the key state: a value means the change took effect and is returned; None means nothing
    happened, and ``send`` runs again with fresh ``prepare()`` values, at most ``attempts`` times
    in all (default: the client's ``retries`` + 1), each time with a warning "<what> failed with
    <failure>; <again> (attempt n of m)". Should ``settle`` itself fail, the original error is
    raised; after the last attempt it is raised with ``safe_note`` appended. Errors of
    ``prepare`` are not settled: they changed nothing (and the client has retried them).
    """
    warn = _warner(client, warn)
    attempts = _state_retries(client) + 1 if attempts is None else attempts
    for attempt in range(1, attempts + 1):
        args = prepare() if prepare is not None else ()
        try:
            return send(attempt, *args)
        except KmsError as err:
            if not is_unclear_failure(err):
                raise
            try:
                settled = settle()
            except KmsError:
                raise err
            if settled is not None:
                return settled
            if attempt == attempts:
                raise KmsError('%s %s' % (err.msg, safe_note), status=err.status, error_code=err.error_code,
                               error_msg=err.error_msg, request_id=err.request_id)
            warn('%s failed with %s; %s (attempt %d of %d).'
                 % (what, failure_summary(err), again, attempt + 1, attempts))
    raise AssertionError('unreachable')  # pragma: no cover


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


# ----------------------------------------------------------------------------- reading keys

def strip_alias_prefix(value):
    """``name`` for ``alias/name`` (the habit of other clouds' tools), else the value as given."""
    return value[len(ALIAS_PREFIX):] if is_alias_ref(value) else value


def describe_key(client, key_ref):
    """Normalised key by id or ``alias/<name>``; raises KmsNotFoundError when there is none.

    An alias is resolved through list-keys (services refuse aliases as key ids).
    """
    if is_alias_ref(key_ref):
        alias = key_ref[len(ALIAS_PREFIX):]
        key = find_key_by_alias(client, alias)
        if key is None:
            raise KmsNotFoundError(
                'No KMS key has the alias %s in this project and region: check the alias, or '
                'create the key with dew.kms.kms_key.' % alias, error_code='KMS.0207')
        return key
    validate_key_id(key_ref)
    return normalize_key(_key_info(client.call('describe-key', {'key_id': key_ref}, key_id=key_ref),
                                   'describe-key', key_ref))


def complete_key(client, key):
    """The key with every field: a list entry lacking key_spec, key_usage or origin (as OTC's
    list-keys answers) is described; a complete one is returned as it is, without a call."""
    if key is None or all(key.get(field) for field in LIST_ENTRY_GAPS):
        return key
    return describe_key(client, key['key_id'])


def find_key_by_alias(client, alias):
    """Normalised, complete key with this alias (``alias/`` prefix optional), or None."""
    alias = validate_alias(strip_alias_prefix(alias))
    matches = [key for key in list_keys(client) if key['alias'] == alias]
    if not matches:
        return None
    # aliases are unique per project; prefer a live key if a deleted one still shows up
    matches.sort(key=lambda k: k['key_state'] == '4')
    return complete_key(client, matches[0])


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
    """True when a normalised key passes every given filter (``alias_pattern``: shell-style).

    A filter on a field the key lacks (a list entry without key_spec or origin) passes: the
    caller describes such keys and asks again.
    """
    if key_state and key['key_state'] != KEY_STATE_CODES.get(key_state, key_state):
        return False
    if key_spec and key_spec != 'ALL' and key['key_spec'] not in (None, key_spec):
        return False
    if origin and key['origin'] not in (None, origin):
        return False
    return not alias_pattern or fnmatch.fnmatchcase(key['alias'] or '', alias_pattern)


def _documented_key_spec(client):
    """True/False when the client's cloud defines list-keys' key_spec or not, None when unknown."""
    return lists_by_key_spec(getattr(getattr(client, 'config', None), 'cloud_provider', None))


def _sends_key_spec(client):
    """Whether list-keys gets key_spec: as the known cloud defines it; on an unknown cloud until
    its service refused the field once."""
    documented = _documented_key_spec(client)
    return documented if documented is not None else client not in _KEY_SPEC_REFUSED


def _without_key_spec(body):
    return dict((name, value) for name, value in body.items() if name != 'key_spec')


def _list_page(client, body):
    """One list-keys page, with key_spec only where the cloud takes it. Should the service of an
    unknown cloud refuse the field, the page is asked again without it, and this client never
    sends it again."""
    if not _sends_key_spec(client):
        body = _without_key_spec(body)
    try:
        return client.call('list-keys', body)
    except KmsError as err:
        # only the service of an unknown cloud is asked again without it
        if 'key_spec' not in body or _documented_key_spec(client) is not None or not _refuses_key_spec(err):
            raise
    page = client.call('list-keys', _without_key_spec(body))
    _KEY_SPEC_REFUSED.add(client)  # only once the listing worked without it
    return page


def _refuses_key_spec(err):
    """True for the invalid-parameter answer of a service that does not define key_spec."""
    return err.status == 400 and (err.error_code in _INVALID_PARAMETER_CODES
                                  or 'key_spec' in (err.error_msg or ''))


def _page_keys(page):
    """The normalised keys of one list-keys page."""
    details = page.get('key_details') or []
    if not isinstance(details, list):
        raise unexpected_answer('KMS list-keys', detail='key_details is not a list')
    infos = [expect_object(info, 'KMS list-keys', what='an element of key_details') for info in details]
    return [normalize_key(info) for info in infos]


def _next_marker(page, seen_markers):
    """The marker of the page after ``page``; None after the last one, or for a marker seen
    before (a service that loops would otherwise be listed forever)."""
    marker = str(page.get('next_marker') or '')
    if str(page.get('truncated')).lower() != 'true' or not marker or marker in seen_markers:
        return None
    return marker


def list_keys(client, key_state=None, key_spec='ALL', origin=None, alias_pattern=None,
              page_size=LIST_PAGE_SIZE):
    """Every key of the project as normalised dicts, following ``next_marker``.

    ``key_state`` (code or name) and ``key_spec`` filter on the service (and again locally, for
    services that ignore them); ``origin`` and ``alias_pattern`` (e.g. ``app-*``) filter locally.
    Entries without the field a ``key_spec`` or ``origin`` filter needs are described (only
    those that pass the other filters); other entries may lack key_spec, key_usage and origin.
    """
    body = {'limit': str(page_size), 'key_spec': key_spec or 'ALL'}
    if key_state:
        body['key_state'] = KEY_STATE_CODES.get(key_state, key_state)
    keys, seen_markers = [], set()
    while True:
        page = _list_page(client, dict(body))
        keys.extend(key for key in _page_keys(page) if key_matches(key, key_state, key_spec, origin, alias_pattern))
        marker = _next_marker(page, seen_markers)
        if marker is None:
            break
        seen_markers.add(marker)
        body['marker'] = marker
    if (key_spec and key_spec != 'ALL') or origin:
        keys = [key for key in (complete_key(client, key) for key in keys)
                if key_matches(key, key_state, key_spec, origin, alias_pattern)]
    return keys


# ----------------------------------------------------------------------------- waiting for activation

def wait_until_usable(client, key, timeout=WAIT_TIMEOUT_DEFAULT):
    """The key once it has left state 1 (pending activation), polling describe-key.

    New keys are not usable at once: they stay pending activation for a moment. Pauses double
    from ``WAIT_FIRST_PAUSE`` up to ``WAIT_MAX_PAUSE`` seconds (``client.sleep``), at most
    ``timeout`` seconds in all; 0 does not wait. A key still pending activation then is a
    KmsError naming it. A key in another state is returned at once, without a call.
    """
    waited, pause = 0.0, WAIT_FIRST_PAUSE
    while key['key_state'] == '1':
        if waited >= (timeout or 0):
            raise KmsError(
                'Key %s is still pending activation (key state 1) after %s seconds: KMS has not made '
                'the new key usable yet. Run the task again later, or raise wait_timeout.'
                % (key['key_id'], _seconds(waited)))
        step = min(pause, timeout - waited)
        client.sleep(step)
        waited += step
        pause = min(pause * 2, WAIT_MAX_PAUSE)
        key = describe_key(client, key['key_id'])
    return key


def _seconds(value):
    return ('%.1f' % value).rstrip('0').rstrip('.')


def when_usable(client, key_id, timeout, call):
    """``call()``; when KMS refuses it for the key's state and the key is pending activation,
    wait for it (``wait_until_usable``) and call once more. Costs no extra call otherwise."""
    try:
        return call()
    except KmsError as err:
        if err.error_code not in WRONG_STATE_CODES or not timeout:
            raise
        key = describe_key(client, key_id)
        if key['key_state'] != '1':
            raise
        wait_until_usable(client, key, timeout)
    return call()


# ----------------------------------------------------------------------------- managing keys

def create_key(client, alias, key_spec=None, key_usage=None, origin=None, description=None,
               reread=True, warn=None):
    """Create a key under ``alias``; returns the normalised key.

    ``reread=True``: the key as described right after creation (one more call).
    ``reread=False``: the key built from what was sent and the create-key answer, without a call:
    state 1 (pending activation, as every new key starts; see ``wait_until_usable``); options
    not sent are None.

    Safe by state on an unclear failure (a 5xx, or a connection error that may have reached the
    server): the alias is looked up; a key with it means the create happened and that key is
    returned (described), none means it did not, and create-key is sent again, at most
    ``client.config.retries`` times, each with a warning (``warn``, default the client's).
    A KMS.1104 (alias exists) on a later attempt returns the key an earlier attempt made.
    """
    validate_alias(alias)
    body = {'key_alias': alias}
    for field, value in (('key_spec', key_spec), ('key_usage', key_usage), ('origin', origin),
                         ('key_description', description)):
        if value is not None:
            body[field] = value

    def send(attempt):
        try:
            # create-key is not idempotent: the client never repeats it blindly
            return client.call('create-key', body, idempotent=False), None
        except KmsError as err:
            existing = find_key_by_alias(client, alias) if attempt > 1 and err.error_code == 'KMS.1104' else None
            if existing is None:
                raise
            return None, existing  # an earlier, unclear attempt created the key after all

    def settle():
        existing = find_key_by_alias(client, alias)
        return None if existing is None else (None, existing)

    answer, existing = send_settled(
        client, send, settle, 'create-key for alias %s' % alias,
        'no key has the alias, so it is created again',
        'No key has the alias %s, so running the task again is safe.' % alias, warn=warn)
    if existing is not None:
        return existing
    return _created_key(client, answer, body, alias, reread)


def _created_key(client, answer, body, alias, reread):
    """The new key from the create-key answer: described again, or built from the request."""
    info = _key_info(answer, 'create-key for alias %s' % alias)
    if not isinstance(info.get('key_id'), str) or not info['key_id']:
        raise unexpected_answer('KMS create-key for alias %s' % alias, detail='key_info.key_id is missing')
    if reread:
        return describe_key(client, info['key_id'])
    sent = dict(body, key_id=info.get('key_id'), domain_id=info.get('domain_id'), default_key_flag='0',
                key_state='1')
    return normalize_key(sent)


def enable_key(client, key_id):
    client.call('enable-key', {'key_id': key_id}, key_id=key_id)


def disable_key(client, key_id):
    client.call('disable-key', {'key_id': key_id}, key_id=key_id)


def schedule_key_deletion(client, key_id, pending_days):
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


# ----------------------------------------------------------------------------- public key, data

def get_public_key(client, key_ref, wait_timeout=WAIT_TIMEOUT_DEFAULT):
    """Public key of an asymmetric key by id or ``alias/<name>`` (resolved through list-keys),
    waiting up to ``wait_timeout`` seconds while the key is pending activation.

    Returns key_id, pem (LF, SubjectPublicKeyInfo), der_b64, fingerprint_sha256, key_spec.
    The service's PEM is parsed leniently (SPKI or PKCS#1 inside the armour, CRLF or LF).
    """
    from ansible_collections.dew.kms.plugins.module_utils import _wrap

    validate_key_id(key_ref, allow_alias=True)
    key_id = describe_key(client, key_ref)['key_id'] if is_alias_ref(key_ref) else key_ref
    answer = when_usable(client, key_id, wait_timeout,
                         lambda: client.call('get-publickey', {'key_id': key_id}, key_id=key_id))
    result = dict(_wrap.normalize_public_key(answer.get('public_key') or ''))
    result['key_id'] = answer.get('key_id') or key_id
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
