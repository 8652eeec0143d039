# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX credential type (extensions/awx/credential_type.yml) against what the collection reads.

Every injected environment variable must be one that the modules read (``_auth.ENV_VARS``) and
that the user documentation names (doc fragment ``dew.kms.auth``); the secret inputs must be
exactly the ``no_log`` options of the shared argspec; and what AWX injects must resolve to a
working configuration.
"""

from __future__ import absolute_import, division, print_function

import importlib
import os
import re

import pytest
import yaml

import awx_injection

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
ENV_MARKUP = re.compile(r'E\(([A-Z0-9_]+)\)')


@pytest.fixture(scope='module')
def auth(collection_source):
    return importlib.import_module('ansible_collections.dew.kms.plugins.module_utils._auth')


@pytest.fixture(scope='module')
def common(collection_source):
    return importlib.import_module('ansible_collections.dew.kms.plugins.module_utils._common')


@pytest.fixture(scope='module')
def documented_env(collection_source):
    """option -> environment variables that the doc fragment names for it."""
    fragment = importlib.import_module('ansible_collections.dew.kms.plugins.doc_fragments.auth')
    options = yaml.safe_load(fragment.ModuleDocFragment.DOCUMENTATION)['options']
    result = {}
    for name, option in options.items():
        text = ' '.join(option.get('description', []))
        result[name] = set(ENV_MARKUP.findall(text))
    return result


def _injected(credential_type):
    return credential_type['injectors']['env']


def _option_of(auth, var):
    """The option whose environment fallback ``var`` is."""
    options = [name for name, env_vars in auth.ENV_VARS.items() if var in env_vars]
    return options[0] if len(options) == 1 else None


def test_awx_accepts_the_credential_type(credential_type):
    assert awx_injection.validate(credential_type) == []
    assert credential_type['name']
    assert set(credential_type['injectors']) == {'env'}


def test_every_injected_variable_is_read_by_the_modules(credential_type, auth):
    read = set(var for env_vars in auth.ENV_VARS.values() for var in env_vars)
    unknown = sorted(set(_injected(credential_type)) - read)
    assert not unknown, 'injected but never read by dew.kms: %s' % unknown


def test_every_injected_variable_is_documented_for_its_option(credential_type, auth, documented_env):
    for var in _injected(credential_type):
        option = _option_of(auth, var)
        assert option is not None, var
        assert var in documented_env.get(option, set()), \
            '%s is not named in the documentation of option %s' % (var, option)


def test_each_input_feeds_exactly_the_option_of_the_same_name(credential_type, auth):
    """One variable per option, and field ids named like the module options they set."""
    options = {}
    for var, template in _injected(credential_type).items():
        used = awx_injection.template_variables(template)
        assert len(used) == 1, (var, used)
        field = used.pop()
        assert template.strip() == '{{ %s }}' % field, (var, template)
        option = _option_of(auth, var)
        assert option == field, '%s injects input %s into the variable of option %s' % (var, field, option)
        assert option not in options, 'option %s is injected twice (%s, %s)' % (option, options.get(option), var)
        options[option] = var
    assert set(options) == set(awx_injection.field_ids(credential_type)), 'inputs that inject nothing'


def test_secret_inputs_are_exactly_the_no_log_options(credential_type, common, auth):
    no_log = set(name for name, spec in common.AUTH_ARGSPEC.items() if spec.get('no_log'))
    assert no_log == set(auth.SECRET_OPTIONS)
    secret = set(field['id'] for field in awx_injection.fields(credential_type) if field.get('secret'))
    assert secret == no_log


def test_the_credential_covers_every_way_to_authenticate_except_clouds_yaml(credential_type, auth):
    ids = set(awx_injection.field_ids(credential_type))
    for mode, signals in auth.MODE_SIGNALS:
        if mode == auth.MODE_CLOUD:
            # a clouds.yaml file is what AWX's own OpenStack credential type provides
            assert not ids & set(signals)
        else:
            assert set(signals) <= ids, mode
    for name in ('domain_name', 'project_name', 'project_id', 'region', 'kms_endpoint',
                 'iam_endpoint', 'cloud_provider'):
        assert name in ids, name


def test_choices_match_the_argspec(credential_type, common):
    for field in awx_injection.fields(credential_type):
        spec = common.AUTH_ARGSPEC[field['id']]
        assert spec.get('type', 'str') == 'str', field['id']
        if 'choices' in field or 'choices' in spec:
            assert field.get('choices') == spec.get('choices'), field['id']


def test_unfilled_inputs_are_injected_empty_and_ignored(credential_type, auth):
    env = awx_injection.render_env(credential_type, {
        'region': 'eu-nl', 'access_key': 'AKEXAMPLE', 'secret_key': 'SKEXAMPLE'})
    assert env['OS_PASSWORD'] == '' and env['HW_AUTH_TOKEN'] == ''
    config = auth.resolve_config({}, env)
    assert config.auth_mode == auth.MODE_AKSK
    assert config.access_key == 'AKEXAMPLE' and config.secret_key == 'SKEXAMPLE'
    assert config.security_token is None
    assert config.cloud_provider == 'otc'
    assert config.kms_endpoint == 'https://kms.eu-nl.otc.t-systems.com'
    assert config.iam_endpoint == 'https://iam.eu-nl.otc.t-systems.com/v3'


def test_cloud_provider_left_empty_follows_the_region(credential_type, auth):
    field = [f for f in awx_injection.fields(credential_type) if f['id'] == 'cloud_provider'][0]
    assert 'default' not in field
    env = awx_injection.render_env(credential_type, {
        'region': 'cn-north-4', 'access_key': 'AKEXAMPLE', 'secret_key': 'SKEXAMPLE'})
    config = auth.resolve_config({}, env)
    assert config.cloud_provider == 'huaweicloud'
    assert config.kms_endpoint == 'https://kms.cn-north-4.myhuaweicloud.com'


def test_password_credential_resolves(credential_type, auth):
    env = awx_injection.render_env(credential_type, {
        'region': 'cn-north-4', 'cloud_provider': 'huaweicloud', 'username': 'byok-bot',
        'password': 'example-password', 'domain_name': 'example-account',
        'project_id': '0123456789abcdef0123456789abcdef'})
    config = auth.resolve_config({}, env)
    assert config.auth_mode == auth.MODE_PASSWORD
    assert (config.username, config.password, config.domain_name) == (
        'byok-bot', 'example-password', 'example-account')
    assert config.project_id == '0123456789abcdef0123456789abcdef'
    assert config.kms_endpoint == 'https://kms.cn-north-4.myhuaweicloud.com'
    assert 'example-password' in config.secret_values()


def test_explicit_endpoints_win_over_the_region(credential_type, auth):
    env = awx_injection.render_env(credential_type, {
        'region': 'eu-de', 'auth_token': 'example-token',
        'kms_endpoint': 'http://127.0.0.1:8080/v1.0/', 'iam_endpoint': 'http://127.0.0.1:8080'})
    config = auth.resolve_config({}, env)
    assert config.auth_mode == auth.MODE_TOKEN
    assert config.kms_endpoint == 'http://127.0.0.1:8080'
    assert config.iam_endpoint == 'http://127.0.0.1:8080/v3'


def test_module_options_still_win_over_the_credential(credential_type, auth):
    """A play's module_defaults (options) beat what the AWX credential injects."""
    env = awx_injection.render_env(credential_type, {
        'region': 'eu-de', 'access_key': 'AKEXAMPLE', 'secret_key': 'SKEXAMPLE'})
    config = auth.resolve_config({'region': 'eu-nl', 'auth_token': 'option-token'}, env)
    assert config.auth_mode == auth.MODE_TOKEN
    assert config.kms_endpoint == 'https://kms.eu-nl.otc.t-systems.com'


def test_the_awx_guide_lists_every_input_with_its_variable(credential_type):
    """docs/docsite/rst/guide_awx.rst has one table row per input: label, variable, option."""
    with open(os.path.join(REPO, 'docs', 'docsite', 'rst', 'guide_awx.rst')) as handle:
        guide = handle.read()
    rows = re.findall(r'^  \* - (.+)\n    - ``([A-Z0-9_]+)``\n    - :ansopt:`dew\.kms\.kms_key#module:([a-z_]+)`$',
                      guide, re.MULTILINE)
    documented = dict((var, (label, option)) for label, var, option in rows)
    injected = _injected(credential_type)
    assert set(documented) == set(injected)
    for field in awx_injection.fields(credential_type):
        var = [name for name, template in injected.items() if field['id'] in template][0]
        label, option = documented[var]
        assert option == field['id'], var
        assert field['label'].startswith(label), (label, field['label'])
