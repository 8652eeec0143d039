#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test key material for the integration targets and the live suite.

``material.py make DIR NAME=KIND ...`` writes each file NAME into DIR (mode 0600) and prints one
JSON object:

- ``b64``: NAME -> the AES material in base64 (kinds aes and aes-b64);
- ``kcv``: NAME -> its check value (AES-CMAC over 16 zero bytes, first 3 bytes, upper-case hex);
- ``fingerprints``: NAME -> SHA-256 (hex) of the private key's DER SubjectPublicKeyInfo;
- ``secrets``: strings that stand for the material and must never show up in any output.

Kinds: ``aes`` (32 random bytes), ``aes-b64`` (32 random bytes as a line of base64 text),
``short`` (31 bytes), ``long`` (33 bytes), and private keys ``rsa2048-pem``, ``rsa3072-pem``,
``ec256-pem``, ``ec256-der`` (PKCS#8), ``rsa2048-pem-traditional`` (PKCS#1).

``material.py wrap PUBLIC_KEY_B64 FILE`` prints FILE's bytes wrapped with RSAES_OAEP_SHA_256 under
the DER public key, the way a user would wrap material outside Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import base64
import hashlib
import json
import os
import re

from cryptography.hazmat.primitives import cmac, hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers import algorithms

AES_256_BYTES = 32
# raw kinds: (number of random bytes, written as base64 text)
RAW_KINDS = {
    'aes': (AES_256_BYTES, False),
    'aes-b64': (AES_256_BYTES, True),
    'short': (AES_256_BYTES - 1, False),
    'long': (AES_256_BYTES + 1, False),
}
KEY_GENERATORS = {
    'rsa2048': lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    'rsa3072': lambda: rsa.generate_private_key(public_exponent=65537, key_size=3072),
    'ec256': lambda: ec.generate_private_key(ec.SECP256R1()),
}
KEY_KIND_RE = re.compile(r'^(?P<algorithm>%s)-(?P<encoding>pem|der)(?P<traditional>-traditional)?$'
                         % '|'.join(KEY_GENERATORS))
PEM_LINE = 64


def save(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(data)


def check_value(raw):
    mac = cmac.CMAC(algorithms.AES(raw))
    mac.update(bytes(16))
    return mac.finalize()[:3].hex().upper()


def raw_secrets(raw):
    """The forms raw material would take in an output: base64 and hex in either case."""
    return [base64.b64encode(raw).decode('ascii'), raw.hex(), raw.hex().upper()]


def base64_windows(der):
    """Pieces of the base64 of a private key, found whether it leaks as PEM or unbroken: every
    full PEM line, the last line's worth of characters and one window across a line break."""
    text = base64.b64encode(der).decode('ascii')
    lines = [text[start:start + PEM_LINE] for start in range(0, len(text) - PEM_LINE + 1, PEM_LINE)]
    return lines + [text[-PEM_LINE:], text[100:160]]


def make_raw(path, kind, facts):
    size, as_text = RAW_KINDS[kind]
    raw = os.urandom(size)
    save(path, base64.b64encode(raw) + b'\n' if as_text else raw)
    facts['secrets'] += raw_secrets(raw)
    if size == AES_256_BYTES:
        name = os.path.basename(path)
        facts['b64'][name] = base64.b64encode(raw).decode('ascii')
        facts['kcv'][name] = check_value(raw)


def make_private_key(path, kind, facts):
    spec = KEY_KIND_RE.match(kind)
    key = KEY_GENERATORS[spec.group('algorithm')]()
    container = (serialization.PrivateFormat.TraditionalOpenSSL if spec.group('traditional')
                 else serialization.PrivateFormat.PKCS8)
    encoding = serialization.Encoding.PEM if spec.group('encoding') == 'pem' else serialization.Encoding.DER
    save(path, key.private_bytes(encoding, container, serialization.NoEncryption()))
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    facts['fingerprints'][os.path.basename(path)] = hashlib.sha256(spki).hexdigest()
    # the file's own DER, and the PKCS#8 form a module may convert it to (make drops repeats)
    for der_container in (container, serialization.PrivateFormat.PKCS8):
        der = key.private_bytes(serialization.Encoding.DER, der_container, serialization.NoEncryption())
        facts['secrets'] += base64_windows(der)


def parse_file_spec(spec):
    """NAME=KIND, NAME a plain file name and KIND a known kind."""
    name, separator, kind = spec.partition('=')
    if not separator or not name or os.sep in name or name in ('.', '..'):
        raise argparse.ArgumentTypeError('%r is not NAME=KIND with NAME a file name' % spec)
    if kind not in RAW_KINDS and not KEY_KIND_RE.match(kind):
        raise argparse.ArgumentTypeError('unknown kind %r in %r' % (kind, spec))
    return name, kind


def make(directory, files):
    facts = {'b64': {}, 'kcv': {}, 'fingerprints': {}, 'secrets': []}
    for name, kind in files:
        writer = make_raw if kind in RAW_KINDS else make_private_key
        writer(os.path.join(directory, name), kind, facts)
    facts['secrets'] = list(dict.fromkeys(facts['secrets']))
    print(json.dumps(facts))


def wrap(public_key_b64, path):
    public_key = serialization.load_der_public_key(base64.b64decode(public_key_b64))
    with open(path, 'rb') as handle:
        material = handle.read()
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    print(base64.b64encode(public_key.encrypt(material, oaep)).decode('ascii'))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest='command')
    commands.required = True
    make_parser = commands.add_parser('make', help='write material files and print them as JSON')
    make_parser.add_argument('directory')
    make_parser.add_argument('files', nargs='+', type=parse_file_spec, metavar='NAME=KIND')
    wrap_parser = commands.add_parser('wrap', help='print FILE wrapped with RSAES_OAEP_SHA_256')
    wrap_parser.add_argument('public_key_b64')
    wrap_parser.add_argument('path', metavar='FILE')
    return parser.parse_args()


def main():
    args = parse_args()
    if args.command == 'make':
        make(args.directory, args.files)
    else:
        wrap(args.public_key_b64, args.path)


if __name__ == '__main__':
    main()
