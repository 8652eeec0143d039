# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""kms_byok: the batch engine against a scripted KMS that answers per key (thread order free)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import re
import threading
import time
import uuid

import pytest
import responses

from unittest import mock

from ansible_collections.dew.kms.plugins.module_utils._check_values import kcv, material_record
from ansible_collections.dew.kms.plugins.modules import kms_byok
from ansible_collections.dew.kms.tests.unit.plugins.modules.utils import (
    AUTH, ENDPOINT, IMPORT_TOKEN, PROJECT_ID, TOKEN, key_info, private_pem, run_module)


def material():
    return base64.b64encode(os.urandom(32)).decode()


class Kms:
    """A small in-memory KMS behind ``responses``: keys by ID, answers chosen per key.

    ``fail[(action, key_id or alias)] = error_code`` makes that call fail with HTTP 400.
    ``hook(action, body)`` runs inside each call (the tests use it to watch the threads).
    """

    def __init__(self, rsps, wrapping_key):
        self.rsps = rsps
        self.wrapping_key = wrapping_key
        self.keys = {}
        self.calls = []
        self.imported = {}      # key_id -> import-key-material body
        self.fail = {}
        self.public_keys = {}   # key_id -> PEM of the key pair KMS holds
        self.tags = {}          # key_id -> {tag key: value}
        self.hook = None
        self.quota = None           # keys per project; create-key answers KMS.1105 beyond it
        self.otc_listing = False    # list entries without key_spec and key_usage, as OTC lists
        self.activation = 0         # describe-key answers a new key shows state 1 (pending activation)
        self.pending = {}           # key_id -> describe-key answers left in state 1
        self.lock = threading.Lock()
        for action in ('list-keys', 'describe-key', 'create-key', 'get-parameters-for-import',
                       'import-key-material', 'delete-imported-key-material', 'encrypt-data', 'decrypt-data',
                       'get-publickey'):
            rsps.add_callback(responses.POST, '%s/v1.0/%s/kms/%s' % (ENDPOINT, PROJECT_ID, action),
                              callback=self.answer(action))
        tags_url = r'%s/v1\.0/%s/kms/([0-9a-f-]{36})/tags' % (re.escape(ENDPOINT), PROJECT_ID)
        rsps.add_callback(responses.GET, re.compile(tags_url + '$'), callback=self.tag_answer('tags'))
        rsps.add_callback(responses.POST, re.compile(tags_url + '/action$'), callback=self.tag_answer('tags/action'))

    def serve_tag_query(self, hidden=()):
        """Answer the query of keys by tag (resource_instances/action) from ``tags``: the keys with
        the tag asked for, except those in ``hidden`` (an answer that leaves keys out)."""
        def callback(request):
            body = json.loads(request.body)
            with self.lock:
                self.calls.append(('resource_instances/action', body))
                wanted = body['tags'][0]['key']
                found = [key_id for key_id, tags in sorted(self.tags.items())
                         if wanted in tags and key_id not in hidden]
            resources = [{'resource_id': key_id, 'resource_name': self.keys[key_id]['key_alias'],
                          'resource_detail': {},
                          'tags': [{'key': name, 'value': value} for name, value in self.tags[key_id].items()]}
                         for key_id in found]
            return 200, {}, json.dumps({'resources': resources, 'total_count': len(resources)})
        self.rsps.add_callback(responses.POST, '%s/v1.0/%s/kms/resource_instances/action' % (ENDPOINT, PROJECT_ID),
                               callback=callback)

    def key(self, alias, state='5', spec='AES_256', origin='external', **kwargs):
        key_id = str(uuid.uuid4())
        self.keys[key_id] = key_info(key_id=key_id, alias=alias, state=state, spec=spec, origin=origin, **kwargs)
        return key_id

    def count(self, action):
        return sum(1 for name, dummy in self.calls if name == action)

    def actions(self):
        return sorted(set(name for name, dummy in self.calls))

    def answer(self, action):
        def callback(request):
            body = json.loads(request.body or '{}')
            with self.lock:
                self.calls.append((action, body))
            if self.hook:
                self.hook(action, body)
            ref = body.get('key_id') or body.get('key_alias')
            code = self.fail.get((action, ref))
            if code:
                return 400, {}, json.dumps({'error': {'error_code': code, 'error_msg': 'scripted %s' % code}})
            status, answer = getattr(self, action.replace('-', '_'))(body)
            return status, {'X-Request-Id': 'req-1'}, json.dumps(answer)
        return callback

    def tag_answer(self, action):
        """The key tag API: the key id is in the path; ``fail[(action, key_id)]`` works as above."""
        def callback(request):
            key_id = request.url.split('/kms/', 1)[1].split('/', 1)[0]
            body = json.loads(request.body or '{}')
            with self.lock:
                self.calls.append((action, dict(body, key_id=key_id)))
            code = self.fail.get((action, key_id))
            if code:
                return 400, {}, json.dumps({'error': {'error_code': code, 'error_msg': 'scripted %s' % code}})
            with self.lock:
                tags = self.tags.setdefault(key_id, {})
                if action == 'tags':
                    items = [{'key': name, 'value': value} for name, value in tags.items()]
                    return 200, {}, json.dumps({'tags': items, 'existTagsNum': len(items)})
                tags.update((tag['key'], tag['value']) for tag in body['tags'])
            return 204, {}, ''
        return callback

    def list_keys(self, body):
        details = list(self.keys.values())
        if self.otc_listing:
            details = [dict((name, value) for name, value in info.items() if name not in ('key_spec', 'key_usage'))
                       for info in details]
        return 200, {'keys': [k['key_id'] for k in details], 'key_details': details,
                     'next_marker': '', 'truncated': 'false', 'total': len(details)}

    def describe_key(self, body):
        if body['key_id'] not in self.keys:
            return 404, {'error': {'error_code': 'KMS.0207', 'error_msg': 'not found'}}
        with self.lock:
            pending = self.pending.get(body['key_id'], 0)
            self.pending[body['key_id']] = max(0, pending - 1)
        info = self.keys[body['key_id']]
        return 200, {'key_info': dict(info, key_state='1') if pending else info}

    def create_key(self, body):
        with self.lock:
            if self.quota is not None and len(self.keys) >= self.quota:
                return 400, {'error': {'error_code': 'KMS.1105', 'error_msg': 'quota of %d keys' % self.quota}}
            key_id = self.key(body['key_alias'], spec=body.get('key_spec', 'AES_256'), origin=body['origin'])
            self.pending[key_id] = self.activation
        return 200, {'key_info': {'key_id': key_id, 'domain_id': 'b168fe00ff56492495a7d22974df2d0b'}}

    def get_parameters_for_import(self, body):
        from cryptography.hazmat.primitives import serialization
        der = self.wrapping_key.public_key().public_bytes(serialization.Encoding.DER,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo)
        return 200, {'key_id': body['key_id'], 'import_token': IMPORT_TOKEN, 'expiration_time': 4102444800,
                     'public_key': base64.b64encode(der).decode()}

    def import_key_material(self, body):
        with self.lock:
            self.imported[body['key_id']] = body
            self.keys[body['key_id']]['key_state'] = '2'
            self.keys[body['key_id']]['expiration_time'] = str(body['expiration_time'] * 1000) \
                if body.get('expiration_time') else ''
        return 200, {}

    def delete_imported_key_material(self, body):
        with self.lock:
            self.keys[body['key_id']]['key_state'] = '5'
            self.keys[body['key_id']]['expiration_time'] = ''
        return 200, {}

    def encrypt_data(self, body):
        return 200, {'key_id': body['key_id'], 'cipher_text': base64.b64encode(
            (body['key_id'] + ':' + body['plain_text']).encode()).decode()}

    def decrypt_data(self, body):
        key_id, plain = base64.b64decode(body['cipher_text']).decode().split(':', 1)
        return 200, {'key_id': key_id, 'plain_text': plain}

    def get_publickey(self, body):
        return 200, {'key_id': body['key_id'], 'public_key': self.public_keys[body['key_id']]}

    def unwrap(self, key_id):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        pad = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
        return self.wrapping_key.decrypt(base64.b64decode(self.imported[key_id]['encrypted_key_material']), pad)


