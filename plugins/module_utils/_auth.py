# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Credential resolution (options, environment, clouds.yaml), endpoints, and the authenticators.

``resolve_config(params)`` turns module parameters into a ``KmsConfig``; ``make_authenticator``
gives the object the client asks to authorise each request (token header, IAM password token
fetched once, or AK/SK signature). Private module: the interface may change between releases.

Precedence (documented in the ``dew.kms.auth`` doc fragment):

* Authentication modes are token (``auth_token``), AK/SK (``access_key``/``secret_key``/
  ``security_token``), IAM password (``username``/``password``) and clouds.yaml (``cloud``).
* Modes given as module options (this includes ``module_defaults``) win over the environment.
  Two different modes given as options are an error naming both.
* With no mode given as options, the environment decides: token > AK/SK > password > clouds.yaml.
* Within the chosen mode every single setting is: option > clouds.yaml entry (``cloud`` mode
  only) > environment variable.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import threading

from urllib.parse import urlsplit

from ansible_collections.dew.kms.plugins.module_utils._errors import (
    KmsAuthError,
    KmsConfigError,
    KmsError,
    expect_object,
    missing_library,
    unexpected_answer,
)
from ansible_collections.dew.kms.plugins.module_utils import _regions

# option -> environment variables, first found wins
ENV_VARS = {
    'auth_token': ('HW_AUTH_TOKEN', 'OS_AUTH_TOKEN'),
    'access_key': ('HW_ACCESS_KEY', 'OS_ACCESS_KEY'),
    'secret_key': ('HW_SECRET_KEY', 'OS_SECRET_KEY'),
    'security_token': ('HW_SECURITY_TOKEN', 'OS_SECURITY_TOKEN'),
    'username': ('OS_USERNAME',),
    'password': ('OS_PASSWORD',),
    'domain_name': ('OS_USER_DOMAIN_NAME', 'OS_DOMAIN_NAME'),
    'project_name': ('OS_PROJECT_NAME',),
    'project_id': ('HW_PROJECT_ID', 'OS_PROJECT_ID'),
    'cloud': ('OS_CLOUD',),
    'region': ('HW_REGION_NAME', 'OS_REGION_NAME'),
    'kms_endpoint': ('HW_KMS_ENDPOINT',),
    'iam_endpoint': ('HW_IAM_ENDPOINT', 'OS_AUTH_URL'),
    'cloud_provider': ('HW_CLOUD_PROVIDER',),
}

SECRET_OPTIONS = ('auth_token', 'password', 'secret_key', 'security_token')

MODE_TOKEN = 'token'
MODE_AKSK = 'aksk'
MODE_PASSWORD = 'password'
MODE_CLOUD = 'cloud'

# the options whose presence selects a mode, in environment precedence order
MODE_SIGNALS = (
    (MODE_TOKEN, ('auth_token',)),
    (MODE_AKSK, ('access_key', 'secret_key', 'security_token')),
    (MODE_PASSWORD, ('username', 'password')),
    (MODE_CLOUD, ('cloud',)),
)
MODE_NAMES = {
    MODE_TOKEN: 'token (auth_token)',
    MODE_AKSK: 'AK/SK (access_key/secret_key)',
    MODE_PASSWORD: 'IAM password (username/password)',
    MODE_CLOUD: 'clouds.yaml (cloud)',
}

# Values that become part of a URL are checked before any request, so that no option can add a
# path, query or host to it: an IAM project id is 32 hexadecimal characters; a region that names
# endpoint hosts is lowercase letters and digits in dash-separated parts (eu-de, ap-southeast-1).
PROJECT_ID_RE = re.compile(r'^[0-9a-fA-F]{32}$')
REGION_RE = re.compile(r'^[a-z0-9]+(-[a-z0-9]+)*$')

CLOUD_PROVIDERS = _regions.CLOUD_PROVIDERS

