#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``make_material.py DIR``: write two EC P-256 private keys (PEM) and two AES-256 keys (raw) into
DIR, each mode 0600. ``make_material.py wrap PUBLIC_KEY_B64 FILE``: print FILE's bytes wrapped with
RSAES_OAEP_SHA_256 (material imported pre-wrapped, as another tool would)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding


def write(directory, name, data):
    fd = os.open(os.path.join(directory, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(data)


def main():
    directory = sys.argv[1]
    for name in ('ec-old.pem', 'ec-new.pem'):
        write(directory, name, ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    for name in ('aes.bin', 'aes-foreign.bin'):
        write(directory, name, os.urandom(32))


def wrap(public_key_b64, path):
    public_key = serialization.load_der_public_key(base64.b64decode(public_key_b64))
    with open(path, 'rb') as handle:
        material = handle.read()
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    print(base64.b64encode(public_key.encrypt(material, oaep)).decode('ascii'))


if __name__ == '__main__':
    if sys.argv[1] == 'wrap':
        wrap(sys.argv[2], sys.argv[3])
    else:
        main()
