# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Credential resolution: options, environment fallbacks, precedence, clouds.yaml, endpoints."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import responses

from ansible_collections.dew.kms.plugins.module_utils import _auth
from ansible_collections.dew.kms.plugins.module_utils._auth import resolve_config
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsConfigError, KmsError
from ansible_collections.dew.kms.tests.unit.plugins.module_utils.helpers import IAM, KEY_ID, PROJECT_ID

BASE_ENV = {'HW_REGION_NAME': 'eu-de'}


def resolve(params=None, **env):
    merged = dict(BASE_ENV)
    merged.update(env)
    return resolve_config(params or {}, env=merged)


# --------------------------------------------------------------------------- environment fallbacks

@pytest.mark.parametrize('option,variable', [
    (option, variable) for option, variables in sorted(_auth.ENV_VARS.items()) for variable in variables
])
def test_every_environment_variable_is_read(option, variable):
    assert _auth.env_value(option, {variable: ' value '}) == 'value'


def test_first_environment_variable_wins_and_empty_is_unset():
    assert _auth.env_value('auth_token', {'HW_AUTH_TOKEN': 'hw', 'OS_AUTH_TOKEN': 'os'}) == 'hw'
    assert _auth.env_value('auth_token', {'HW_AUTH_TOKEN': '', 'OS_AUTH_TOKEN': 'os'}) == 'os'
    assert _auth.env_value('region', {'OS_REGION_NAME': 'eu-nl'}) == 'eu-nl'
    assert _auth.env_value('domain_name', {'OS_DOMAIN_NAME': 'acme'}) == 'acme'


def test_token_from_environment():
    config = resolve(OS_AUTH_TOKEN='tok', OS_PROJECT_ID='f' * 32)
    assert (config.auth_mode, config.auth_token, config.project_id) == ('token', 'tok', 'f' * 32)


def test_password_from_environment_openrc_style():
    config = resolve(OS_USERNAME='alice', OS_PASSWORD='pw', OS_USER_DOMAIN_NAME='ACME',
                     OS_PROJECT_NAME='eu-de_team', OS_AUTH_URL='https://iam.example:443/v3/')
    assert config.auth_mode == 'password'
    assert (config.username, config.password, config.domain_name, config.project_name) == (
        'alice', 'pw', 'ACME', 'eu-de_team')
    assert config.iam_endpoint == 'https://iam.example:443/v3'


def test_aksk_from_environment_with_temporary_token_and_os_names():
    config = resolve(OS_ACCESS_KEY='ak', OS_SECRET_KEY='sk', HW_SECURITY_TOKEN='st')
    assert (config.auth_mode, config.access_key, config.secret_key, config.security_token) == (
        'aksk', 'ak', 'sk', 'st')


def test_explicit_options_fill_gaps_from_environment():
    config = resolve({'access_key': 'explicit-ak'}, HW_SECRET_KEY='env-sk', HW_ACCESS_KEY='env-ak')
    assert (config.access_key, config.secret_key) == ('explicit-ak', 'env-sk')


# --------------------------------------------------------------------------- precedence

FULL_ENV = dict(HW_AUTH_TOKEN='tok', HW_ACCESS_KEY='ak', HW_SECRET_KEY='sk', OS_USERNAME='u',
                OS_PASSWORD='p', OS_DOMAIN_NAME='d', OS_CLOUD='mycloud')


@pytest.mark.parametrize('drop,expected', [
    ((), 'token'),
    (('HW_AUTH_TOKEN',), 'aksk'),
    (('HW_AUTH_TOKEN', 'HW_ACCESS_KEY', 'HW_SECRET_KEY'), 'password'),
])
def test_environment_precedence_token_aksk_password_cloud(drop, expected):
    env = dict((k, v) for k, v in FULL_ENV.items() if k not in drop)
    assert resolve(**env).auth_mode == expected


