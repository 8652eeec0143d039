#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the live conformance suite (tests/live/live.yml) and write its shape transcript.

The modules read their credentials and endpoints from the standard environment variables
(HW_ACCESS_KEY, HW_SECRET_KEY, HW_REGION_NAME, ... see the dew.kms.auth docs). Refuses to run
unless DEW_KMS_LIVE=1: the suite creates keys on the account (and schedules their deletion).
Writes OUTPUT/transcript.json; the per-call lines are collected through DEW_KMS_TRANSCRIPT.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import collections
import datetime
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUTPUT = os.path.join(CHECKOUT, 'tests', 'output', 'live')


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--output', default=DEFAULT_OUTPUT, help='directory for transcript.json')
    parser.add_argument('--ansible-playbook', default='ansible-playbook', help='the ansible-playbook to run')
    parser.add_argument('--collections-path', help='ANSIBLE_COLLECTIONS_PATH holding ansible_collections/dew/kms')
    parser.add_argument('--label', default='live', help='what the transcript was recorded against')
    parser.add_argument('playbook_args', nargs='*', help='more ansible-playbook arguments (after --)')
    return parser.parse_args(argv)


def collection_version():
    with open(os.path.join(CHECKOUT, 'galaxy.yml')) as handle:
        for line in handle:
            if line.startswith('version:'):
                return line.split(':', 1)[1].strip().strip('"\'')
    return None


def merge_transcript(lines_path, label, returncode):
    """The JSON lines of one run as one document, calls in order plus a count per action."""
    calls = []
    if os.path.exists(lines_path):
        with open(lines_path) as handle:
            calls = [json.loads(line) for line in handle if line.strip()]
    counts = collections.Counter('%s %s%s' % (call['action'], call['status'],
                                              ' ' + call['error_code'] if call['error_code'] else '')
                                 for call in calls)
    return {
        'format': 1,
        'label': label,
        'collection_version': collection_version(),
        'created': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
        'playbook_rc': returncode,
        'counts': dict(sorted(counts.items())),
        'calls': calls,
    }


def run(args, env=None):
    """Run the playbook with a transcript; return (returncode, transcript path, key ids path)."""
    env = dict(os.environ if env is None else env)
    if env.get('DEW_KMS_LIVE') != '1':
        sys.stderr.write('The live suite creates KMS keys (billed) on the account the environment '
                         'variables name and schedules their deletion. Set DEW_KMS_LIVE=1 to run it.\n')
        return 2, None, None
    os.makedirs(args.output, exist_ok=True)
    lines_path = os.path.join(args.output, 'transcript.jsonl')
    key_ids_path = os.path.join(args.output, 'key_ids.json')
    for stale in (lines_path, key_ids_path):
        if os.path.exists(stale):
            os.remove(stale)
    env['DEW_KMS_TRANSCRIPT'] = lines_path
    env['DEW_KMS_LIVE_KEY_IDS'] = key_ids_path
    env.setdefault('ANSIBLE_NOCOLOR', '1')
    if args.collections_path:
        env['ANSIBLE_COLLECTIONS_PATH'] = args.collections_path
    playbook = os.path.abspath(args.ansible_playbook) if os.sep in args.ansible_playbook else args.ansible_playbook
    command = [playbook, os.path.join(HERE, 'live.yml')] + list(args.playbook_args)
    returncode = subprocess.call(command, env=env, cwd=HERE)
    transcript = merge_transcript(lines_path, args.label, returncode)
    transcript_path = os.path.join(args.output, 'transcript.json')
    with open(transcript_path, 'w') as handle:
        json.dump(transcript, handle, indent=1, sort_keys=True)
        handle.write('\n')
    if os.path.exists(lines_path):
        os.remove(lines_path)
    print('%d calls recorded in %s' % (len(transcript['calls']), transcript_path))
    return returncode, transcript_path, key_ids_path


def main(argv=None):
    returncode = run(parse_args(sys.argv[1:] if argv is None else argv))[0]
    sys.exit(returncode)


if __name__ == '__main__':
    main()
