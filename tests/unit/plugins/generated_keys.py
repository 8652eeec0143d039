# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Key pairs of the unit tests, generated once per test process, when the tests are collected.

ansible-test runs every unit test in a process forked after collection: a fixture (even a
session one) would generate its keys again for each test.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from cryptography.hazmat.primitives.asymmetric import ec, rsa

# the key pair behind get-parameters-for-import: KMS holds the private half, tests unwrap with it
WRAPPING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
# importable private key material of each kind the tests import
RSA_2048 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_3072 = rsa.generate_private_key(public_exponent=65537, key_size=3072)
EC_P256 = ec.generate_private_key(ec.SECP256R1())
EC_P384 = ec.generate_private_key(ec.SECP384R1())
# material a key does not hold, for the tests that compare
OTHER_EC_P256 = ec.generate_private_key(ec.SECP256R1())