def test_environment_cloud_is_last(tmp_path):
    clouds = tmp_path / 'clouds.yaml'
    clouds.write_text(u'clouds:\n  mycloud:\n    region_name: eu-nl\n    auth:\n      token: cloudtok\n')
    config = resolve(OS_CLOUD='mycloud', OS_CLIENT_CONFIG_FILE=str(clouds))
    assert (config.auth_mode, config.auth_token, config.cloud) == ('token', 'cloudtok', 'mycloud')


def test_explicit_mode_wins_over_environment_of_another_mode():
    config = resolve({'username': 'bob', 'password': 'pw', 'domain_name': 'd'}, **FULL_ENV)
    assert (config.auth_mode, config.username, config.auth_token, config.access_key) == (
        'password', 'bob', None, None)


@pytest.mark.parametrize('params,named', [
    ({'auth_token': 't', 'access_key': 'a', 'secret_key': 's'}, ('token (auth_token)', 'AK/SK')),
    ({'auth_token': 't', 'username': 'u'}, ('token (auth_token)', 'IAM password')),
    ({'security_token': 's', 'password': 'p'}, ('AK/SK', 'IAM password')),
    ({'cloud': 'c', 'access_key': 'a'}, ('AK/SK', 'clouds.yaml (cloud)')),
])
def test_two_explicit_modes_are_an_error_naming_both(params, named):
    with pytest.raises(KmsConfigError) as caught:
        resolve(params)
    for name in named:
        assert name in caught.value.msg
    assert 'Give only one' in caught.value.msg


def test_no_credentials_lists_options_and_variables():
    with pytest.raises(KmsConfigError) as caught:
        resolve({})
    msg = caught.value.msg
    for word in ('auth_token', 'HW_AUTH_TOKEN', 'OS_AUTH_TOKEN', 'access_key', 'HW_ACCESS_KEY', 'secret_key',
                 'HW_SECRET_KEY', 'username', 'OS_USERNAME', 'password', 'OS_PASSWORD', 'domain_name',
                 'OS_USER_DOMAIN_NAME', 'cloud', 'OS_CLOUD'):
        assert word in msg


def test_incomplete_aksk_names_the_missing_part():
    with pytest.raises(KmsConfigError, match=r'missing: secret_key \(env HW_SECRET_KEY or OS_SECRET_KEY\)'):
        resolve({'access_key': 'ak'})


def test_incomplete_password_names_the_missing_parts():
    with pytest.raises(KmsConfigError, match='missing: domain_name'):
        resolve({'username': 'u', 'password': 'p'})
    with pytest.raises(KmsConfigError, match='needs a project'):
        resolve_config({'username': 'u', 'password': 'p', 'domain_name': 'd',
                        'kms_endpoint': 'https://kms.example'}, env={})


# --------------------------------------------------------------------------- connection options

def test_connection_defaults_and_validation(tmp_path):
    config = resolve({'auth_token': 't'})
    assert (config.validate_certs, config.ca_path, config.timeout, config.retries) == (True, None, 30, 3)
    with pytest.raises(KmsConfigError, match='timeout'):
        resolve({'auth_token': 't', 'timeout': 0})
    with pytest.raises(KmsConfigError, match='retries'):
        resolve({'auth_token': 't', 'retries': -1})
    with pytest.raises(KmsConfigError, match='ca_path cannot be read: it does not name an existing file'):
        resolve({'auth_token': 't', 'ca_path': str(tmp_path / 'nope.pem')})


def test_secrets_are_listed_and_never_in_repr():
    config = resolve({'access_key': 'AKID', 'secret_key': 'SECRETSK', 'security_token': 'SECTOK'})
    assert sorted(config.secret_values()) == ['SECRETSK', 'SECTOK']
    assert 'SECRETSK' not in repr(config) and 'SECTOK' not in repr(config)
    token = resolve({'auth_token': 'TOKENVALUE'})
    assert token.secret_values() == ['TOKENVALUE'] and 'TOKENVALUE' not in repr(token)


