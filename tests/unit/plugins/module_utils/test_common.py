# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared argspec vs doc fragment, KmsModule.run, and lazy imports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest
import responses
import yaml

from ansible.module_utils import basic

from ansible_collections.dew.kms.plugins.doc_fragments.auth import ModuleDocFragment
from ansible_collections.dew.kms.plugins.module_utils import _client, _common
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsError, KmsInputError
from ansible_collections.dew.kms.tests.unit.plugins.module_utils.helpers import KEY_ID, PROJECT_ID, kms_url

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    import contextlib

    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved


class Exit(Exception):
    def __init__(self, kwargs):
        super(Exit, self).__init__(kwargs)
        self.kwargs = kwargs


class Fail(Exit):
    pass


@pytest.fixture
def module_exits(monkeypatch):
    def exit_json(self, **kwargs):
        raise Exit(kwargs)

    def fail_json(self, **kwargs):
        raise Fail(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)


@pytest.fixture
def clean_env(monkeypatch):
    for variables in _common_env_vars():
        monkeypatch.delenv(variables, raising=False)


def _common_env_vars():
    from ansible_collections.dew.kms.plugins.module_utils._auth import ENV_VARS
    return [var for variables in ENV_VARS.values() for var in variables] + ['OS_CLIENT_CONFIG_FILE']


def run_module(args, handler, argument_spec=None):
    with patch_module_args(args):
        module = _common.KmsModule(argument_spec or {'key_id': dict(type='str', required=True, no_log=False)})
        module.run(handler)


# ------------------------------------------------------------------------------- argspec

def test_doc_fragment_matches_argspec_exactly():
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']
    assert sorted(documented) == sorted(_common.AUTH_ARGSPEC)
    for name, spec in _common.AUTH_ARGSPEC.items():
        doc = documented[name]
        assert doc['type'] == spec['type'], name
        assert doc.get('default') == spec.get('default'), name
        assert doc.get('choices') == spec.get('choices'), name
        assert doc.get('aliases') == spec.get('aliases'), name
        assert doc.get('required', False) == spec.get('required', False), name
        assert doc['description'], name


def test_secrets_are_no_log_and_lookalikes_explicitly_not():
    spec = _common.AUTH_ARGSPEC
    for name in ('auth_token', 'password', 'secret_key', 'security_token'):
        assert spec[name]['no_log'] is True, name
    assert spec['access_key']['no_log'] is False


def test_every_option_env_var_is_documented():
    from ansible_collections.dew.kms.plugins.module_utils._auth import ENV_VARS
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']
    for name, variables in ENV_VARS.items():
        text = ' '.join(documented[name]['description'])
        for variable in variables:
            assert 'E(%s)' % variable in text, (name, variable)


def test_kms_argument_spec_merges_without_mutating_shared_spec():
    spec = _common.kms_argument_spec(key_id=dict(type='str'), timeout=dict(type='int', default=5))
    assert spec['key_id'] == dict(type='str')
    assert spec['timeout']['default'] == 5
    assert _common.AUTH_ARGSPEC['timeout']['default'] == 30
    spec['region']['type'] = 'changed'
    assert _common.AUTH_ARGSPEC['region']['type'] == 'str'


# ------------------------------------------------------------------------------- KmsModule.run

@responses.activate
def test_run_exits_with_handler_result_and_closes_client(module_exits, clean_env, monkeypatch):
    responses.add(responses.POST, kms_url('describe-key'), json={'key_info': {'key_id': KEY_ID}})
    closed = []
    monkeypatch.setattr(_client.KmsClient, 'close', lambda self: closed.append(True))

    def handler(module):
        assert module.params['key_id'] == KEY_ID and module.check_mode is False
        info = module.client.call('describe-key', {'key_id': KEY_ID}, key_id=KEY_ID)
        return {'changed': False, 'key': info['key_info']}

    with pytest.raises(Exit) as caught:
        run_module({'key_id': KEY_ID, 'auth_token': 'T', 'region': 'eu-de', 'project_id': PROJECT_ID}, handler)
    assert not isinstance(caught.value, Fail)
    assert caught.value.kwargs == {'changed': False, 'key': {'key_id': KEY_ID}}
    assert closed == [True]


@responses.activate
def test_run_turns_kms_error_into_structured_failure(module_exits, clean_env):
    responses.add(responses.POST, kms_url('import-key-material'), status=400, headers={'X-Request-Id': 'rid-9'},
                  json={'error': {'error_code': 'KMS.0310', 'error_msg': 'state'}})

    def handler(module):
        module.client.call('import-key-material', {'key_id': KEY_ID}, key_id=KEY_ID, idempotent=False)

    with pytest.raises(Fail) as caught:
        run_module({'key_id': KEY_ID, 'auth_token': 'T', 'region': 'eu-de', 'project_id': PROJECT_ID}, handler)
    kwargs = caught.value.kwargs
    assert kwargs['status'] == 400 and kwargs['error_code'] == 'KMS.0310' and kwargs['request_id'] == 'rid-9'
    assert kwargs['error_msg'] == 'state'
    assert 'its material is already imported' in kwargs['msg'] and KEY_ID in kwargs['msg']


