#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kms_import_params
short_description: Fetch the wrapping key and import token of an external KMS key
version_added: 0.1.0
description:
  - Calls C(get-parameters-for-import) for a key created with C(origin=external) and returns the
    RSA public key to wrap key material with, and the import token that goes with it.
  - Use it when the material is wrapped outside Ansible, for example in an HSM or on an
    offline machine, then imported with M(dew.kms.kms_key_material) and its
    O(dew.kms.kms_key_material#module:import_token) and
    O(dew.kms.kms_key_material#module:encrypted_key_material) options.
    When the plaintext material is available to Ansible, M(dew.kms.kms_key_material) does all
    steps itself and this module is not needed.
  - Each call returns a fresh public key and token; the token is valid until RV(expiration_time)
    (24 hours on the public clouds).
  - The module changes no key state and always reports RV(ignore:changed=false); it runs in
    check mode as well.
author:
  - dew.kms developers (!UNKNOWN)
extends_documentation_fragment:
  - dew.kms.auth
  - dew.kms.wait
  - dew.kms.requirements
  - dew.kms.requirements.cryptography
  - dew.kms.attributes
  - dew.kms.attributes.info_module
options:
  key_id:
    description:
      - ID of the key, or an alias reference C(alias/<name>).
      - The key must have been created with C(origin=external) and wait for its material
        (state C(pending_import)).
    type: str
    required: true
  wrapping_algorithm:
    description:
      - How the key material will be wrapped with the returned public key.
      - V(RSAES_OAEP_SHA_1) and V(RSAES_PKCS1_V1_5) are weak and only for old tooling; the module
        warns when they are used. Not every region offers them.
    type: str
    choices: [RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1, RSAES_PKCS1_V1_5]
    default: RSAES_OAEP_SHA_256
attributes:
  check_mode:
    details: The module changes nothing, so it runs the same in check mode and returns real parameters.
notes:
  - The import token is a one-time credential for importing material into this key. It is not
    key material, but keep it out of logs like one. Set C(no_log=true) on the task that registers
    the result, and on the task that passes the token on.
seealso:
  - module: dew.kms.kms_key_material
    description: Import the wrapped material with the token returned here.
  - module: dew.kms.kms_key
    description: Create the external key first.
"""

EXAMPLES = r"""
- name: Wrap key material outside Ansible
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/dew.kms.kms:
      region: eu-de
      auth_token: "{{ otc_token }}"
      project_id: "{{ otc_project_id }}"
  tasks:
    - name: An external key for the material
      dew.kms.kms_key:
        alias: hsm-data
        origin: external

    - name: Fetch import parameters
      dew.kms.kms_import_params:
        key_id: alias/hsm-data
      register: params
      no_log: true

    - name: Save the wrapping key for the HSM
      ansible.builtin.copy:
        content: "{{ params.public_key_pem }}"
        dest: hsm-data-wrapping-key.pem
        mode: "0644"

    # Here openssl plays the HSM: RSAES_OAEP_SHA_256 (SHA-256 for OAEP and MGF1).
    - name: Wrap the material with the wrapping key
      ansible.builtin.command: >-
        openssl pkeyutl -encrypt -pubin -inkey hsm-data-wrapping-key.pem
        -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
        -in keys/hsm-data.bin -out hsm-data.wrapped
      changed_when: true

    - name: Read the wrapped material (slurp returns it base64 encoded)
      ansible.builtin.slurp:
        src: hsm-data.wrapped
      register: wrapped

    - name: Import the wrapped material
      dew.kms.kms_key_material:
        key_id: "{{ params.key_id }}"
        import_token: "{{ params.import_token }}"
        encrypted_key_material: "{{ wrapped.content }}"
      no_log: true

# Ad-hoc, with the credentials in the environment (the output shows the token):
#   HW_AUTH_TOKEN=... HW_PROJECT_ID=... HW_REGION_NAME=eu-de \
#   ansible localhost -m dew.kms.kms_import_params -a key_id=alias/hsm-data
"""

RETURN = r"""
key_id:
  description: ID of the key.
  returned: success
  type: str
  sample: 0d0466b0-e727-4d9c-b35d-f84bb474a37f
import_token:
  description:
    - The import token, to pass to O(dew.kms.kms_key_material#module:import_token) together with
      the material wrapped with RV(public_key). Treat it as sensitive (see the notes).
  returned: success
  type: str
  sample: AAAAiAY...
public_key:
  description: The wrapping public key as the API returns it, base64 of a DER SubjectPublicKeyInfo.
  returned: success
  type: str
  sample: MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA...
public_key_pem:
  description: The same public key as PEM text with LF line endings.
  returned: success
  type: str
  sample: "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA...\n-----END PUBLIC KEY-----\n"
expiration_time:
  description: When the token and public key expire, epoch seconds.
  returned: success
  type: int
  sample: 1767312000
expiration_date:
  description: RV(expiration_time) as an ISO 8601 date and time in UTC.
  returned: success
  type: str
  sample: '2026-01-02T00:00:00Z'
"""

from ansible_collections.dew.kms.plugins.module_utils._common import WAIT_ARGSPEC, KmsModule
from ansible_collections.dew.kms.plugins.module_utils import _keys, _material, _regions, _wrap


def run(kms):
    p = kms.params
    key_id = _keys.validate_key_id(p['key_id'], allow_alias=True)
    _regions.check_wrapping_algorithm(kms.client.config.cloud_provider, p['wrapping_algorithm'])
    _material.warn_weak_algorithm(p['wrapping_algorithm'], kms.warn)
    if _keys.is_alias_ref(key_id):
        key_id = _keys.describe_key(kms.client, key_id)['key_id']
    result = _keys.when_usable(kms.client, key_id, kms.wait_timeout,
                               lambda: _material.get_import_params(kms.client, key_id, p['wrapping_algorithm']))
    result['changed'] = False
    return result


def main():
    KmsModule(
        dict(
            WAIT_ARGSPEC,
            key_id=dict(type='str', required=True, no_log=False),
            wrapping_algorithm=dict(type='str', default='RSAES_OAEP_SHA_256',
                                    choices=list(_wrap.WRAPPING_ALGORITHMS)),
        ),
    ).run(run)


if __name__ == '__main__':
    main()
