# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The key ceremony's bundle files: build, write, read, validate, and the offline wrap.

Three phases: *export* (online) writes an export bundle holding per key the wrapping public key
and import token; *wrap* (offline, no credentials, no network) reads it with the material and
writes a wrapped bundle; *import* (online) reads the wrapped bundle and imports. The formats are
documented in docs/docsite/rst/guide_ceremony.rst so that an HSM or another tool can fill in the
wrapped bundle. Problems with one key are ``KmsInputError`` per key, so a batch fails that key
and goes on; problems with the file as a whole raise. No message echoes file content.
Private module: the interface may change between releases.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import collections
import hashlib
import json
import os
import re
import stat
import tempfile
import time

from ansible_collections.dew.kms.plugins.module_utils import _check_values, _keys, _material, _wrap
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsInputError, missing_library

EXPORT_FORMAT = 'dew.kms/byok-export'
WRAPPED_FORMAT = 'dew.kms/byok-wrapped'
BUNDLE_VERSION = 1
SUPPORTED_VERSIONS = (1,)
BUNDLE_MODE = 0o600
# 1000 keys of the largest kind (RSA_4096: token and wrapped key of up to 6144 characters each)
MAX_BUNDLE_BYTES = 16 * 1024 * 1024
MIN_WRAPPING_KEY_BITS = 2048
IMPORTABLE_KEY_SPECS = _wrap.SYMMETRIC_KEY_SPECS + _wrap.ASYMMETRIC_KEY_SPECS

_KINDS = {EXPORT_FORMAT: 'export bundle', WRAPPED_FORMAT: 'wrapped bundle'}
_WRITER = {EXPORT_FORMAT: 'the export phase',
           WRAPPED_FORMAT: 'the wrap phase (or an HSM following the documented format)'}

# what the operator reads aloud and types: the first 128 bits of SHA-256 of the file's bytes, as
# `sha256sum FILE | cut -c1-32` shows them; a forger needs a second preimage of 128 bits
DIGEST_HEX_DIGITS = 32
_TYPED_DIGEST_RE = re.compile(r'^[0-9a-f]{32}(?:[0-9a-f]{32})?$')
_DIGEST_SEPARATORS_RE = re.compile(r'[\s:-]')

KeyFailure = collections.namedtuple('KeyFailure', 'index key_id alias error')
"""One key that failed: ``index`` into the caller's key list (None for a key only the bundle has)."""


# ---------------------------------------------------------------------------------------------
# building

def _utc(now):
    return _keys.iso8601(int(time.time() if now is None else now))


def export_entry(key, import_params, wrapping_algorithm):
    """One key of an export bundle from a ``_keys`` key dict and ``_keys.get_import_params``."""
    expiration = import_params['expiration_time']
    return collections.OrderedDict([
        ('key_id', key['key_id']),
        ('alias', key.get('alias')),
        ('key_spec', key['key_spec']),
        ('wrapping_algorithm', wrapping_algorithm),
        ('public_key', import_params['public_key']),
        ('import_token', import_params['import_token']),
        ('token_expiration_time', expiration),
        ('token_expiration_date', _keys.iso8601(expiration)),
    ])


def _document(bundle_format, entries, cloud, region, now, extra=()):
    document = collections.OrderedDict([
        ('format', bundle_format),
        ('version', BUNDLE_VERSION),
        ('created', _utc(now)),
        ('cloud', cloud),
        ('region', region),
    ])
    document.update(extra)
    document['keys'] = list(entries)
    return document


def build_export_bundle(entries, cloud=None, region=None, now=None):
    """The export bundle document (an ordered dict) for ``export_entry`` results."""
    return _document(EXPORT_FORMAT, entries, cloud, region, now)


def build_wrapped_bundle(entries, exported=None, cloud=None, region=None, now=None, export_digest=None):
    """The wrapped bundle document; ``exported`` is the ``created`` time of its export bundle,
    ``export_digest`` that bundle's digest (so the evidence of the import names both files)."""
    return _document(WRAPPED_FORMAT, entries, cloud, region, now,
                     [('exported', exported), ('export_digest', export_digest)])


def serialize_bundle(document):
    """Stable, human-readable JSON text of a bundle or report document, ending in a newline."""
    return json.dumps(document, indent=2, ensure_ascii=True) + '\n'


# ---------------------------------------------------------------------------------------------
# files

