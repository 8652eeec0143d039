#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write two EC P-256 private keys (PEM) and an AES-256 key (raw) into DIR, each mode 0600."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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
    for name in ('ec-old.pem', 'ec-new.pem'):
        write(directory, name, ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    write(directory, 'aes.bin', os.urandom(32))


if __name__ == '__main__':
    main()
