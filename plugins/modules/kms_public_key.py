#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kms_public_key
short_description: Read the public key of an asymmetric KMS key, optionally into a file
version_added: 0.1.0
description:
  - Returns the public key of an RSA or EC key in Huawei Cloud / Open Telekom Cloud KMS, as PEM,
    as base64 DER and with its SHA-256 fingerprint.
  - With O(dest), writes the public key into a file, in PEM or DER (O(format)). The file is
    written, atomically, only when its content differs; only then, or when file attributes change,
    the task reports a change.
  - "A O(dest) that holds a private key (PEM of any type, or DER) is never shown in a diff nor
    overwritten: the task fails. So does a O(dest) that is not a regular file, or that is larger
    than 16 KiB (more than any public key)."
  - The key answered by the service is parsed leniently (a SubjectPublicKeyInfo or a PKCS#1
    RSAPublicKey inside the C(PUBLIC KEY) armour, CRLF or LF line endings) and always returned
    as a standard SubjectPublicKeyInfo with LF line endings.
author:
  - dew.kms developers (!UNKNOWN)
extends_documentation_fragment:
  - dew.kms.auth
  - dew.kms.requirements
  - dew.kms.requirements.cryptography
  - dew.kms.attributes
  - dew.kms.attributes.files
  - ansible.builtin.files
options:
  key_id:
    description:
      - ID of the key, or an alias reference C(alias/<name>).
      - The key must be an RSA or EC key; symmetric keys have no public key.
    type: str
    required: true
  dest:
    description:
      - Path of a file to write the public key into, on the host that runs the module.
      - The parent directory must exist.
    type: path
  format:
    description:
      - Encoding of the file written to O(dest). V(pem) is text with LF line endings, V(der) the
        binary DER encoding of the SubjectPublicKeyInfo.
      - The returned values are the same in both cases.
    type: str
    choices: [pem, der]
    default: pem
  backup:
    description:
      - Before O(dest) is overwritten with a different content, keep a copy of it next to it, named
        with a timestamp, and return its path in RV(backup_file).
    type: bool
    default: false
attributes:
  check_mode:
    details: In check mode the module reads the key and reports whether O(dest) would change, without writing it.
  diff_mode:
    support: full
    details: The diff shows the content of O(dest) before and after (its SHA-256 digest for O(format=der)).
seealso:
  - module: dew.kms.kms_key_material
    description: Import an RSA or EC private key, whose public key this module reads back.
  - module: dew.kms.kms_key
    description: Create RSA and EC keys.
  - module: ansible.builtin.copy
    description: Copy the written file on to other hosts.
"""

EXAMPLES = r"""
- name: Publish the public key of a signing key
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/dew.kms.kms:
      region: eu-de
      auth_token: "{{ otc_token }}"
      project_id: "{{ otc_project_id }}"
  tasks:
    - name: Read the public key
      dew.kms.kms_public_key:
        key_id: alias/release-signing
      register: signing

    - name: Show its fingerprint
      ansible.builtin.debug:
        msg: "{{ signing.key_spec }} {{ signing.fingerprint_sha256 }}"

    - name: Write it to a file for the verifiers
      dew.kms.kms_public_key:
        key_id: alias/release-signing
        dest: /srv/keys/release-signing.pem
        mode: "0644"

    - name: The same in DER
      dew.kms.kms_public_key:
        key_id: alias/release-signing
        dest: /srv/keys/release-signing.der
        format: der

# Ad-hoc, with the credentials in the environment:
#   HW_AUTH_TOKEN=... HW_PROJECT_ID=... HW_REGION_NAME=eu-de \
#   ansible localhost -m dew.kms.kms_public_key -a key_id=0d0466b0-e727-4d9c-b35d-f84bb474a37f
"""

RETURN = r"""
key_id:
  description: ID of the key.
  returned: success
  type: str
  sample: 0d0466b0-e727-4d9c-b35d-f84bb474a37f
public_key_pem:
  description: The public key, PEM of a SubjectPublicKeyInfo with LF line endings.
  returned: success
  type: str
  sample: "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA...\n-----END PUBLIC KEY-----\n"
public_key_der:
  description: The public key, base64 of the DER SubjectPublicKeyInfo, on one line.
  returned: success
  type: str
  sample: MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA...
key_spec:
  description: Type and size of the key, read from the public key.
  returned: success
  type: str
  sample: RSA_3072
  choices: [RSA_2048, RSA_3072, RSA_4096, EC_P256, EC_P384]