def write_file_atomic(path, text, field, mode=BUNDLE_MODE):
    """Write ``text`` to ``path`` through a temporary file in the same directory and a rename.

    The file has ``mode`` from its first byte on; a reader never sees half a file, and a failure
    leaves any previous file untouched.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise KmsInputError('%s (%s): the directory %s does not exist; create it first.'
                            % (field, path, directory))
    if os.path.isdir(path):
        raise KmsInputError('%s (%s) is a directory: give the path of a file.' % (field, path))
    handle, temporary = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, 'wb') as stream:
            stream.write(text.encode('utf-8'))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError as error:
        _remove_quietly(temporary)
        raise KmsInputError('%s (%s) could not be written: %s.' % (field, path, error.strerror or error))
    except BaseException:
        _remove_quietly(temporary)
        raise


def _remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def write_bundle(path, document, field, mode=BUNDLE_MODE):
    """Write a bundle; returns its ``file_digest``, for the operator to carry to the next phase."""
    text = serialize_bundle(document)
    write_file_atomic(path, text, field, mode)
    return file_digest(text.encode('utf-8'))


def file_digest(data):
    """The digest of a bundle's bytes as the operator reads it: 8 groups of 4 hex digits."""
    digits = hashlib.sha256(data).hexdigest()[:DIGEST_HEX_DIGITS]
    return '-'.join(digits[start:start + 4] for start in range(0, DIGEST_HEX_DIGITS, 4))


def check_digest(data, typed, field, where, writer):
    """Refuse ``data`` (a bundle's bytes) unless ``typed`` (option ``field``) is its digest:
    32 hex digits, or all 64 of ``sha256sum``, in any case, grouped by spaces, dashes or colons."""
    digits = _DIGEST_SEPARATORS_RE.sub('', typed).lower() if isinstance(typed, str) else ''
    if not _TYPED_DIGEST_RE.fullmatch(digits):
        raise KmsInputError('%s must be the digest %s printed: 32 hex digits (8 groups of 4, as printed), or '
                            'the 64 of sha256sum. Nothing was done.' % (field, writer))
    if not hashlib.sha256(data).hexdigest().startswith(digits):
        # the file's own digest is not shown: copying it from here would defeat the check
        raise KmsInputError('%s does not have the digest given in %s: the file is not the one %s wrote, or the '
                            'digest was mistyped. Compare the digest read to you over the ceremony\'s own channel '
                            'again; if it differs, the file was changed on the way: do not use it, run that phase '
                            'again. Nothing was done.' % (where, field, writer))


def _read_bounded(path, field, limit):
    if not isinstance(path, str) or not path:
        raise KmsInputError('%s must be the path of a bundle file.' % field)
    try:
        # O_NONBLOCK: opening a FIFO must not hang; the fstat below refuses it anyway
        handle = os.open(path, os.O_RDONLY | getattr(os, 'O_NONBLOCK', 0))
    except OSError as error:
        raise KmsInputError('%s (%s) cannot be read: %s.' % (field, path, error.strerror or error))
    if not stat.S_ISREG(os.fstat(handle).st_mode):
        os.close(handle)
        raise KmsInputError('%s (%s) is not a regular file.' % (field, path))
    with os.fdopen(handle, 'rb') as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise KmsInputError('%s (%s) is larger than %d bytes: this is not a bundle the collection writes.'
                            % (field, path, limit))
    return data


def read_bundle(path, field, expected_format, limit=MAX_BUNDLE_BYTES, digest=None, digest_field=None):
    """Read and check a bundle file as a whole; returns a ``Bundle``.

    With ``digest_field`` the file's bytes must have the digest ``digest`` (``check_digest``)
    before anything else is read from them.

    Raises KmsInputError naming ``field`` and the path for a file that cannot be a bundle of
    ``expected_format``: unreadable, not a regular file, too large, not JSON, another format,
    an unknown version, no key list, a key given twice. Problems of single keys are kept per
    key (``Bundle.entries[i].problem``).
    """
    data = _read_bounded(path, field, limit)
    if digest_field is not None:
        check_digest(data, digest, digest_field, '%s (%s)' % (field, path), _WRITER[expected_format])
    try:
        document = json.loads(data.decode('utf-8'))
    except UnicodeDecodeError:
        raise KmsInputError('%s (%s) is not UTF-8 text: expected the JSON %s written by %s.'
                            % (field, path, _KINDS[expected_format], _WRITER[expected_format]))
    except ValueError as error:
        where = ' (line %d, column %d)' % (error.lineno, error.colno) if hasattr(error, 'lineno') else ''
        raise KmsInputError('%s (%s) is not valid JSON%s: expected the %s written by %s.'
                            % (field, path, where, _KINDS[expected_format], _WRITER[expected_format]))
    bundle = Bundle(document, field, path, expected_format)
    bundle.digest = file_digest(data)
    return bundle