# --------------------------------------------------------------------------- endpoints

@pytest.mark.parametrize('region,provider,kms,iam', [
    ('eu-de', None, 'https://kms.eu-de.otc.t-systems.com', 'https://iam.eu-de.otc.t-systems.com/v3'),
    ('eu-nl', 'otc', 'https://kms.eu-nl.otc.t-systems.com', 'https://iam.eu-nl.otc.t-systems.com/v3'),
    ('eu-ch2', None, 'https://kms.eu-ch2.sc.otc.t-systems.com', 'https://iam-pub.eu-ch2.sc.otc.t-systems.com/v3'),
    ('cn-north-4', 'huaweicloud', 'https://kms.cn-north-4.myhuaweicloud.com',
     'https://iam.cn-north-4.myhuaweicloud.com/v3'),
    ('eu-west-101', 'huaweicloud', 'https://kms.eu-west-101.myhuaweicloud.eu',
     'https://iam.eu-west-101.myhuaweicloud.eu/v3'),
])
def test_endpoints_derived_from_region(region, provider, kms, iam):
    config = resolve_config({'auth_token': 't', 'region': region, 'cloud_provider': provider}, env={})
    assert (config.kms_endpoint, config.iam_endpoint) == (kms, iam)


def test_cloud_provider_from_environment_and_invalid_value():
    config = resolve({'auth_token': 't'}, HW_REGION_NAME='ap-southeast-1', HW_CLOUD_PROVIDER='HuaweiCloud')
    assert config.kms_endpoint == 'https://kms.ap-southeast-1.myhuaweicloud.com'
    with pytest.raises(KmsConfigError, match='cloud_provider'):
        resolve({'auth_token': 't'}, HW_CLOUD_PROVIDER='aws')


def test_explicit_endpoints_are_normalised_and_win():
    config = resolve({'auth_token': 't', 'kms_endpoint': 'kms.local:8443/v1.0/abc/',
                      'iam_endpoint': 'http://127.0.0.1:9000'}, HW_KMS_ENDPOINT='https://ignored')
    assert config.kms_endpoint == 'https://kms.local:8443'
    assert config.iam_endpoint == 'http://127.0.0.1:9000/v3'
    from_env = resolve(HW_AUTH_TOKEN='t', HW_KMS_ENDPOINT='http://127.0.0.1:1234/', HW_IAM_ENDPOINT='h:1/v3')
    assert (from_env.kms_endpoint, from_env.iam_endpoint) == ('http://127.0.0.1:1234', 'https://h:1/v3')


def test_bad_endpoint_and_missing_region():
    with pytest.raises(KmsConfigError, match='kms_endpoint must be an http'):
        resolve({'auth_token': 't', 'kms_endpoint': 'ftp://x'})
    with pytest.raises(KmsConfigError, match='set region .* or kms_endpoint'):
        resolve_config({'auth_token': 't'}, env={})
    no_iam = resolve_config({'auth_token': 't', 'kms_endpoint': 'https://k'}, env={})
    assert no_iam.iam_endpoint is None


@pytest.mark.parametrize('project_id', [
    '0123456789abcdef0123456789abcdef/kms/enable-key?x=',   # a path and query after a real id
    '../../__emulator/stats/reset',
    'fedcba9876543210fedcba987654321',                      # 31 characters
    '0123456789abcdef0123456789abcdefa',                    # 33
    '0123456789abcdef0123456789abcdeg',                     # not hexadecimal
    '01234567-89ab-cdef-0123-456789abcdef',
    'eu-de_team',
])
def test_project_id_must_be_32_hexadecimal_characters(project_id):
    for params, env in (({'auth_token': 't', 'project_id': project_id}, {}),
                        ({'auth_token': 't'}, {'HW_PROJECT_ID': project_id})):
        with pytest.raises(KmsConfigError) as caught:
            resolve(params, **env)
        assert 'project_id' in caught.value.msg and '32 hexadecimal characters' in caught.value.msg
        assert project_id not in caught.value.msg


