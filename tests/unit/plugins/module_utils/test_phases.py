# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ceremony phases of the batch engine: option checks, the offline wrap phase without any
client, the import phase's refusal of foreign and expired bundles, expiry days."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
import os
import re
import time

import pytest
from cryptography.hazmat.primitives import cmac, hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import algorithms

from ansible_collections.dew.kms.plugins.module_utils import _batch, _ceremony, _evidence, _phases
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsError, KmsInputError
from ansible_collections.dew.kms.tests.unit.plugins import generated_keys

AES_ID = '0d0466b0-e727-4d9c-b35d-f84bb474a37f'
OTHER_ID = '1d0466b0-e727-4d9c-b35d-f84bb474a37f'
WRAPPING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
WRAPPING_PUBLIC = base64.b64encode(WRAPPING_KEY.public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode('ascii')
# a wrapping key whose private half an attacker holds (not the test's KMS)
OTHER_WRAPPING_PUBLIC = base64.b64encode(generated_keys.WRAPPING_KEY.public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode('ascii')
OAEP_SHA256 = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def key_params(**params):
    base = dict(alias=None, key_id=None, key_spec='AES_256', key_usage=None, key_material=None,
                key_material_path=None, expiration_time=None, description=None, rotate=False)
    base.update(params)
    return base


class NoClientKm:
    """A KmsModule stand-in whose client must never be used (the wrap phase is offline)."""

    def __init__(self, keys, **params):
        self.params = dict(keys=keys, wrapping_algorithm='RSAES_OAEP_SHA_256', create_missing=True, verify=True,
                           max_workers=2, phase='wrap', bundle_path=None, wrapped_path=None, report_path=None,
                           expiry_warning_days=30, renew_within_days=0)
        self.params.update(params)
        # the operator types in the digest the phase before printed, unless a test says otherwise
        for option, path in (('bundle_digest', 'bundle_path'), ('wrapped_digest', 'wrapped_path')):
            if option not in params and self.params[path] and os.path.isfile(self.params[path]):
                with open(self.params[path], 'rb') as stream:
                    self.params[option] = _ceremony.file_digest(stream.read())
        self.check_mode = False
        self.diff_mode = False
        self.warnings = []

    @property
    def client(self):
        raise AssertionError('the wrap phase asked for a client')

    def warn(self, msg):
        self.warnings.append(msg)

    def now(self):
        """KMS's clock (KmsModule.now); a test moves it by replacing this."""
        return time.time()


def export_bundle(tmp_path, key_id=AES_ID, alias='app-data', expires=None):
    params = {'public_key': WRAPPING_PUBLIC, 'import_token': base64.b64encode(os.urandom(900)).decode('ascii'),
              'expiration_time': expires or 4102444800}
    entry = _ceremony.export_entry({'key_id': key_id, 'alias': alias, 'key_spec': 'AES_256'}, params,
                                   'RSAES_OAEP_SHA_256')
    path = str(tmp_path / 'export.json')
    _ceremony.write_bundle(path, _ceremony.build_export_bundle([entry]), 'bundle_path')
    return path


def reference_kcv(material):
    mac = cmac.CMAC(algorithms.AES(material))
    mac.update(bytes(16))
    return mac.finalize()[:3].hex().upper()


def reference_record(material, key_id=AES_ID):
    """The key-bound material record, computed here from its definition."""
    mac = cmac.CMAC(algorithms.AES(material))
    mac.update(b'dew.kms material record v1\x00' + key_id.encode('ascii'))
    return base64.urlsafe_b64encode(mac.finalize()).decode('ascii').rstrip('=')


# ------------------------------------------------------------------------------ option checks

@pytest.mark.parametrize('params, message', [
    (dict(phase='export'), 'phase=export needs bundle_path'),
    (dict(phase='wrap', bundle_path='/b'), 'phase=wrap needs wrapped_path'),
    (dict(phase='import'), 'phase=import needs wrapped_path'),
    (dict(phase='all', expiry_warning_days=-1), 'expiry_warning_days must be 0'),
    (dict(phase='all', keys=[key_params(alias='a')]), 'keys[0] has neither key_material nor key_material_path'),
    (dict(phase='wrap', bundle_path='/b', wrapped_path='/w', keys=[key_params(alias='a')]),
     'phase=wrap needs the material'),
    # a file a phase writes only after KMS changed: its directory must be there from the start
    (dict(phase='all', report_path='/nonexistent/r.json'), 'report_path (/nonexistent/r.json) is in a directory'),
    (dict(phase='import', wrapped_path='/w', report_path='/nonexistent/r.json'), 'report_path (/nonexistent/r.json)'),
    (dict(phase='export', bundle_path='/nonexistent/b.json'), 'bundle_path (/nonexistent/b.json) is in a directory'),
    (dict(phase='wrap', bundle_path='/b', wrapped_path='/nonexistent/w.json'), 'wrapped_path (/nonexistent/w.json)'),
])
def test_bad_phase_options_are_refused_before_anything_runs(params, message):
    options = dict(keys=[], phase='all', expiry_warning_days=30)
    options.update(params)
    with pytest.raises(KmsInputError) as error:
        _phases.check_options(options)
    assert message in error.value.msg


def test_export_and_import_need_no_material():
    keys = [key_params(alias='a')]
    _phases.check_options(dict(keys=keys, phase='export', bundle_path='/b', expiry_warning_days=0))
    _phases.check_options(dict(keys=keys, phase='import', wrapped_path='/w', wrapped_digest='0' * 32,
                               report_path='/r', expiry_warning_days=0))


# ------------------------------------------------------------------------------ the wrap phase

def test_wrap_phase_wraps_without_any_client(tmp_path):
    material = os.urandom(32)
    wrapped_path = str(tmp_path / 'wrapped.json')
    km = NoClientKm([key_params(alias='app-data', key_material=base64.b64encode(material).decode('ascii'))],
                    bundle_path=export_bundle(tmp_path), wrapped_path=wrapped_path,
                    report_path=str(tmp_path / 'report.json'))  # the same variables serve every phase
    result = _batch.Batch(km).run()
    assert not os.path.exists(str(tmp_path / 'report.json')) and 'report_path' not in result
    assert [r['action'] for r in result['results']] == ['wrapped']
    assert result['results'][0]['check_value'] == reference_kcv(material)
    assert oct(os.stat(wrapped_path).st_mode & 0o777) == '0o600'
    with open(wrapped_path) as stream:
        document = json.load(stream)
    item = document['keys'][0]
    assert WRAPPING_KEY.decrypt(base64.b64decode(item['encrypted_key_material']), OAEP_SHA256) == material
    assert item['material_record'] == reference_record(material, AES_ID)
    assert base64.b64encode(material).decode('ascii') not in json.dumps(result)
    # the record is the bundle's, for the import phase to write: not a result anyone reads
    assert item['material_record'] not in json.dumps(result)


def test_wrap_phase_in_check_mode_writes_nothing(tmp_path):
    wrapped_path = str(tmp_path / 'wrapped.json')
    km = NoClientKm([key_params(alias='app-data', key_material=base64.b64encode(os.urandom(32)).decode('ascii'))],
                    bundle_path=export_bundle(tmp_path), wrapped_path=wrapped_path)
    km.check_mode = True
    result = _batch.Batch(km).run()
    assert [r['action'] for r in result['results']] == ['would_wrap'] and result['changed']
    assert not os.path.exists(wrapped_path)


def test_wrap_phase_refuses_a_bundle_with_foreign_keys(tmp_path):
    wrapped_path = str(tmp_path / 'wrapped.json')
    km = NoClientKm([key_params(alias='other', key_material=base64.b64encode(os.urandom(32)).decode('ascii'))],
                    bundle_path=export_bundle(tmp_path), wrapped_path=wrapped_path)
    with pytest.raises(KmsInputError) as error:
        _batch.Batch(km).run()
    assert error.value.msg.startswith('Nothing was done:')
    assert 'not among the keys of this run' in error.value.msg
    assert not os.path.exists(wrapped_path)


def test_wrap_phase_refuses_an_expired_token(tmp_path):
    wrapped_path = str(tmp_path / 'wrapped.json')
    km = NoClientKm([key_params(alias='app-data', key_material=base64.b64encode(os.urandom(32)).decode('ascii'))],
                    bundle_path=export_bundle(tmp_path, expires=1000000000), wrapped_path=wrapped_path)
    with pytest.raises(_batch.BatchFailed) as error:
        _batch.Batch(km).run()
    assert 'expired at 2001-09-09T01:46:40Z: run the export phase again, then the wrap phase' in error.value.msg
    assert error.value.result['results'][0]['action'] == 'failed'
    assert not os.path.exists(wrapped_path)


def test_import_phase_refuses_an_export_bundle(tmp_path):
    km = NoClientKm([key_params(alias='app-data')], phase='import', wrapped_path=export_bundle(tmp_path))
    with pytest.raises(KmsInputError) as error:
        _batch.Batch(km).run()
    assert 'holds the export bundle' in error.value.msg


# ------------------------------------------------------------------------------ the import phase

def wrapped_bundle(tmp_path, material, change=None):
    """A wrapped bundle of key AES_ID (alias app-data) with ``material``, as the wrap phase writes it;
    ``change(entry)`` edits its entry afterwards (as a hand or another tool might)."""
    wrapped_path = str(tmp_path / 'wrapped.json')
    km = NoClientKm([key_params(alias='app-data', key_material=base64.b64encode(material).decode('ascii'))],
                    bundle_path=export_bundle(tmp_path), wrapped_path=wrapped_path)
    _batch.Batch(km).run()
    if change is not None:
        with open(wrapped_path) as stream:
            document = json.load(stream)
        change(document['keys'][0])
        with open(wrapped_path, 'w') as stream:
            json.dump(document, stream)
    return wrapped_path


def import_km(client, wrapped_path, **params):
    return ClientKm(client, [key_params(alias='app-data')], phase='import', wrapped_path=wrapped_path, **params)


def test_import_phase_writes_the_bundles_material_record_as_the_record_tag(tmp_path):
    material = os.urandom(32)
    client = FakeClient(**{'describe-key': [{'key_info': key_info(state='5')}], 'import-key-material': [{}],
                           TAG_ACTION: [{}]})
    result = _batch.Batch(import_km(client, wrapped_bundle(tmp_path, material))).run()
    assert result['results'][0]['action'] == 'imported'
    assert client.actions() == ['describe-key', 'import-key-material', TAG_ACTION]
    assert client.calls[-1][1] == {'action': 'create', 'tags': [{'key': 'dew-kms-record',
                                                                 'value': reference_record(material, AES_ID)}]}
    assert reference_record(material, AES_ID) not in json.dumps(result)


def test_import_phase_writes_no_tag_for_a_bundle_without_a_record(tmp_path):
    """A bundle of an earlier version or another tool: no record, and never the check value as one."""
    client = FakeClient(**{'describe-key': [{'key_info': key_info(state='5')}], 'import-key-material': [{}]})
    path = wrapped_bundle(tmp_path, os.urandom(32), lambda entry: entry.pop('material_record'))
    result = _batch.Batch(import_km(client, path)).run()
    assert result['results'][0]['action'] == 'imported'
    assert client.actions() == ['describe-key', 'import-key-material']


@pytest.mark.parametrize('state', ['2', '3'])
def test_import_phase_writes_no_record_on_a_key_that_already_holds_material(tmp_path, state):
    """The key holds material the bundle's was not imported into: the record would be a forged proof."""
    client = FakeClient(**{'describe-key': [{'key_info': key_info(state=state)}]})
    result = _batch.Batch(import_km(client, wrapped_bundle(tmp_path, os.urandom(32)))).run()
    assert (result['results'][0]['action'], result['results'][0]['material_check']) == ('unchanged', 'not checked')
    assert client.actions() == ['describe-key']


def test_import_phase_in_check_mode_writes_no_record(tmp_path):
    client = FakeClient(**{'describe-key': [{'key_info': key_info(state='5')}]})
    km = import_km(client, wrapped_bundle(tmp_path, os.urandom(32)))
    km.check_mode = True
    result = _batch.Batch(km).run()
    assert result['results'][0]['action'] == 'would_import' and client.actions() == ['describe-key']


@pytest.mark.parametrize('record', ['A1B2C3', 'A' * 21, 'A' * 23, '+' * 22, '', 12345])
def test_import_phase_refuses_a_bundle_entry_with_a_malformed_record(tmp_path, record):
    client = FakeClient()
    path = wrapped_bundle(tmp_path, os.urandom(32), lambda entry: entry.update(material_record=record))
    with pytest.raises(_batch.BatchFailed) as error:
        _batch.Batch(import_km(client, path)).run()
    assert 'keys[0].material_record must be the 22-character key-bound record of AES_256 material' in error.value.msg
    assert error.value.result['results'][0]['action'] == 'failed' and not error.value.result['changed']
    assert client.actions() == []  # refused before any call


def test_import_phase_refuses_only_the_entry_with_a_bad_record(tmp_path):
    """Two keys in one bundle, the record of one replaced by a record on an EC entry: that key fails,
    the other is imported with its record."""
    from cryptography.hazmat.primitives.asymmetric import ec

    material, ec_key = os.urandom(32), ec.generate_private_key(ec.SECP256R1())
    params = {'public_key': WRAPPING_PUBLIC, 'import_token': base64.b64encode(os.urandom(900)).decode('ascii'),
              'expiration_time': 4102444800}
    entries = [_ceremony.export_entry({'key_id': AES_ID, 'alias': 'app-data', 'key_spec': 'AES_256'}, params,
                                      'RSAES_OAEP_SHA_256'),
               _ceremony.export_entry({'key_id': OTHER_ID, 'alias': 'app-sign', 'key_spec': 'EC_P256'}, params,
                                      'RSAES_OAEP_SHA_256')]
    bundle_path, wrapped_path = str(tmp_path / 'export.json'), str(tmp_path / 'wrapped.json')
    _ceremony.write_bundle(bundle_path, _ceremony.build_export_bundle(entries), 'bundle_path')
    keys = [key_params(alias='app-data', key_material=base64.b64encode(material).decode('ascii')),
            key_params(alias='app-sign', key_spec='EC_P256', key_material=ec_pem(ec_key))]
    _batch.Batch(NoClientKm(keys, bundle_path=bundle_path, wrapped_path=wrapped_path)).run()
    with open(wrapped_path) as stream:
        document = json.load(stream)
    assert [entry['material_record'] for entry in document['keys']] == [reference_record(material, AES_ID), None]
    # the AES key's record written on the EC entry: refused for that key
    document['keys'][1]['material_record'] = document['keys'][0]['material_record']
    with open(wrapped_path, 'w') as stream:
        json.dump(document, stream)

    client = FakeClient(**{'describe-key': [{'key_info': key_info(state='5')}], 'import-key-material': [{}],
                           TAG_ACTION: [{}]})
    km = ClientKm(client, [key_params(alias='app-data'), key_params(alias='app-sign', key_spec='EC_P256')],
                  phase='import', wrapped_path=wrapped_path)
    with pytest.raises(_batch.BatchFailed) as error:
        _batch.Batch(km).run()
    results = error.value.result['results']
    assert [r['action'] for r in results] == ['imported', 'failed']
    assert 'keys[1].material_record must be the 22-character key-bound record of AES_256 material' \
        in results[1]['error']
    assert client.actions() == ['describe-key', 'import-key-material', TAG_ACTION]
    assert [body['key_id'] for action, body in client.calls if action != TAG_ACTION] == [AES_ID, AES_ID]
    assert client.calls[-1][1]['tags'] == [{'key': 'dew-kms-record', 'value': reference_record(material, AES_ID)}]


def test_import_phase_writes_no_record_for_private_keys(tmp_path):
    from cryptography.hazmat.primitives.asymmetric import ec

    ec_key = ec.generate_private_key(ec.SECP256R1())
    params = {'public_key': WRAPPING_PUBLIC, 'import_token': base64.b64encode(os.urandom(900)).decode('ascii'),
              'expiration_time': 4102444800}
    entry = _ceremony.export_entry({'key_id': OTHER_ID, 'alias': 'app-sign', 'key_spec': 'EC_P256'}, params,
                                   'RSAES_OAEP_SHA_256')
    bundle_path, wrapped_path = str(tmp_path / 'export.json'), str(tmp_path / 'wrapped.json')
    _ceremony.write_bundle(bundle_path, _ceremony.build_export_bundle([entry]), 'bundle_path')
    _batch.Batch(NoClientKm([key_params(alias='app-sign', key_spec='EC_P256', key_material=ec_pem(ec_key))],
                            bundle_path=bundle_path, wrapped_path=wrapped_path)).run()
    with open(wrapped_path) as stream:
        assert json.load(stream)['keys'][0]['material_record'] is None
    client = FakeClient(**{'describe-key': [{'key_info': key_info(OTHER_ID, 'app-sign', 'EC_P256', state='5')}],
                           'import-key-material': [{}]})
    km = ClientKm(client, [key_params(alias='app-sign', key_spec='EC_P256')], phase='import',
                  wrapped_path=wrapped_path)
    assert _batch.Batch(km).run()['results'][0]['action'] == 'imported'
    assert client.actions() == ['describe-key', 'import-key-material']


# ------------------------------------------------------------------------------ the report's version

def test_collection_version_of_the_report_is_the_one_of_galaxy_yml():
    galaxy = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'galaxy.yml')
    with open(galaxy) as stream:
        version = re.search(r'^version:\s*(\S+)\s*$', stream.read(), re.MULTILINE).group(1)
    assert _evidence.COLLECTION_VERSION == version


# ------------------------------------------------------------------------------ renewal and rotation

class Config:
    retries = 0
    cloud_provider = 'otc'
    region = 'eu-de'


class FakeClient:
    """Answers per action in order, recording (action, body) of every call; an exception in the
    list is raised instead."""

    def __init__(self, **answers):
        self.answers = dict((action, list(items)) for action, items in answers.items())
        self.config = Config()
        self.calls = []
        self.slept = []

    def sleep(self, seconds):
        self.slept.append(seconds)

    def call(self, action, body=None, key_id=None, idempotent=True, method='POST'):
        self.calls.append((action, body))
        answer = self.answers[action].pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def actions(self):
        return [action for action, _body in self.calls]


class ClientKm(NoClientKm):
    def __init__(self, client, keys, **params):
        super(ClientKm, self).__init__(keys, **dict(dict(phase='all', verify=False, max_workers=1), **params))
        self._fake = client
        self.wait_timeout = 60

    @property
    def client(self):
        return self._fake


def key_info(key_id=AES_ID, alias='app-data', spec='AES_256', state='2', expiration=''):
    return {'key_id': key_id, 'key_alias': alias, 'key_spec': spec, 'key_usage': 'ENCRYPT_DECRYPT',
            'origin': 'external', 'key_state': state, 'default_key_flag': '0', 'expiration_time': expiration,
            'creation_date': '1735689600000', 'scheduled_deletion_date': '', 'key_description': '',
            'domain_id': 'b168fe00ff56492495a7d22974df2d0b'}


def listing(*infos):
    return {'keys': [info['key_id'] for info in infos], 'key_details': list(infos), 'next_marker': '',
            'truncated': 'false', 'total': len(infos)}


def ec_pem(private_key):
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode('ascii')


def public_key_answer(private_key, key_id=AES_ID):
    pem = private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo).decode('ascii')
    return {'key_id': key_id, 'public_key': pem}


