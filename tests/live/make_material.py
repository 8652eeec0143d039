#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write fresh key material for the live suite into DIR (files 0600): aes.bin (32 random bytes),
role-aes.bin (32 more) and rsa-2048.pem (an unencrypted PKCS#8 RSA private key)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def write(directory, name, data):
    fd = os.open(os.path.join(directory, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(data)


def main():
    directory = sys.argv[1]
    write(directory, 'aes.bin', os.urandom(32))
    write(directory, 'role-aes.bin', os.urandom(32))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write(directory, 'rsa-2048.pem', key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


if __name__ == '__main__':
    main()