@pytest.fixture
def kms(wrapping_key):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield Kms(rsps, wrapping_key)


MODULE_OPTIONS = ('verify', 'create_missing', 'max_workers', 'wrapping_algorithm', 'cloud_provider', 'wait_timeout',
                  'renew_within_days')


def run(keys, **kwargs):
    options = dict((name, kwargs.pop(name)) for name in MODULE_OPTIONS if name in kwargs)
    options.setdefault('verify', False)
    return run_module(kms_byok, dict(AUTH, keys=keys, **options), **kwargs)


def public_pem(private_key):
    from cryptography.hazmat.primitives import serialization
    return private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def assert_no_secret(result, *secrets):
    text = json.dumps(result)
    assert TOKEN not in text
    for secret in secrets:
        assert secret not in text


# ------------------------------------------------------------------------------ the happy path

def test_first_run_creates_imports_and_lists_once(kms):
    existing = kms.key('app-1')
    materials = [material() for dummy in range(3)]

    result = run([{'alias': 'app-%d' % i, 'key_material': m} for i, m in enumerate(materials, 1)])

    assert not result['failed'] and result['changed']
    results = result['results']
    assert [r['alias'] for r in results] == ['app-1', 'app-2', 'app-3']
    assert [r['action'] for r in results] == ['imported', 'created+imported', 'created+imported']
    assert results[0]['key_id'] == existing
    assert all(r['key_state'] == '2' and r['key_state_name'] == 'enabled' for r in results)
    assert all(r['verified'] is None and r['error'] is None for r in results)
    # one listing for all aliases; per key parameters + import, plus create and one describe (is
    # it still pending activation?) for new keys
    assert kms.count('list-keys') == 1 and kms.count('describe-key') == 2
    assert (kms.count('create-key'), kms.count('get-parameters-for-import'),
            kms.count('import-key-material')) == (2, 3, 3)
    assert [kms.unwrap(r['key_id']) for r in results] == [base64.b64decode(m) for m in materials]
    assert [b for a, b in kms.calls if a == 'create-key'][0]['origin'] == 'external'
    assert_no_secret(result, *materials)


