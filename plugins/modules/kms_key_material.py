#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kms_key_material
short_description: Import or delete the key material of an external KMS key (BYOK)
version_added: 0.1.0
description:
  - Brings your own key material into a Huawei Cloud / Open Telekom Cloud KMS key that was created
    with C(origin=external) (see M(dew.kms.kms_key)), or deletes imported material again.
  - With plaintext input (O(key_material) or O(key_material_path)) the module fetches fresh import
    parameters, wraps the material on the host that runs the module and imports it. The plaintext
    never leaves that host and never appears in results, diffs or error messages.
  - With pre-wrapped input (O(import_token) and O(encrypted_key_material), plus
    O(encrypted_privatekey) for RSA and EC keys) the module imports what was wrapped elsewhere,
    for example with the parameters from M(dew.kms.kms_import_params).
  - Idempotent by key state. A key waiting for its material (C(pending_import)) gets it; a key that
    has material already (enabled or disabled) is left as it is, and the task reports no change
    only when nothing says it holds other material (see RV(material_check)). For RSA and EC keys the
    public key in KMS must be the one of the given private key; for V(AES_256) keys the material
    record the collection wrote as key tag C(dew-kms-record) when it imported must be the one of the
    given material. Other material fails the task and changes nothing.
  - After importing V(AES_256) material the module writes its material record as the key tag
    C(dew-kms-record) - the full AES-CMAC keyed with the material over a message holding the key id
    (22 characters, base64url; not a secret). Only the holder of the material can compute it for a
    key, and a record copied from another key never matches. If the cloud refuses the tag, the import
    still succeeds with a warning. KMS itself only ever accepts the same material again for a key
    that had material before, which is what makes the record a proof.
  - Everything that can be checked locally (material size and type, key type, key state, expiry)
    is checked before any change is made.
author:
  - dew.kms developers (!UNKNOWN)
extends_documentation_fragment:
  - dew.kms.auth
  - dew.kms.wait
  - dew.kms.requirements
  - dew.kms.requirements.cryptography
  - dew.kms.attributes
