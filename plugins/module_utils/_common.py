# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared argspec (auth + connection options) and the KmsModule runner.

``KmsModule.run(handler)`` is the one place where a ``KmsError`` becomes ``fail_json``.
The argspec here and the doc fragment ``dew.kms.auth`` must stay identical (validate-modules
checks it). Environment fallbacks are resolved in ``_auth.resolve_config`` rather than with
``env_fallback`` so that options given explicitly can win over the environment as a whole
mode (see the precedence rules there). Private module: the interface may change between releases.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.dew.kms.plugins.module_utils._errors import KmsError, KmsInputError
from ansible_collections.dew.kms.plugins.module_utils._keys import WAIT_TIMEOUT_DEFAULT

AUTH_ARGSPEC = dict(
    # token
    auth_token=dict(type='str', no_log=True),
    # IAM password
    username=dict(type='str'),
    password=dict(type='str', no_log=True),
    domain_name=dict(type='str'),
    project_name=dict(type='str'),
    # AK/SK
    access_key=dict(type='str', no_log=False),
    secret_key=dict(type='str', no_log=True),
    security_token=dict(type='str', no_log=True),
    # clouds.yaml
    cloud=dict(type='raw'),  # a clouds.yaml entry name, or a dict shaped like one
    # endpoints
    project_id=dict(type='str'),
    region=dict(type='str'),
    kms_endpoint=dict(type='str'),
    iam_endpoint=dict(type='str'),
    cloud_provider=dict(type='str', choices=['otc', 'huaweicloud']),
    # connection
    validate_certs=dict(type='bool', default=True),
    ca_path=dict(type='path'),
    timeout=dict(type='int', default=30),
    retries=dict(type='int', default=3),
)


# the options of the doc fragment dew.kms.wait (modules acting on a key that may be new)
WAIT_ARGSPEC = dict(
    wait_timeout=dict(type='int', default=WAIT_TIMEOUT_DEFAULT),
)


def wait_timeout_of(params):
    """The option wait_timeout (WAIT_ARGSPEC) of a module, its default for modules without it;
    KmsInputError when negative."""
    seconds = params.get('wait_timeout')
    if seconds is None:
        return WAIT_TIMEOUT_DEFAULT
    if seconds < 0:
        raise KmsInputError('wait_timeout must be 0 (do not wait) or a positive number of seconds, not %d.'
                            % seconds)
    return seconds


def kms_argument_spec(**module_options):
    """The shared auth/connection argspec plus a module's own options."""
    spec = dict((name, dict(option)) for name, option in AUTH_ARGSPEC.items())
    spec.update(module_options)
    return spec


def key_diff(header, before, after):
    """The one diff shape of every module: a header naming the key or file, and what it held
    before and after (a dict of key fields, or a file's text)."""
    return {'before_header': header, 'after_header': header, 'before': before, 'after': after}


class KmsModule:
    """AnsibleModule wrapper: shared argspec, lazy client, one fail_json conversion point."""

    def __init__(self, argument_spec, **ansible_module_kwargs):
        ansible_module_kwargs.setdefault('supports_check_mode', True)
        self.module = AnsibleModule(argument_spec=kms_argument_spec(**argument_spec),
                                    **ansible_module_kwargs)
        self._client = None
        from ansible_collections.dew.kms.plugins.module_utils._auth import cloud_secret_values
        # secrets nested in a dict-valued cloud option are masked before anything is returned
        self.module.no_log_values.update(cloud_secret_values(self.module.params))
        from ansible_collections.dew.kms.plugins.module_utils import _client as client_module
        if not client_module.HAS_REQUESTS:
            self.module.fail_json(msg=missing_required_lib('requests'),
                                  exception=client_module.REQUESTS_IMPORT_ERROR)

    @property
    def params(self):
        return self.module.params

    @property
    def check_mode(self):
        return self.module.check_mode

    @property
    def diff_mode(self):
        """True when the task runs with --diff (AnsibleModule keeps it only as ``_diff``)."""
        return bool(getattr(self.module, '_diff', False))

    def warn(self, msg):
        self.module.warn(msg)

    @property
    def wait_timeout(self):
        """Seconds to wait while a key is pending activation (option wait_timeout)."""
        return wait_timeout_of(self.module.params)

    @property
    def client(self):
        """The KmsClient of this run, created on first use (may raise KmsError)."""
        if self._client is None:
            from ansible_collections.dew.kms.plugins.module_utils._auth import resolve_config
            from ansible_collections.dew.kms.plugins.module_utils._client import KmsClient

            config = resolve_config(self.module.params)
            # secrets read from the environment are masked in any output, like option values
            self.module.no_log_values.update(config.secret_values())
            self._client = KmsClient(config, warn=self.warn)
        return self._client

    def now(self):
        """Epoch seconds on KMS's clock (``_client.kms_now``)."""
        from ansible_collections.dew.kms.plugins.module_utils._client import kms_now
        return kms_now(self._client)

    def fail(self, error):
        """fail_json from a KmsError (structured keys status, error_code, request_id...)."""
        self.module.fail_json(**error.as_fail_kwargs())

    def run(self, handler):
        """``result = handler(self)``; ``exit_json(**result)``; KmsError -> ``fail_json``."""
        failure = None
        result = None
        try:
            wait_timeout_of(self.params)  # a bad value fails before any call
            result = handler(self)
        except KmsError as error:
            failure = error
        finally:
            self._close()
        if failure is not None:
            self.fail(failure)
        self.module.exit_json(**(result or {}))

    def _close(self):
        if self._client is not None:
            self._client.close()
            self._client = None
