# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ceremony phases of the batch engine: option checks, the offline wrap phase without any
client, the import phase's refusal of foreign and expired bundles, expiry days."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import re

import pytest
from cryptography.hazmat.primitives import cmac, hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import algorithms

from ansible_collections.dew.kms.plugins.module_utils import _batch, _ceremony, _evidence, _phases
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsInputError

AES_ID = '0d0466b0-e727-4d9c-b35d-f84bb474a37f'
OTHER_ID = '1d0466b0-e727-4d9c-b35d-f84bb474a37f'
WRAPPING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
WRAPPING_PUBLIC = base64.b64encode(WRAPPING_KEY.public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode('ascii')
OAEP_SHA256 = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def key_params(**params):
    base = dict(alias=None, key_id=None, key_spec='AES_256', key_usage=None, key_material=None,
                key_material_path=None, expiration_time=None, description=None)
    base.update(params)
    return base


class NoClientKm:
    """A KmsModule stand-in whose client must never be used (the wrap phase is offline)."""

    def __init__(self, keys, **params):
        self.params = dict(keys=keys, wrapping_algorithm='RSAES_OAEP_SHA_256', create_missing=True, verify=True,
                           max_workers=2, phase='wrap', bundle_path=None, wrapped_path=None, report_path=None,
                           expiry_warning_days=30)
        self.params.update(params)
        self.check_mode = False
        self.diff_mode = False
        self.warnings = []

    @property
    def client(self):
        raise AssertionError('the wrap phase asked for a client')

    def warn(self, msg):
        self.warnings.append(msg)


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


# ------------------------------------------------------------------------------ option checks

@pytest.mark.parametrize('params, message', [
    (dict(phase='export'), 'phase=export needs bundle_path'),
    (dict(phase='wrap', bundle_path='/b'), 'phase=wrap needs wrapped_path'),
    (dict(phase='import'), 'phase=import needs wrapped_path'),
    (dict(phase='all', expiry_warning_days=-1), 'expiry_warning_days must be 0'),
    (dict(phase='all', keys=[key_params(alias='a')]), 'keys[0] has neither key_material nor key_material_path'),
    (dict(phase='wrap', bundle_path='/b', wrapped_path='/w', keys=[key_params(alias='a')]), 'phase=wrap needs the material'),
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
    _phases.check_options(dict(keys=keys, phase='import', wrapped_path='/w', report_path='/r', expiry_warning_days=0))


@pytest.mark.parametrize('expiration, days', [(None, None), (1000 + 86400 * 10 + 5, 10), (1000 + 86399, 0),
                                              (1000 - 1, -1)])
def test_expires_in_days(expiration, days):
    assert _phases.expires_in_days(expiration, now=1000) == days


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
    assert base64.b64encode(material).decode('ascii') not in json.dumps(result)


def test_wrap_phase_in_check_mode_writes_nothing(tmp_path):
    wrapped_path = str(tmp_path / 'wrapped.json')
    km = NoClientKm([key_params(alias='app-data', key_material=base64.b64encode(os.urandom(32)).decode('ascii'))],
                    bundle_path=export_bundle(tmp_path), wrapped_path=wrapped_path)
    km.check_mode = True
    result = _batch.Batch(km).run()
    assert [r['action'] for r in result['results']] == ['would_wrap'] and not result['changed']
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


# ------------------------------------------------------------------------------ the report's version

def test_collection_version_of_the_report_is_the_one_of_galaxy_yml():
    galaxy = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'galaxy.yml')
    with open(galaxy) as stream:
        version = re.search(r'^version:\s*(\S+)\s*$', stream.read(), re.MULTILINE).group(1)
    assert _evidence.COLLECTION_VERSION == version