# settings a config carries besides the connection options
_SETTINGS = ('auth_token', 'access_key', 'secret_key', 'security_token', 'username', 'password',
             'domain_name', 'project_name', 'project_id', 'region', 'kms_endpoint', 'iam_endpoint',
             'cloud_provider')


class KmsConfig:
    """Resolved settings for one client. ``repr`` never shows secrets."""

    def __init__(self, auth_mode, validate_certs=True, ca_path=None, timeout=30, retries=3,
                 cloud=None, **settings):
        unknown = set(settings) - set(_SETTINGS)
        if unknown:
            raise TypeError('unknown settings: %s' % ', '.join(sorted(unknown)))
        self.auth_mode = auth_mode
        self.cloud = cloud
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.retries = retries
        self.warnings = []
        for name in _SETTINGS:
            setattr(self, name, settings.get(name))

    def secret_values(self):
        """Secret strings in use, so a module can add them to its no_log values."""
        return [getattr(self, name) for name in SECRET_OPTIONS if getattr(self, name)]

    def __repr__(self):
        shown = ['auth_mode=%r' % self.auth_mode]
        for name in ('region', 'project_id', 'project_name', 'kms_endpoint', 'iam_endpoint'):
            if getattr(self, name):
                shown.append('%s=%r' % (name, getattr(self, name)))
        return 'KmsConfig(%s)' % ', '.join(shown)


# ---------------------------------------------------------------------------------------------
# resolution

