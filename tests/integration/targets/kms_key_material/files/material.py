#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test material for the kms_key_material target.

``material.py make DIR``: writes the material files (mode 0600) and prints a JSON object with the
inline material, the public key fingerprints and every secret string that must never show up.
``material.py wrap PUBLIC_KEY_B64 FILE``: prints FILE's 32 bytes wrapped with RSAES_OAEP_SHA_256,
the way a user would wrap material outside Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa


def save(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(data)


def make(directory):
    facts = {'secrets': [], 'fingerprints': {}}
    for name in ('aes', 'aes2', 'other'):
        raw = os.urandom(32)
        facts[name + '_b64'] = base64.b64encode(raw).decode()
        facts['secrets'] += [facts[name + '_b64'], raw.hex()]
        save(os.path.join(directory, name + '.bin'), raw)
    save(os.path.join(directory, 'aes2.b64'), facts['aes2_b64'].encode() + b'\n')
    save(os.path.join(directory, 'short.bin'), os.urandom(31))
    save(os.path.join(directory, 'long.bin'), os.urandom(33))
    keys = {
        'rsa2048.pem': (rsa.generate_private_key(65537, 2048), serialization.Encoding.PEM,
                        serialization.PrivateFormat.TraditionalOpenSSL),
        'rsa3072.pem': (rsa.generate_private_key(65537, 3072), serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8),
        'ec256.der': (ec.generate_private_key(ec.SECP256R1()), serialization.Encoding.DER,
                      serialization.PrivateFormat.PKCS8),
    }
    for name, (key, encoding, fmt) in keys.items():
        blob = key.private_bytes(encoding, fmt, serialization.NoEncryption())
        save(os.path.join(directory, name), blob)
        spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
        facts['fingerprints'][name] = hashlib.sha256(spki).hexdigest()
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        facts['secrets'].append(base64.b64encode(der).decode()[100:160])
        if encoding == serialization.Encoding.PEM:
            facts['secrets'].append(blob.decode().splitlines()[3])
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