def test_project_id_is_lenient_on_case_only():
    config = resolve({'auth_token': 't', 'project_id': ' 0123456789ABCDEF0123456789abcdef '})
    assert config.project_id == '0123456789abcdef0123456789abcdef'


@pytest.mark.parametrize('region', ['evil.example/x?', 'eu-de.attacker.example', 'eu de', 'EU-DE', '-eu', 'eu-',
                                    'eu-de:8443', 'eu-de@host'])
def test_region_that_derives_endpoints_must_be_a_plain_name(region):
    with pytest.raises(KmsConfigError, match='region .* is malformed'):
        resolve_config({'auth_token': 't', 'region': region}, env={})
    with pytest.raises(KmsConfigError, match='region .* is malformed'):
        _auth.derive_iam_endpoint(region)
    # with both endpoints given, the region only names the project to look up
    config = resolve_config({'auth_token': 't', 'region': region, 'kms_endpoint': 'https://kms.example',
                             'iam_endpoint': 'https://iam.example'}, env={})
    assert config.region == region


# --------------------------------------------------------------------------- clouds.yaml

CLOUDS = u'''
clouds:
  otc-password:
    region_name: eu-nl
    auth:
      auth_url: https://iam.eu-nl.otc.t-systems.com:443/v3
      username: alice
      password: from-yaml
      user_domain_name: ACME
      project_name: eu-nl_team
  otc-aksk:
    regions: [eu-de]
    ak: YAMLAK
    sk: YAMLSK
    auth:
      project_id: 0123456789abcdef0123456789abcdef
  otc-aksk-in-auth:
    region_name: eu-ch2
    auth:
      access_key: A2
      secret_key: S2
      security_token: T2
  otc-token:
    region_name: eu-de
    cacert: {cacert}
    auth:
      token: YAMLTOKEN
  empty:
    region_name: eu-de
'''


@pytest.fixture
def clouds_file(tmp_path):
    cacert = tmp_path / 'ca.pem'
    cacert.write_text(u'not checked here')
    path = tmp_path / 'clouds.yaml'
    path.write_text(CLOUDS.replace('{cacert}', str(cacert)))
    return path


def cloud_env(clouds_file, **extra):
    env = {'OS_CLIENT_CONFIG_FILE': str(clouds_file), 'HOME': str(clouds_file.parent / 'home')}
    env.update(extra)
    return env


def test_clouds_yaml_password_entry(clouds_file):
    config = resolve_config({'cloud': 'otc-password'}, env=cloud_env(clouds_file, OS_AUTH_URL='https://env-iam'))
    assert config.auth_mode == 'password'
    assert (config.username, config.password, config.domain_name, config.project_name, config.region) == (
        'alice', 'from-yaml', 'ACME', 'eu-nl_team', 'eu-nl')
    assert config.iam_endpoint == 'https://iam.eu-nl.otc.t-systems.com:443/v3'  # the entry beats OS_AUTH_URL
    assert config.kms_endpoint == 'https://kms.eu-nl.otc.t-systems.com'


def test_clouds_yaml_aksk_entry_top_level_keys_and_regions_list(clouds_file):
    config = resolve_config({'cloud': 'otc-aksk'}, env=cloud_env(clouds_file))
    assert (config.auth_mode, config.access_key, config.secret_key, config.region, config.project_id) == (
        'aksk', 'YAMLAK', 'YAMLSK', 'eu-de', '0123456789abcdef0123456789abcdef')


def test_clouds_yaml_aksk_in_auth_with_security_token(clouds_file):
    config = resolve_config({'cloud': 'otc-aksk-in-auth'}, env=cloud_env(clouds_file))
    assert (config.access_key, config.secret_key, config.security_token) == ('A2', 'S2', 'T2')
    assert config.kms_endpoint == 'https://kms.eu-ch2.sc.otc.t-systems.com'