fingerprint_sha256:
  description: SHA-256 of the DER SubjectPublicKeyInfo, lower-case hex.
  returned: success
  type: str
  sample: 5d41402abc4b2a76b9719d911017c592bb0d4f5dd8d25e5b2b2e9e4d6d5c1a3f
backup_file:
  description: Path of the copy of the previous O(dest), when O(backup=true) and O(dest) was overwritten.
  returned: when a backup was made
  type: str
  sample: /srv/keys/release-signing.pem.12345.2026-01-02@10:00:00~
dest:
  description: The path written, when O(dest) is set.
  returned: when O(dest) is set
  type: str
  sample: /srv/keys/release-signing.pem
"""

import base64
import hashlib
import os
import tempfile

from ansible_collections.dew.kms.plugins.module_utils._common import KmsModule, key_diff
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsInputError
from ansible_collections.dew.kms.plugins.module_utils._files import read_capped_if_exists, shown_path
from ansible_collections.dew.kms.plugins.module_utils import _keys

# the largest public key written is an RSA_4096 SubjectPublicKeyInfo in PEM (about 800 bytes); a
# larger dest holds something else, which is never read into memory whole
MAX_DEST_FILE = 16 * 1024


def read_existing(dest):
    """The current content of dest (None when absent); refuses a dest that holds a private key."""
    existing = read_capped_if_exists(dest, 'dest', MAX_DEST_FILE, 'a public key')
    if existing is not None and holds_private_key(existing):
        raise KmsInputError('%s holds a private key: it is never shown or overwritten. Give another path '
                            'for the public key.' % shown_path('dest', dest))
    return existing


def holds_private_key(content):
    """True for a PEM private key (any type, encrypted too) or a DER one that loads as such."""
    if b'PRIVATE KEY-----' in content:
        return True
    if content[:1] != b'\x30':
        return False
    from ansible_collections.dew.kms.plugins.module_utils import _wrap

    return _wrap.is_private_key_der(content)


def write_atomically(module, dest, content):
    directory = os.path.dirname(os.path.abspath(dest))
    if not os.path.isdir(directory):
        raise KmsInputError('The directory of dest %s does not exist.' % dest)
    fd, tmp = tempfile.mkstemp(prefix='.kms_public_key', dir=module.tmpdir)
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(content)
    except (IOError, OSError) as err:
        os.remove(tmp)
        raise KmsInputError('Cannot write a temporary file for dest %s: %s.' % (dest, err.strerror or err))
    module.atomic_move(tmp, os.path.abspath(dest))


def diff_text(content, fmt):
    if content is None:
        return ''
    if fmt == 'der':
        return 'DER, sha256 %s\n' % hashlib.sha256(content).hexdigest()
    return content.decode('utf-8', 'replace')


def write_dest(kms, public_key):
    """Write dest when it differs and apply file attributes; returns (changed, diff, backup_file)."""
    module, dest, fmt = kms.module, kms.params['dest'], kms.params['format']
    content = public_key['pem'].encode('ascii') if fmt == 'pem' else base64.b64decode(public_key['der_b64'])
    existing = read_existing(dest)
    changed = existing != content
    diff = key_diff(dest, diff_text(existing, fmt), diff_text(content, fmt))
    backup_file = None
    if changed and not module.check_mode:
        if kms.params['backup'] and existing is not None:
            backup_file = module.backup_local(dest)
        write_atomically(module, dest, content)
    if existing is not None or not module.check_mode:
        file_args = module.load_file_common_arguments(module.params, path=dest)
        changed = module.set_fs_attributes_if_different(file_args, changed, diff=None)
    return changed, diff, backup_file


def run(kms):
    key_ref = _keys.validate_key_id(kms.params['key_id'], allow_alias=True)
    public_key = _keys.get_public_key(kms.client, key_ref)
    result = {
        'changed': False,
        'key_id': public_key['key_id'],
        'public_key_pem': public_key['pem'],
        'public_key_der': public_key['der_b64'],
        'key_spec': public_key['key_spec'],
        'fingerprint_sha256': public_key['fingerprint_sha256'],
    }
    if kms.params['dest']:
        result['changed'], diff, backup_file = write_dest(kms, public_key)
        result['dest'] = kms.params['dest']
        if backup_file:
            result['backup_file'] = backup_file
        if kms.diff_mode:
            result['diff'] = diff
    return result


def main():
    KmsModule(
        dict(
            key_id=dict(type='str', required=True, no_log=False),
            dest=dict(type='path'),
            format=dict(type='str', default='pem', choices=['pem', 'der']),
            backup=dict(type='bool', default=False),
        ),
        add_file_common_args=True,
    ).run(run)


if __name__ == '__main__':
    main()