class Bundle:
    """A bundle document checked as a whole; per-key checks are in ``entries``."""

    def __init__(self, document, field, path, expected_format):
        self.field, self.path, self.format = field, path, expected_format
        self.where = '%s (%s)' % (field, path) if path else field
        if not isinstance(document, dict):
            raise self._error('is not a JSON object')
        found = document.get('format')
        if found != expected_format:
            if found in _KINDS:
                raise self._error('holds the %s (format %s), but %s needs the %s written by %s'
                                  % (_KINDS[found], found, field, _KINDS[expected_format],
                                     _WRITER[expected_format]))
            raise self._error('has no "format": "%s" marker; it is not a %s of this collection'
                              % (expected_format, _KINDS[expected_format]))
        version = document.get('version')
        if isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
            raise self._error('has an unsupported "version": this collection reads version %s of %s; '
                              'write the bundle again with this collection'
                              % (', '.join(str(v) for v in SUPPORTED_VERSIONS), expected_format))
        keys = document.get('keys')
        if not isinstance(keys, list) or not all(isinstance(entry, dict) for entry in keys):
            raise self._error('needs "keys": a list of JSON objects, one per key')
        self.document = document
        self.version = version
        self.created = _optional_text(document.get('created'))
        self.exported = _optional_text(document.get('exported'))
        self.cloud = _optional_text(document.get('cloud'))
        self.region = _optional_text(document.get('region'))
        self.export_digest = _optional_text(document.get('export_digest'))
        self.digest = None  # of the file's bytes, set by read_bundle
        self.entries = [BundleEntry(self, index, data) for index, data in enumerate(keys)]
        seen = set()
        for entry in self.entries:
            if entry.key_id and entry.key_id in seen:
                raise self._error('names key %s twice' % entry.key_id)
            seen.add(entry.key_id)

    def _error(self, problem):
        return KmsInputError('%s %s.' % (self.where, problem))


def _optional_text(value):
    return value if isinstance(value, str) and value else None


