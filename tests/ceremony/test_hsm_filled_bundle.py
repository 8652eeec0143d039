# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A wrapped bundle filled by another tool (the openssl command, as an HSM would) imports.

The collection writes the export bundle from the emulator's import parameters; openssl wraps
the material and computes the check values; the test writes the wrapped bundle by hand from
the documented format; the collection's reader accepts it and the emulator imports it.
Run with the tools environment: ``.venv/tools/bin/python -m pytest -q tests/ceremony``.
"""

import base64
import hashlib
import importlib
import json
import os
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WRAP = 'RSAES_OAEP_SHA_256'
OAEP = ['-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256']


@pytest.fixture(scope='module')
def emulator(tmp_path_factory):
    """The KMS emulator as a process of its own; ``--exit-after`` keeps it from outliving the run."""
    workdir = str(tmp_path_factory.mktemp('emulator'))
    out_path = os.path.join(workdir, 'stdout')
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, 'tests', 'emulator'))
    with open(out_path, 'wb') as out:
        proc = subprocess.Popen([sys.executable, '-m', 'kms_emulator', '--port', '0', '--exit-after', '300',
                                 '--activation-delay', '0',  # activation is not what this test is about
                                 '--log-file', os.path.join(workdir, 'log')],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=workdir)
    info, deadline = None, time.time() + 60
    while info is None and time.time() < deadline and proc.poll() is None:
        with open(out_path, 'rb') as handle:
            first = handle.readline()
        if first.endswith(b'\n'):
            info = json.loads(first)
        else:
            time.sleep(0.05)
    if info is None:
        proc.kill()
        pytest.fail('the KMS emulator did not start')
    yield info
    proc.terminate()
    proc.wait(20)


@pytest.fixture(scope='module')
def collection(tmp_path_factory):
    """The collection's module_utils, imported from an ansible_collections/dew/kms link to the checkout."""
    root = tmp_path_factory.mktemp('collections')
    os.makedirs(str(root / 'ansible_collections' / 'dew'))
    os.symlink(REPO, str(root / 'ansible_collections' / 'dew' / 'kms'))
    sys.path.insert(0, str(root))
    names = ('_auth', '_ceremony', '_check_values', '_client', '_keys', '_material')
    return dict((name, importlib.import_module('ansible_collections.dew.kms.plugins.module_utils.' + name))
                for name in names)


@pytest.fixture
def client(collection, emulator):
    config = collection['_auth'].resolve_config({
        'access_key': emulator['access_key'], 'secret_key': emulator['secret_key'],
        'project_id': emulator['project_id'], 'region': emulator['region'],
        'kms_endpoint': emulator['kms_endpoint'], 'iam_endpoint': emulator['iam_endpoint'],
        'retries': 0}, env={})
    with collection['_client'].KmsClient(config) as kms:
        yield kms


def openssl(*args):
    return subprocess.check_output(('openssl',) + args)


