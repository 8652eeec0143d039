# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""tests/live helpers: the transcript comparison and the secret check of emulator transcripts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

from ansible_collections.dew.kms.tests.live import compare, emulator

KEY_ID = '0d0466b0-e727-4d9c-b35d-f84bb474a37f'


def transcript(calls, label='emulator'):
    return {'label': label, 'calls': calls}


def call(action, status=200, error_code=None, request='empty', answer='empty'):
    return {'action': action, 'status': status, 'error_code': error_code, 'request': request, 'answer': answer}


EMULATED = transcript([
    call('kms describe-key', request={'key_id': 'str:36'},
         answer={'key_info': {'key_id': 'str:36', 'creation_date': 'str:13', 'key_usage': 'str:15'}}),
    call('kms describe-key', request={'key_id': 'str:36'},
         answer={'key_info': {'key_id': 'str:36', 'creation_date': 'str:13', 'key_usage': 'str:11'}}),
    call('kms list-keys', request={'key_spec': 'str:3', 'limit': 'str:4'},
         answer={'keys': ['list:2', 'str:36'], 'truncated': 'str:5'}),
])


def test_identical_transcripts_do_not_differ_even_with_other_call_counts():
    other = copy.deepcopy(EMULATED)
    other['calls'].append(copy.deepcopy(other['calls'][0]))
    other['calls'][2]['answer']['keys'][0] = 'list:7'
    assert compare.compare(EMULATED, other) == []


def test_differences_are_named():
    real = copy.deepcopy(EMULATED)
    real['calls'][0]['answer']['key_info']['creation_date'] = 'int:13'
    real['calls'][1]['answer']['key_info']['creation_date'] = 'int:13'
    del real['calls'][0]['answer']['key_info']['key_usage']
    del real['calls'][1]['answer']['key_info']['key_usage']
    real['calls'][0]['request']['key_id'] = 'str:40'
    real['calls'][1]['request']['key_id'] = 'str:40'
    real['calls'][2] = call('kms list-keys', 400, 'KMS.0204', {'key_spec': 'str:3', 'limit': 'str:4'},
                            {'error': {'error_code': 'str:8', 'error_msg': 'str:30'}})
    lines = compare.compare(real, EMULATED, names=('real', 'emulator'))
    assert lines == [
        'kms describe-key -> 200 request .key_id: length real=str:40 emulator=str:36',
        'kms describe-key -> 200 answer .key_info.creation_date: type real=int:13 emulator=str:13',
        'kms describe-key -> 200 answer .key_info.key_usage: only in emulator (str:11|str:15)',
        'kms list-keys -> 200: only emulator answers so (1 calls)',
        'kms list-keys -> 400 KMS.0204: only real answers so (1 calls)',
    ]
    assert len(compare.compare(real, EMULATED, ignore_lengths=True)) == 4


def test_secret_check_finds_values_and_non_shapes(tmp_path):
    clean = tmp_path / 'clean.json'
    clean.write_text(json.dumps(EMULATED))
    assert emulator.check_transcript(str(clean), {KEY_ID, 'Pw-secret'}) == []

    leaky = copy.deepcopy(EMULATED)
    leaky['calls'][0]['answer']['key_info']['key_id'] = KEY_ID
    leaky['calls'][1]['answer'] = {KEY_ID: 'str:1', 'keys': ['str:36']}
    leaky['calls'][2]['error_code'] = 'token abc'
    path = tmp_path / 'leaky.json'
    path.write_text(json.dumps(leaky))
    problems = emulator.check_transcript(str(path), {KEY_ID, 'Pw-secret'})
    assert problems[0] == 'a secret value (36 characters) appears in %s' % path
    assert KEY_ID not in ' '.join(problems[1:])
    assert len(problems) == 5
    assert any('is not a shape' in problem for problem in problems)
    assert any('is not a field name' in problem for problem in problems)
    assert any('list without a list:N head' in problem for problem in problems)
    assert any('is not of the form SERVICE.NNNN' in problem for problem in problems)