class BundleEntry:
    """One element of a bundle's ``keys``: ``data`` as read, ``problem`` a KmsInputError or None."""

    def __init__(self, bundle, index, data):
        self.bundle, self.index, self.data = bundle, index, data
        key_id = data.get('key_id')
        self.key_id = key_id if isinstance(key_id, str) and _keys.KEY_ID_RE.fullmatch(key_id) else None
        alias = data.get('alias')
        self.alias = alias if isinstance(alias, str) and _keys.ALIAS_RE.fullmatch(alias) else None
        self.problem = None
        try:
            if bundle.format == EXPORT_FORMAT:
                self._check_export()
            else:
                self._check_wrapped()
        except KmsInputError as error:
            self.problem = error

    @property
    def label(self):
        """'key 3 (alias app-key, id ...)': how messages name this key, never with secrets."""
        names = []
        if self.alias:
            names.append('alias %s' % self.alias)
        if self.key_id:
            names.append('id %s' % self.key_id)
        return 'key %d (%s)' % (self.index + 1, ', '.join(names)) if names else 'key %d' % (self.index + 1)

    def error(self, problem):
        return KmsInputError('%s, %s: %s.' % (self.bundle.where, self.label, problem))

    def _field(self, name):
        return 'keys[%d].%s' % (self.index, name)

    def _require(self, name, check):
        """Run ``check(value, field)``; re-raise its KmsInputError naming this key and the file."""
        if self.data.get(name) is None:
            raise self.error('%s is missing' % name)
        try:
            return check(self.data[name], self._field(name))
        except KmsInputError as error:
            raise self.error(error.msg.rstrip('.'))

    def _check_common(self):
        self._require('key_id', _keys.validate_key_id)
        if self.key_id is None:  # the validator lets a trailing newline pass
            raise self.error('%s is malformed: it has a trailing line break' % self._field('key_id'))
        if self.data.get('alias') is not None:
            self._require('alias', _keys.validate_alias)
            if self.alias is None:
                raise self.error('%s is invalid: it has a trailing line break' % self._field('alias'))
        self._require('key_spec', _check_key_spec)
        self._require('wrapping_algorithm', _wrap.check_wrapping_algorithm)
        self._require('import_token', _check_text)
        self._require('token_expiration_time', _check_epoch)

    def _check_export(self):
        self._check_common()
        self._require('public_key', check_wrapping_public_key)

    def _check_wrapped(self):
        self._check_common()
        key_spec = self.data['key_spec']
        self._require('encrypted_key_material', _check_text)
        if key_spec in _wrap.ASYMMETRIC_KEY_SPECS:
            self._require('encrypted_privatekey', _check_text)
        elif self.data.get('encrypted_privatekey') is not None:
            raise self.error('encrypted_privatekey is set, but %s keys take the wrapped material in '
                             'encrypted_key_material only; remove it' % key_spec)
        try:
            _material.WrappedMaterial.from_options(self.data['import_token'], self.data['encrypted_key_material'],
                                                   self.data.get('encrypted_privatekey'))
        except KmsInputError as error:
            raise self.error(error.msg.rstrip('.'))
        expected_type = _check_values.check_value_type(key_spec)
        if self.data.get('check_value_type') != expected_type:
            raise self.error('check_value_type must be "%s" for a %s key' % (expected_type, key_spec))
        self._require('check_value', lambda value, field: _check_values.validate_check_value(
            expected_type, value, field))
        record = self.data.get('material_record')
        if record is not None and (key_spec not in _wrap.SYMMETRIC_KEY_SPECS
                                   or not _check_values.is_material_record(record)):
            raise self.error('%s must be the 22-character key-bound record of AES_256 material (or be left '
                             'out); remove it or write the bundle again' % self._field('material_record'))

    @property
    def token_expiration_time(self):
        return _keys.epoch_seconds(self.data.get('token_expiration_time'))

    def expired(self, now=None):
        """True when the import token has expired at ``now`` (epoch seconds, default: the clock)."""
        now = time.time() if now is None else now
        return self.token_expiration_time is not None and self.token_expiration_time <= now


def _check_key_spec(value, field):
    if value not in IMPORTABLE_KEY_SPECS:
        raise KmsInputError('%s must be one of %s (the key specs KMS imports material for)'
                            % (field, ', '.join(IMPORTABLE_KEY_SPECS)))
    return value


def _check_epoch(value, field):
    if isinstance(value, bool) or not isinstance(value, int) or _keys.epoch_seconds(value) is None:
        raise KmsInputError('%s must be a positive whole number of epoch seconds' % field)
    return value


def _check_text(value, field):
    if not isinstance(value, str) or not value:
        raise KmsInputError('%s must be a non-empty string' % field)
    return value


def _crypto_public_key_loader():
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
    except ImportError:
        raise missing_library('cryptography', 'to check wrapping public keys')
    return serialization, rsa


def check_wrapping_public_key(value, field='public_key'):
    """Refuse a wrapping public key that is not base64 DER of an RSA key of at least 2048 bits."""
    serialization, rsa = _crypto_public_key_loader()
    try:
        der = base64.b64decode(value, validate=True) if isinstance(value, str) else b''
        key = serialization.load_der_public_key(der)
    except (binascii.Error, ValueError, TypeError):
        raise KmsInputError('%s is not base64 DER of a public key (SubjectPublicKeyInfo), as '
                            'get-parameters-for-import returns it' % field)
    except Exception:  # UnsupportedAlgorithm for key types cryptography does not know
        raise KmsInputError('%s is a key of an unsupported type: KMS wraps with RSA keys' % field)
    if not isinstance(key, rsa.RSAPublicKey):
        raise KmsInputError('%s is not an RSA key: refusing to wrap material with it (KMS hands out '
                            'RSA wrapping keys; run the export phase again)' % field)
    if key.key_size < MIN_WRAPPING_KEY_BITS:
        raise KmsInputError('%s is a weak %d-bit RSA key: refusing to wrap material with less than '
                            '%d bits (run the export phase again against the real service)'
                            % (field, key.key_size, MIN_WRAPPING_KEY_BITS))
    return value