def test_second_run_is_one_listing_and_one_tag_query_per_key_and_no_change(kms):
    first, second = material(), material()
    recorded = kms.key('app-1', state='2')
    kms.tags[recorded] = {'dew-kms-record': material_record(first, recorded)}
    unproven = kms.key('app-2', state='3')

    result = run([{'alias': 'app-1', 'key_material': first},
                  {'alias': 'app-2', 'key_material': second}], verify=True)

    assert not result['failed'] and not result['changed']
    assert [r['action'] for r in result['results']] == ['unchanged', 'unchanged']
    assert [r['material_check'] for r in result['results']] == ['matched', 'unproven']
    assert [r['verified'] for r in result['results']] == [None, None]
    assert kms.actions() == ['list-keys', 'tags'] and kms.count('tags') == 2
    assert [w for w in result['warnings'] if w.startswith('app-2: Key %s holds material that cannot be proven'
                                                          % unproven)]


def test_material_from_files_and_expiry(kms, tmp_path):
    raw, text = os.urandom(32), os.urandom(32)
    (tmp_path / 'raw.bin').write_bytes(raw)
    (tmp_path / 'text.b64').write_bytes(base64.b64encode(text) + b'\n')

    result = run([{'alias': 'raw', 'key_material_path': str(tmp_path / 'raw.bin'),
                   'expiration_time': '2031-01-01T00:00:00Z'},
                  {'alias': 'text', 'key_material_path': str(tmp_path / 'text.b64')}])

    assert not result['failed']
    first, second = result['results']
    assert kms.unwrap(first['key_id']) == raw and kms.unwrap(second['key_id']) == text
    assert (first['expiration_time'], first['expiration_date']) == (1924992000, '2031-01-01T00:00:00Z')
    assert kms.imported[first['key_id']]['expiration_time'] == 1924992000
    assert 'expiration_time' not in kms.imported[second['key_id']]


def test_private_keys_are_imported_and_verified(kms, private_keys):
    pems = dict((spec, private_pem(private_keys[spec]).decode()) for spec in ('RSA_2048', 'EC_P256'))
    rsa_id = kms.key('rsa', spec='RSA_2048', usage='SIGN_VERIFY')
    kms.public_keys[rsa_id] = public_pem(private_keys['RSA_2048']).replace('\n', '\r\n')
    real_create = kms.create_key

    def create_with_public_key(body):
        status, answer = real_create(body)
        kms.public_keys[answer['key_info']['key_id']] = public_pem(private_keys['EC_P256'])
        return status, answer
    kms.create_key = create_with_public_key

    result = run([{'alias': 'rsa', 'key_spec': 'RSA_2048', 'key_material': pems['RSA_2048']},
                  {'alias': 'ec', 'key_spec': 'EC_P256', 'key_material': pems['EC_P256']}], verify=True)

    assert not result['failed']
    assert [r['action'] for r in result['results']] == ['imported', 'created+imported']
    assert [r['verified'] for r in result['results']] == [True, True]
    assert all(kms.imported[r['key_id']]['encrypted_privatekey'] for r in result['results'])
    assert kms.count('get-publickey') == 2 and kms.count('encrypt-data') == 0
    assert_no_secret(result, *[line for pem in pems.values() for line in pem.splitlines()[1:-1]])


def test_symmetric_verification_round_trip(kms):
    result = run([{'alias': 'app', 'key_material': material()}], verify=True)

    assert result['results'][0]['verified'] is True
    assert kms.count('describe-key') == 2  # after create-key (pending activation?) and to verify
    probe = [b for a, b in kms.calls if a == 'encrypt-data'][0]['plain_text']
    assert [b for a, b in kms.calls if a == 'decrypt-data'][0]['cipher_text'] and len(probe) == 32


# ------------------------------------------------------------------------------ the thread pool

def test_keys_are_processed_in_parallel(kms):
    """Four workers must be inside get-parameters-for-import at the same time, or the barrier breaks."""
    barrier = threading.Barrier(4, timeout=10)

    def hook(action, body):
        if action == 'get-parameters-for-import':
            barrier.wait()
    kms.hook = hook

    result = run([{'alias': 'k%d' % i, 'key_material': material()} for i in range(4)], max_workers=4)

    assert not result['failed'] and [r['action'] for r in result['results']] == ['created+imported'] * 4


@pytest.mark.parametrize('workers', [1, 3])
def test_max_workers_bounds_the_parallelism(kms, workers):
    state = {'now': 0, 'peak': 0}
    lock = threading.Lock()

    def hook(action, body):
        if action != 'import-key-material':
            return
        with lock:
            state['now'] += 1
            state['peak'] = max(state['peak'], state['now'])
        threading.Event().wait(0.05)
        with lock:
            state['now'] -= 1
    kms.hook = hook

    result = run([{'alias': 'k%d' % i, 'key_material': material()} for i in range(8)], max_workers=workers)

    assert not result['failed'] and kms.count('import-key-material') == 8
    assert 1 <= state['peak'] <= workers


@pytest.mark.parametrize('workers', [0, 33])
def test_max_workers_out_of_range(kms, workers):
    result = run([{'alias': 'k', 'key_material': material()}], max_workers=workers)

    assert result['failed'] and 'max_workers must be between 1 and 32' in result['msg']
    assert kms.calls == []


# ------------------------------------------------------------------------------ failures per key