def import_params(key_id=AES_ID):
    return {'key_id': key_id, 'import_token': base64.b64encode(os.urandom(900)).decode('ascii'),
            'public_key': WRAPPING_PUBLIC, 'expiration_time': 4102444800000}


TAG_ACTION = '%s/tags/action' % AES_ID
TAGGED = 'resource_instances/action'
TAG_QUERY = '%s/tags' % AES_ID


def tagged_answer(value=None):
    """The keys with the material record tag: this key when it has one."""
    tags = [{'key': 'dew-kms-record', 'value': value}, {'key': 'team', 'value': 'x'}]
    resources = [{'resource_id': AES_ID, 'resource_name': 'app-data', 'resource_detail': key_info(),
                  'tags': tags}] if value else []
    return {'resources': resources, 'total_count': len(resources)}


def own_tags(**tags):
    """The answer of GET .../{key_id}/tags: ``tags`` {key: value}, '_' for '-' in the names."""
    items = [{'key': name.replace('_', '-'), 'value': value} for name, value in tags.items()]
    return {'tags': items, 'existTagsNum': len(items)}


def soon(days):
    return str((int(time.time()) + days * 86400) * 1000)


def renewal(material, expires_in_days, tagged, **answers):
    """A key whose material expires in ``expires_in_days``, the answers a renewal gets, and a
    batch module renewing within 30 days to a later expiry."""
    client = FakeClient(**dict({'list-keys': [listing(key_info(expiration=soon(expires_in_days)))], TAGGED: [tagged],
                                'delete-imported-key-material': [{}],
                                'get-parameters-for-import': [import_params()], 'import-key-material': [{}],
                                TAG_ACTION: [{}]}, **answers))
    km = ClientKm(client, [key_params(alias='app-data', key_material=base64.b64encode(material).decode('ascii'),
                                      expiration_time='4000000000')], renew_within_days=30)
    return client, km