# ---------------------------------------------------------------------------------------------
# pairing the caller's keys with a bundle's

def _plain_alias(value):
    if isinstance(value, str) and value.startswith(_keys.ALIAS_PREFIX):
        return value[len(_keys.ALIAS_PREFIX):]
    return value or None


def _requested_label(keys_field, index, item):
    names = []
    if _plain_alias(item.get('alias')):
        names.append('alias %s' % _plain_alias(item.get('alias')))
    if item.get('key_id'):
        names.append('id %s' % item['key_id'])
    return '%s[%d] (%s)' % (keys_field, index, ', '.join(names) or 'no alias or key_id')


def _again_hint(bundle):
    if bundle.format == EXPORT_FORMAT:
        return 'run the export phase again, then the wrap phase'
    return 'run the export and wrap phases again, then the import phase'


def match_keys(bundle, requested, now=None, keys_field='byok_keys'):
    """Pair the caller's keys with the entries of ``bundle``.

    ``requested``: one mapping per key of the run with ``key_id`` and/or ``alias`` (plain or
    ``alias/<name>``) and optionally ``key_spec``. Returns ``(entries, failures)``:
    ``entries[i]`` is the usable ``BundleEntry`` of ``requested[i]`` or None, ``failures`` a list
    of ``KeyFailure``: keys the bundle lacks, or whose entry is damaged, expired at ``now``
    (epoch seconds) or of another key_spec, and bundle entries no requested key names
    (``index`` None: "foreign").
    """
    by_id = dict((entry.key_id, entry) for entry in bundle.entries if entry.key_id)
    by_alias = dict((entry.alias, entry) for entry in bundle.entries if entry.alias)
    now = time.time() if now is None else now
    entries, failures, claimed = [None] * len(requested), [], {}
    for index, item in enumerate(requested):
        key_id, alias = item.get('key_id'), _plain_alias(item.get('alias'))
        entry = by_id.get(key_id) if key_id else by_alias.get(alias)
        problem = _claim(bundle, entry, item, index, claimed, now, keys_field)
        if problem is None:
            entries[index] = entry
        else:
            failures.append(_request_failure(keys_field, index, item, entry, problem))
    failures.extend(KeyFailure(None, entry.key_id, entry.alias, entry.error(
        'not among the keys of this run (%s): use the bundle written for these keys, or add the key to %s'
        % (keys_field, keys_field))) for entry in bundle.entries if id(entry) not in claimed)
    return entries, failures


def _claim(bundle, entry, item, index, claimed, now, keys_field):
    """Claim ``entry`` (None: the bundle has none) for ``requested[index]``: None when it serves
    the caller's ``item``, else why not (text, or the entry's own KmsInputError)."""
    if entry is None:
        return 'not in %s: %s with this key in %s' % (
            bundle.where, 'run the export phase' if bundle.format == EXPORT_FORMAT
            else 'run the export and wrap phases', keys_field)
    if id(entry) in claimed:
        return 'names the same bundle entry as %s[%d]' % (keys_field, claimed[id(entry)])
    claimed[id(entry)] = index
    return _pairing_problem(bundle, entry, item, now, keys_field)


def _request_failure(keys_field, index, item, entry, problem):
    """The KeyFailure of ``requested[index]`` for ``problem``."""
    if isinstance(problem, KmsInputError):  # the entry's own problem already names the file and key
        error = problem
    else:
        error = KmsInputError('%s: %s.' % (_requested_label(keys_field, index, item), problem))
    return KeyFailure(index, item.get('key_id') or (entry.key_id if entry else None),
                      _plain_alias(item.get('alias')) or (entry.alias if entry else None), error)


def _pairing_problem(bundle, entry, item, now, keys_field):
    """Why ``entry`` cannot serve the caller's ``item`` (text or the entry's KmsInputError), or None."""
    key_id, alias = item.get('key_id'), _plain_alias(item.get('alias'))
    if key_id and alias and entry.alias != alias:
        return '%s holds key %s under alias %s, not %s: check %s' % (
            bundle.where, key_id, entry.alias or '(none)', alias, keys_field)
    if entry.problem is not None:
        return entry.problem
    if item.get('key_spec') and item['key_spec'] != entry.data['key_spec']:
        return 'key_spec is %s, but %s holds a %s key: they must match' % (
            item['key_spec'], bundle.where, entry.data['key_spec'])
    if entry.expired(now):
        return 'the import token in %s expired at %s: %s' % (
            bundle.where, _keys.iso8601(entry.token_expiration_time), _again_hint(bundle))
    return None