def test_one_failing_key_fails_only_its_entry(kms):
    kms.key('pending', state='4')
    kms.key('generated', state='2', origin='kms')
    broken = kms.key('broken')
    kms.fail[('import-key-material', broken)] = 'KMS.0311'
    good = [material() for dummy in range(2)]

    result = run([{'alias': 'good-1', 'key_material': good[0]},
                  {'alias': 'pending', 'key_material': material()},
                  {'alias': 'short', 'key_material': base64.b64encode(os.urandom(31)).decode()},
                  {'alias': 'generated', 'key_material': material()},
                  {'alias': 'broken', 'key_material': material()},
                  {'alias': 'good-2', 'key_material': good[1]}])

    assert result['failed'] and result['changed']
    assert result['msg'].startswith('4 of 6 keys failed (pending, short, generated, broken).')
    by_alias = dict((r['alias'], r) for r in result['results'])
    assert [r['alias'] for r in result['results']] == ['good-1', 'pending', 'short', 'generated', 'broken', 'good-2']
    assert by_alias['good-1']['action'] == by_alias['good-2']['action'] == 'created+imported'
    assert by_alias['pending']['action'] == 'failed' and 'pending deletion' in by_alias['pending']['error']
    assert by_alias['short']['action'] == 'failed' and '32 bytes' in by_alias['short']['error']
    assert by_alias['short']['key_id'] is None
    assert 'origin kms' in by_alias['generated']['error']
    assert by_alias['broken']['error_code'] == 'KMS.0311' and by_alias['broken']['request_id'] is None
    assert not by_alias['broken']['changed']
    # nothing was created for the material that could not be read
    assert sorted(b['key_alias'] for a, b in kms.calls if a == 'create-key') == ['good-1', 'good-2']
    assert_no_secret(result, *good)


def run_with_retries(keys, retries):
    return run_module(kms_byok, dict(AUTH, keys=keys, verify=False, retries=retries))


def test_server_errors_on_create_and_import_are_settled_by_key_state(kms):
    """An injected 5xx before create-key or import-key-material took effect: both are sent again
    after the alias lookup / describe showed that nothing happened, each with a warning."""
    faults = {'create-key': 1, 'import-key-material': 2}

    def failing(action, real):
        def answer(body):
            if faults[action]:
                faults[action] -= 1
                return 503, {'error': {'error_code': 'KMS.0104', 'error_msg': 'System exception'}}
            return real(body)
        return answer
    kms.create_key = failing('create-key', kms.create_key)
    kms.import_key_material = failing('import-key-material', kms.import_key_material)
    value = material()

    result = run_with_retries([{'alias': 'flaky', 'key_material': value}], retries=2)

    assert not result['failed'], result['msg']
    entry = result['results'][0]
    assert (entry['action'], entry['key_state'], entry['error']) == ('created+imported', '2', None)
    assert len(kms.keys) == 1 and kms.count('create-key') == 2 and kms.count('import-key-material') == 3
    assert kms.count('get-parameters-for-import') == 3
    assert kms.unwrap(entry['key_id']) == base64.b64decode(value)
    assert result['warnings'] == [
        'create-key for alias flaky failed with HTTP 503 KMS.0104; no key has the alias, so it is created again '
        '(attempt 2 of 3).',
        'flaky: import-key-material for key %s failed with HTTP 503 KMS.0104; the key is still waiting for import, '
        'so it is imported again (attempt 2 of 3).' % entry['key_id'],
        'flaky: import-key-material for key %s failed with HTTP 503 KMS.0104; the key is still waiting for import, '
        'so it is imported again (attempt 3 of 3).' % entry['key_id']]
    assert_no_secret(result, value)


def test_create_that_went_through_despite_a_server_error_is_not_repeated(kms):
    real_create = kms.create_key

    def created_then_failed(body):
        real_create(body)
        return 500, {'error': {'error_code': 'KMS.0103', 'error_msg': 'System exception'}}
    kms.create_key = created_then_failed

    result = run_with_retries([{'alias': 'made', 'key_material': material()}], retries=3)

    assert not result['failed'], result['msg']
    assert result['results'][0]['action'] == 'created+imported'
    assert len(kms.keys) == 1 and kms.count('create-key') == 1 and result['warnings'] == []


def test_failed_verification_is_reported_as_changed_and_not_verified(kms, private_keys, tmp_path):
    key_id = kms.key('rsa', spec='RSA_2048')
    kms.public_keys[key_id] = public_pem(private_keys['RSA_3072'])
    (tmp_path / 'rsa.pem').write_bytes(private_pem(private_keys['RSA_2048']))

    result = run([{'alias': 'rsa', 'key_spec': 'RSA_2048', 'key_material_path': str(tmp_path / 'rsa.pem')}],
                 verify=True)

    entry = result['results'][0]
    assert result['failed'] and result['changed']
    assert (entry['action'], entry['changed'], entry['verified']) == ('failed', True, False)
    assert 'was imported, but its verification failed' in entry['error']
    assert 'differs from the one of the local private key' in entry['error']


def test_key_spec_must_match_the_material_and_the_key(kms, private_keys):
    kms.key('aes-key')
    pem = private_pem(private_keys['RSA_2048']).decode()

    result = run([{'alias': 'rsa-as-aes', 'key_material': pem},
                  {'alias': 'aes-key', 'key_spec': 'RSA_2048', 'key_material': pem},
                  {'alias': 'small', 'key_spec': 'RSA_3072', 'key_material': pem}])

    errors = [r['error'] for r in result['results']]
    assert 'key_spec is AES_256, but key_material holds an RSA_2048 private key' in errors[0]
    assert 'has key_spec AES_256 in KMS, but key_spec is RSA_2048 here' in errors[1]
    assert 'key_spec is RSA_3072' in errors[2]
    assert kms.actions() == ['list-keys']