def test_clouds_yaml_token_entry_and_cacert(clouds_file):
    config = resolve_config({'cloud': 'otc-token'}, env=cloud_env(clouds_file))
    assert (config.auth_mode, config.auth_token) == ('token', 'YAMLTOKEN')
    assert config.ca_path == str(clouds_file.parent / 'ca.pem')


def test_clouds_yaml_options_override_entry_but_credentials_not_mixed_with_env(clouds_file):
    config = resolve_config({'cloud': 'otc-password', 'region': 'eu-de', 'project_name': 'other'},
                            env=cloud_env(clouds_file, OS_PASSWORD='env-password'))
    assert (config.region, config.project_name, config.password) == ('eu-de', 'other', 'from-yaml')


def test_clouds_yaml_errors(clouds_file, tmp_path):
    with pytest.raises(KmsConfigError, match='cloud nope is not defined in .*defined: empty, otc-aksk'):
        resolve_config({'cloud': 'nope'}, env=cloud_env(clouds_file))
    with pytest.raises(KmsConfigError, match='entry empty has no credentials'):
        resolve_config({'cloud': 'empty'}, env=cloud_env(clouds_file))
    broken = tmp_path / 'broken.yaml'
    broken.write_text(u'clouds: [unclosed')
    with pytest.raises(KmsConfigError, match='not valid YAML'):
        resolve_config({'cloud': 'x'}, env={'OS_CLIENT_CONFIG_FILE': str(broken)})


def test_clouds_yaml_missing_everywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_auth, '_first_existing', lambda paths: None)
    with pytest.raises(KmsConfigError, match='no clouds.yaml was found'):
        resolve_config({'cloud': 'x'}, env={'HOME': str(tmp_path)})


def test_clouds_yaml_search_order_cwd_then_home(tmp_path, monkeypatch):
    home = tmp_path / 'home'
    (home / '.config' / 'openstack').mkdir(parents=True)
    (home / '.config' / 'openstack' / 'clouds.yaml').write_text(
        u'clouds:\n  c:\n    region_name: eu-de\n    auth: {token: HOME}\n')
    work = tmp_path / 'work'
    work.mkdir()
    monkeypatch.chdir(work)
    assert resolve_config({'cloud': 'c'}, env={'HOME': str(home)}).auth_token == 'HOME'
    (work / 'clouds.yaml').write_text(u'clouds:\n  c:\n    region_name: eu-de\n    auth: {token: CWD}\n')
    assert resolve_config({'cloud': 'c'}, env={'HOME': str(home)}).auth_token == 'CWD'
    paths = _auth.clouds_yaml_paths({'HOME': str(home), 'OS_CLIENT_CONFIG_FILE': '/x/c.yaml'})
    assert paths[0] == '/x/c.yaml' and paths[-1] == '/etc/openstack/clouds.yaml'


def test_secure_yaml_is_merged(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'clouds.yaml').write_text(
        u'clouds:\n  c:\n    region_name: eu-de\n    auth: {username: u, user_domain_name: d}\n')
    (tmp_path / 'secure.yaml').write_text(u'clouds:\n  c:\n    auth: {password: SECUREPW}\n')
    config = resolve_config({'cloud': 'c'}, env={'HOME': str(tmp_path)})
    assert (config.auth_mode, config.password) == ('password', 'SECUREPW')


# --------------------------------------------------------------------------- IAM answers of an unexpected shape

@responses.activate
@pytest.mark.parametrize('answer', [dict(body='<html>a login page</html>'), dict(json={'projects': True}),
                                    dict(json=[1]), dict(json={})])
def test_project_lookup_answer_of_unexpected_shape_is_kms_error(make_client, answer):
    responses.add(responses.GET, IAM + '/projects?name=eu-de', **answer)
    client = make_client(access_key='AK', secret_key='SK')
    with pytest.raises(KmsError) as caught:
        client.call('describe-key', {'key_id': KEY_ID})
    assert 'IAM project lookup for project eu-de returned an unexpected answer' in caught.value.msg
    assert 'Check iam_endpoint (%s).' % IAM in caught.value.msg


