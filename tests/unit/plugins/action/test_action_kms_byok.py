# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dew.kms.plugins.action import kms_byok as action
from ansible_collections.dew.kms.plugins.module_utils._common import kms_argument_spec
from ansible_collections.dew.kms.plugins.modules.kms_byok import ARGUMENT_SPEC

SPEC = kms_argument_spec(**ARGUMENT_SPEC)


def test_secret_values_finds_option_and_entry_secrets():
    args = {'password': 'pw-1', 'secret_key': 'sk-1', 'username': 'user',
            'keys': [{'alias': 'a', 'key_material': 'bWF0ZXJpYWw='}, {'alias': 'b', 'key_material_path': '/x'}]}
    assert action.secret_values(SPEC, args) == {'pw-1', 'sk-1', 'bWF0ZXJpYWw='}


def test_secret_values_ignores_odd_shapes():
    assert action.secret_values(SPEC, {'keys': 'not a list', 'password': ''}) == set()
    assert action.secret_values(SPEC, {'keys': ['entry', None]}) == set()


class Entry:
    def __init__(self, index, result):
        self.index = index
        self.result = result


def test_progress_counts_and_masks_secrets(monkeypatch):
    shown = []
    monkeypatch.setattr(action.display, 'display', shown.append)
    progress = action.Progress(2, {'s3cret'}, show=True)
    progress.entry_done(Entry(1, {'alias': 'b', 'action': 'failed', 'error': 'token s3cret refused'}))
    progress.entry_done(Entry(0, {'alias': 'a', 'action': 'unchanged', 'key_state_name': 'enabled'}))
    assert shown == ['kms_byok [1/2] b: FAILED: token ******** refused', 'kms_byok [2/2] a: unchanged, enabled']


def test_progress_shows_nothing_for_a_no_log_task(monkeypatch):
    shown = []
    monkeypatch.setattr(action.display, 'display', shown.append)
    progress = action.Progress(1, set(), show=False)
    progress.entry_done(Entry(0, {'alias': 'a', 'action': 'unchanged'}))
    assert shown == [] and progress.done == 1


def test_controller_kms_collects_each_warning_once():
    km = action.ControllerKms({}, check_mode=False, diff_mode=True, env={}, no_log_values=set())
    km.warn('a: weak')
    km.warn('a: weak')
    km.warn('b: weak')
    assert km.warnings == ['a: weak', 'b: weak'] and km.diff_mode and not km.check_mode


def test_controller_kms_builds_its_client_from_the_given_environment(monkeypatch):
    monkeypatch.delenv('OS_PASSWORD', raising=False)
    env = {'OS_USERNAME': 'u', 'OS_PASSWORD': 'pw-from-task-env', 'OS_USER_DOMAIN_NAME': 'd',
           'OS_PROJECT_NAME': 'eu-de', 'HW_KMS_ENDPOINT': 'https://kms.example.test',
           'HW_IAM_ENDPOINT': 'https://iam.example.test/v3'}
    params = dict((name, option.get('default')) for name, option in SPEC.items())
    km = action.ControllerKms(params, check_mode=False, diff_mode=False, env=env, no_log_values=set())
    client = km.client
    try:
        assert client.config.auth_mode == 'password'
        # the password read from the task environment is masked from now on
        assert 'pw-from-task-env' in km.no_log_values
    finally:
        km.close()


def test_controller_kms_gives_the_engine_the_wait_timeout_option():
    params = dict((name, option.get('default')) for name, option in SPEC.items())
    assert action.ControllerKms(params, False, False, {}, set()).wait_timeout == params['wait_timeout'] == 60
    params['wait_timeout'] = 0
    assert action.ControllerKms(params, False, False, {}, set()).wait_timeout == 0