def test_repeated_keys_fail_the_later_entries(kms):
    key_id = kms.key('app')

    result = run([{'alias': 'app', 'key_material': material()},
                  {'alias': 'app', 'key_material': material()},
                  {'key_id': key_id, 'key_material': material()}])

    assert [r['action'] for r in result['results']] == ['imported', 'failed', 'failed']
    assert 'keys[1] names the same alias app as keys[0]' in result['results'][1]['error']
    assert 'keys[2] names the same key %s as keys[0]' % key_id in result['results'][2]['error']
    assert kms.count('import-key-material') == 1


def test_missing_alias_without_create_missing(kms):
    result = run([{'alias': 'nowhere', 'key_material': material()}], create_missing=False)

    assert result['failed'] and 'create_missing is false' in result['results'][0]['error']
    assert kms.actions() == ['list-keys']


def test_alias_created_meanwhile_is_used(kms):
    kms.fail[('create-key', 'late')] = 'KMS.1104'
    real_list = kms.list_keys
    lists = []

    def list_late(body):
        lists.append(1)
        if len(lists) == 2:    # the alias shows up after the first listing
            kms.key('late')
        return real_list(body)
    kms.list_keys = list_late

    result = run([{'alias': 'late', 'key_material': material()}])

    assert not result['failed'] and result['results'][0]['action'] == 'imported'


# ------------------------------------------------------------------------------ keys by ID

def test_lone_key_id_is_described_without_listing(kms):
    key_id = kms.key('by-id')

    result = run([{'key_id': key_id, 'key_material': material()}])

    assert result['results'][0]['action'] == 'imported' and result['results'][0]['alias'] == 'by-id'
    assert kms.count('list-keys') == 0 and kms.count('describe-key') == 1


def test_key_id_missing_from_listing_is_described_and_never_created(kms):
    known = kms.key('known')
    unknown = str(uuid.uuid4())

    result = run([{'key_id': known, 'key_material': material()},
                  {'key_id': unknown, 'key_material': material()}])

    assert [r['action'] for r in result['results']] == ['imported', 'failed']
    assert 'keys named by key_id are never created' in result['results'][1]['error']
    assert [b for a, b in kms.calls if a == 'describe-key'] == [{'key_id': unknown}]
    assert kms.count('create-key') == 0


# ------------------------------------------------------------------------------ check and diff mode

def test_check_mode_makes_no_state_changing_call(kms):
    kms.key('waiting')
    kms.key('done', state='2')

    result = run([{'alias': 'new', 'key_material': material()},
                  {'alias': 'waiting', 'key_material': material()},
                  {'alias': 'done', 'key_material': material()}], check_mode=True, verify=True)

    assert not result['failed'] and result['changed']
    assert [r['action'] for r in result['results']] == ['would_create+import', 'would_import', 'unchanged']
    assert [r['changed'] for r in result['results']] == [True, True, False]
    assert result['results'][0]['key_id'] is None
    # reads only: the key with material is compared (its tags), nothing else
    assert kms.actions() == ['list-keys', 'tags']


def test_diff_shows_states_of_changed_keys_only(kms):
    kms.key('waiting')
    kms.key('done', state='2')
    secret = material()

    result = run([{'alias': 'new', 'key_material': secret, 'expiration_time': '2031-01-01'},
                  {'alias': 'waiting', 'key_material': material()},
                  {'alias': 'done', 'key_material': material()}], diff=True)

    diff = result['diff']
    assert len(diff) == 2
    header = 'new (%s)' % result['results'][0]['key_id']
    assert diff[0] == {'before_header': header, 'after_header': header, 'before': {},
                       'after': {'key_state': '2', 'key_state_name': 'enabled', 'expiration_time': 1924992000}}
    assert diff[1]['before'] == {'key_state': '5', 'key_state_name': 'pending_import', 'expiration_time': None}
    assert diff[1]['after']['key_state_name'] == 'enabled' and diff[1]['before_header'].startswith('waiting (')
    assert_no_secret(result, secret)


# ------------------------------------------------------------------------------ whole-task failures

def test_listing_failure_fails_the_task(kms):
    kms.fail[('list-keys', None)] = 'KMS.0306'

    result = run([{'alias': 'a', 'key_material': material()}, {'alias': 'b', 'key_material': material()}])

    assert result['failed'] and result['error_code'] == 'KMS.0306'
    assert 'results' not in result and kms.actions() == ['list-keys']


def test_only_bad_input_means_no_call_at_all(kms):
    result = run([{'alias': 'short', 'key_material': 'c2hvcnQ='}])

    assert result['failed'] and kms.calls == []


@pytest.mark.parametrize('entry, expected', [
    ({'alias': 'a', 'key_id': 'b', 'key_material': 'x'}, 'mutually exclusive'),
    ({'alias': 'a'}, 'keys[0] has neither key_material nor key_material_path'),
    ({'alias': 'a', 'key_material': 'x', 'key_material_path': '/x'}, 'mutually exclusive'),
])
def test_argument_rules(kms, entry, expected):
    result = run([entry])

    assert result['failed'] and expected in result['msg'] and kms.calls == []


# ------------------------------------------------------------------------------ both clouds