@responses.activate
def test_project_lookup_entry_without_id_is_config_error(make_client):
    responses.add(responses.GET, IAM + '/projects?name=eu-de', json={'projects': [{}]})
    with pytest.raises(KmsConfigError, match='IAM project lookup for project eu-de returned a project id'):
        make_client(access_key='AK', secret_key='SK').call('describe-key', {'key_id': KEY_ID})


@responses.activate
@pytest.mark.parametrize('answer', [dict(body='<html>a login page</html>'), dict(json={'token': 'x'}),
                                    dict(json={'token': {'project': 'x'}}), dict(json={})])
def test_token_answer_of_unexpected_shape_is_kms_error(make_client, answer):
    responses.add(responses.POST, IAM + '/auth/tokens?nocatalog=true', status=201,
                  headers={'X-Subject-Token': 'ISSUED'}, **answer)
    client = make_client(username='alice', password='s3cret', domain_name='ACME', project_id=PROJECT_ID)
    with pytest.raises(KmsError) as caught:
        client.call('describe-key', {'key_id': KEY_ID})
    assert 'IAM token request for user alice of domain ACME in project 0123456789abcdef0123456789abcdef returned an unexpected answer' in caught.value.msg
    assert 's3cret' not in caught.value.msg


# --------------------------------------------------------------------------- hardening

@pytest.mark.parametrize('params,env,named', [
    ({'auth_token': 'abc\ndef'}, {}, 'auth_token (from the task options)'),
    ({}, {'HW_AUTH_TOKEN': 'abc\x1bdef'}, 'auth_token (from the environment variable HW_AUTH_TOKEN)'),
    ({'access_key': 'AK', 'secret_key': 'S\tK'}, {}, 'secret_key (from the task options)'),
    ({'auth_token': 'tok', 'project_name': 'eu-de\r\nX-Evil: 1'}, {}, 'project_name (from the task options)'),
])
def test_control_characters_are_refused_naming_the_option_not_the_value(params, env, named):
    with pytest.raises(KmsConfigError) as caught:
        resolve_config(dict(params, region='eu-de'), env=env)
    assert caught.value.msg.startswith(named + ' contains a control character')
    for value in list(params.values()) + list(env.values()):
        assert value not in caught.value.msg


def test_a_trailing_line_break_is_trimmed_not_refused():
    assert resolve({'auth_token': 'abc\n'}).auth_token == 'abc'


CLOUD_DICT = {
    'auth': {'auth_url': 'https://iam.example/v3', 'username': 'alice', 'password': 'dict-pw',
             'user_domain_name': 'ACME', 'project_name': 'eu-de_app'},
    'region_name': 'eu-de',
    'kms_endpoint_override': 'https://kms.example:8443/v1.0/',
    'identity_endpoint_override': 'https://iam-override.example',
}


def test_cloud_as_a_dict_like_openstack_cloud(tmp_path):
    cacert = tmp_path / 'ca.pem'
    cacert.write_text(u'pem')
    config = resolve_config({'cloud': dict(CLOUD_DICT, ca_cert=str(cacert), verify=False)},
                            env={'OS_PASSWORD': 'env-pw', 'HW_PROJECT_ID': PROJECT_ID})
    assert (config.auth_mode, config.username, config.password, config.domain_name) == (
        'password', 'alice', 'dict-pw', 'ACME')
    assert config.project_name == 'eu-de_app' and config.project_id is None  # the environment is not read
    assert config.kms_endpoint == 'https://kms.example:8443'
    assert config.iam_endpoint == 'https://iam-override.example/v3'  # the override beats auth_url
    assert (config.ca_path, config.validate_certs) == (str(cacert), False)
    assert config.secret_values() == ['dict-pw']
    assert _auth.cloud_secret_values({'cloud': CLOUD_DICT}) == ['dict-pw']
    assert _auth.cloud_secret_values({'cloud': 'name'}) == []