def test_openssl_filled_wrapped_bundle_imports(tmp_path, collection, client, emulator):
    keys, ceremony, check_values = collection['_keys'], collection['_ceremony'], collection['_check_values']
    material = collection['_material']

    # export phase (online): the collection writes the export bundle
    exported = []
    for alias, key_spec in (('hsm-aes', 'AES_256'), ('hsm-ec', 'EC_P256')):
        key = keys.create_key(client, alias, key_spec=key_spec, origin='external',
                              key_usage='SIGN_VERIFY' if key_spec == 'EC_P256' else None)
        exported.append(ceremony.export_entry(key, material.get_import_params(client, key['key_id'], WRAP), WRAP))
    export_path = str(tmp_path / 'export.json')
    ceremony.write_bundle(export_path, ceremony.build_export_bundle(exported, 'otc', emulator['region']),
                          'byok_bundle_path')

    # wrap phase (offline), done by another tool from the documented fields
    document = json.load(open(export_path))
    wrapped_keys = []
    for entry in document['keys']:
        public_pem = tmp_path / ('%s.pem' % entry['alias'])
        (tmp_path / 'public.der').write_bytes(base64.b64decode(entry['public_key']))
        openssl('pkey', '-pubin', '-inform', 'DER', '-in', str(tmp_path / 'public.der'), '-out', str(public_pem))
        if entry['key_spec'] == 'AES_256':
            secret = tmp_path / 'aes.bin'
            openssl('rand', '-out', str(secret), '32')
            (tmp_path / 'zero.bin').write_bytes(bytes(16))
            mac = openssl('mac', '-cipher', 'AES-256-CBC', '-macopt', 'hexkey:%s' % secret.read_bytes().hex(),
                          '-in', str(tmp_path / 'zero.bin'), 'CMAC').decode('ascii').strip()
            check = ('kcv', mac[:6].upper())
            private = None
        else:
            private = tmp_path / 'ec.der'  # KMS takes PKCS#8 DER; genpkey's DER would be SEC1
            openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', str(tmp_path / 'ec.pem'))
            openssl('pkcs8', '-topk8', '-nocrypt', '-in', str(tmp_path / 'ec.pem'), '-outform', 'DER',
                    '-out', str(private))
            secret = tmp_path / 'temporary.bin'
            openssl('rand', '-out', str(secret), '32')
            openssl('enc', '-id-aes256-wrap-pad', '-K', secret.read_bytes().hex(), '-iv', 'A65959A6',
                    '-in', str(private), '-out', str(tmp_path / 'ec.kwp'))
            spki = openssl('pkey', '-inform', 'DER', '-in', str(private), '-pubout', '-outform', 'DER')
            check = ('public_key_sha256', hashlib.sha256(spki).hexdigest())
        openssl('pkeyutl', '-encrypt', '-pubin', '-inkey', str(public_pem), '-in', str(secret),
                '-out', str(tmp_path / 'wrapped.bin'), *OAEP)
        wrapped_keys.append({
            'key_id': entry['key_id'], 'alias': entry['alias'], 'key_spec': entry['key_spec'],
            'wrapping_algorithm': entry['wrapping_algorithm'], 'import_token': entry['import_token'],
            'token_expiration_time': entry['token_expiration_time'],
            'encrypted_key_material': base64.b64encode((tmp_path / 'wrapped.bin').read_bytes()).decode('ascii'),
            'encrypted_privatekey': base64.b64encode((tmp_path / 'ec.kwp').read_bytes()).decode('ascii')
            if private else None,
            'check_value_type': check[0], 'check_value': check[1],
        })
        if entry['key_spec'] == 'AES_256':  # the collection computes the same check value
            assert check[1] == check_values.kcv(secret.read_bytes())
        else:
            assert check[1] == check_values.public_key_sha256(private.read_bytes())
    wrapped_path = tmp_path / 'wrapped.json'
    wrapped_path.write_text(json.dumps({'format': 'dew.kms/byok-wrapped', 'version': 1,
                                        'created': document['created'], 'exported': document['created'],
                                        'cloud': 'otc', 'region': emulator['region'], 'keys': wrapped_keys}))

    # import phase (online): the collection reads the bundle and the emulator imports it
    bundle = ceremony.read_bundle(str(wrapped_path), 'byok_wrapped_path', ceremony.WRAPPED_FORMAT)
    entries, failures = ceremony.match_keys(bundle, [{'alias': 'hsm-aes'}, {'alias': 'hsm-ec'}])
    assert failures == []
    for entry in entries:
        key = keys.describe_key(client, entry.key_id)
        assert key['key_state_name'] == 'pending_import'
        changed, _before, _after = material.import_wrapped_material(client, key, material.WrappedMaterial.from_options(
            entry.data['import_token'], entry.data['encrypted_key_material'], entry.data.get('encrypted_privatekey')))
        assert changed
        assert keys.describe_key(client, entry.key_id)['key_state_name'] == 'enabled'
        if entry.data['key_spec'] == 'EC_P256':  # KMS now holds the public half of what openssl made
            assert keys.get_public_key(client, entry.key_id)['fingerprint_sha256'] == entry.data['check_value']
        else:  # the imported AES key works
            cipher = keys.encrypt_data(client, entry.key_id, 'probe')
            assert keys.decrypt_data(client, cipher, key_id=entry.key_id) == 'probe'