def test_renewal_deletes_and_imports_the_proven_material_with_the_later_expiry(monkeypatch):
    monkeypatch.setattr(_phases, 'material_matches', lambda client, key, material, warn, recorded: True)
    material = os.urandom(32)
    client, km = renewal(material, 5, tagged_answer())
    result = _batch.Batch(km).run()
    assert result['results'][0]['action'] == 'renewed' and result['changed']
    assert result['results'][0]['expiration_time'] == 4000000000
    assert result['results'][0]['material_check'] == 'imported'
    # the material record is written again with the new import
    assert client.actions() == ['list-keys', TAGGED, 'delete-imported-key-material', 'get-parameters-for-import',
                                'import-key-material', TAG_ACTION]
    recorded = {'key': 'dew-kms-record', 'value': reference_record(material)}
    assert client.calls[-1][1] == {'action': 'create', 'tags': [recorded]}
    body = client.calls[-2][1]
    assert body['expiration_time'] == 4000000000
    assert WRAPPING_KEY.decrypt(base64.b64decode(body['encrypted_key_material']), OAEP_SHA256) == material


def test_renewal_not_due_changes_nothing(monkeypatch):
    monkeypatch.setattr(_phases, 'material_matches', lambda client, key, material, warn, recorded: True)
    material = os.urandom(32)
    client = FakeClient(**{'list-keys': [listing(key_info(expiration=soon(60)))],
                           TAGGED: [tagged_answer(reference_record(material))]})
    km = ClientKm(client, [key_params(alias='app-data', key_material=base64.b64encode(material).decode('ascii'),
                                      expiration_time='4000000000')], renew_within_days=30)
    result = _batch.Batch(km).run()
    # not due: the usual comparison of the held material, nothing deleted or imported
    assert result['results'][0]['action'] == 'unchanged' and client.actions() == ['list-keys', TAGGED]
    assert result['results'][0]['material_check'] == 'matched'
    assert result['results'][0]['expires_in_days'] in (59, 60)
    assert not [w for w in km.warnings if 'expires on' in w]


