#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write an AES-256 key (raw, 0600) and an EC P-256 private key (PEM, 0600) into DIR and print,
as JSON, the secret strings the test must never find in any file or result."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def write(directory, name, data):
    fd = os.open(os.path.join(directory, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(data)


def main():
    directory = sys.argv[1]
    aes = os.urandom(32)
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    write(directory, 'aes.bin', aes)
    write(directory, 'ec.pem', pem)
    body = b''.join(pem.splitlines()[1:-1]).decode('ascii')
    print(json.dumps({'secrets': [base64.b64encode(aes).decode('ascii'), aes.hex(), aes.hex().upper(),
                                  body[:64], body[-64:]]}))


if __name__ == '__main__':
    main()
