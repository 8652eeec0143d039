# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The evidence report: records, JSON and Markdown, and that no secret can reach either."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
import os
import stat

import pytest
from cryptography.hazmat.primitives import cmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import algorithms

from ansible_collections.dew.kms.plugins.module_utils import _ceremony, _evidence
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsInputError

NOW = 1893456000  # 2030-01-01T00:00:00Z
AES_ID = '0d0466b0-e727-4d9c-b35d-f84bb474a37f'
EC_ID = '1d0466b0-e727-4d9c-b35d-f84bb474a37f'
RUNNER = {'user': 'ceremony-officer', 'host': 'vault-01.example.org'}
PHASES = {'export': NOW - 3600, 'wrap': '2029-12-31T23:30:00Z', 'import': NOW}


def reference_kcv(material):
    mac = cmac.CMAC(algorithms.AES(material))
    mac.update(bytes(16))
    return mac.finalize()[:3].hex().upper()


MATERIAL = os.urandom(32)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
EC_SHA256 = hashlib.sha256(EC_KEY.public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()


def aes_result(**changes):
    result = {'alias': 'app-data', 'key_id': AES_ID, 'key_spec': 'AES_256', 'action': 'imported',
              'wrapping_algorithm': 'RSAES_OAEP_SHA_256', 'expiration_time': NOW + 90 * 86400,
              'check_value_type': 'kcv', 'check_value': reference_kcv(MATERIAL)}
    result.update(changes)
    return result


def ec_result():
    return {'alias': 'alias/app-sign', 'key_id': EC_ID, 'key_spec': 'EC_P256', 'action': 'unchanged',
            'wrapping_algorithm': 'RSAES_OAEP_SHA_256', 'expiration_time': None,
            'check_value_type': 'public_key_sha256', 'check_value': EC_SHA256}


def report():
    records = [_evidence.evidence_record(aes_result(), PHASES, '0.1.0', RUNNER),
               _evidence.evidence_record(ec_result(), {'import': NOW}, '0.1.0', RUNNER)]
    return _evidence.build_report(records, cloud='otc', region='eu-de', now=NOW)


def test_record_holds_every_field_in_utc():
    record = _evidence.evidence_record(aes_result(), PHASES, '0.1.0', RUNNER)
    assert record == {
        'alias': 'app-data', 'key_id': AES_ID, 'key_spec': 'AES_256', 'action': 'imported',
        'wrapping_algorithm': 'RSAES_OAEP_SHA_256', 'export_time': '2029-12-31T23:00:00Z',
        'wrap_time': '2029-12-31T23:30:00Z', 'import_time': '2030-01-01T00:00:00Z',
        'material_expiration_date': '2030-04-01T00:00:00Z', 'check_value_type': 'kcv',
        'check_value': reference_kcv(MATERIAL), 'collection_version': '0.1.0',
        'user': 'ceremony-officer', 'host': 'vault-01.example.org'}


def test_record_accepts_milliseconds_and_strips_the_alias_prefix():
    record = _evidence.evidence_record(ec_result(), {'import': str(NOW * 1000)}, '0.1.0', RUNNER)
    assert record['alias'] == 'app-sign'
    assert record['import_time'] == '2030-01-01T00:00:00Z'
    assert record['export_time'] is None and record['material_expiration_date'] is None


def test_runner_identity_names_the_process_owner_and_host(monkeypatch):
    monkeypatch.setenv('LOGNAME', 'officer.two')
    monkeypatch.setattr('socket.gethostname', lambda: 'ceremony-host')
    assert _evidence.runner_identity() == {'user': 'officer.two', 'host': 'ceremony-host'}
    monkeypatch.setattr('socket.gethostname', lambda: 'bad host\nname')
    assert _evidence.runner_identity()['host'] == 'unknown'


def test_report_json_document():
    document = json.loads(_evidence.render_json(report()))
    assert (document['format'], document['version'], document['created']) == ('dew.kms/byok-report', 1,
                                                                              '2030-01-01T00:00:00Z')
    assert (document['cloud'], document['region']) == ('otc', 'eu-de')
    assert [record['key_id'] for record in document['keys']] == [AES_ID, EC_ID]


def test_report_markdown_table():
    lines = _evidence.render_markdown(report()).splitlines()
    assert lines[0] == '# BYOK key ceremony evidence'
    assert '- Keys: 2 (imported 1, unchanged 1)' in lines
    header = [line for line in lines if line.startswith('| Alias |')][0]
    assert header.count('|') == 13
    rows = [line for line in lines if line.startswith('| app-')]
    assert rows[0] == ('| app-data | %s | AES_256 | imported | RSAES_OAEP_SHA_256 | 2029-12-31T23:00:00Z | '
                       '2029-12-31T23:30:00Z | 2030-01-01T00:00:00Z | 2030-04-01T00:00:00Z | KCV %s | 0.1.0 | '
                       'ceremony-officer@vault-01.example.org |' % (AES_ID, reference_kcv(MATERIAL)))
    assert rows[1].startswith('| app-sign | %s | EC_P256 | unchanged | RSAES_OAEP_SHA_256 | - | - | '
                              '2030-01-01T00:00:00Z | - | public key SHA-256 %s |' % (EC_ID, EC_SHA256))


# ------------------------------------------------------------------------------ no secret gets through

def canary_forms(secret):
    raw = secret if isinstance(secret, bytes) else secret.encode('utf-8')
    forms = {raw.decode('latin-1'), base64.b64encode(raw).decode('ascii'), raw.hex(), raw.hex().upper(),
             base64.urlsafe_b64encode(raw).decode('ascii').rstrip('=')}
    # a 16-character slice of each form is enough to give a secret away
    return set(form[index:index + 16] for form in forms for index in (0, max(0, len(form) - 16)) if len(form) >= 16)


SECRETS = {
    'key_material': MATERIAL,
    'private_key': EC_KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()),
    'import_token': base64.b64encode(b'TOKEN-CANARY-' + os.urandom(400)).decode('ascii'),
    'encrypted_key_material': base64.b64encode(b'WRAPPED-CANARY-' + os.urandom(240)).decode('ascii'),
    'encrypted_privatekey': base64.b64encode(b'KWP-CANARY-' + os.urandom(200)).decode('ascii'),
    'password': 'Pa55w0rd-CANARY-ceremony',
    'secret_key': 'SK-CANARY-0123456789abcdefghijklmnopqrstuv',
    'auth_token': 'MIIToken-CANARY-' + 'x' * 64,
    'security_token': 'STS-CANARY-' + 'y' * 64,
}