def _clean(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def env_value(name, env):
    """First non-empty environment variable for option ``name``."""
    for var in ENV_VARS.get(name, ()):
        value = _clean(env.get(var))
        if value is not None:
            return value
    return None


def _describe_option(name):
    env_vars = ENV_VARS.get(name)
    if env_vars:
        return '%s (env %s)' % (name, ' or '.join(env_vars))
    return name


def _modes_present(lookup):
    return [mode for mode, names in MODE_SIGNALS if any(lookup(name) for name in names)]


def select_auth_mode(params, env):
    """The auth mode to use; KmsConfigError on a conflict or when there are no credentials."""
    explicit = _modes_present(lambda name: _clean(params.get(name)))
    if len(explicit) > 1:
        raise KmsConfigError(
            'Conflicting authentication options: %s are both set as module options (or '
            'module_defaults). Give only one authentication method.'
            % ' and '.join(MODE_NAMES[mode] for mode in explicit))
    if explicit:
        return explicit[0]
    from_env = _modes_present(lambda name: env_value(name, env))
    if from_env:
        return from_env[0]
    raise KmsConfigError(
        'No KMS credentials were found. Use one of: %s; %s and %s; %s, %s and %s; or %s naming '
        'a clouds.yaml entry.' % tuple(_describe_option(name) for name in (
            'auth_token', 'access_key', 'secret_key', 'username', 'password', 'domain_name', 'cloud')))


SOURCE_OPTION = 'task options'
SOURCE_ENV = 'environment'
SOURCE_CLOUD = 'clouds.yaml entry'

# C0 controls and DEL: never part of a credential or URL, and a library that quotes such a
# value in its exception text escapes it, so Ansible's masking would not find it
_CONTROL_RE = re.compile(r'[\x00-\x1f\x7f]')


class _SettingsReader:
    """Each setting from the task options, else the selected clouds.yaml entry, else the environment.

    A selected clouds.yaml entry is used as a whole, as openstacksdk does: the environment is not
    read then. ``sources`` remembers where each value came from (source, environment variable).
    """

    def __init__(self, params, env, cloud_values=None):
        self.params = params
        self.env = env
        self.cloud_values = cloud_values
        self.sources = {}

    def get(self, name, options=True):
        value = _clean(self.params.get(name)) if options else None
        if value is not None:
            return self._found(name, value, SOURCE_OPTION, None)
        if self.cloud_values is not None:
            value = _clean(self.cloud_values.get(name))
            return None if value is None else self._found(name, value, SOURCE_CLOUD, None)
        for var in ENV_VARS.get(name, ()):
            value = _clean(self.env.get(var))
            if value is not None:
                return self._found(name, value, SOURCE_ENV, var)
        return None

    def _found(self, name, value, source, env_var):
        if isinstance(value, str) and _CONTROL_RE.search(value):
            where = 'the environment variable %s' % env_var if env_var else 'the %s' % source
            raise KmsConfigError('%s (from %s) contains a control character, such as a line break or a '
                                 'tab, inside its value; nothing was sent. Set it again without it.'
                                 % (name, where))
        self.sources[name] = (source, env_var)
        return value

    def source(self, name):
        return self.sources.get(name, (None, None))

    def env_vars_used(self):
        return sorted(var for source, var in self.sources.values() if source == SOURCE_ENV)


AUTH_FIELDS = {
    MODE_TOKEN: ('auth_token',),
    MODE_AKSK: ('access_key', 'secret_key', 'security_token'),
    MODE_PASSWORD: ('username', 'password'),
}
ENDPOINT_SETTINGS = ('domain_name', 'project_name', 'project_id', 'region', 'kms_endpoint',
                     'iam_endpoint', 'cloud_provider')


def resolve_config(params, env=None):
    """Build a KmsConfig from module parameters plus environment fallbacks (and clouds.yaml)."""
    env = os.environ if env is None else env
    params = dict(params)
    mode = select_auth_mode(params, env)
    cloud_name, cloud_values = None, None
    if mode == MODE_CLOUD:
        cloud_name, cloud_values = _selected_cloud(params, env)
        mode = _cloud_auth_mode(cloud_name, cloud_values)
    reader = _SettingsReader(params, env, cloud_values)
    settings = _read_settings(reader, mode)
    _require_auth_fields(mode, settings, cloud_name)
    _resolve_endpoints(settings)
    _check_endpoint_sources(reader, mode, settings)
    connection = _connection_settings(params, cloud_values)
    config = KmsConfig(mode, cloud=cloud_name, **dict(settings, **connection))
    config.warnings = _combination_warnings(reader)
    return config


def _selected_cloud(params, env):
    """(name for messages, settings) of the clouds.yaml entry or dict named by ``cloud``/OS_CLOUD."""
    cloud = params.get('cloud')
    if isinstance(cloud, dict):
        return '(the cloud option)', _map_cloud_entry(cloud)
    if cloud is not None and not isinstance(cloud, str):
        raise KmsConfigError('cloud must be the name of a clouds.yaml entry or a dictionary shaped like '
                             'one (auth, region_name, ...).')
    name = _SettingsReader(params, env).get('cloud')
    return name, load_cloud(name, env)


def _read_settings(reader, mode):
    settings = {}
    for name in AUTH_FIELDS[mode]:
        # in cloud mode the credentials come from the entry alone (another mode given as options
        # is a conflict, see select_auth_mode)
        settings[name] = reader.get(name, options=reader.cloud_values is None)
    for name in ENDPOINT_SETTINGS:
        settings[name] = reader.get(name)
    if settings['project_id'] is not None:
        settings['project_id'] = validate_project_id(settings['project_id'])
    # the cloud follows from the region unless given; an unknown region fails here, before any
    # request, when an endpoint the task needs would have to be derived from it
    needs_iam = mode == MODE_PASSWORD or not settings['project_id']
    must_derive = not settings['kms_endpoint'] or (needs_iam and not settings['iam_endpoint'])
    if settings['region'] and must_derive:
        settings['region'] = _checked_region(settings['region'])
    provider = _regions.cloud_provider(settings['cloud_provider'], settings['region'], must_derive)
    settings['cloud_provider'] = provider
    return settings


def _resolve_endpoints(settings):
    """Normalise given endpoints, derive missing ones from the region."""
    region, provider = settings['region'], settings['cloud_provider']
    if settings['kms_endpoint']:
        settings['kms_endpoint'] = normalize_kms_endpoint(settings['kms_endpoint'])
    elif region:
        settings['kms_endpoint'] = derive_kms_endpoint(region, provider)
    else:
        raise KmsConfigError('Cannot tell which KMS endpoint to use: set %s or %s.'
                             % (_describe_option('region'), _describe_option('kms_endpoint')))
    if settings['iam_endpoint']:
        settings['iam_endpoint'] = normalize_iam_endpoint(settings['iam_endpoint'])
    elif region and provider:
        settings['iam_endpoint'] = derive_iam_endpoint(region, provider)


def _check_endpoint_sources(reader, mode, settings):
    """Credentials given as task options never go to an endpoint URL taken from the environment.

    An endpoint given as a task option is what the user asked for, whatever the credentials'
    source; an endpoint derived from a region is an official host of the cloud. IAM is asked
    only for a password token or to look up a project id that is not set.
    """
    if not any(reader.source(name)[0] == SOURCE_OPTION for name in AUTH_FIELDS[mode]):
        return
    uses_iam = mode == MODE_PASSWORD or not settings['project_id']
    for endpoint in ('kms_endpoint', 'iam_endpoint') if uses_iam else ('kms_endpoint',):
        source, env_var = reader.source(endpoint)
        if source == SOURCE_ENV:
            raise KmsConfigError(
                'The credentials are task options but %s comes from the environment variable %s; '
                'credentials are only sent to an endpoint given the same way. Set %s (or region) as '
                'a task option too, or give the credentials in the environment as well.'
                % (endpoint, env_var, endpoint))


def _combination_warnings(reader):
    used = reader.env_vars_used()
    if used and any(source == SOURCE_OPTION for source, _var in reader.sources.values()):
        return ['Task options are combined with the environment variables %s. Give every setting the '
                'same way to silence this warning.' % ', '.join(used)]
    return []


def _connection_settings(params, cloud_values):
    """validate_certs, ca_path, timeout and retries: options first, then the clouds.yaml entry."""
    cloud_values = cloud_values or {}
    ca_path = _clean(params.get('ca_path'))
    option = 'ca_path'
    if ca_path is None and cloud_values.get('ca_path'):
        ca_path, option = cloud_values['ca_path'], 'cacert of the clouds.yaml entry'
    if ca_path is not None and not os.path.isfile(ca_path):
        # the path is not echoed: users paste material into the wrong field
        raise KmsConfigError('%s cannot be read: it does not name an existing file. Point it at a PEM '
                             'file of CA certificates.' % option)
    timeout = params.get('timeout')
    timeout = 30 if timeout is None else timeout
    if timeout <= 0:
        raise KmsConfigError('timeout must be a positive number of seconds.')
    retries = params.get('retries')
    retries = 3 if retries is None else retries
    if retries < 0 or retries > 20:
        raise KmsConfigError('retries must be between 0 and 20.')
    validate_certs = params.get('validate_certs')
    validate_certs = True if validate_certs is None else bool(validate_certs)
    if cloud_values.get('verify') is False:
        validate_certs = False  # either place may turn verification off
    return dict(validate_certs=validate_certs, ca_path=ca_path, timeout=timeout, retries=retries)


def cloud_secret_values(params):
    """Secret strings inside a dict-valued ``cloud`` option, for a module's no_log values."""
    cloud = params.get('cloud')
    if not isinstance(cloud, dict):
        return []
    values = _map_cloud_entry(cloud)
    return [values[name] for name in SECRET_OPTIONS if values.get(name)]


def _require_auth_fields(mode, settings, cloud_name):
    required = {MODE_AKSK: ('access_key', 'secret_key'),
                MODE_PASSWORD: ('username', 'password', 'domain_name')}.get(mode, ())
    lacking = [name for name in required if not settings.get(name)]
    if lacking:
        if cloud_name:
            where, names = ' in clouds.yaml entry %s' % cloud_name, lacking
        else:
            where, names = '', [_describe_option(name) for name in lacking]
        raise KmsConfigError('%s authentication needs %s; missing%s: %s.'
                             % (MODE_NAMES[mode].split(' (')[0],
                                ', '.join(required[:-1]) + ' and ' + required[-1], where,
                                ', '.join(names)))
    if mode == MODE_PASSWORD and not (settings.get('project_id') or settings.get('project_name')
                                      or settings.get('region')):
        raise KmsConfigError('IAM password authentication needs a project: set %s, %s or %s.'
                             % (_describe_option('project_id'), _describe_option('project_name'),
                                _describe_option('region')))


def validate_project_id(value, source=None):
    """The project id in lowercase; KmsConfigError unless it is 32 hexadecimal characters.

    ``source`` names where a project id came from when it was not configured (IAM answers); the
    value itself is never echoed.
    """
    if not isinstance(value, str) or not PROJECT_ID_RE.match(value):
        if source:
            raise KmsConfigError('%s returned a project id that is not 32 hexadecimal characters; '
                                 'set project_id (env HW_PROJECT_ID or OS_PROJECT_ID) explicitly.'
                                 % source)
        raise KmsConfigError('project_id (env HW_PROJECT_ID or OS_PROJECT_ID) is malformed: an IAM '
                             'project ID is 32 hexadecimal characters, such as '
                             '0123456789abcdef0123456789abcdef.')
    return value.lower()


def _checked_region(region):
    region = region.strip()
    if not REGION_RE.match(region):
        raise KmsConfigError('region (env HW_REGION_NAME or OS_REGION_NAME) is malformed: a region '
                             'name is lowercase letters and digits in parts joined by "-", such as '
                             'eu-de or ap-southeast-1. Set kms_endpoint and iam_endpoint for other '
                             'endpoints.')
    return region


# ---------------------------------------------------------------------------------------------
# endpoints: the hosts per region live in _regions; provider None means "the region's cloud"

def _region_and_provider(region, provider):
    region = _checked_region(region)
    return region, _regions.cloud_provider(provider, region, must_derive=True)


def derive_kms_endpoint(region, provider=None):
    return _regions.kms_endpoint(*_region_and_provider(region, provider))


def derive_iam_endpoint(region, provider=None):
    return _regions.iam_endpoint(*_region_and_provider(region, provider))


def _split_url(value, option):
    value = value.strip()
    if '://' not in value:
        value = 'https://' + value
    parts = urlsplit(value)
    if parts.scheme not in ('http', 'https') or not parts.hostname:
        raise KmsConfigError('%s must be an http(s) URL such as https://host[:port].' % option)
    return parts


def normalize_kms_endpoint(value):
    """``scheme://host[:port][/prefix]`` without a trailing ``/v1.0[/<project>]`` or slash."""
    parts = _split_url(value, 'kms_endpoint')
    path = parts.path
    cut = path.find('/v1.0')
    if cut >= 0:
        path = path[:cut]
    return '%s://%s%s' % (parts.scheme, parts.netloc, path.rstrip('/'))


def normalize_iam_endpoint(value):
    """IAM base URL ending in ``/v3`` (OS_AUTH_URL style values are accepted as they are)."""
    parts = _split_url(value, 'iam_endpoint')
    path = parts.path.rstrip('/')
    if not path.endswith('/v3'):
        path += '/v3'
    return '%s://%s%s' % (parts.scheme, parts.netloc, path)


# ---------------------------------------------------------------------------------------------
# clouds.yaml

def clouds_yaml_paths(env, filename='clouds.yaml', env_var='OS_CLIENT_CONFIG_FILE'):
    paths = []
    if _clean(env.get(env_var)):
        paths.append(env[env_var].strip())
    home = env.get('HOME') or os.path.expanduser('~')
    paths.extend([
        os.path.join(os.getcwd(), filename),
        os.path.join(home, '.config', 'openstack', filename),
        os.path.join('/etc', 'openstack', filename),
    ])
    return paths


def _load_yaml(path, label):
    """The YAML mapping in ``path``; ``label`` names the file in messages (never its full content)."""
    try:
        import yaml
    except ImportError:
        raise missing_library('PyYAML', 'to read clouds.yaml (option cloud)')
    try:
        with open(path, 'rb') as handle:
            data = yaml.safe_load(handle)
    except (OSError, IOError) as exc:
        raise KmsConfigError('Cannot read %s: %s.' % (label, exc.strerror or type(exc).__name__))
    except yaml.YAMLError:
        raise KmsConfigError('%s is not valid YAML.' % label)
    return data if isinstance(data, dict) else {}


def _path_label(path, env, env_var):
    """How messages name a file: a path from an environment variable is named by the variable."""
    if _clean(env.get(env_var)) and env[env_var].strip() == path:
        return 'the file named by %s' % env_var
    return path


def _first_existing(paths):
    for path in paths:
        if os.path.isfile(path):
            return path
    return None


def _merge(base, extra):
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_cloud(name, env=None):
    """Settings of clouds.yaml entry ``name`` mapped to option names (secure.yaml merged in)."""
    env = os.environ if env is None else env
    paths = clouds_yaml_paths(env)
    path = _first_existing(paths)
    if path is None:
        if _clean(env.get('OS_CLIENT_CONFIG_FILE')):
            raise KmsConfigError('cloud %s was requested but OS_CLIENT_CONFIG_FILE does not name an '
                                 'existing file, and no clouds.yaml was found in the usual places.' % name)
        raise KmsConfigError('cloud %s was requested but no clouds.yaml was found (looked in: %s).'
                             % (name, ', '.join(paths)))
    label = _path_label(path, env, 'OS_CLIENT_CONFIG_FILE')
    clouds = _load_yaml(path, label).get('clouds') or {}
    if not isinstance(clouds, dict) or name not in clouds or not isinstance(clouds.get(name), dict):
        defined = sorted(clouds) if isinstance(clouds, dict) else []
        raise KmsConfigError('cloud %s is not defined in %s (defined: %s).'
                             % (name, label, ', '.join(str(n) for n in defined) or 'none'))
    entry = clouds[name]
    secure_path = _first_existing(clouds_yaml_paths(env, 'secure.yaml', 'OS_CLIENT_SECURE_FILE'))
    if secure_path:
        secure_label = _path_label(secure_path, env, 'OS_CLIENT_SECURE_FILE')
        secure_entry = (_load_yaml(secure_path, secure_label).get('clouds') or {}).get(name)
        if isinstance(secure_entry, dict):
            entry = _merge(entry, secure_entry)
    return _map_cloud_entry(entry)


def _map_cloud_entry(entry):
    """Option names for the keys of a clouds.yaml entry (or the same shape given as ``cloud``)."""
    auth = entry.get('auth') if isinstance(entry.get('auth'), dict) else {}

    def first(*keys):
        for key in keys:
            for source in (auth, entry):
                value = _clean(source.get(key))
                if value is not None and not isinstance(value, (dict, list)):
                    return str(value)
        return None

    region = _clean(entry.get('region_name'))
    if region is None and isinstance(entry.get('regions'), list) and entry['regions']:
        first_region = entry['regions'][0]
        region = _clean(first_region.get('name') if isinstance(first_region, dict) else first_region)
    verify = entry.get('verify')
    return {
        'auth_token': first('token', 'auth_token'),
        'access_key': first('ak', 'access_key'),
        'secret_key': first('sk', 'secret_key'),
        'security_token': first('security_token'),
        'username': first('username', 'user_name'),
        'password': first('password'),
        'domain_name': first('user_domain_name', 'domain_name', 'project_domain_name'),
        'project_name': first('project_name', 'tenant_name'),
        'project_id': first('project_id', 'tenant_id'),
        # openstacksdk's <service>_endpoint_override keys win over what auth_url / region give
        'iam_endpoint': first('identity_endpoint_override', 'auth_url'),
        'kms_endpoint': first('kms_endpoint_override'),
        'region': str(region) if region is not None else None,
        'ca_path': first('cacert', 'ca_cert'),
        'verify': verify if isinstance(verify, bool) else None,
    }


def _cloud_auth_mode(name, values):
    for mode, names in MODE_SIGNALS:
        if mode != MODE_CLOUD and any(values.get(field) for field in names):
            return mode
    raise KmsConfigError('clouds.yaml entry %s has no credentials: it needs auth.token, '
                         'ak/sk (or access_key/secret_key), or auth.username and auth.password.'
                         % name)


# ---------------------------------------------------------------------------------------------
# authenticators: what the client asks to authorise a request and to learn the project id

_HINTS = {
    MODE_TOKEN: 'Check that auth_token (env HW_AUTH_TOKEN/OS_AUTH_TOKEN) is a valid, unexpired IAM '
                'token scoped to the project in use (project_id) with KMS permissions.',
    MODE_AKSK: 'Check access_key and secret_key (env HW_ACCESS_KEY/HW_SECRET_KEY), security_token for '
               'temporary credentials (it expires), that the key pair has KMS permissions in this '
               'project, and that the clock of this host is right (signatures are valid for 15 minutes).',
    MODE_PASSWORD: 'Check username, password and domain_name (the account name), the project '
                   '(project_id, project_name or region) and the IAM endpoint (iam_endpoint), and '
                   'that the user has KMS permissions in that project.',
}


class _Authenticator:
    mode = None

    def __init__(self, config):
        self.config = config
        self._lock = threading.Lock()
        self._project_id = config.project_id

    @property
    def hint(self):
        return _HINTS[self.mode]

    def project_id(self, client):
        if self._project_id is None:
            with self._lock:
                if self._project_id is None:
                    self._project_id = self._resolve_project_id(client)
        return self._project_id

    def _resolve_project_id(self, client):
        return lookup_project_id(client, self.config)

    def secret_values(self):
        """Secrets this authenticator obtained itself (an issued token), for scrubbing messages."""
        return []

    def headers(self, client, method, url, headers, body):
        """Return the headers to send (auth added) for a request whose bytes are final."""
        raise NotImplementedError


class TokenAuthenticator(_Authenticator):
    mode = MODE_TOKEN

    def _token(self, client):
        return self.config.auth_token

    def headers(self, client, method, url, headers, body):
        headers = dict(headers)
        headers['X-Auth-Token'] = self._token(client)
        return headers


class PasswordAuthenticator(TokenAuthenticator):
    """One IAM token per client, fetched once under a lock; project id from the token scope."""
    mode = MODE_PASSWORD

    def __init__(self, config):
        super(PasswordAuthenticator, self).__init__(config)
        self._issued_token = None

    @property
    def hint(self):
        return _HINTS[MODE_PASSWORD]

    def _token(self, client):
        if self._issued_token is None:
            with self._lock:
                if self._issued_token is None:
                    self._fetch_token(client)
        return self._issued_token

    def project_id(self, client):
        self._token(client)  # the token scope usually carries the project id
        return super(PasswordAuthenticator, self).project_id(client)

    def secret_values(self):
        return [self._issued_token] if self._issued_token else []

    def _project_scope(self):
        if self.config.project_id:
            return {'project': {'id': self.config.project_id}}
        return {'project': {'name': self.config.project_name or self.config.region}}

    def _token_request(self, client, scope, operation):
        config = self.config
        body = {'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'name': config.username, 'password': config.password,
                'domain': {'name': config.domain_name}}}},
            'scope': scope,
        }}
        return client.iam_request('POST', '/auth/tokens', query={'nocatalog': 'true'}, body=body,
                                  operation=operation, authenticate=False)

    def _fetch_token(self, client):
        config = self.config
        project = config.project_id or config.project_name or config.region
        operation = 'IAM token request for user %s of domain %s in project %s' % (
            config.username, config.domain_name, project)
        try:
            answer = self._token_request(client, self._project_scope(), operation)
        except KmsAuthError as refusal:
            raise self._explain_refusal(client, refusal, operation, project)
        token = answer.headers.get('X-Subject-Token')
        if not token:
            raise KmsError('%s returned no X-Subject-Token header; check iam_endpoint (%s).'
                           % (operation, config.iam_endpoint),
                           status=answer.status, request_id=answer.request_id)
        checks = dict(hint='Check iam_endpoint (%s).' % config.iam_endpoint, status=answer.status,
                      request_id=answer.request_id)
        data = expect_object(answer.data, operation, **checks)
        scoped = expect_object(data.get('token'), operation, what='token', **checks).get('project') or {}
        scoped = expect_object(scoped, operation, what='token.project', **checks)
        if self._project_id is None and scoped.get('id'):
            # it goes into every KMS URL: checked like a configured one
            self._project_id = validate_project_id(scoped['id'], 'The IAM token of user %s'
                                                   % config.username)
        self._issued_token = token

    def _explain_refusal(self, client, refusal, operation, project):
        """Tell a wrong password from a project the user cannot use: ask for a domain token once."""
        config = self.config
        try:
            self._token_request(client, {'domain': {'name': config.domain_name}},
                                'IAM token request for user %s of domain %s' % (config.username,
                                                                                config.domain_name))
        except KmsAuthError:
            reason = ('IAM refused the credentials of user %s of domain %s. Check username, password and '
                      'domain_name (the account name).' % (config.username, config.domain_name))
        except KmsError:
            return refusal  # the check itself failed: the first answer is all there is to say
        else:
            reason = ('IAM accepted the password of user %s of domain %s but refused a token for project '
                      '%s. Check project_id / project_name (or region), that the project exists in this '
                      'region, and that the user may use it.' % (config.username, config.domain_name, project))
        return KmsAuthError('%s failed: HTTP %s%s. %s%s' % (
            operation, refusal.status, ' ' + refusal.error_code if refusal.error_code else '', reason,
            ' Request ID: %s.' % refusal.request_id if refusal.request_id else ''),
            status=refusal.status, error_code=refusal.error_code, error_msg=refusal.error_msg,
            request_id=refusal.request_id)


