# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plumbing of the security suite: the emulator with a small KMS client of its own, and the
names the tests use from tests/support (collection tree, isolated ansible runs).

The client here is deliberately not the collection's: the suite must see the emulator's state
through an independent path (describe before and after, counters), so that a bug in the
collection's client cannot hide itself.
"""

import os
import resource

import requests

from support.activation import wait_for_activation
from support.ansible import BIN, AnsibleEnv, run, write_inventory  # noqa: F401  (pylint: disable=unused-import)
from support.collection import REPO, build_collection_tree  # noqa: F401  (pylint: disable=unused-import)
from support.emulator import EmulatorProcess

HERE = os.path.dirname(os.path.abspath(__file__))

# KMS actions that change state. Any of them during a bad-input run is a finding.
STATE_CHANGING_ACTIONS = frozenset((
    'create-key', 'import-key-material', 'delete-imported-key-material',
    'enable-key', 'disable-key', 'schedule-key-deletion', 'cancel-key-deletion',
    'update-key-alias', 'update-key-description', 'create-grant', 'revoke-grant',
    'retire-grant', 'create-key-tag', 'delete-key-tag', 'batch-create-kms-tags',
    'enable-key-rotation', 'disable-key-rotation', 'update-key-rotation-interval',
))


def is_state_changing(action):
    return action in STATE_CHANGING_ACTIONS or action.startswith(('update-', 'create-', 'delete-'))


# --------------------------------------------------------------------------------------- emulator

class Emulator:
    """A running emulator: its ready line (``info``), log file and a direct API of our own."""

    def __init__(self, process):
        self.process = process
        self.info = process.info
        self.log_path = process.log_file
        self.kms = self.info['kms_endpoint']
        self.iam = self.info['iam_endpoint']
        self.admin = self.info['admin_url']
        self.projects = self.info['projects']
        self._http = requests.Session()
        self._tokens = {}

    @classmethod
    def start(cls, workdir, exit_after=900, python=None):
        process = EmulatorProcess(workdir, '--projects', '2', python=python, exit_after=exit_after,
                                  log_file=os.path.join(workdir, 'emulator.log')).start()
        return cls(process)

    def stop(self):
        self._http.close()
        self.process.stop(timeout=10)

    # admin calls --------------------------------------------------------------------------
    def stats(self):
        return self._http.get(self.admin + '/stats', timeout=10).json()

    def reset_stats(self):
        self._http.post(self.admin + '/stats/reset', timeout=10).raise_for_status()

    def log_lines(self):
        with open(self.log_path, encoding='utf-8', errors='replace') as handle:
            return handle.read().splitlines()

    # IAM ----------------------------------------------------------------------------------
    def issue_token(self, project_index=0):
        """A real IAM token of the project's user (scoped to the project), as the emulator issues it."""
        project = self.projects[project_index]
        body = {'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'name': project['username'], 'password': project['password'],
                'domain': {'name': project['domain_name']}}}},
            'scope': {'project': {'id': project['project_id']}}}}
        answer = self._http.post(self.iam + '/auth/tokens?nocatalog=true', json=body, timeout=10)
        assert answer.status_code == 201, answer.text
        return answer.headers['X-Subject-Token']

    def issue_temporary_credentials(self, project_index=0):
        """Temporary AK/SK + security token (IAM securitytokens) of the project's user."""
        token = self.issue_token(project_index)
        root = self.kms
        body = {'auth': {'identity': {'methods': ['token'], 'token': {'duration_seconds': 3600}}}}
        answer = self._http.post(root + '/v3.0/OS-CREDENTIAL/securitytokens', json=body,
                                 headers={'X-Auth-Token': token}, timeout=10)
        assert answer.status_code == 201, answer.text
        credential = answer.json()['credential']
        return {'access_key': credential['access'], 'secret_key': credential['secret'],
                'security_token': credential['securitytoken']}

    # KMS (token auth, our own client) -----------------------------------------------------
    def _url_and_headers(self, path, project_index):
        if project_index not in self._tokens:
            self._tokens[project_index] = self.issue_token(project_index)
        project_id = self.projects[project_index]['project_id']
        return ('%s/v1.0/%s/kms/%s' % (self.kms, project_id, path),
                {'X-Auth-Token': self._tokens[project_index]})

    def call(self, action, body, project_index=0):
        url, headers = self._url_and_headers(action, project_index)
        answer = self._http.post(url, json=body, headers=headers, timeout=30)
        if answer.status_code >= 300:
            raise AssertionError('%s %s -> %s %s' % (action, body, answer.status_code, answer.text))
        return answer.json() if answer.content else {}

    def tags(self, key_id, project_index=0):
        """{tag key: value} of a key, as GET .../kms/{key_id}/tags answers."""
        url, headers = self._url_and_headers('%s/tags' % key_id, project_index)
        answer = self._http.get(url, headers=headers, timeout=30)
        assert answer.status_code == 200, answer.text
        return dict((tag['key'], tag['value']) for tag in answer.json()['tags'])

    def create_key(self, alias, key_spec='AES_256', origin='external', project_index=0, **extra):
        """The id of a new key, once it has left pending activation."""
        body = dict(key_alias=alias, key_spec=key_spec, origin=origin, **extra)
        key_id = self.call('create-key', body, project_index)['key_info']['key_id']
        wait_for_activation(lambda new_key: self.describe(new_key, project_index), key_id)
        return key_id

    def describe(self, key_id, project_index=0):
        return self.call('describe-key', {'key_id': key_id}, project_index)['key_info']

    def import_material(self, key_id, material=None, private_key=None, project_index=0,
                        expiration_time=None):
        """Import 32 bytes (AES) or a private key (RSA/EC) the way the provider documents it."""
        from cryptography.hazmat.primitives import hashes, keywrap, serialization
        from cryptography.hazmat.primitives.asymmetric import padding
        import base64

        params = self.call('get-parameters-for-import',
                           {'key_id': key_id, 'wrapping_algorithm': 'RSAES_OAEP_SHA_256'}, project_index)
        public = serialization.load_der_public_key(base64.b64decode(params['public_key']))
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
        body = {'key_id': key_id, 'import_token': params['import_token']}
        if private_key is None:
            body['encrypted_key_material'] = base64.b64encode(public.encrypt(material, oaep)).decode()
        else:
            temporary = os.urandom(32)
            der = private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption())
            body['encrypted_key_material'] = base64.b64encode(public.encrypt(temporary, oaep)).decode()
            body['encrypted_privatekey'] = base64.b64encode(
                keywrap.aes_key_wrap_with_padding(temporary, der)).decode()
        if expiration_time is not None:
            body['expiration_time'] = str(expiration_time)
        self.call('import-key-material', body, project_index)

    def schedule_deletion(self, key_id, days=7, project_index=0):
        self.call('schedule-key-deletion', {'key_id': key_id, 'pending_days': str(days)}, project_index)

    def disable(self, key_id, project_index=0):
        self.call('disable-key', {'key_id': key_id}, project_index)


# wall-clock and CPU seconds of the suite's runs, printed at the end of the session (conftest)
TIMINGS = {}


def children_cpu():
    """CPU seconds (user + system) used so far by waited-for child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
