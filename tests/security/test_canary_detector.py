# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The leak detector itself: it finds every form of a secret, and no public value."""

import base64
import binascii
import json

from cryptography.hazmat.primitives import serialization

from canaries import Secrets, scan_bytes, scan_text, scan_tree


def test_every_form_of_every_canary_is_found(tmp_path):
    secrets = Secrets(str(tmp_path))
    secrets.add('password', 'Pw-canary-password-value')
    for canary in secrets.canaries:
        assert canary.forms, canary.name
        for form, value in canary.forms.items():
            # as a log line, inside JSON (with escaped slashes), and in the middle of other text
            for text in ('msg: ...%s...' % value, json.dumps({'x': value}).replace('/', '\\/')):
                hits = dict(scan_text(text, secrets.canaries))
                assert canary.name in hits, (canary.name, form)


def test_material_encodings_are_found(tmp_path):
    secrets = Secrets(str(tmp_path))
    material = secrets.aes
    encodings = [base64.b64encode(material).decode(), base64.urlsafe_b64encode(material).decode(),
                 binascii.hexlify(material).decode(), binascii.hexlify(material).decode().upper(),
                 base64.b64encode(material).decode()[:30] + '... (truncated)']
    for text in encodings:
        assert 'AES-256 material' in dict(scan_text(text, secrets.canaries)), text
    # raw bytes in a binary file
    path = tmp_path / 'blob.bin'
    path.write_bytes(b'\x00header' + material + b'trailer')
    found = scan_tree([str(tmp_path)], secrets.canaries)
    assert [name for _path, name, _hits in found] == ['AES-256 material']


def test_private_key_pem_lines_are_found_and_public_keys_are_not(tmp_path):
    secrets = Secrets(str(tmp_path))
    for key, name in ((secrets.rsa, 'RSA-2048 private key'), (secrets.ec, 'EC P-256 private key')):
        for fmt in (serialization.PrivateFormat.TraditionalOpenSSL, serialization.PrivateFormat.PKCS8):
            pem = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()
            lines = [line for line in pem.splitlines() if not line.startswith('-----')]
            found = [line for line in lines if name in dict(scan_text(line, secrets.canaries))]
            assert found, (name, fmt)
        # the public key, in every form the modules return it, is no leak
        public = key.public_key()
        spki_der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        public_pem = public.public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        text = json.dumps({'public_key_pem': public_pem, 'public_key_der': base64.b64encode(spki_der).decode(),
                           'hex': binascii.hexlify(spki_der).decode()})
        assert not scan_bytes(text.encode() + spki_der, secrets.canaries), name
