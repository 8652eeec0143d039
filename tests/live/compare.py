#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print where two live-suite transcripts differ: a real service's and the emulator's.

    compare.py REAL.json EMULATOR.json [--ignore-lengths]

Calls are grouped by action, HTTP status and error code (so that retries and polling do not
matter), and the shapes within a group are united. Reported: groups only one side has, fields
only one side sends or answers, and fields whose type differs; string and number lengths are
reported separately (a 10- versus 13-digit timestamp is seconds versus milliseconds). Exit code 1
when anything differs. Make the emulator's transcript with `make live-test-emulator`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import re
import sys

LIST_HEAD_RE = re.compile(r'^list:\d+(\|list:\d+)*$')


def flatten(node, prefix, into):
    """{path: set of leaf shapes} of one shape; list lengths are not compared."""
    if isinstance(node, dict):
        into.setdefault(prefix or '.', set()).add('object')
        for key, value in node.items():
            flatten(value, '%s.%s' % (prefix, key), into)
    elif isinstance(node, list) and node and LIST_HEAD_RE.match(str(node[0])):
        into.setdefault(prefix or '.', set()).add('list')
        for item in node[1:]:
            flatten(item, prefix + '[]', into)
    else:
        into.setdefault(prefix or '.', set()).update(str(node).split('|'))
    return into


def groups(transcript):
    """(action, status, error code) -> {'request': paths, 'answer': paths, 'calls': n}."""
    result = {}
    for call in transcript['calls']:
        key = (call['action'], call['status'], call['error_code'] or '')
        group = result.setdefault(key, {'request': {}, 'answer': {}, 'calls': 0})
        group['calls'] += 1
        for part in ('request', 'answer'):
            for path, shapes in flatten(call[part], '', {}).items():
                group[part].setdefault(path, set()).update(shapes)
    return result


def _kind(shape):
    return shape.split(':', 1)[0]


def _describe(key):
    return '%s -> %s%s' % (key[0], key[1], ' ' + key[2] if key[2] else '')


def compare(real, emulated, ignore_lengths=False, names=('real', 'emulator')):
    """Lines describing every difference between two transcripts."""
    lines = []
    left, right = groups(real), groups(emulated)
    for key in sorted(set(left) | set(right), key=lambda k: (k[0], str(k[1]), k[2])):
        if key not in right or key not in left:
            side = names[0] if key in left else names[1]
            lines.append('%s: only %s answers so (%d calls)' % (_describe(key), side,
                                                                (left.get(key) or right.get(key))['calls']))
            continue
        for part in ('request', 'answer'):
            paths_left, paths_right = left[key][part], right[key][part]
            for path in sorted(set(paths_left) | set(paths_right)):
                here, there = paths_left.get(path), paths_right.get(path)
                where = '%s %s %s' % (_describe(key), part, path)
                if here is None or there is None:
                    present, shapes = (names[0], here) if here is not None else (names[1], there)
                    lines.append('%s: only in %s (%s)' % (where, present, '|'.join(sorted(shapes))))
                elif set(map(_kind, here)) != set(map(_kind, there)):
                    lines.append('%s: type %s=%s %s=%s' % (where, names[0], '|'.join(sorted(here)),
                                                           names[1], '|'.join(sorted(there))))
                elif here != there and not ignore_lengths:
                    lines.append('%s: length %s=%s %s=%s' % (where, names[0], '|'.join(sorted(here)),
                                                             names[1], '|'.join(sorted(there))))
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('real', help='transcript.json of the real service')
    parser.add_argument('emulator', help='transcript.json of the emulator (tests/output/live/emulator-<cloud>/)')
    parser.add_argument('--ignore-lengths', action='store_true', help='report fields and types only')
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    transcripts = []
    for path in (args.real, args.emulator):
        with open(path) as handle:
            transcripts.append(json.load(handle))
    names = tuple(transcript.get('label') or path for transcript, path in zip(transcripts, (args.real, args.emulator)))
    if names[0] == names[1]:
        names = ('first', 'second')
    lines = compare(transcripts[0], transcripts[1], args.ignore_lengths, names)
    for line in lines:
        print(line)
    print('%d differences between %s and %s' % (len(lines), names[0], names[1]))
    sys.exit(1 if lines else 0)


if __name__ == '__main__':
    main()