def test_renewal_counts_days_on_the_kms_clock(monkeypatch):
    # 60 days away on our clock, 20 on KMS's (the one that expires material): due for renewal
    monkeypatch.setattr(_phases, 'material_matches', lambda client, key, material, warn, recorded: True)
    _client, km = renewal(os.urandom(32), 60, tagged_answer())
    km.now = lambda: time.time() + 40 * 86400
    result = _batch.Batch(km).run()
    assert result['results'][0]['action'] == 'renewed'
    assert result['results'][0]['expires_in_days'] == (4000000000 - int(km.now())) // 86400


@pytest.mark.parametrize('proof, message', [
    (None, 'cannot be proven to be the one KMS holds'),
    (False, 'holds other material than the one given'),
])
def test_renewal_without_proof_fails_and_keeps_the_material(monkeypatch, proof, message):
    monkeypatch.setattr(_phases, 'material_matches', lambda client, key, material, warn, recorded: proof)
    client = FakeClient(**{'list-keys': [listing(key_info(expiration=soon(5)))], TAGGED: [tagged_answer()]})
    km = ClientKm(client, [key_params(alias='app-data', key_material=base64.b64encode(os.urandom(32)).decode('ascii'),
                                      expiration_time='4000000000')], renew_within_days=30)
    with pytest.raises(_batch.BatchFailed) as error:
        _batch.Batch(km).run()
    assert message in error.value.msg and client.actions() == ['list-keys', TAGGED]
    assert [w for w in km.warnings if 'expires on' in w]  # and the expiry warning says it is due
    if proof is None:
        assert 'the key has no material record bound to it, tag dew-kms-record' in error.value.msg
        assert 'Nothing was changed.' in error.value.msg