options:
  key_id:
    description:
      - ID of the key, or an alias reference C(alias/<name>).
      - The key must have been created with C(origin=external).
    type: str
    required: true
  state:
    description:
      - V(present) imports the material when the key waits for it.
      - V(absent) deletes the imported material of a symmetric (V(AES_256)) key, which puts the
        key back into C(pending_import); data encrypted with it cannot be decrypted until the same
        material is imported again. The material of RSA and EC keys cannot be deleted; schedule
        deletion of the key with M(dew.kms.kms_key) instead.
    type: str
    choices: [present, absent]
    default: present
  key_material:
    description:
      - The plaintext key material. For an V(AES_256) key, the 32 bytes encoded as base64. For an
        RSA or EC key, the private key as PEM text (PKCS#1, SEC1 or PKCS#8, unencrypted) or as
        base64 of its DER encoding.
      - Keep it in Ansible Vault or a secret store. The module never returns or logs it.
      - Mutually exclusive with O(key_material_path) and O(import_token).
    type: str
  key_material_path:
    description:
      - Path of a file with the plaintext key material on the host that runs the module. For an
        V(AES_256) key, the raw 32 bytes or their base64 encoding. For an RSA or EC key, the
        private key, PEM or DER, PKCS#1, SEC1 or PKCS#8, unencrypted.
      - It must be a regular file of at most 64 KiB; a directory, device or FIFO fails at once.
      - Mutually exclusive with O(key_material) and O(import_token).
    type: path
  wrapping_algorithm:
    description:
      - How the module wraps plaintext material for the import. Only used with O(key_material)
        or O(key_material_path).
      - V(RSAES_OAEP_SHA_1) and V(RSAES_PKCS1_V1_5) are weak and only for old regions; the module
        warns when they are used.
    type: str
    choices: [RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1, RSAES_PKCS1_V1_5]
    default: RSAES_OAEP_SHA_256
  import_token:
    description:
      - Pre-wrapped input. The import token from M(dew.kms.kms_import_params) that was issued
        for this key together with the public key the material was wrapped with.
      - The token expires (see RV(dew.kms.kms_import_params#module:expiration_time)). An expired
        token fails the task; fetch new parameters and wrap the material again.
      - Requires O(encrypted_key_material).
    type: str
  encrypted_key_material:
    description:
      - Pre-wrapped input, base64. For an V(AES_256) key, the 32-byte material encrypted with the
        wrapping public key. For an RSA or EC key, the temporary AES key encrypted with it.
    type: str
  encrypted_privatekey:
    description:
      - Pre-wrapped input for RSA and EC keys, base64. The PKCS#8 DER private key wrapped with the
        temporary AES key using AES key wrap with padding (RFC 5649).
    type: str
  expiration_time:
    description:
      - When KMS deletes imported symmetric material again, as epoch seconds (V(1893456000)) or an
        ISO 8601 date and time (V(2030-01-01T00:00:00Z); without a time, midnight UTC). It must be
        in the future, and at most V(9999-12-31T23:59:59Z).
      - Not set means the material does not expire. RSA and EC material never expires; the module
        fails when this is set for such a key.
      - Only applied when the material is imported. For a key that already has its material the
        module warns when the expiry differs, and changes nothing.
    type: str
attributes:
  check_mode:
    details: In check mode the module reads the key, checks the input and predicts the result; it fetches no
      import parameters and makes no change call.
  diff_mode:
    support: full
    details: The diff shows the key state and the material expiry before and after, never material.
notes:
  - A first import costs three API calls (read the key, fetch import parameters, import), plus
    one to record the check value of V(AES_256) material; a key that has its material already costs
    two (read the key, then its public key or its tags).
  - If the import call fails without a clear answer (a server error or a lost connection), the
    module reads the key again. When the key has its material then, the import succeeded and it
    is not repeated. When the key still waits for its material, nothing was imported; with
    plaintext input the module fetches new parameters and imports again, at most
    O(retries) times, with a warning each time; with pre-wrapped input it fails and says that
    running the task again is safe.
  - If the import token expires between fetching it and the import, the module fetches new
    parameters once and imports again (plaintext input only).
seealso:
  - module: dew.kms.kms_key
    description: Create the external key first, or schedule its deletion.
  - module: dew.kms.kms_import_params
    description: Fetch import parameters to wrap material outside Ansible.
  - module: dew.kms.kms_public_key
    description: Check that an imported RSA or EC key has the expected public key.
"""

EXAMPLES = r"""
- name: Bring your own keys into KMS
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/dew.kms.kms:
      region: eu-de
      username: "{{ otc_username }}"
      password: "{{ otc_password }}"
      domain_name: "{{ otc_domain }}"
  tasks:
    - name: An external AES key
      dew.kms.kms_key:
        alias: byok-data
        origin: external
      register: byok_key

    - name: Import its material from a vaulted variable (base64 of 32 bytes)
      dew.kms.kms_key_material:
        key_id: "{{ byok_key.key.key_id }}"
        key_material: "{{ vault_byok_data_b64 }}"
        expiration_time: "2030-01-01T00:00:00Z"

    - name: An external RSA signing key
      dew.kms.kms_key:
        alias: byok-signing
        origin: external
        key_spec: RSA_3072

    - name: Import its private key from a file on the controller (relative to the working directory)
      dew.kms.kms_key_material:
        key_id: alias/byok-signing
        key_material_path: keys/byok-signing.pem

    - name: Delete the AES material again (the key waits for the same material afterwards)
      dew.kms.kms_key_material:
        key_id: alias/byok-data
        state: absent

# Ad-hoc, with the credentials in the environment:
#   HW_ACCESS_KEY=... HW_SECRET_KEY=... HW_PROJECT_ID=... HW_REGION_NAME=eu-de \
#   ansible localhost -m dew.kms.kms_key_material -a 'key_id=alias/byok-data key_material_path=keys/byok-data.bin'
"""

RETURN = r"""
material_check:
  description:
    - How the module knows which material the key holds.
    - V(imported) - this task imported it (for V(AES_256) keys, its material record was written as
      the key tag C(dew-kms-record)).
    - V(public key matched) - the RSA/EC key held material whose public key is the one of the given
      private key.
    - V(matched) - the V(AES_256) key held material whose material record (bound to this key) is the
      one of the given material.
    - V(unproven) - the V(AES_256) key held material without a material record (imported by another
      tool or an earlier version, or where tags cannot be read; the C(dew-kms-kcv) tag of earlier
      versions is a claim, not a proof). Which material it holds cannot be proven.
    - V(not checked) - pre-wrapped input for a key that holds material; the material is not known here.
    - V(null) with O(state=absent), and in check mode when an import is due.
  returned: success
  type: str
  choices: [imported, public key matched, matched, unproven, not checked]
  sample: matched
key:
  description: The key after the task (predicted in check mode).
  returned: success
  type: dict
  contains:
    key_id:
      description: ID of the key.
      type: str
      sample: 0d0466b0-e727-4d9c-b35d-f84bb474a37f
    alias:
      description: Alias of the key.
      type: str
      sample: app-data
    key_spec:
      description: Algorithm of the key.
      type: str
      sample: AES_256
    origin:
      description: Always V(external) for a key with imported material.
      type: str
      sample: external
    key_state:
      description:
        - State code as the API gives it, V(2) enabled, V(3) disabled, V(5) pending import.
      type: str
      sample: '2'
    key_state_name:
      description: The state in words.
      type: str
      sample: enabled
    enabled:
      description: Whether the key is enabled.
      type: bool
      sample: true
    expiration_time:
      description: Expiry of the imported material, epoch seconds; V(null) when it does not expire.
      type: int
      sample: 1893456000
    description:
      description: Description of the key.
      type: str
      sample: Data key of the app
    key_usage:
      description: Usage of the key.
      type: str
      sample: ENCRYPT_DECRYPT
    creation_date:
      description: Creation time, epoch seconds.
      type: int
      sample: 1735689600
    scheduled_deletion_date:
      description: When a key pending deletion will be deleted, epoch seconds; V(null) otherwise.
      type: int
      sample: null
    default_key:
      description: Whether this is a Default Master Key; always V(false) here.
      type: bool
      sample: false
    domain_id:
      description: ID of the account (domain) that owns the key.
      type: str
      sample: b168fe00ff56492495a7d22974df2d0b
"""

from ansible_collections.dew.kms.plugins.module_utils._common import WAIT_ARGSPEC, KmsModule, key_diff
from ansible_collections.dew.kms.plugins.module_utils import _keys, _material, _regions, _wrap


def usable_key(kms, key_ref):
    """The key described, once it is no longer pending activation."""
    return _keys.wait_until_usable(kms.client, _keys.describe_key(kms.client, key_ref), kms.wait_timeout)


def present(kms, key_ref, expiration_time):
    p = kms.params
    if p['import_token']:
        wrapped = _material.WrappedMaterial.from_options(
            p['import_token'], p['encrypted_key_material'], p['encrypted_privatekey'])
        key = usable_key(kms, key_ref)
        return _material.import_wrapped_material(kms.client, key, wrapped, expiration_time,
                                                 check_mode=kms.check_mode, warn=kms.warn)
    material = _material.material_from_options(p)
    _regions.check_wrapping_algorithm(kms.client.config.cloud_provider, p['wrapping_algorithm'])
    _material.warn_weak_algorithm(p['wrapping_algorithm'], kms.warn)
    key = usable_key(kms, key_ref)
    return _material.import_material(
        kms.client, key, material, wrapping_algorithm=p['wrapping_algorithm'], expiration_time=expiration_time,
        check_mode=kms.check_mode, warn=kms.warn)


def run(kms):
    p = kms.params
    key_ref = _keys.validate_key_id(p['key_id'], allow_alias=True)
    if p['state'] == 'absent':
        key = usable_key(kms, key_ref)
        changed, before, after = _material.delete_material(kms.client, key, check_mode=kms.check_mode)
    else:
        expiration_time = _keys.parse_expiration_time(p['expiration_time'])
        changed, before, after = present(kms, key_ref, expiration_time)
    key = dict(after)
    result = {'changed': changed, 'key': key, 'material_check': key.pop('material_check', None)}
    if kms.diff_mode:
        result['diff'] = key_diff(after['key_id'], _keys.state_fields(before), _keys.state_fields(after))
    return result


def main():
    material_inputs = ('key_material', 'key_material_path', 'import_token')
    KmsModule(
        dict(
            WAIT_ARGSPEC,
            key_id=dict(type='str', required=True, no_log=False),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            key_material=dict(type='str', no_log=True),
            key_material_path=dict(type='path', no_log=False),
            wrapping_algorithm=dict(type='str', default='RSAES_OAEP_SHA_256',
                                    choices=list(_wrap.WRAPPING_ALGORITHMS)),
            import_token=dict(type='str', no_log=True),
            encrypted_key_material=dict(type='str', no_log=True),
            encrypted_privatekey=dict(type='str', no_log=True),
            expiration_time=dict(type='str'),
        ),
        mutually_exclusive=[material_inputs, ('key_material', 'key_material_path', 'encrypted_key_material'),
                            ('key_material', 'key_material_path', 'encrypted_privatekey')],
        required_together=[('import_token', 'encrypted_key_material')],
        required_if=[('state', 'present', material_inputs, True)],
    ).run(run)


if __name__ == '__main__':
    main()
