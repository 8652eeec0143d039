# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The evidence report of a key ceremony: one record per key, as JSON and as Markdown.

A record says which key got which material when, by whom: alias, key id, key spec, action,
wrapping algorithm, the UTC times of the export, wrap and import phases, the material expiry,
the check value, the collection version, and the user and host that ran the import.
Records are built from an allow-list of fields, each checked for its shape, so material,
import tokens, wrapped blobs and credentials cannot reach a report even when the source
mapping holds them. Private module: the interface may change between releases.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import getpass
import os
import re
import socket
import time

from ansible_collections.dew.kms.plugins.module_utils import _check_values, _keys, _wrap
from ansible_collections.dew.kms.plugins.module_utils._ceremony import serialize_bundle, write_file_atomic
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsInputError

# the version in galaxy.yml; a unit test keeps the two equal
COLLECTION_VERSION = '0.1.0'
REPORT_FORMAT = 'dew.kms/byok-report'
REPORT_VERSION = 1
PHASES = ('export', 'wrap', 'import')

_ACTION_RE = re.compile(r'^[a-z][a-z_+]{0,39}$')
_VERSION_RE = re.compile(r'^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]{1,40})?$')
_ISO_RE = re.compile(r'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$')
# user and host names as operating systems allow them; nothing that could hold a PEM or JSON
_NAME_RE = re.compile(r'^[A-Za-z0-9._@\\-]{1,255}$')
_KEY_SPECS = _keys.KEY_SPECS
_DIGEST_RE = re.compile(r'^[0-9a-f]{4}(-[0-9a-f]{4}){7}$')
_UNKNOWN = 'unknown'
# the report holds no secret: readable by the team that files the change ticket
REPORT_MODE = 0o644


def _shape(pattern):
    """A check that ``value`` is text matching ``pattern`` in full (no trailing newline either)."""
    return lambda value: isinstance(value, str) and pattern.fullmatch(value) is not None