def test_renewal_of_an_aes_key_is_proven_by_its_material_record():
    material = os.urandom(32)
    client, km = renewal(material, 5, tagged_answer(reference_record(material)))
    result = _batch.Batch(km).run()
    assert result['results'][0]['action'] == 'renewed'
    assert client.actions() == ['list-keys', TAGGED, 'delete-imported-key-material', 'get-parameters-for-import',
                                'import-key-material', TAG_ACTION]


def test_renewal_of_an_aes_key_missing_from_the_tag_query_is_proven_by_its_own_record():
    material = os.urandom(32)
    client, km = renewal(material, 5, tagged_answer(), **{TAG_QUERY: [own_tags(dew_kms_record=reference_record(
        material))]})
    result = _batch.Batch(km).run()
    assert result['results'][0]['action'] == 'renewed'
    assert client.actions() == ['list-keys', TAGGED, TAG_QUERY, 'delete-imported-key-material',
                                'get-parameters-for-import', 'import-key-material', TAG_ACTION]


NO_PROOF = 'cannot be proven to be the one KMS holds (the key has no material record bound to it, tag dew-kms-record'
OTHER_MATERIAL = 'holds other material than the one given'


@pytest.mark.parametrize('in_query, own, message', [
    # no record at all: the query does not answer the key, nor do its own tags
    (None, {}, NO_PROOF),
    # the right check value in the tag of earlier versions: a claim anyone could copy
    (None, dict(dew_kms_kcv='KCV'), NO_PROOF),
    (None, dict(dew_kms_kcv='KCV', team='x'), NO_PROOF),
    # a check value written in the record tag is no record
    (None, dict(dew_kms_record='KCV'), NO_PROOF),
    # the record of other material for this key
    ('OTHER', None, OTHER_MATERIAL),
    # the record of this material, copied from another key that holds it
    ('COPIED', None, OTHER_MATERIAL),
    (None, dict(dew_kms_record='COPIED', dew_kms_kcv='KCV'), OTHER_MATERIAL),
])
def test_renewal_of_an_aes_key_without_its_own_record_deletes_nothing(in_query, own, message):
    material = os.urandom(32)
    values = {'KCV': reference_kcv(material), 'COPIED': reference_record(material, OTHER_ID),
              'OTHER': reference_record(os.urandom(32))}
    answers = {} if own is None else {TAG_QUERY: [own_tags(**dict((name, values.get(value, value))
                                                                  for name, value in own.items()))]}
    client, km = renewal(material, 5, tagged_answer(values.get(in_query)), **answers)
    with pytest.raises(_batch.BatchFailed) as error:
        _batch.Batch(km).run()
    assert message in error.value.msg
    assert client.actions() == ['list-keys', TAGGED] + ([TAG_QUERY] if own is not None else [])
    assert 'delete-imported-key-material' not in client.actions() and 'import-key-material' not in client.actions()
    assert error.value.result['results'][0]['action'] == 'failed'
    assert error.value.result['results'][0]['changed'] is False
    if message == NO_PROOF:
        assert 'Nothing was changed.' in error.value.msg
    assert reference_record(material) not in json.dumps(error.value.result)  # the proof is never shown