def assert_no_secret(text):
    for name, secret in SECRETS.items():
        for form in canary_forms(secret):
            assert form not in text, 'a form of %s reached the output' % name


def test_secrets_beside_the_record_fields_never_reach_the_report():
    source = aes_result(**SECRETS)
    source['material'] = ('symmetric', MATERIAL)
    source['public_key'] = base64.b64encode(os.urandom(294)).decode('ascii')
    record = _evidence.evidence_record(source, PHASES, '0.1.0', RUNNER)
    document = _evidence.build_report([record], cloud='otc', region='eu-de', now=NOW)
    assert_no_secret(_evidence.render_json(document))
    assert_no_secret(_evidence.render_markdown(document))
    assert_no_secret(repr(record))


@pytest.mark.parametrize('field', ['key_id', 'key_spec', 'action', 'wrapping_algorithm',
                                   'expiration_time', 'check_value_type', 'check_value'])
@pytest.mark.parametrize('secret_name', ['import_token', 'password', 'private_key'])
def test_a_secret_put_into_a_record_field_is_refused_without_echo(field, secret_name):
    secret = SECRETS[secret_name]
    source = aes_result(**{field: secret.decode('ascii') if isinstance(secret, bytes) else secret})
    with pytest.raises(KmsInputError) as caught:
        _evidence.evidence_record(source, PHASES, '0.1.0', RUNNER)
    assert_no_secret(caught.value.msg)


