# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixtures of the module tests: a scripted KMS endpoint (responses) and test keys."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
import time

import pytest
import responses

from ansible_collections.dew.kms.tests.unit.plugins import generated_keys
from ansible_collections.dew.kms.tests.unit.plugins.modules.utils import IMPORT_TOKEN, KEY_ID, FakeKms


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No credentials or endpoints from the developer's environment."""
    for name in list(os.environ):
        if name.startswith(('HW_', 'OS_')):
            monkeypatch.delenv(name)


@pytest.fixture
def kms():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeKms(rsps)


@pytest.fixture
def wrapping_key():
    """The RSA-2048 key pair behind get-parameters-for-import."""
    return generated_keys.WRAPPING_KEY


@pytest.fixture
def import_params(wrapping_key):
    """Queue a get-parameters-for-import answer; returns the body."""
    from cryptography.hazmat.primitives import serialization

    der = wrapping_key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)

    def add(kms, key_id=KEY_ID):
        body = {'key_id': key_id, 'import_token': IMPORT_TOKEN, 'expiration_time': int(time.time()) + 86400,
                'public_key': base64.b64encode(der).decode()}
        kms.add('get-parameters-for-import', body)
        return body
    return add


@pytest.fixture
def unwrap(wrapping_key):
    """unwrap(b64, algorithm) -> the plaintext the module wrapped."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    def run(b64, algorithm='RSAES_OAEP_SHA_256'):
        if algorithm == 'RSAES_PKCS1_V1_5':
            pad = padding.PKCS1v15()
        else:
            digest = hashes.SHA256() if algorithm == 'RSAES_OAEP_SHA_256' else hashes.SHA1()
            pad = padding.OAEP(mgf=padding.MGF1(algorithm=digest), algorithm=digest, label=None)
        return wrapping_key.decrypt(base64.b64decode(b64), pad)
    return run


@pytest.fixture
def private_keys():
    """Private keys of each importable type."""
    return {'RSA_2048': generated_keys.RSA_2048, 'RSA_3072': generated_keys.RSA_3072,
            'EC_P256': generated_keys.EC_P256, 'EC_P384': generated_keys.EC_P384}