def test_renewal_needs_a_later_expiration_time(monkeypatch):
    monkeypatch.setattr(_phases, 'material_matches', lambda client, key, material, warn, recorded: True)
    client = FakeClient(**{'list-keys': [listing(key_info(expiration=soon(5)))], TAGGED: [tagged_answer()]})
    km = ClientKm(client, [key_params(alias='app-data', key_material=base64.b64encode(os.urandom(32)).decode('ascii'))],
                  renew_within_days=30)
    with pytest.raises(_batch.BatchFailed) as error:
        _batch.Batch(km).run()
    assert 'give a later expiration_time' in error.value.msg and client.actions() == ['list-keys', TAGGED]


def test_rotation_of_an_ec_key_holding_other_material():
    from cryptography.hazmat.primitives.asymmetric import ec

    old, new = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    client = FakeClient(**{
        'list-keys': [listing(key_info(spec='EC_P256', alias='app-sign'))],
        'get-publickey': [public_key_answer(old)],
        'create-key': [{'key_info': {'key_id': OTHER_ID, 'domain_id': 'b168fe00ff56492495a7d22974df2d0b'}}],
        'describe-key': [{'key_info': key_info(OTHER_ID, 'app-sign-rotating', 'EC_P256', state='5')}],
        'get-parameters-for-import': [import_params(OTHER_ID)], 'import-key-material': [{}],
        'update-key-alias': [{}, {}]})
    km = ClientKm(client, [key_params(alias='app-sign', key_spec='EC_P256', key_material=ec_pem(new), rotate=True)])
    result = _batch.Batch(km).run()['results'][0]
    assert (result['action'], result['key_id'], result['retired_key_id']) == ('rotated', OTHER_ID, AES_ID)
    assert re.match(r'^app-sign-retired-[0-9]{8}T[0-9]{6}Z$', result['retired_alias'])
    renames = [body for action, body in client.calls if action == 'update-key-alias']
    assert renames == [{'key_id': AES_ID, 'key_alias': result['retired_alias']},
                       {'key_id': OTHER_ID, 'key_alias': 'app-sign'}]
    assert client.actions().index('import-key-material') < client.actions().index('update-key-alias')
    assert client.slept  # the new key was pending activation until described again


def test_rotation_with_the_material_the_key_holds_changes_nothing():
    from cryptography.hazmat.primitives.asymmetric import ec

    held = ec.generate_private_key(ec.SECP256R1())
    client = FakeClient(**{'list-keys': [listing(key_info(spec='EC_P256', alias='app-sign'))],
                           'get-publickey': [public_key_answer(held)]})
    km = ClientKm(client, [key_params(alias='app-sign', key_spec='EC_P256', key_material=ec_pem(held), rotate=True)])
    result = _batch.Batch(km).run()
    assert result['results'][0]['action'] == 'unchanged' and not result['changed']
    assert result['results'][0]['material_check'] == 'public key matched'
    assert client.actions() == ['list-keys', 'get-publickey']  # proven once


# ------------------------------------------------------------------------------ recorded check values

def otc_entry(key_id=AES_ID, alias='app-data', state='2'):
    """A list-keys entry as OTC lists it: no key_spec, no key_usage."""
    return dict((name, value) for name, value in key_info(key_id, alias, state=state).items()
                if name not in ('key_spec', 'key_usage'))


def two_aes_entries(material, other_material):
    keys = [key_params(alias='app-data', key_material=base64.b64encode(material).decode('ascii')),
            key_params(alias='app-more', key_material=base64.b64encode(other_material).decode('ascii'))]
    return keys, listing(otc_entry(), otc_entry(OTHER_ID, 'app-more'))


def records_answer(*pairs):
    """The answer of the query of keys by tag: (key_id, {tag key: value}) per key."""
    return {'resources': [{'resource_id': key_id, 'resource_name': 'a', 'resource_detail': {},
                           'tags': [{'key': name, 'value': value} for name, value in tags.items()]}
                          for key_id, tags in pairs], 'total_count': len(pairs)}