class AkSkAuthenticator(_Authenticator):
    mode = MODE_AKSK

    def headers(self, client, method, url, headers, body):
        from ansible_collections.dew.kms.plugins.module_utils._signer import sign

        headers = dict(headers)
        if self.config.security_token:
            headers['X-Security-Token'] = self.config.security_token
        return sign(method, url, headers, body, self.config.access_key, self.config.secret_key)


def make_authenticator(config):
    return {
        MODE_TOKEN: TokenAuthenticator,
        MODE_PASSWORD: PasswordAuthenticator,
        MODE_AKSK: AkSkAuthenticator,
    }[config.auth_mode](config)


def lookup_project_id(client, config):
    """``GET {iam}/projects?name=<project_name or region>``; exactly one project must match."""
    name = config.project_name or config.region
    if not name:
        raise KmsConfigError('project_id is unknown: set %s, or %s / %s so it can be looked up.'
                             % (_describe_option('project_id'), _describe_option('project_name'),
                                _describe_option('region')))
    answer = client.iam_request('GET', '/projects', query={'name': name},
                                operation='IAM project lookup for project %s' % name)
    operation = 'IAM project lookup for project %s' % name
    checks = dict(hint='Check iam_endpoint (%s).' % config.iam_endpoint, status=answer.status,
                  request_id=answer.request_id)
    projects = expect_object(answer.data, operation, **checks).get('projects')
    if not isinstance(projects, list):
        raise unexpected_answer(operation, detail='projects is not a list', **checks)
    projects = [p for p in projects if isinstance(p, dict)]
    matching = [p for p in projects if p.get('name') == name and p.get('id')] or projects
    if len(matching) != 1:
        raise KmsConfigError('IAM project lookup for project %s found %d projects; set project_id '
                             '(env HW_PROJECT_ID or OS_PROJECT_ID) explicitly.' % (name, len(matching)))
    return validate_project_id(matching[0].get('id'), 'IAM project lookup for project %s' % name)
