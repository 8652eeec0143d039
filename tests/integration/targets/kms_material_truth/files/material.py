#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test material for the kms_material_truth target.

``material.py make DIR``: writes two AES-256 materials and two EC P-256 private keys (mode 0600)
and prints a JSON object with the base64 AES material, their check values computed here
(AES-CMAC over 16 zero bytes, first 3 bytes, upper-case hex) and every secret string.
``material.py wrap PUBLIC_KEY_B64 FILE``: prints FILE's 32 bytes wrapped with RSAES_OAEP_SHA_256.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import sys

from cryptography.hazmat.primitives import cmac, hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.ciphers import algorithms


def save(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(data)


def check_value(raw):
    mac = cmac.CMAC(algorithms.AES(raw))
    mac.update(bytes(16))
    return mac.finalize()[:3].hex().upper()


def make(directory):
    facts = {'secrets': []}
    for name in ('aes_a', 'aes_b'):
        raw = os.urandom(32)
        facts[name] = base64.b64encode(raw).decode()
        facts[name + '_kcv'] = check_value(raw)
        facts['secrets'] += [facts[name], raw.hex()]
        save(os.path.join(directory, name + '.bin'), raw)
    for name in ('ec_a', 'ec_b'):
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        save(os.path.join(directory, name + '.pem'), pem)
        facts['secrets'].append(pem.decode().splitlines()[1])
    print(json.dumps(facts))


def wrap(public_key_b64, path):
    public_key = serialization.load_der_public_key(base64.b64decode(public_key_b64))
    with open(path, 'rb') as handle:
        material = handle.read()
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    print(base64.b64encode(public_key.encrypt(material, oaep)).decode())


if __name__ == '__main__':
    if sys.argv[1] == 'make':
        make(sys.argv[2])
    else:
        wrap(sys.argv[2], sys.argv[3])