def test_quota_stops_creating_keys_and_the_others_proceed(kms):
    existing = kms.key('app-1')
    kms.quota = 2

    result = run([{'alias': 'app-%d' % i, 'key_material': material()} for i in range(1, 5)], max_workers=1)

    assert result['failed']
    results = result['results']
    assert [r['action'] for r in results] == ['imported', 'created+imported', 'failed', 'failed']
    assert results[0]['key_id'] == existing and results[1]['key_state'] == '2'
    assert results[2]['error_code'] == 'KMS.1105'
    assert 'quota of customer keys (100 keys per project unless raised' in results[2]['error']
    assert results[3]['error'] == (
        'Key app-4 was not created: key quota reached (create-key answered KMS.1105 for another key of this task). '
        'Schedule deletion of keys that are no longer used, or ask the cloud provider for a higher key quota, '
        'then run the task again.')
    assert kms.count('create-key') == 2
    assert result['msg'].startswith('2 of 4 keys failed (app-3, app-4).')


def test_new_keys_pending_activation_and_otc_list_entries(kms):
    existing = kms.key('app-1', state='2')
    kms.otc_listing = True
    kms.activation = 2

    with mock.patch('time.sleep') as sleep:
        result = run([{'alias': 'app-1', 'key_material': material()}, {'alias': 'app-2', 'key_material': material()}],
                     max_workers=1)

    assert not result['failed'] and [r['action'] for r in result['results']] == ['unchanged', 'created+imported']
    assert result['results'][0]['key_id'] == existing and result['results'][0]['key_spec'] == 'AES_256'
    # the listed key is described once (no key_spec in the entry); the new one until it is usable
    described = [body['key_id'] for action, body in kms.calls if action == 'describe-key']
    assert described.count(existing) == 1 and len(described) == 4
    assert [call.args[0] for call in sleep.call_args_list] == [0.2, 0.4]


def test_new_key_that_stays_pending_activation_fails_only_itself(kms):
    kms.key('app-1')
    kms.activation = 100

    with mock.patch('time.sleep'):
        result = run([{'alias': 'app-1', 'key_material': material()}, {'alias': 'app-2', 'key_material': material()}],
                     wait_timeout=1)

    first, second = result['results']
    assert result['failed'] and first['action'] == 'imported'
    assert second['action'] == 'failed' and second['changed'] is True
    assert 'is still pending activation (key state 1) after 1 seconds' in second['error']


def test_alias_prefix_names_the_same_key(kms):
    existing = kms.key('app-1', state='2')

    result = run([{'alias': 'alias/app-1', 'key_material': material()},
                  {'alias': 'alias/app-2', 'key_material': material()}])

    assert not result['failed'] and [r['alias'] for r in result['results']] == ['app-1', 'app-2']
    assert result['results'][0]['key_id'] == existing
    assert [body['key_alias'] for action, body in kms.calls if action == 'create-key'] == ['app-2']


def test_wrapping_algorithm_the_cloud_does_not_offer_fails_before_any_call(kms):
    result = run([{'alias': 'app-1', 'key_material': material()}], cloud_provider='huaweicloud',
                 wrapping_algorithm='RSAES_OAEP_SHA_1')

    assert result['failed'] and kms.calls == []
    assert result['msg'] == ('wrapping_algorithm RSAES_OAEP_SHA_1 is not offered by Huawei Cloud KMS; use '
                             'RSAES_OAEP_SHA_256.')


# ------------------------------------------------------------------------------ which material a key holds

def test_first_import_records_the_check_value_of_aes_material_only(kms, private_keys):
    aes = material()
    pem = private_pem(private_keys['EC_P256']).decode()

    result = run([{'alias': 'aes', 'key_material': aes},
                  {'alias': 'ec', 'key_spec': 'EC_P256', 'key_material': pem}])

    assert not result['failed'], result['msg']
    aes_id, ec_id = [r['key_id'] for r in result['results']]
    assert [r['material_check'] for r in result['results']] == ['imported', 'imported']
    assert kms.tags == {aes_id: {'dew-kms-record': material_record(aes, aes_id)}}
    assert ec_id not in kms.tags
    assert_no_secret(result, material_record(aes, aes_id))


def test_other_aes_material_than_recorded_fails_that_key_only(kms):
    held, given, fine = material(), material(), material()
    other_id = kms.key('other', state='2')
    kms.tags[other_id] = {'dew-kms-record': material_record(held, other_id)}
    fine_id = kms.key('fine', state='2')
    third_id = kms.key('third', state='2')
    kms.tags[third_id] = {'dew-kms-record': material_record(fine, third_id)}

    result = run([{'alias': 'other', 'key_material': given}, {'alias': 'fine', 'key_material': fine},
                  {'alias': 'third', 'key_material': fine}])

    assert result['failed'] and not result['changed']
    assert [r['action'] for r in result['results']] == ['failed', 'unchanged', 'unchanged']
    assert [r['material_check'] for r in result['results']] == [None, 'unproven', 'matched']
    error = result['results'][0]['error']
    assert 'Key %s does not hold the material of key_material' % other_id in error
    assert 'its material record (tag dew-kms-record) is not the one' in error
    assert '1 of 3 keys failed (other)' in result['msg']
    assert kms.count('get-parameters-for-import') == 0 and kms.count('import-key-material') == 0
    assert_no_secret(result, held, given, fine, material_record(given, other_id), material_record(fine, fine_id))