def test_held_aes_material_is_proven_by_one_tag_query_without_describing_listed_keys():
    material, other_material = os.urandom(32), os.urandom(32)
    keys, listed = two_aes_entries(material, other_material)
    records = records_answer((AES_ID, {'dew-kms-record': reference_record(material, AES_ID)}),
                             (OTHER_ID, {'dew-kms-record': reference_record(other_material, OTHER_ID)}))
    client = FakeClient(**{'list-keys': [listed], TAGGED: [records]})
    result = _batch.Batch(ClientKm(client, keys, max_workers=2)).run()
    assert [(r['action'], r['material_check'], r['key_spec']) for r in result['results']] == [
        ('unchanged', 'matched', 'AES_256')] * 2
    assert client.actions() == ['list-keys', TAGGED] and not result['changed']
    assert client.calls[1][1] == {'action': 'filter', 'tags': [{'key': 'dew-kms-record', 'values': []}],
                                  'limit': '1000', 'offset': '0'}


def test_a_listed_key_without_a_matching_record_is_described_and_compared_as_before():
    material, other_material = os.urandom(32), os.urandom(32)
    keys, listed = two_aes_entries(material, other_material)
    # app-data: the record of other material; app-more: not in the answer, and no record of its own
    records = records_answer((AES_ID, {'dew-kms-record': reference_record(os.urandom(32), AES_ID)}))
    client = FakeClient(**{'list-keys': [listed], TAGGED: [records],
                           'describe-key': [{'key_info': key_info()}, {'key_info': key_info(OTHER_ID, 'app-more')}],
                           '%s/tags' % OTHER_ID: [own_tags(team='x')]})
    km = ClientKm(client, keys, max_workers=1)
    with pytest.raises(_batch.BatchFailed) as error:
        _batch.Batch(km).run()
    results = error.value.result['results']
    assert results[0]['action'] == 'failed' and 'does not hold the material of' in results[0]['error']
    assert 'material record (tag dew-kms-record)' in results[0]['error']
    assert (results[1]['action'], results[1]['material_check']) == ('unchanged', 'unproven')
    assert [w for w in km.warnings if 'Key %s holds material that cannot be proven' % OTHER_ID in w]
    # described for their key_spec; the key missing from the batch's records is asked alone
    assert client.actions() == ['list-keys', TAGGED, 'describe-key', 'describe-key', '%s/tags' % OTHER_ID]


def test_a_key_missing_from_the_tag_query_is_matched_by_its_own_record():
    """The query of keys by tag answers no key here; each key's own tags prove its material."""
    material, other_material = os.urandom(32), os.urandom(32)
    keys, listed = two_aes_entries(material, other_material)
    client = FakeClient(**{'list-keys': [listed],
                           TAGGED: [records_answer((AES_ID, {'dew-kms-record': reference_record(material)}))],
                           'describe-key': [{'key_info': key_info(OTHER_ID, 'app-more')}],
                           '%s/tags' % OTHER_ID: [own_tags(dew_kms_record=reference_record(other_material, OTHER_ID))]})
    km = ClientKm(client, keys, max_workers=1)
    result = _batch.Batch(km).run()
    assert [(r['action'], r['material_check']) for r in result['results']] == [('unchanged', 'matched')] * 2
    assert client.actions() == ['list-keys', TAGGED, 'describe-key', '%s/tags' % OTHER_ID]
    assert not result['changed'] and not km.warnings


@pytest.mark.parametrize('own, outcome', [
    ({'dew-kms-kcv': 'KCV'}, 'unproven'),
    ({'dew-kms-record': 'COPIED'}, 'failed'),
    ({'dew-kms-record': 'COPIED', 'dew-kms-kcv': 'KCV'}, 'failed'),
])
def test_a_listed_key_with_a_claim_instead_of_its_record_is_never_matched(own, outcome):
    material = os.urandom(32)
    values = {'KCV': reference_kcv(material), 'COPIED': reference_record(material, OTHER_ID)}
    keys = [key_params(alias='app-data', key_material=base64.b64encode(material).decode('ascii'))]
    client = FakeClient(**{'list-keys': [listing(key_info())], TAGGED: [records_answer()],
                           TAG_QUERY: [{'tags': [{'key': name, 'value': values[value]}
                                                 for name, value in own.items()]}]})
    km = ClientKm(client, keys)
    if outcome == 'unproven':
        result = _batch.Batch(km).run()
        assert (result['results'][0]['action'], result['results'][0]['material_check']) == ('unchanged', 'unproven')
        assert [w for w in km.warnings if 'cannot be proven to be the material of' in w]
    else:
        with pytest.raises(_batch.BatchFailed) as error:
            _batch.Batch(km).run()
        result = error.value.result
        assert result['results'][0]['action'] == 'failed'
        assert 'does not hold the material of' in result['results'][0]['error']
    assert client.actions() == ['list-keys', TAGGED, TAG_QUERY] and not result['changed']
    assert reference_record(material) not in json.dumps(result) + ' '.join(km.warnings)