@pytest.mark.parametrize('where', ['collection_version', 'user', 'host', 'cloud', 'region', 'phase'])
def test_a_secret_in_the_other_inputs_is_refused_without_echo(where):
    secret = SECRETS['password']
    with pytest.raises(KmsInputError) as caught:
        if where == 'collection_version':
            _evidence.evidence_record(aes_result(), PHASES, secret, RUNNER)
        elif where in ('user', 'host'):
            _evidence.evidence_record(aes_result(), PHASES, '0.1.0', dict(RUNNER, **{where: secret + ' x'}))
        elif where == 'phase':
            _evidence.evidence_record(aes_result(), {'import': secret}, '0.1.0', RUNNER)
        else:
            _evidence.build_report([], **{where: secret + '\n'})
    assert_no_secret(caught.value.msg)


def test_unknown_phases_and_check_values_without_type_are_refused():
    with pytest.raises(KmsInputError, match='export, wrap, import'):
        _evidence.evidence_record(aes_result(), {'rotate': NOW}, '0.1.0', RUNNER)
    with pytest.raises(KmsInputError, match='needs its check_value_type'):
        _evidence.evidence_record(aes_result(check_value_type=None), PHASES, '0.1.0', RUNNER)


# ------------------------------------------------------------------------------ files

@pytest.mark.parametrize('path, expected', [('/srv/ceremony/report.json', '/srv/ceremony/report.md'),
                                            ('/srv/ceremony/REPORT.JSON', '/srv/ceremony/REPORT.md'),
                                            ('/srv/ceremony/report', '/srv/ceremony/report.md')])
def test_markdown_path(path, expected):
    assert _evidence.markdown_path(path) == expected


def test_write_report_writes_json_and_markdown(tmp_path):
    path = str(tmp_path / 'evidence.json')
    _evidence.write_report(path, report())
    assert json.load(open(path))['format'] == 'dew.kms/byok-report'
    assert open(str(tmp_path / 'evidence.md')).read() == _evidence.render_markdown(report())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    with pytest.raises(KmsInputError, match='byok_report_path .* does not exist'):
        _evidence.write_report(str(tmp_path / 'missing' / 'evidence.json'), report())


def test_phase_times_come_from_the_wrapped_bundle():
    document = _ceremony.build_wrapped_bundle([], exported='2029-12-31T22:00:00Z', now=NOW - 600)
    bundle = _ceremony.Bundle(document, 'byok_wrapped_path', None, _ceremony.WRAPPED_FORMAT)
    times = _evidence.phase_times(bundle, NOW)
    record = _evidence.evidence_record(aes_result(), times, '0.1.0', RUNNER)
    assert (record['export_time'], record['wrap_time'], record['import_time']) == (
        '2029-12-31T22:00:00Z', '2029-12-31T23:50:00Z', '2030-01-01T00:00:00Z')


def test_the_report_records_the_digests_of_both_bundles():
    digests = {'export_bundle': '3f2a-91c0-5b7e-0d44-a8e1-6c2f-77b9-e035',
               'wrapped_bundle': '0b6d-2e47-c1a9-88f3-45d0-9e1b-6a72-c4f8'}
    document = _evidence.build_report([], cloud='otc', region='eu-de', now=1893456000, digests=digests)
    assert (document['export_bundle_digest'], document['wrapped_bundle_digest']) == (
        digests['export_bundle'], digests['wrapped_bundle'])
    markdown = _evidence.render_markdown(document)
    assert digests['export_bundle'] in markdown and digests['wrapped_bundle'] in markdown
    with pytest.raises(KmsInputError):
        _evidence.build_report([], digests={'export_bundle': 'BEGIN PRIVATE KEY'})