def test_other_private_key_than_held_fails_and_the_same_one_is_proven(kms, private_keys):
    held = kms.key('held', state='2', spec='EC_P256', usage='SIGN_VERIFY')
    kms.public_keys[held] = public_pem(private_keys['EC_P256'])
    same = kms.key('same', state='2', spec='EC_P256', usage='SIGN_VERIFY')
    kms.public_keys[same] = public_pem(private_keys['EC_P256'])
    from cryptography.hazmat.primitives.asymmetric import ec
    other_pem = private_pem(ec.generate_private_key(ec.SECP256R1())).decode()

    result = run([{'alias': 'held', 'key_spec': 'EC_P256', 'key_material': other_pem},
                  {'alias': 'same', 'key_spec': 'EC_P256',
                   'key_material': private_pem(private_keys['EC_P256']).decode()}])

    assert [r['action'] for r in result['results']] == ['failed', 'unchanged']
    assert [r['material_check'] for r in result['results']] == [None, 'public key matched']
    assert 'its public key in KMS is not the public key of the private key in key_material' in \
        result['results'][0]['error']
    assert kms.count('get-publickey') == 2 and kms.count('import-key-material') == 0


def test_material_imported_by_another_run_meanwhile_is_compared(kms):
    """Two runs on one new alias: the other run imported first, so this run meets KMS.0310."""
    mine, theirs = material(), material()
    key_id = kms.key('raced')

    def other_run_wins(recorded):
        def get_parameters_for_import(body):
            # the other run imported (and recorded) between this run's listing and its import
            kms.keys[key_id]['key_state'] = '2'
            kms.tags[key_id] = recorded
            return 400, {'error': {'error_code': 'KMS.0310', 'error_msg': 'the key is not waiting for import'}}
        kms.keys[key_id]['key_state'] = '5'
        kms.get_parameters_for_import = get_parameters_for_import
        return run([{'alias': 'raced', 'key_material': mine}])

    result = other_run_wins({'dew-kms-record': material_record(theirs, key_id)})
    assert result['failed'] and 'does not hold the material of' in result['results'][0]['error']
    # the record of this material, copied from another key: still other material
    result = other_run_wins({'dew-kms-record': material_record(mine, str(uuid.uuid4()))})
    assert result['failed'] and 'does not hold the material of' in result['results'][0]['error']
    for claim in ({}, {'dew-kms-kcv': kcv(mine)}):
        result = other_run_wins(claim)
        assert result['failed']
        assert 'received material from another run at the same time' in result['results'][0]['error']
    result = other_run_wins({'dew-kms-record': material_record(mine, key_id)})
    assert not result['failed'] and not result['changed']
    assert (result['results'][0]['action'], result['results'][0]['material_check']) == ('unchanged', 'matched')
    assert kms.count('import-key-material') == 0


def test_alias_created_by_another_run_without_record_is_no_proof(kms):
    kms.fail[('create-key', 'late')] = 'KMS.1104'
    real_list = kms.list_keys
    lists = []

    def list_late(body):
        lists.append(1)
        if len(lists) == 2:    # the other run created the key and imported before this one could
            kms.key('late', state='2')
        return real_list(body)
    kms.list_keys = list_late

    result = run([{'alias': 'late', 'key_material': material()}])

    assert result['failed'] and 'has no material record (tag dew-kms-record) yet' in result['results'][0]['error']
    assert kms.count('import-key-material') == 0


def test_a_failing_tag_record_only_warns(kms):
    key_id = kms.key('untaggable')
    kms.fail[('tags/action', key_id)] = 'KMS.0308'

    result = run([{'alias': 'untaggable', 'key_material': material()}])

    assert not result['failed'] and result['results'][0]['material_check'] == 'imported'
    assert len(result['warnings']) == 1
    assert 'material record could not be written as the key tag dew-kms-record' in result['warnings'][0]


def test_an_unreadable_tag_list_is_unproven_with_a_warning(kms):
    key_id = kms.key('untagged', state='2')
    kms.fail[('tags', key_id)] = 'KMS.0308'

    result = run([{'alias': 'untagged', 'key_material': material()}])

    assert not result['failed'] and result['results'][0]['material_check'] == 'unproven'
    assert 'could not be read' in result['warnings'][0]
    assert 'cannot be proven to be the material of key_material' in result['warnings'][1]


def test_check_mode_compares_too_but_records_nothing(kms):
    key_id = kms.key('checked', state='2')
    kms.tags[key_id] = {'dew-kms-record': material_record(material(), key_id)}
    kms.key('new-one')

    result = run([{'alias': 'checked', 'key_material': material()}, {'alias': 'new-one', 'key_material': material()}],
                 check_mode=True)

    assert result['failed'] and 'does not hold the material of' in result['results'][0]['error']
    assert result['results'][1]['action'] == 'would_import' and result['results'][1]['material_check'] is None
    assert kms.count('tags/action') == 0 and kms.count('import-key-material') == 0


# ------------------------------------------------------------------------------ forged proofs

def co_tenant_keys(kms, owner_material, expiration=''):
    """The owner's key W holds ``owner_material`` with its record. A co-tenant's keys V and L hold
    their own material: V carries W's record (copied), L the KCV of the owner's material (printed
    in every report) as the tag of earlier versions."""
    owner = kms.key('owner-w', state='2', expiration=expiration)
    kms.tags[owner] = {'dew-kms-record': material_record(owner_material, owner)}
    copied = kms.key('forged-v', state='2', expiration=expiration)
    kms.tags[copied] = {'dew-kms-record': kms.tags[owner]['dew-kms-record']}
    legacy = kms.key('forged-l', state='2', expiration=expiration)
    kms.tags[legacy] = {'dew-kms-kcv': kcv(owner_material)}
    return owner, copied, legacy