def test_cloud_dict_errors_do_not_echo_it():
    with pytest.raises(KmsConfigError) as caught:
        resolve_config({'cloud': {'auth': {'password': 'lonely-pw'}, 'region_name': 'eu-de'}}, env={})
    assert 'lonely-pw' not in caught.value.msg and 'username' in caught.value.msg
    with pytest.raises(KmsConfigError, match='cloud must be the name of a clouds.yaml entry or a dictionary'):
        resolve_config({'cloud': ['x']}, env={})


def test_a_selected_clouds_yaml_entry_is_used_as_a_whole(clouds_file):
    config = resolve_config({'cloud': 'otc-token'}, env=cloud_env(
        clouds_file, HW_PROJECT_ID=PROJECT_ID, HW_KMS_ENDPOINT='https://env-kms.example', OS_REGION_NAME='eu-nl'))
    assert config.project_id is None and config.kms_endpoint != 'https://env-kms.example'
    assert config.warnings == []


def test_unreadable_paths_are_named_not_echoed(tmp_path):
    pasted = str(tmp_path / '-----BEGIN PRIVATE KEY-----MIIEv')
    with pytest.raises(KmsConfigError) as caught:
        resolve({'auth_token': 't', 'ca_path': pasted})
    assert 'ca_path cannot be read' in caught.value.msg and 'BEGIN' not in caught.value.msg
    with pytest.raises(KmsConfigError) as caught:
        resolve_config({'cloud': 'x'}, env={'OS_CLIENT_CONFIG_FILE': pasted, 'HOME': str(tmp_path)})
    assert 'OS_CLIENT_CONFIG_FILE does not name an existing file' in caught.value.msg
    assert 'BEGIN' not in caught.value.msg


def test_option_credentials_never_go_to_an_endpoint_from_the_environment():
    for variable, option in (('HW_KMS_ENDPOINT', 'kms_endpoint'), ('HW_IAM_ENDPOINT', 'iam_endpoint'),
                             ('OS_AUTH_URL', 'iam_endpoint')):
        with pytest.raises(KmsConfigError) as caught:
            resolve_config({'auth_token': 'opt-token', 'region': 'eu-de'}, env={variable: 'https://elsewhere.example'})
        assert ('%s comes from the environment variable %s' % (option, variable)) in caught.value.msg
        assert 'opt-token' not in caught.value.msg


def test_an_iam_endpoint_from_the_environment_is_harmless_when_iam_is_not_asked():
    """A token or AK/SK with a project id never goes to IAM; a password always does."""
    env = {'HW_IAM_ENDPOINT': 'https://elsewhere.example'}
    config = resolve_config({'auth_token': 'opt-token', 'region': 'eu-de', 'project_id': PROJECT_ID}, env=env)
    assert config.iam_endpoint == 'https://elsewhere.example/v3'
    with pytest.raises(KmsConfigError, match='iam_endpoint comes from the environment variable HW_IAM_ENDPOINT'):
        resolve_config({'username': 'u', 'password': 'p', 'domain_name': 'd', 'region': 'eu-de',
                        'project_id': PROJECT_ID}, env=env)


def test_environment_credentials_with_option_endpoints_warn_naming_the_variables():
    config = resolve_config({'kms_endpoint': 'https://kms.example'},
                            env={'HW_ACCESS_KEY': 'AK', 'HW_SECRET_KEY': 'SK', 'HW_PROJECT_ID': PROJECT_ID})
    assert config.kms_endpoint == 'https://kms.example'
    assert config.warnings == ['Task options are combined with the environment variables HW_ACCESS_KEY, '
                               'HW_PROJECT_ID, HW_SECRET_KEY. Give every setting the same way to silence '
                               'this warning.']
    assert resolve_config({}, env={'HW_AUTH_TOKEN': 'T', 'HW_REGION_NAME': 'eu-de'}).warnings == []