def test_run_turns_config_and_input_errors_into_failures(module_exits, clean_env):
    with pytest.raises(Fail, match='No KMS credentials were found'):
        run_module({'key_id': KEY_ID, 'region': 'eu-de'}, lambda module: module.client)

    def bad_input(module):
        raise KmsInputError('key_material must be exactly 32 bytes.')

    with pytest.raises(Fail) as caught:
        run_module({'key_id': KEY_ID, 'auth_token': 'T', 'region': 'eu-de'}, bad_input)
    assert caught.value.kwargs['msg'] == 'key_material must be exactly 32 bytes.'
    assert caught.value.kwargs['status'] is None


def test_environment_secrets_join_no_log_values(module_exits, clean_env, monkeypatch):
    monkeypatch.setenv('HW_ACCESS_KEY', 'ENVAK')
    monkeypatch.setenv('HW_SECRET_KEY', 'ENV-SECRET-KEY')
    monkeypatch.setenv('HW_SECURITY_TOKEN', 'ENV-SEC-TOKEN')
    seen = {}

    def handler(module):
        assert module.client.auth_mode == 'aksk'
        seen['no_log'] = set(module.module.no_log_values)
        return {'changed': False}

    with pytest.raises(Exit):
        run_module({'key_id': KEY_ID, 'region': 'eu-de', 'project_id': PROJECT_ID}, handler)
    assert {'ENV-SECRET-KEY', 'ENV-SEC-TOKEN'} <= seen['no_log']
    assert 'ENVAK' not in seen['no_log']


def test_missing_requests_fails_with_missing_required_lib(module_exits, monkeypatch):
    monkeypatch.setattr(_client, 'HAS_REQUESTS', False)
    monkeypatch.setattr(_client, 'REQUESTS_IMPORT_ERROR', 'Traceback: no requests')
    with pytest.raises(Fail) as caught:
        run_module({'key_id': KEY_ID}, lambda module: {})
    assert 'requests' in caught.value.kwargs['msg']
    assert caught.value.kwargs['exception'] == 'Traceback: no requests'


def test_unexpected_exceptions_propagate_but_close_client(module_exits, clean_env, monkeypatch):
    closed = []
    monkeypatch.setattr(_client.KmsClient, 'close', lambda self: closed.append(True))

    def handler(module):
        module.client
        raise RuntimeError('bug')

    with pytest.raises(RuntimeError):
        run_module({'key_id': KEY_ID, 'auth_token': 'T', 'region': 'eu-de'}, handler)
    assert closed == [True]
    assert issubclass(KmsInputError, KmsError)


# ------------------------------------------------------------------------------- lazy imports

def _collection_root():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.abspath(os.path.join(here, '..', '..', '..', '..', '..', '..', '..'))


def test_key_diff_is_the_one_diff_shape():
    assert _common.key_diff('app (id)', {}, {'key_state': '2'}) == {
        'before_header': 'app (id)', 'after_header': 'app (id)', 'before': {}, 'after': {'key_state': '2'}}


@pytest.mark.parametrize('diff', [True, False])
def test_diff_mode_follows_the_task(module_exits, clean_env, diff):
    with pytest.raises(Exit) as caught:
        run_module({'key_id': KEY_ID, '_ansible_diff': diff}, lambda module: {'diff_mode': module.diff_mode})
    assert caught.value.kwargs == {'diff_mode': diff}


@pytest.mark.parametrize('module,absent', [
    ('_common', ('cryptography', 'yaml', 'requests')),
    ('_files', ('cryptography', 'yaml', 'requests')),
    ('_keys', ('cryptography', 'yaml', 'requests')),
    ('_material', ('cryptography', 'yaml', 'requests')),
    ('_batch', ('cryptography', 'yaml', 'requests')),
    ('_client', ('cryptography', 'yaml')),
    ('_auth', ('cryptography', 'yaml')),
    ('_wrap', ('cryptography',)),
])
def test_imports_stay_lean(module, absent):
    code = ('import sys; import ansible_collections.dew.kms.plugins.module_utils.%s; '
            'print(sorted(m for m in %r if m in sys.modules))' % (module, absent))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([_collection_root()] + sys.path))
    out = subprocess.check_output([sys.executable, '-c', code], env=env).decode().strip()
    assert out == '[]'
