# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Canaries: the real secrets of a test run, every form they could leak in, and a scanner.

A canary is a secret the run really uses (key material that is imported, the password IAM
checks, the secret key that signs, the tokens KMS accepts) plus secrets of failing cases (a wrong
password, a forged token, material that does not fit). Each is searched in its literal form and
the encodings a careless log line would use: base64, urlsafe base64, hex (both cases) and, for
private keys, every line of the PEM body and pieces of the DER.
"""

import base64
import binascii
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

MIN_FRAGMENT = 20   # shorter pieces could match by chance


def _b64(data):
    return base64.b64encode(data).decode('ascii')


def _forms_of_bytes(data):
    """Text forms of raw secret bytes."""
    hexed = binascii.hexlify(data).decode('ascii')
    forms = {
        'base64': _b64(data),
        'base64-unpadded': _b64(data).rstrip('='),
        'urlsafe-base64': base64.urlsafe_b64encode(data).decode('ascii').rstrip('='),
        'hex': hexed,
        'HEX': hexed.upper(),
    }
    # a prefix of the encodings: a message that echoes a truncated value still leaks most of it
    forms['base64-prefix'] = forms['base64'][:MIN_FRAGMENT + 4]
    forms['hex-prefix'] = hexed[:32]
    return forms


def _forms_of_text(text):
    data = text.encode('utf-8')
    forms = {'literal': text}
    forms.update((name, value) for name, value in _forms_of_bytes(data).items()
                 if not name.endswith('-prefix'))
    return forms


class Canary:
    """One secret: a name, its raw bytes (for binary files) and its text forms."""

    def __init__(self, name, raw, forms):
        self.name = name
        self.raw = raw                       # bytes searched in binary files, may be None
        self.forms = dict((k, v) for k, v in forms.items() if v and len(v) >= MIN_FRAGMENT - 4)

    def found_in(self, text, data=None):
        """Names of the forms found in ``text`` (and ``raw`` in ``data`` bytes)."""
        hits = [form for form, value in self.forms.items() if value in text]
        if data is not None and self.raw and self.raw in data:
            hits.append('raw bytes')
        return hits


def text_canary(name, value):
    return Canary(name, value.encode('utf-8'), _forms_of_text(value))


def symmetric_canary(name, material):
    forms = _forms_of_bytes(material)
    return Canary(name, material, forms)


def private_key_canary(name, key):
    """Forms of a private key: PEM body lines (traditional and PKCS#8), DER base64 and hex pieces."""
    forms = {}
    for fmt_name, fmt in (('pkcs1/sec1', serialization.PrivateFormat.TraditionalOpenSSL),
                          ('pkcs8', serialization.PrivateFormat.PKCS8)):
        pem = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode('ascii')
        body = [line for line in pem.splitlines() if line and not line.startswith('-----')]
        for index, line in enumerate(body):
            if len(line) >= MIN_FRAGMENT:
                forms['%s PEM line %d' % (fmt_name, index + 1)] = line
        der = key.private_bytes(serialization.Encoding.DER, fmt, serialization.NoEncryption())
        b64 = _b64(der)
        # pieces away from the common ASN.1 header, in base64, urlsafe base64 and hex
        forms['%s DER base64 middle' % fmt_name] = b64[len(b64) // 2:len(b64) // 2 + 40]
        forms['%s DER urlsafe-base64 middle' % fmt_name] = base64.urlsafe_b64encode(der).decode()[
            len(b64) // 2:len(b64) // 2 + 40]
        hexed = binascii.hexlify(der).decode('ascii')
        forms['%s DER hex middle' % fmt_name] = hexed[len(hexed) // 2:len(hexed) // 2 + 48]
        forms['%s DER HEX middle' % fmt_name] = forms['%s DER hex middle' % fmt_name].upper()
    # the private scalar / exponent itself
    numbers = key.private_numbers()
    secret_int = numbers.d if hasattr(numbers, 'd') else numbers.private_value
    forms['private number (hex)'] = format(secret_int, 'x')[8:56]
    forms['private number (decimal)'] = str(secret_int)[4:44]
    secret_bytes = secret_int.to_bytes((secret_int.bit_length() + 7) // 8, 'big')
    raw = secret_bytes[len(secret_bytes) // 2 - 16:len(secret_bytes) // 2 + 16]
    # A private key encoding holds the public key too (RSA modulus, EC point), and public keys
    # are returned on purpose: drop the pieces that are public.
    public = _public_texts(key)
    forms = dict((form, value) for form, value in forms.items() if not any(value in text for text in public))
    return Canary(name, raw, forms)


def _public_texts(key):
    """Every base64 / hex rendering of the public key's encodings, at all three base64 alignments."""
    public_key = key.public_key()
    encodings = [public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)]
    if isinstance(public_key, rsa.RSAPublicKey):
        encodings.append(public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1))
    else:
        encodings.append(public_key.public_bytes(serialization.Encoding.X962,
                                                 serialization.PublicFormat.UncompressedPoint))
    texts = []
    for der in encodings:
        for shift in range(3):
            texts.append(_b64(b'\0' * shift + der))
            texts.append(base64.urlsafe_b64encode(b'\0' * shift + der).decode('ascii'))
        hexed = binascii.hexlify(der).decode('ascii')
        texts += [hexed, hexed.upper()]
    return texts


class Secrets:
    """Everything a leak test uses, generated fresh per test session."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.aes = os.urandom(32)
        self.aes_2 = os.urandom(32)
        self.aes_31 = os.urandom(31)          # material of the wrong size (a failing case)
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.wrong_password = 'WrongPw-' + binascii.hexlify(os.urandom(12)).decode()
        self.wrong_secret_key = binascii.hexlify(os.urandom(20)).decode()
        self.forged_token = 'MIIforged' + base64.urlsafe_b64encode(os.urandom(48)).decode()
        self.forged_security_token = 'forged-sts-' + base64.urlsafe_b64encode(os.urandom(48)).decode()
        self.canaries = [
            symmetric_canary('AES-256 material', self.aes),
            symmetric_canary('AES-256 material (second key)', self.aes_2),
            symmetric_canary('31-byte material of a failing case', self.aes_31),
            private_key_canary('RSA-2048 private key', self.rsa),
            private_key_canary('EC P-256 private key', self.ec),
            text_canary('wrong password (failing case)', self.wrong_password),
            text_canary('wrong secret key (failing case)', self.wrong_secret_key),
            text_canary('forged auth token (failing case)', self.forged_token),
            text_canary('forged security token (failing case)', self.forged_security_token),
        ]

    def add(self, name, value):
        self.canaries.append(text_canary(name, value))

    def pem(self, key, fmt=serialization.PrivateFormat.PKCS8):
        return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode('ascii')

    def der(self, key):
        return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    def write_material_files(self, directory):
        """Plaintext inputs as a user keeps them (0600, outside every scanned directory)."""
        os.makedirs(directory, exist_ok=True)
        files = {
            'aes.bin': self.aes,
            'aes2.b64': _b64(self.aes_2).encode() + b'\n',
            'aes31.bin': self.aes_31,
            'rsa.pem': self.pem(self.rsa, serialization.PrivateFormat.TraditionalOpenSSL).encode(),
            'ec.der': self.der(self.ec),
        }
        paths = {}
        for name, data in files.items():
            path = os.path.join(directory, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, 'wb') as handle:
                handle.write(data)
            paths[name] = path
        return paths


def scan_tree(roots, canaries, skip=()):
    """``[(path, canary name, forms)]`` for every file under ``roots`` holding a canary."""
    findings = []
    for root in roots:
        if os.path.isfile(root):
            files = [root]
        else:
            files = []
            for folder, _dirs, names in os.walk(root):
                files.extend(os.path.join(folder, name) for name in names)
        for path in files:
            if any(path.startswith(prefix) for prefix in skip) or os.path.islink(path):
                continue
            try:
                with open(path, 'rb') as handle:
                    data = handle.read()
            except (IOError, OSError):
                continue
            findings.extend((path, canary.name, hits) for canary, hits in scan_bytes(data, canaries))
    return findings


def scan_bytes(data, canaries):
    text = data.decode('utf-8', 'replace')
    # JSON escapes "/" as "\/" in some encoders and "+" never; undo the one that matters
    text_unescaped = text.replace('\\/', '/')
    found = []
    for canary in canaries:
        hits = sorted(set(canary.found_in(text, data) + canary.found_in(text_unescaped)))
        if hits:
            found.append((canary, hits))
    return found


def scan_text(text, canaries):
    return [(canary.name, hits) for canary, hits in scan_bytes(text.encode('utf-8', 'replace'), canaries)]
