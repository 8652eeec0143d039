# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Running a module's main() in-process, on ansible-core 2.16 up to the newest.

ansible-core 2.19 changed how a module receives its arguments (a serialisation profile next to
``_ANSIBLE_ARGS``) and ships ``ansible.module_utils.testing.patch_module_args`` for it; older
cores read the JSON bytes in ``ansible.module_utils.basic._ANSIBLE_ARGS``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import contextlib
import json

from unittest import mock

import responses

from ansible.module_utils import basic

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    @contextlib.contextmanager
    def patch_module_args(args=None):
        payload = json.dumps({'ANSIBLE_MODULE_ARGS': args or {}}).encode('utf-8')
        with mock.patch.object(basic, '_ANSIBLE_ARGS', payload):
            yield


ENDPOINT = 'https://kms.unit.test'
PROJECT_ID = '0123456789abcdef0123456789abcdef'
KEY_ID = '0d0466b0-e727-4d9c-b35d-f84bb474a37f'
OTHER_KEY_ID = '1e1577c1-f838-5e0d-c46e-095cc585b480'
TOKEN = 'UNIT-AUTH-TOKEN-SECRET'
AUTH = dict(auth_token=TOKEN, project_id=PROJECT_ID, kms_endpoint=ENDPOINT, retries=0)
IMPORT_TOKEN = base64.b64encode(b'\x00\x00\x88\x06' + KEY_ID.encode() + b'\x01' * 200).decode()


def key_info(key_id=KEY_ID, alias='unit-key', state='5', spec='AES_256', origin='external',
             usage='ENCRYPT_DECRYPT', expiration='', scheduled='', default='0', description=''):
    """A key_info object as the API returns it: every scalar a string, times in ms."""
    return {
        'key_id': key_id, 'domain_id': 'b168fe00ff56492495a7d22974df2d0b', 'key_alias': alias,
        'realm': 'eu-de', 'key_description': description, 'key_spec': spec, 'key_usage': usage,
        'creation_date': '1735689600000', 'scheduled_deletion_date': scheduled, 'key_state': state,
        'default_key_flag': default, 'key_type': '1', 'expiration_time': expiration, 'origin': origin,
    }


class FakeKms:
    """Scripted answers per KMS action, and what the module sent."""

    def __init__(self, rsps):
        self.rsps = rsps

    @staticmethod
    def url(action):
        return '%s/v1.0/%s/kms/%s' % (ENDPOINT, PROJECT_ID, action)

    def add(self, action, body=None, status=200, error=None, exception=None, method='POST'):
        """Queue one answer: ``body`` (JSON), an ``error`` code (KMS error body), or an exception."""
        if exception is not None:
            self.rsps.add(method, self.url(action), body=exception)
            return
        if error is not None:
            body = {'error': {'error_code': error, 'error_msg': 'unit test error %s' % error}}
        self.rsps.add(method, self.url(action), json=body if body is not None else {}, status=status,
                      headers={'X-Request-Id': 'req-%s' % action})

    def tags(self, tags=None, key_id=KEY_ID, **kwargs):
        """Queue the answer of the key's tag query: ``tags`` {key: value}."""
        items = [{'key': name, 'value': value} for name, value in (tags or {}).items()]
        self.add('%s/tags' % key_id, {'tags': items, 'existTagsNum': len(items)}, method='GET', **kwargs)

    def tagged(self, key_id=KEY_ID, **kwargs):
        """Queue the answer of adding tags to the key (204, no body)."""
        if kwargs:
            self.add('%s/tags/action' % key_id, **kwargs)
        else:
            self.rsps.add(responses.POST, self.url('%s/tags/action' % key_id), status=204)

    def describe(self, **info):
        self.add('describe-key', {'key_info': key_info(**info)})

    def listed(self, *infos, **info):
        """One list-keys page holding these key_info objects (or one made from ``info``)."""
        details = list(infos) or [key_info(**info)]
        self.add('list-keys', {'key_details': details, 'next_marker': '', 'truncated': 'false',
                               'total': len(details)})

    def not_found(self, action='describe-key'):
        self.add(action, status=404, error='KMS.0207')

    def actions(self):
        return [call.request.url.rsplit('/', 1)[1] for call in self.rsps.calls]

    def bodies(self, action):
        return [json.loads(call.request.body) for call in self.rsps.calls
                if call.request.url.endswith('/' + action)]


def private_pem(key, fmt='PKCS8'):
    from cryptography.hazmat.primitives import serialization
    formats = {'PKCS8': serialization.PrivateFormat.PKCS8,
               'TraditionalOpenSSL': serialization.PrivateFormat.TraditionalOpenSSL}
    return key.private_bytes(serialization.Encoding.PEM, formats[fmt], serialization.NoEncryption())


def private_der(key):
    from cryptography.hazmat.primitives import serialization
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class ModuleExit(Exception):
    """exit_json or fail_json was called; ``result`` holds its keyword arguments."""

    def __init__(self, failed, result):
        super(ModuleExit, self).__init__(result.get('msg', ''))
        self.failed = failed
        self.result = result


def _exit_json(self, *args, **kwargs):
    raise ModuleExit(False, kwargs)


def _fail_json(self, *args, **kwargs):
    if args:
        kwargs.setdefault('msg', args[0])
    kwargs['failed'] = True
    raise ModuleExit(True, kwargs)


def _warn(self, msg):
    self._dew_test_warnings.append(msg)


def run_module(module, args, check_mode=False, diff=False, tmpdir=None):
    """Run ``module.main()`` with ``args``; returns the result dict of exit_json / fail_json.

    The result gets ``failed`` (bool) and ``warnings`` (the module's warn() calls).
    """
    args = dict(args)
    args['_ansible_check_mode'] = check_mode
    args['_ansible_diff'] = diff
    if tmpdir is not None:
        args['_ansible_remote_tmp'] = str(tmpdir)
        args['_ansible_keep_remote_files'] = False
    warnings = []
    with patch_module_args(args), \
            mock.patch.object(basic.AnsibleModule, 'exit_json', _exit_json), \
            mock.patch.object(basic.AnsibleModule, 'fail_json', _fail_json), \
            mock.patch.object(basic.AnsibleModule, 'warn', _warn), \
            mock.patch.object(basic.AnsibleModule, '_dew_test_warnings', warnings, create=True):
        try:
            module.main()
        except ModuleExit as exit_:
            result = exit_.result
            result['failed'] = exit_.failed
            result['warnings'] = warnings
            return result
    raise AssertionError('the module returned without calling exit_json or fail_json')