def test_a_refused_tag_query_falls_back_to_the_tags_of_each_key():
    material = os.urandom(32)
    keys = [key_params(alias='app-data', key_material=base64.b64encode(material).decode('ascii'))]
    refused = KmsError('KMS resource_instances/action failed: HTTP 404 APIGW.0101.', status=404,
                       error_code='APIGW.0101')
    client = FakeClient(**{'list-keys': [listing(otc_entry())], TAGGED: [refused],
                           'describe-key': [{'key_info': key_info()}],
                           TAG_QUERY: [own_tags(dew_kms_record=reference_record(material))]})
    km = ClientKm(client, keys)
    result = _batch.Batch(km).run()
    assert (result['results'][0]['action'], result['results'][0]['material_check']) == ('unchanged', 'matched')
    assert client.actions() == ['list-keys', TAGGED, 'describe-key', TAG_QUERY] and not km.warnings


def test_no_tag_query_when_no_key_needs_a_check_value():
    # a first run: the keys wait for their material, so nothing is proven by a record
    keys = [key_params(alias='app-data', key_material=base64.b64encode(os.urandom(32)).decode('ascii'))]
    client = FakeClient(**{'list-keys': [listing(otc_entry(state='5'))],
                           'describe-key': [{'key_info': key_info(state='5')}],
                           'get-parameters-for-import': [import_params()], 'import-key-material': [{}],
                           TAG_ACTION: [{}]})
    result = _batch.Batch(ClientKm(client, keys)).run()
    assert result['results'][0]['action'] == 'imported'
    assert client.actions() == ['list-keys', 'describe-key', 'get-parameters-for-import', 'import-key-material',
                                TAG_ACTION]


@pytest.mark.parametrize('params, message', [
    (dict(phase='all', renew_within_days=-1), 'renew_within_days must be 0'),
    (dict(phase='export', bundle_path='/b', renew_within_days=3), 'renew_within_days needs phase=all'),
    (dict(phase='import', wrapped_path='/w', keys=[key_params(alias='a', rotate=True)]), 'rotate needs phase=all'),
])
def test_bad_renewal_and_rotation_options(params, message):
    options = dict(keys=[], phase='all', expiry_warning_days=30, renew_within_days=0)
    options.update(params)
    with pytest.raises(KmsInputError) as error:
        _phases.check_options(options)
    assert message in error.value.msg


@pytest.mark.parametrize('params, message', [
    (dict(phase='wrap', bundle_path='/b', wrapped_path='/w', keys=[key_params(alias='a', key_material='x')]),
     'phase=wrap needs bundle_digest'),
    (dict(phase='import', wrapped_path='/w'), 'phase=import needs wrapped_digest'),
])
def test_the_phases_that_read_a_bundle_need_its_digest(params, message):
    options = dict(keys=[], expiry_warning_days=30)
    options.update(params)
    with pytest.raises(KmsInputError) as error:
        _phases.check_options(options)
    assert message in error.value.msg and 'Nothing was done' in error.value.msg


def test_wrap_phase_wraps_nothing_for_a_bundle_changed_on_the_way(tmp_path):
    bundle_path = export_bundle(tmp_path)
    with open(bundle_path, 'rb') as stream:
        digest = _ceremony.file_digest(stream.read())
    with open(bundle_path) as stream:
        document = json.load(stream)
    # the attack: the wrapping public key swapped for one whose private half the attacker holds
    document['keys'][0]['public_key'] = OTHER_WRAPPING_PUBLIC
    _ceremony.write_bundle(bundle_path, document, 'bundle_path')
    wrapped_path = str(tmp_path / 'wrapped.json')
    km = NoClientKm([key_params(alias='app-data', key_material=base64.b64encode(os.urandom(32)).decode('ascii'))],
                    bundle_path=bundle_path, wrapped_path=wrapped_path, bundle_digest=digest)
    with pytest.raises(KmsInputError) as error:
        _batch.Batch(km).run()
    assert 'does not have the digest given in bundle_digest' in error.value.msg
    assert not os.path.exists(wrapped_path)


def test_wrap_phase_returns_the_digests_and_wrapping_key_fingerprints(tmp_path):
    bundle_path = export_bundle(tmp_path)
    wrapped_path = str(tmp_path / 'wrapped.json')
    km = NoClientKm([key_params(alias='app-data', key_material=base64.b64encode(os.urandom(32)).decode('ascii'))],
                    bundle_path=bundle_path, wrapped_path=wrapped_path)
    result = _batch.Batch(km).run()
    with open(bundle_path, 'rb') as stream:
        assert result['bundle_digest'] == _ceremony.file_digest(stream.read())
    with open(wrapped_path, 'rb') as stream:
        data = stream.read()
    assert result['wrapped_digest'] == _ceremony.file_digest(data)
    assert json.loads(data.decode())['export_digest'] == result['bundle_digest']
    assert result['results'][0]['wrapping_key_sha256'] == hashlib.sha256(base64.b64decode(WRAPPING_PUBLIC)).hexdigest()


def test_import_phase_imports_nothing_from_a_wrapped_bundle_changed_on_the_way(tmp_path):
    wrapped_path = wrapped_bundle(tmp_path, os.urandom(32))
    with open(wrapped_path, 'rb') as stream:
        digest = _ceremony.file_digest(stream.read())
    with open(wrapped_path) as stream:
        document = json.load(stream)
    document['keys'][0]['check_value'] = 'ABCDEF'
    _ceremony.write_bundle(wrapped_path, document, 'wrapped_path')
    client = FakeClient()
    with pytest.raises(KmsInputError) as error:
        _batch.Batch(import_km(client, wrapped_path, wrapped_digest=digest)).run()
    assert 'does not have the digest given in wrapped_digest' in error.value.msg
    assert client.calls == []