def runner_identity():
    """``{'user', 'host'}`` of the process (the controller that runs the import)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError, ImportError):  # no passwd entry and no LOGNAME/USER (containers)
        user = None
    host = socket.gethostname()
    return {'user': user if _shape(_NAME_RE)(user) else _UNKNOWN,
            'host': host if _shape(_NAME_RE)(host) else _UNKNOWN}


def _checked(value, field, check):
    if value is None or value == '':
        return None
    if not check(value):
        raise KmsInputError('evidence report: %s has an unexpected form, so no report was written; '
                            'check the results of that key.' % field)
    return value


def _utc_time(value, field):
    """ISO 8601 UTC for epoch seconds (int or digits, s or ms) or an ISO 8601 UTC string."""
    if value is None or value == '':
        return None
    if _shape(_ISO_RE)(value):
        return value
    if isinstance(value, float):
        value = int(value)
    seconds = None if isinstance(value, bool) else _keys.epoch_seconds(value)
    if seconds is None:
        raise KmsInputError('evidence report: %s must be epoch seconds or an ISO 8601 UTC time.' % field)
    return _keys.iso8601(seconds)


def evidence_record(source, phase_times=None, collection_version=None, runner=None):
    """One report record from ``source``, a per-key result (``_keys``/batch result keys).

    Only these keys of ``source`` are read: alias, key_id, key_spec, action, wrapping_algorithm,
    expiration_time (material expiry), check_value_type, check_value. ``phase_times`` maps
    'export'/'wrap'/'import' to epoch seconds or ISO 8601 UTC; ``runner`` is ``runner_identity()``.
    A value of the wrong form raises KmsInputError naming the field, never the value.
    """
    runner = runner or runner_identity()
    phase_times = phase_times or {}
    unknown_phases = set(phase_times) - set(PHASES)
    if unknown_phases:
        raise KmsInputError('evidence report: phase times are for %s only.' % ', '.join(PHASES))
    value_type = _checked(source.get('check_value_type'), 'check_value_type',
                          lambda value: value in _check_values.CHECK_VALUE_TYPES)
    check_value = source.get('check_value')
    if check_value not in (None, ''):
        if value_type is None:
            raise KmsInputError('evidence report: check_value needs its check_value_type.')
        _check_values.validate_check_value(value_type, check_value, 'evidence report: check_value')
    expiry = _utc_time(source.get('expiration_time'), 'material expiration_time')
    record = collections.OrderedDict([
        ('alias', _checked(_plain_alias(source.get('alias')), 'alias',
                           _shape(_keys.ALIAS_RE))),
        ('key_id', _checked(source.get('key_id'), 'key_id',
                            _shape(_keys.KEY_ID_RE))),
        ('key_spec', _checked(source.get('key_spec'), 'key_spec', lambda value: value in _KEY_SPECS)),
        ('action', _checked(source.get('action'), 'action',
                            _shape(_ACTION_RE))),
        ('wrapping_algorithm', _checked(source.get('wrapping_algorithm'), 'wrapping_algorithm',
                                        lambda value: value in _wrap.WRAPPING_ALGORITHMS)),
    ])
    for phase in PHASES:
        record['%s_time' % phase] = _utc_time(phase_times.get(phase), '%s phase time' % phase)
    record['material_expiration_date'] = expiry
    record['check_value_type'] = value_type
    record['check_value'] = check_value or None
    record['collection_version'] = _checked(collection_version, 'collection_version',
                                            _shape(_VERSION_RE))
    record['user'] = _checked(runner.get('user'), 'user', _shape(_NAME_RE))
    record['host'] = _checked(runner.get('host'), 'host', _shape(_NAME_RE))
    return record


def _plain_alias(value):
    if isinstance(value, str) and value.startswith(_keys.ALIAS_PREFIX):
        return value[len(_keys.ALIAS_PREFIX):]
    return value


def build_report(records, cloud=None, region=None, now=None, digests=None):
    """The report document: format marker, version, creation time, cloud, region, the digests of
    the ceremony's bundles (``{'export_bundle', 'wrapped_bundle'}``, as the operator compared
    them), records."""
    digests = digests or {}
    return collections.OrderedDict([
        ('format', REPORT_FORMAT),
        ('version', REPORT_VERSION),
        ('created', _keys.iso8601(int(time.time() if now is None else now))),
        ('cloud', _checked(cloud, 'cloud', _shape(_NAME_RE))),
        ('region', _checked(region, 'region', _shape(_NAME_RE))),
        ('export_bundle_digest', _checked(digests.get('export_bundle'), 'export bundle digest',
                                          _shape(_DIGEST_RE))),
        ('wrapped_bundle_digest', _checked(digests.get('wrapped_bundle'), 'wrapped bundle digest',
                                           _shape(_DIGEST_RE))),
        ('keys', list(records)),
    ])


def render_json(report):
    return serialize_bundle(report)


_CHECK_VALUE_NAMES = {_check_values.KCV: 'KCV', _check_values.PUBLIC_KEY_SHA256: 'public key SHA-256'}


def _check_value_text(record):
    if not record.get('check_value'):
        return None
    return '%s %s' % (_CHECK_VALUE_NAMES[record['check_value_type']], record['check_value'])


def _runner_text(record):
    return '%s@%s' % (record.get('user') or _UNKNOWN, record.get('host') or _UNKNOWN)


def _field(name):
    return lambda record: record.get(name)


_COLUMNS = (
    ('Alias', _field('alias')), ('Key ID', _field('key_id')), ('Key spec', _field('key_spec')),
    ('Action', _field('action')), ('Wrapping algorithm', _field('wrapping_algorithm')),
    ('Exported (UTC)', _field('export_time')), ('Wrapped (UTC)', _field('wrap_time')),
    ('Imported (UTC)', _field('import_time')), ('Material expires (UTC)', _field('material_expiration_date')),
    ('Check value', _check_value_text), ('Collection', _field('collection_version')),
    ('Run by', _runner_text),
)


def _cell(value):
    if value is None or value == '':
        return '-'
    return str(value).replace('\\', '\\\\').replace('|', '\\|').replace('\n', ' ')


def _row(record):
    return '| %s |' % ' | '.join(_cell(value(record)) for _title, value in _COLUMNS)


def render_markdown(report):
    """A Markdown page with a table, one row per key, to attach to a change ticket."""
    records = report['keys']
    actions = collections.Counter(record.get('action') or _UNKNOWN for record in records)
    lines = [
        '# BYOK key ceremony evidence',
        '',
        '- Report created: %s (UTC)' % _cell(report.get('created')),
        '- Cloud: %s, region: %s' % (_cell(report.get('cloud')), _cell(report.get('region'))),
        '- Export bundle digest: %s; wrapped bundle digest: %s' % (
            _cell(report.get('export_bundle_digest')), _cell(report.get('wrapped_bundle_digest'))),
        '- Keys: %d (%s)' % (len(records), ', '.join('%s %d' % (_cell(action), count)
                                                     for action, count in sorted(actions.items())) or 'none'),
        '',
        '| %s |' % ' | '.join(title for title, _name in _COLUMNS),
        '|%s' % ('---|' * len(_COLUMNS)),
    ]
    lines.extend(_row(record) for record in records)
    lines.extend([
        '',
        'Check values identify material without revealing it: KCV is the first 3 bytes of AES-CMAC '
        'over 16 zero bytes keyed with the AES-256 material; public key SHA-256 is the SHA-256 of '
        'the DER SubjectPublicKeyInfo of an RSA/EC key. This report holds no key material, import '
        'tokens or credentials.',
        '',
    ])
    return '\n'.join(lines)


def phase_times(wrapped_bundle, import_time):
    """Phase times of an import from a wrapped ``_ceremony.Bundle``: its export and wrap times."""
    return {'export': wrapped_bundle.exported, 'wrap': wrapped_bundle.created, 'import': import_time}


def markdown_path(path):
    """Where the Markdown rendering of the report at ``path`` goes: ``.json`` replaced by ``.md``."""
    root, extension = os.path.splitext(path)
    return (root if extension.lower() == '.json' else path) + '.md'


def write_report(path, report, field='byok_report_path', mode=REPORT_MODE):
    """Write the JSON report to ``path`` and its Markdown rendering to ``markdown_path(path)``."""
    write_file_atomic(path, render_json(report), field, mode)
    write_file_atomic(markdown_path(path), render_markdown(report), field, mode)
