# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml

from ansible_collections.dew.kms.plugins.module_utils import _report
from ansible_collections.dew.kms.plugins.modules.kms_byok import ARGUMENT_SPEC, RETURN

KEY_ID = '0d0466b0-e727-4d9c-b35d-f84bb474a37f'


def result(alias='app-data', action='created+imported', **fields):
    base = {'alias': alias, 'key_id': KEY_ID, 'key_spec': 'AES_256', 'key_state': '2',
            'key_state_name': 'enabled', 'action': action, 'verified': True, 'changed': True,
            'expiration_time': None, 'expiration_date': None, 'error': None}
    base.update(fields)
    return base


def test_progress_line_of_a_completed_key():
    assert _report.progress_line(result(), 0, 3, 20) == '[3/20] app-data: created+imported, enabled, verified'


def test_progress_line_of_an_unverified_key_and_of_a_check_mode_key():
    assert _report.progress_line(result(action='unchanged', verified=None), 0, 1, 1) == '[1/1] app-data: unchanged, enabled'
    planned = result(action='would_create+import', key_id=None, key_state_name=None, verified=None)
    assert _report.progress_line(planned, 0, 1, 2) == '[1/2] app-data: would_create+import, not created yet'


def test_progress_line_of_a_failed_key_gives_the_reason():
    failed = result(action='failed', error='Key x is pending deletion.', key_state_name='pending_deletion')
    assert _report.progress_line(failed, 4, 5, 5) == '[5/5] app-data: FAILED: Key x is pending deletion.'


def test_key_name_falls_back_to_the_key_id_then_the_position():
    assert _report.key_name(result(alias=None), 2) == KEY_ID
    assert _report.key_name(result(alias=None, key_id=None), 2) == 'keys[2]'


def test_totals_line_counts_every_action():
    results = [result(), result(action='created+imported'), result(action='imported'),
               result(action='unchanged'), result(action='failed')]
    assert _report.totals_line(results) == '5 keys: 2 created and imported, 1 imported, 1 unchanged, 1 failed'


def test_totals_line_names_check_mode_actions_only_when_they_occur():
    assert _report.totals_line([result(action='unchanged')]) == (
        '1 key: 0 created and imported, 0 imported, 1 unchanged, 0 failed')
    results = [result(action='would_create+import'), result(action='would_import')]
    assert _report.totals_line(results) == (
        '2 keys: 0 created and imported, 0 imported, 0 unchanged, 0 failed, '
        '1 would be created and imported, 1 would be imported')


def test_totals_line_counts_every_documented_action():
    documented = yaml.safe_load(RETURN)['results']['contains']['action']['choices']
    counted = [action for action, _words in _report.TOTALS + _report.OCCASIONAL_TOTALS]
    assert sorted(documented) == sorted(counted)


@pytest.mark.parametrize('action, words', _report.OCCASIONAL_TOTALS)
def test_totals_line_counts_renewal_rotation_and_phase_actions(action, words):
    assert _report.totals_line([result(action=action), result(action='unchanged')]) == (
        '2 keys: 0 created and imported, 0 imported, 1 unchanged, 0 failed, 1 %s' % words)


def test_table_has_a_header_and_aligned_columns():
    results = [result(expiration_date='2031-01-01T00:00:00Z'),
               result(alias='signing-key-with-a-long-alias', key_spec='RSA_2048', verified=None, action='unchanged'),
               result(alias='bad', action='failed', key_id=None, key_state=None, key_state_name=None,
                      verified=False)]
    lines = _report.results_table(results)
    assert lines[0].split() == ['alias', 'spec', 'action', 'state', 'verified', 'expiry', 'key', 'id']
    assert lines[1].split() == ['app-data', 'AES_256', 'created+imported', 'enabled', 'yes',
                                '2031-01-01T00:00:00Z', KEY_ID]
    assert lines[2].split() == ['signing-key-with-a-long-alias', 'RSA_2048', 'unchanged', 'enabled', '-', 'never', KEY_ID]
    assert lines[3].split() == ['bad', 'AES_256', 'failed', '-', 'NO', '-', '-']
    # every column starts at the same place in every line
    spec_column = lines[0].index('spec')
    assert all(line[spec_column - 2:spec_column] == '  ' for line in lines)
    assert lines[2][spec_column:].startswith('RSA_2048')
    assert all(line == line.rstrip() for line in lines)


ENTRY_SPEC = ARGUMENT_SPEC['keys']


def test_good_entries_have_no_problem():
    keys = [{'alias': 'a', 'key_material_path': '/tmp/a.bin'}, {'key_id': KEY_ID, 'key_material': 'x'}]
    assert _report.entry_problems(keys, ENTRY_SPEC) == []
    # the check works on copies: defaults are not added to the caller's entries
    assert keys[0] == {'alias': 'a', 'key_material_path': '/tmp/a.bin'}


def test_each_bad_entry_is_named_by_position_and_alias_in_one_line():
    keys = [{'alias': 'good', 'key_material_path': '/a'},
            {'alias': 'app-data', 'key_spec': 'AES_512', 'key_material_path': '/a'},
            {'alias': 'both', 'key_id': KEY_ID, 'key_material_path': '/a'},
            {'key_material_path': '/a'},
            'app-data',
            {'alias': 'typo', 'key_materal_path': '/a', 'key_material': 'x'}]
    problems = _report.entry_problems(keys, ENTRY_SPEC, list_name='byok_keys')
    assert len(problems) == 5
    assert problems[0].startswith('byok_keys[1] (app-data): value of key_spec must be one of: AES_256')
    assert 'got: AES_512' in problems[0]
    assert problems[1] == 'byok_keys[2] (both): parameters are mutually exclusive: alias|key_id.'
    assert problems[2] == 'byok_keys[3]: one of the following is required: alias, key_id.'
    assert problems[3].startswith('byok_keys[4] must be a dictionary')
    assert problems[4].startswith('byok_keys[5] (typo): ') and 'key_materal_path' in problems[4]
    assert all('\n' not in problem for problem in problems)


def test_a_list_that_is_no_list_is_left_to_the_task_validation():
    assert _report.entry_problems('not a list', ENTRY_SPEC) == []


def test_digest_lines_name_each_wrapping_key_and_each_bundle_written():
    result = {'results': [{'alias': 'app', 'wrapping_key_sha256': 'ab' * 32}, {'alias': 'other'}],
              'bundle_digest': '3f2a-91c0-5b7e-0d44-a8e1-6c2f-77b9-e035', 'bundle_path': '/b.json'}
    lines = _report.digest_lines(result)
    assert lines[0] == 'wrapping key of app: SHA-256 %s' % ('ab' * 32)
    assert lines[1].startswith('export bundle digest: 3f2a-91c0-5b7e-0d44-a8e1-6c2f-77b9-e035 (give it to the '
                               'wrap phase as bundle_digest')
    assert len(lines) == 2
    # the wrap phase returns the digest it checked, but wrote no export bundle: not shown as its own
    assert _report.digest_lines({'results': [], 'bundle_digest': 'x'}) == []
