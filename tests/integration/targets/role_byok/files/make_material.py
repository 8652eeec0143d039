#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the key material of the role_byok target into DIR (files 0600) and print, as JSON,
the inline material and every secret string the test must never find in any output."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


def write(directory, name, data):
    fd = os.open(os.path.join(directory, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(data)


def pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def main():
    directory = sys.argv[1]
    secrets = []
    for name in ('aes-1.bin', 'aes-b1.bin', 'aes-b2.bin', 'aes-b3.bin', 'aes-b4.bin', 'aes-c1.bin'):
        material = os.urandom(32)
        write(directory, name, material)
        secrets.append(base64.b64encode(material).decode())
    # base64 text in a file
    material = os.urandom(32)
    write(directory, 'aes-text.b64', base64.b64encode(material) + b'\n')
    secrets.append(base64.b64encode(material).decode())
    # one byte short
    write(directory, 'aes-short.bin', os.urandom(31))
    inline = base64.b64encode(os.urandom(32)).decode()
    secrets.append(inline)
    for name, key in (('rsa-2048.pem', rsa.generate_private_key(public_exponent=65537, key_size=2048)),
                      ('ec-p256.pem', ec.generate_private_key(ec.SECP256R1()))):
        data = pem(key)
        write(directory, name, data)
        # a line from the middle of the PEM body stands for the whole private key
        lines = data.decode().splitlines()
        secrets.append(lines[len(lines) // 2])
    print(json.dumps({'inline_aes_b64': inline, 'secrets': secrets}))


if __name__ == '__main__':
    main()