@pytest.mark.parametrize('tag_query', [False, True], ids=['tags per key', 'one tag query'])
def test_a_copied_record_and_a_legacy_check_value_are_never_matched(kms, tag_query):
    owner_material = material()
    owner, copied, legacy = co_tenant_keys(kms, owner_material)
    if tag_query:
        kms.serve_tag_query()

    result = run([{'alias': alias, 'key_material': owner_material} for alias in ('owner-w', 'forged-v', 'forged-l')])

    by_alias = dict((r['alias'], r) for r in result['results'])
    assert (by_alias['owner-w']['action'], by_alias['owner-w']['material_check']) == ('unchanged', 'matched')
    assert (by_alias['forged-v']['action'], by_alias['forged-v']['material_check']) == ('failed', None)
    assert 'Key %s does not hold the material of key_material' % copied in by_alias['forged-v']['error']
    assert (by_alias['forged-l']['action'], by_alias['forged-l']['material_check']) == ('unchanged', 'unproven')
    assert result['failed'] and not result['changed'] and '1 of 3 keys failed (forged-v)' in result['msg']
    assert [w for w in result['warnings'] if w.startswith('forged-l: Key %s holds material that cannot be proven'
                                                          % legacy)]
    assert not any(r['material_check'] == 'matched' for r in result['results'] if r['key_id'] != owner)
    assert kms.count('get-parameters-for-import') == 0 and kms.count('import-key-material') == 0
    assert kms.count('tags/action') == 0  # nothing is written onto the co-tenant's keys
    # neither the material nor the proofs that would make the co-tenant's keys pass are shown
    assert_no_secret(result, owner_material, material_record(owner_material, copied),
                     material_record(owner_material, legacy))
    if tag_query:
        queries = [body for action, body in kms.calls if action == 'resource_instances/action']
        assert [query['tags'] for query in queries] == [[{'key': 'dew-kms-record', 'values': []}]]
        # the legacy key is not in the query's answer: asked alone, and still unproven
        assert [body['key_id'] for action, body in kms.calls if action == 'tags'] == [legacy]


def test_a_key_missing_from_the_tag_query_is_matched_by_its_own_record(kms):
    first, second = material(), material()
    answered = kms.key('answered', state='2')
    kms.tags[answered] = {'dew-kms-record': material_record(first, answered)}
    missing = kms.key('missing', state='2')
    kms.tags[missing] = {'dew-kms-record': material_record(second, missing)}
    kms.serve_tag_query(hidden={missing})

    result = run([{'alias': 'answered', 'key_material': first}, {'alias': 'missing', 'key_material': second}])

    assert not result['failed'] and not result['changed'] and result['warnings'] == []
    assert [(r['action'], r['material_check']) for r in result['results']] == [('unchanged', 'matched')] * 2
    assert kms.count('resource_instances/action') == 1
    assert [body['key_id'] for action, body in kms.calls if action == 'tags'] == [missing]


def soon(days):
    return str((int(time.time()) + days * 86400) * 1000)


@pytest.mark.parametrize('tag_query', [False, True], ids=['tags per key', 'one tag query'])
def test_renewal_of_keys_with_a_copied_record_or_a_legacy_check_value_deletes_nothing(kms, tag_query):
    owner_material = material()
    owner, copied, legacy = co_tenant_keys(kms, owner_material, expiration=soon(5))
    if tag_query:
        kms.serve_tag_query()

    result = run([{'alias': alias, 'key_material': owner_material, 'expiration_time': '2040-01-01T00:00:00Z'}
                  for alias in ('forged-v', 'forged-l', 'owner-w')], renew_within_days=30, max_workers=1)

    by_alias = dict((r['alias'], r) for r in result['results'])
    assert result['failed'] and '2 of 3 keys failed (forged-v, forged-l)' in result['msg']
    assert by_alias['forged-v']['action'] == 'failed' and not by_alias['forged-v']['changed']
    assert 'holds other material than the one given, so it is not renewed' in by_alias['forged-v']['error']
    assert by_alias['forged-l']['action'] == 'failed' and not by_alias['forged-l']['changed']
    assert 'cannot be proven to be the one KMS holds' in by_alias['forged-l']['error']
    assert 'the key has no material record bound to it, tag dew-kms-record' in by_alias['forged-l']['error']
    assert 'Nothing was changed.' in by_alias['forged-l']['error']
    # the owner's key, proven by its own record, is renewed: the only key whose material is deleted
    assert by_alias['owner-w']['action'] == 'renewed'
    deleted = [body['key_id'] for action, body in kms.calls if action == 'delete-imported-key-material']
    assert deleted == [owner]
    assert [body['key_id'] for action, body in kms.calls if action == 'import-key-material'] == [owner]
    assert kms.keys[copied]['key_state'] == kms.keys[legacy]['key_state'] == '2'
    assert kms.tags[copied] == {'dew-kms-record': material_record(owner_material, owner)}
    assert kms.tags[legacy] == {'dew-kms-kcv': kcv(owner_material)}
    assert_no_secret(result, owner_material, material_record(owner_material, copied),
                     material_record(owner_material, legacy))
