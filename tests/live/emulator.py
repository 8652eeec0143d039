#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the live suite against the local emulator, once per cloud profile, and check each
transcript for secrets.

For every profile: start tests/emulator (127.0.0.1, stops by itself), point the standard
environment variables at it (AK/SK for otc, IAM password for huaweicloud, so that both auth
flows are recorded), run tests/live/run.py with DEW_KMS_LIVE=1, then require that the transcript
holds no credential, id or project id of the emulator's JSON line and no key id of the run, and
that every value in it is a shape (type and length) rather than data.
Transcripts land in OUTPUT/emulator-<profile>/transcript.json, ready for compare.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run as live_run  # noqa: E402 pylint: disable=wrong-import-position

EMULATOR_SOURCE = os.path.join(live_run.CHECKOUT, 'tests', 'emulator')
PROFILES = ('otc', 'huaweicloud')
# values of the emulator's JSON line that must never reach a transcript
SECRET_FIELDS = ('project_id', 'domain_id', 'domain_name', 'user_id', 'username',
                 'password', 'access_key', 'secret_key')
SHAPE_RE = re.compile(r'^(?:(?:str|int|text|list):\d+|bool|null|float|empty)(?:\|(?:(?:str|int|text|list):\d+|bool|null|float|empty))*$')
NAME_RE = re.compile(r'^(?:[A-Za-z_][A-Za-z0-9_.-]{0,63}|<key>)$')


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--profiles', default='auto',
                        help='space- or comma-separated cloud profiles; auto: every profile the '
                             'emulator offers (only its default when it has no --cloud option)')
    parser.add_argument('--output', default=live_run.DEFAULT_OUTPUT)
    parser.add_argument('--python', default=sys.executable, help='interpreter that runs the emulator')
    parser.add_argument('--ansible-playbook', default='ansible-playbook')
    parser.add_argument('--collections-path')
    return parser.parse_args(argv)


def emulator_has_profiles(python):
    text = subprocess.run([python, '-m', 'kms_emulator', '--help'], env=_emulator_env(), check=True,
                          stdout=subprocess.PIPE, universal_newlines=True).stdout
    return '--cloud' in text


def _emulator_env():
    return dict(os.environ, PYTHONPATH=EMULATOR_SOURCE)


def start_emulator(python, profile, with_profile):
    command = [python, '-m', 'kms_emulator', '--port', '0', '--exit-after', '600', '--exit-when-idle', '120']
    if with_profile:
        command += ['--cloud', profile]
    process = subprocess.Popen(command, env=_emulator_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, universal_newlines=True)
    line = process.stdout.readline()
    if not line:
        process.kill()
        raise SystemExit('the emulator (profile %s) did not start' % profile)
    return process, json.loads(line)


def module_environment(info, profile):
    """os.environ without any HW_*/OS_* setting of the user, plus the emulator's."""
    env = dict((name, value) for name, value in os.environ.items() if not name.startswith(('HW_', 'OS_')))
    env.update({'DEW_KMS_LIVE': '1', 'HW_KMS_ENDPOINT': info['kms_endpoint'],
                'HW_IAM_ENDPOINT': info['iam_endpoint'], 'HW_REGION_NAME': info['region'],
                'HW_CLOUD_PROVIDER': profile, 'OS_PROJECT_NAME': info['project_name']})
    if profile == 'otc':
        env.update({'HW_ACCESS_KEY': info['access_key'], 'HW_SECRET_KEY': info['secret_key']})
    else:
        env.update({'OS_USERNAME': info['username'], 'OS_PASSWORD': info['password'],
                    'OS_USER_DOMAIN_NAME': info['domain_name']})
    return env


def secret_values(info, key_ids_path):
    values = set()
    for project in [info] + list(info.get('projects') or []):
        values.update(str(project[field]) for field in SECRET_FIELDS if project.get(field))
    if key_ids_path and os.path.exists(key_ids_path):
        with open(key_ids_path) as handle:
            values.update(json.load(handle))
    return values


def check_transcript(path, secrets):
    """Problems found in a transcript (secret values, leaves that are not shapes), never echoing a value."""
    with open(path) as handle:
        text = handle.read()
    problems = ['a secret value (%d characters) appears in %s' % (len(value), path)
                for value in sorted(secrets) if value in text]
    transcript = json.loads(text)
    if not transcript['calls']:
        problems.append('%s recorded no call' % path)

    def walk(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if not NAME_RE.match(key):
                    problems.append('%s: a key (%d characters) is not a field name' % (where, len(str(key))))
                walk(value, where + '.' + key)
        elif isinstance(node, list):
            if not node or not re.match(r'^list:\d+(\|list:\d+)*$', str(node[0])):
                problems.append('%s: list without a list:N head' % where)
            for item in node[1:]:
                walk(item, where + '[]')
        elif not isinstance(node, str) or not SHAPE_RE.match(node):
            problems.append('%s: a %s value is not a shape' % (where, type(node).__name__))

    for index, call in enumerate(transcript['calls']):
        for part in ('request', 'answer'):
            walk(call[part], 'call %d %s %s' % (index, call['action'], part))
        code = call['error_code']
        if code is not None and not re.match(r'^[A-Za-z]+\.\d+$', code):
            problems.append('call %d: the error code is not of the form SERVICE.NNNN' % index)
    return problems


def run_profile(args, profile, with_profile):
    process, info = start_emulator(args.python, profile, with_profile)
    try:
        output = os.path.join(args.output, 'emulator-%s' % profile)
        suite_args = live_run.parse_args(['--output', output, '--ansible-playbook', args.ansible_playbook,
                                          '--label', 'emulator --cloud %s' % profile]
                                         + (['--collections-path', args.collections_path]
                                            if args.collections_path else []))
        returncode, transcript, key_ids = live_run.run(suite_args, env=module_environment(info, profile))
    finally:
        process.terminate()
        process.wait(timeout=30)
    if returncode != 0:
        return ['the live suite failed against the emulator (profile %s): exit code %s' % (profile, returncode)]
    secrets = secret_values(info, key_ids)
    if not os.path.exists(key_ids):
        return ['profile %s: the suite did not report the key ids it created' % profile]
    problems = check_transcript(transcript, secrets)
    print('profile %s: %s' % (profile, 'transcript clean (%d secret values checked)' % len(secrets)
                              if not problems else '%d problems' % len(problems)))
    return problems


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with_profiles = emulator_has_profiles(args.python)
    if args.profiles == 'auto':
        profiles = list(PROFILES) if with_profiles else ['otc']
        if not with_profiles:
            print('NOTE: this emulator has no --cloud option: running its default (otc) profile only.')
    else:
        profiles = [name for name in re.split(r'[\s,]+', args.profiles) if name]
        unknown = [name for name in profiles if name not in PROFILES]
        if unknown or (not with_profiles and profiles != ['otc']):
            raise SystemExit('profiles %s are not available (known: %s; this emulator %s --cloud).'
                             % (', '.join(profiles), ', '.join(PROFILES),
                                'has' if with_profiles else 'has no'))
    problems = []
    for profile in profiles:
        problems += run_profile(args, profile, with_profiles)
    for problem in problems:
        print('FAIL: ' + problem)
    sys.exit(1 if problems else 0)


if __name__ == '__main__':
    main()
