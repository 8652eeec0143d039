# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What an operator reads about a kms_byok run: one line per key as it completes, a totals
line and a table of every key; and the check of each ``keys`` entry with messages that name
the entry. Only identifiers, states and reasons go in here: never material or tokens.
Private module: the interface may change between releases.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

# the totals line, in this order; check-mode actions only when they occur
TOTALS = (
    ('created+imported', 'created and imported'),
    ('imported', 'imported'),
    ('unchanged', 'unchanged'),
    ('failed', 'failed'),
)
# the actions of renewal, rotation, the ceremony phases and check mode: only when they occur
OCCASIONAL_TOTALS = (
    ('renewed', 'renewed'),
    ('rotated', 'rotated'),
    ('created+exported', 'created and exported'),
    ('exported', 'exported'),
    ('wrapped', 'wrapped'),
    ('would_create+import', 'would be created and imported'),
    ('would_import', 'would be imported'),
    ('would_renew', 'would be renewed'),
    ('would_rotate', 'would be rotated'),
    ('would_create+export', 'would be created and exported'),
    ('would_export', 'would be exported'),
    ('would_wrap', 'would be wrapped'),
)
TABLE_COLUMNS = ('alias', 'spec', 'action', 'state', 'verified', 'expiry', 'key id')
NONE = '-'


def key_name(result, position):
    """How an operator knows a key: its alias, else its key id, else its place in the list."""
    return result.get('alias') or result.get('key_id') or 'keys[%d]' % position


def progress_line(result, position, done, total):
    """'[3/20] app-data: created+imported, enabled, verified' or '[4/20] x: FAILED: <why>'."""
    counter = '[%d/%d]' % (done, total)
    name = key_name(result, position)
    if result.get('action') == 'failed':
        return '%s %s: FAILED: %s' % (counter, name, result.get('error'))
    details = [result.get('action'), result.get('key_state_name') or 'not created yet']
    if result.get('verified'):
        details.append('verified')
    return '%s %s: %s' % (counter, name, ', '.join(str(d) for d in details))


def totals_line(results):
    """'5 keys: 2 created and imported, 1 imported, 1 unchanged, 1 failed'."""
    counts = {}
    for result in results:
        counts[result.get('action')] = counts.get(result.get('action'), 0) + 1
    parts = ['%d %s' % (counts.get(action, 0), words) for action, words in TOTALS]
    parts += ['%d %s' % (counts[action], words) for action, words in OCCASIONAL_TOTALS if counts.get(action)]
    return '%d key%s: %s' % (len(results), '' if len(results) == 1 else 's', ', '.join(parts))


def table_row(result, position):
    verified = {True: 'yes', False: 'NO'}.get(result.get('verified'), NONE)
    expiry = result.get('expiration_date') or ('never' if result.get('key_state') == '2' else NONE)
    return (key_name(result, position), result.get('key_spec') or NONE, result.get('action') or NONE,
            result.get('key_state_name') or NONE, verified, expiry, result.get('key_id') or NONE)


def results_table(results):
    """The lines of a plain text table of every key, columns padded to their widest cell."""
    rows = [TABLE_COLUMNS] + [table_row(result, position) for position, result in enumerate(results)]
    widths = [max(len(str(row[column])) for row in rows) for column in range(len(TABLE_COLUMNS))]
    return ['  '.join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def entry_problems(keys, entry_spec, list_name='keys'):
    """One line per bad entry of ``keys``, naming its position and alias or key id and the rule.

    ``entry_spec`` holds the element options and their mutually_exclusive / required_one_of
    rules, as the module's argument spec declares them for ``keys``.
    """
    if not isinstance(keys, list):
        return []   # the whole-task validation says what ``keys`` must be
    rules = dict((name, entry_spec.get(name)) for name in ('mutually_exclusive', 'required_one_of')
                 if entry_spec.get(name))
    validator = ArgumentSpecValidator(entry_spec['options'], **rules)
    problems = []
    for position, entry in enumerate(keys):
        where = '%s[%d]' % (list_name, position)
        if not isinstance(entry, dict):
            problems.append('%s must be a dictionary with alias or key_id and the material, not %s.'
                            % (where, type(entry).__name__))
            continue
        # a copy: the validator fills in defaults
        errors = validator.validate(dict(entry)).error_messages
        if errors:
            name = entry.get('alias') or entry.get('key_id')
            label = '%s (%s)' % (where, name) if isinstance(name, str) and name else where
            problems.append('%s: %s.' % (label, '; '.join(message.rstrip('.') for message in errors)))
    return problems


_DIGEST_USE = (
    ('bundle_digest', 'export bundle', 'give it to the wrap phase as bundle_digest'),
    ('wrapped_digest', 'wrapped bundle', 'give it to the import phase as wrapped_digest'),
)


def digest_lines(result):
    """Lines with each key's wrapping key fingerprint and the digest of each bundle written, read
    aloud between the stations of a ceremony."""
    lines = ['wrapping key of %s: SHA-256 %s' % (entry.get('alias') or entry.get('key_id'),
                                                 entry['wrapping_key_sha256'])
             for entry in result.get('results') or () if entry.get('wrapping_key_sha256')]
    written = {'bundle_digest': result.get('bundle_path'), 'wrapped_digest': result.get('wrapped_path')}
    for name, what, use in _DIGEST_USE:
        if result.get(name) and written[name]:
            lines.append('%s digest: %s (%s; read it over another channel than the file)'
                         % (what, result[name], use))
    return lines