# ---------------------------------------------------------------------------------------------
# the offline wrap phase

def _wrap_one(entry, kind, material, field):
    """The wrapped-bundle entry for one key: pure local crypto, no network, no credentials."""
    data = entry.data
    key_spec, algorithm = data['key_spec'], data['wrapping_algorithm']
    if kind == 'symmetric':
        if key_spec not in _wrap.SYMMETRIC_KEY_SPECS:
            raise KmsInputError('%s is AES-256 material, but the key is a %s key: give its private key'
                                % (field, key_spec))
        encrypted_key_material = _wrap.wrap_symmetric_material(data['public_key'], material, algorithm)
        encrypted_privatekey = None
    else:
        if key_spec not in _wrap.ASYMMETRIC_KEY_SPECS:
            raise KmsInputError('%s is a private key, but the key is a %s key: give 32 bytes of '
                                'AES-256 material' % (field, key_spec))
        material_spec = _wrap.private_key_spec(material, field)
        if material_spec != key_spec:
            raise KmsInputError('%s is a %s key, but the KMS key has key_spec %s: give a private key of '
                                'that type and size' % (field, material_spec, key_spec))
        encrypted_key_material, encrypted_privatekey = _wrap.wrap_private_key(
            data['public_key'], material, algorithm)
    value_type, value = _check_values.check_value_of(kind, material, field)
    record = _check_values.material_record(material, data['key_id'], field) if kind == 'symmetric' else None
    return collections.OrderedDict([
        ('key_id', data['key_id']),
        ('alias', data.get('alias')),
        ('key_spec', key_spec),
        ('wrapping_algorithm', algorithm),
        ('import_token', data['import_token']),
        ('token_expiration_time', data['token_expiration_time']),
        ('token_expiration_date', _keys.iso8601(data['token_expiration_time'])),
        ('encrypted_key_material', encrypted_key_material),
        ('encrypted_privatekey', encrypted_privatekey),
        ('check_value_type', value_type),
        ('check_value', value),
        ('material_record', record),
    ])


def wrap_offline(export_bundle, requested, now=None, warn=None, keys_field='byok_keys'):
    """The wrap phase: an export ``Bundle`` + loaded material -> ``(wrapped document, failures)``.

    ``requested``: one mapping per key of the run, as for ``match_keys``, plus ``material``: the
    ``(kind, value)`` pair of a ``_material.Material`` (``material_pair``), or None for a key the caller has already
    failed (it is matched, so its entry is not foreign, but not wrapped). Opens no connection and
    needs no credentials. ``failures`` holds ``KeyFailure`` per key that cannot be wrapped; the
    document holds every other key, in the caller's order.
    """
    entries, failures = match_keys(export_bundle, requested, now, keys_field)
    wrapped = []
    for index, (item, entry) in enumerate(zip(requested, entries)):
        if entry is None or item.get('material') is None:
            continue
        field = '%s (material of %s)' % (_requested_label(keys_field, index, item), entry.label)
        if warn is not None:
            _material.warn_weak_algorithm(entry.data['wrapping_algorithm'], warn)
        kind, material = item['material']
        try:
            result = _wrap_one(entry, kind, material, field)
        except KmsInputError as error:
            failures.append(KeyFailure(index, entry.key_id, entry.alias, error))
            continue
        try:  # a damaged token would only be refused by KMS, after the ceremony
            _material.WrappedMaterial.from_options(result['import_token'], result['encrypted_key_material'],
                                                   result['encrypted_privatekey'])
        except KmsInputError as error:
            failures.append(KeyFailure(index, entry.key_id, entry.alias, entry.error(error.msg.rstrip('.'))))
            continue
        wrapped.append(result)
    document = build_wrapped_bundle(wrapped, exported=export_bundle.created, cloud=export_bundle.cloud,
                                    region=export_bundle.region, now=now, export_digest=export_bundle.digest)
    return document, failures


def material_pair(material):
    """The ``(kind, value)`` pair ``wrap_offline`` and ``_check_values`` take, of a ``_material.Material``."""
    return material.kind, material.symmetric if material.private_key is None else material.private_key
