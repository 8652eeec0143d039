#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: kms_byok
short_description: Import your own key material into many KMS keys in one task
version_added: 0.1.0
description:
  - Brings customer key material into Huawei Cloud or Open Telekom Cloud KMS (bring your own key,
    BYOK) for a whole list of keys in one task. This is the engine of the role
    P(dew.kms.byok#role).
  - For every entry of O(keys) it finds the key (by O(keys[].alias) or O(keys[].key_id)), creates
    an external key under the alias when it is missing and O(create_missing=true), fetches import
    parameters, wraps the material locally, imports it and, with O(verify=true), checks the result.
  - All keys share one HTTP connection pool and one set of credentials (a single IAM token with
    password authentication) and are processed in parallel by at most O(max_workers) threads.
    Aliases are resolved with one paged key listing rather than one lookup per key.
  - "Material is wrapped on the host that runs the module. Run it on the controller
    (C(delegate_to: localhost)) so that plaintext key material never leaves it."
  - One failing key (pending deletion, not an external key, material of the wrong size or type, ...)
    fails only its own entry of RV(results). The other keys are still processed; the module then
    fails and its message names the keys that failed.
  - Idempotent by key state. A key that already holds material gets no import call. It is reported
    as V(unchanged) only when nothing says it holds other material. For RSA and EC keys its public
    key in KMS must be the public key of the given private key; for V(AES_256) keys the material
    record the collection wrote when it imported the material (key tag C(dew-kms-record), an
    AES-CMAC keyed with the material and bound to the key id) must be the one of the given material.
    Other material fails that key. A key without such a record is V(unproven) - a check value or the
    C(dew-kms-kcv) tag of earlier versions is a claim anyone could copy, never a proof. See
    RV(results[].material_check).
  - KMS accepts only the same material again for a key, so the module cannot change the material
    of a key.
  - Key material is never part of the results, the messages, the diff or the warnings.
  - "Progress. When the task runs on the controller (C(delegate_to: localhost), as in the role), the
    batch runs inside the controller's Ansible process and each key is shown as it completes - its
    alias, action and state, or the reason it failed - followed by a totals line
    (C(5 keys: 2 created and imported, 1 imported, 1 unchanged, 1 failed)) and a table of every key
    (alias, spec, action, state, verified, expiry, key ID). The lines go through Ansible's display,
    so they appear in the default callback's output and in AWX job output. A task with
    C(no_log: true) shows none of them."
  - "When the task runs as a module - on another host, with C(become), or when the controller's
    Python lacks C(requests) or C(cryptography) - there are no per-key lines; the totals line and
    the table follow when the module returns."
  - A bad entry of O(keys) fails the task before any call, with one line per bad entry that names
    it by position and alias, for example C(keys[2] (app-data\)), and the rule it breaks. Warnings
    about a key name its alias.
author:
  - dew.kms developers (!UNKNOWN)
options:
  keys:
    description:
      - The keys to bring in. The order is kept in RV(results).
      - Each entry needs exactly one of O(keys[].alias) and O(keys[].key_id), and for O(phase=all)
        and O(phase=wrap) exactly one of O(keys[].key_material) and O(keys[].key_material_path).
      - An alias or key ID may appear only once in the list.
    type: list
    elements: dict
    required: true
    suboptions:
      alias:
        description:
          - Alias of the key (without the C(alias/) prefix).
          - When no key has this alias and O(create_missing=true), an external key with this alias,
            O(keys[].key_spec), O(keys[].key_usage) and O(keys[].description) is created.
        type: str
      key_id:
        description:
          - ID of an existing external key. Keys named by ID are never created.
        type: str
      key_spec:
        description:
          - Algorithm of the key. It must match the existing key and the material.
        type: str
        default: AES_256
        choices: [AES_256, RSA_2048, RSA_3072, RSA_4096, EC_P256, EC_P384]
      key_usage:
        description:
          - Usage of a key the module creates. Ignored for existing keys.
          - Defaults to what KMS chooses for O(keys[].key_spec) - V(ENCRYPT_DECRYPT) for V(AES_256),
            V(SIGN_VERIFY) for RSA and EC keys. EC keys support only V(SIGN_VERIFY).
        type: str
        choices: [ENCRYPT_DECRYPT, SIGN_VERIFY]
      key_material:
        description:
          - The key material as text. For V(AES_256), the base64 of the 32 key bytes. For RSA and
            EC keys, the private key as PEM text or base64 DER.
          - Never logged. Prefer O(keys[].key_material_path), or keep the variable in a vault.
        type: str
      key_material_path:
        description:
          - File holding the key material, on the host that runs the module.
          - For V(AES_256), exactly 32 raw bytes or their base64 text. For RSA and EC keys, an
            unencrypted private key in PEM or DER (PKCS#8, PKCS#1 or SEC1).
          - It must be a regular file of at most 64 KiB; a directory, device or FIFO fails that key
            at once.
        type: path
      expiration_time:
        description:
          - When KMS should delete the imported material again, as epoch seconds or an ISO 8601
            date and time (UTC unless an offset is given). It must be in the future.
          - Omit it for material that never expires. Only for V(AES_256) keys; the material of
            RSA and EC keys is permanent.
          - Applied only when material is imported; a warning says so when a key already holds
            material with another expiry.
        type: str
      description:
        description:
          - Description of a key the module creates (at most 255 characters). Existing keys keep
            theirs.
        type: str
      rotate:
        description:
          - When the key under O(keys[].alias) provably holds other material than the one given, create a
            new external key with the given material, rename the old key to
            C(<alias>-retired-<UTC timestamp>) (it keeps working, for data encrypted under it) and move
            the alias to the new key. RV(results[].retired_key_id) names the old key.
          - The proof is the public key for RSA and EC keys, and for AES keys the material record the
            collection wrote as the key tag C(dew-kms-record) when it imported the material. An AES key
            without that record is never rotated; such an entry fails and the key stays as it is.
          - When the key holds the given material already, nothing happens. Only with O(phase=all).
        type: bool
        default: false
  wrapping_algorithm:
    description:
      - Algorithm that wraps the material with the import public key of KMS.
      - V(RSAES_OAEP_SHA_1) and V(RSAES_PKCS1_V1_5) are weak and only for regions that lack
        V(RSAES_OAEP_SHA_256); using them shows a warning.
    type: str
    default: RSAES_OAEP_SHA_256
    choices: [RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1, RSAES_PKCS1_V1_5]
  create_missing:
    description:
      - Create an external key for an O(keys[].alias) that no key has yet.
      - With V(false), such an entry fails.
    type: bool
    default: true
  verify:
    description:
      - After importing material, check the key. It must be enabled; an V(AES_256) key must
        encrypt and decrypt a random probe through KMS; for an RSA or EC key, the public key KMS
        returns must equal the one derived from the local private key.
      - Only keys whose material this task imported are verified. Keys that already held material
        are not, so that a second run stays cheap; their RV(results[].verified) is V(null).
    type: bool
    default: true
  max_workers:
    description:
      - Maximum number of keys processed at the same time (threads sharing one connection pool).
      - Between 1 and 32. Lower it if the cloud throttles the account (HTTP 429).
    type: int
    default: 8
  phase:
    description:
      - Which part of the key ceremony to run. The bundle formats are described in
        R(the key ceremony guide,ansible_collections.dew.kms.docsite.guide_ceremony).
      - V(all) - everything in one run, with the material at hand (find, create, wrap, import, verify).
      - V(export) - online, needs credentials. Finds the keys (creating missing ones as
        O(create_missing) says), fetches import parameters for each key that waits for material and
        writes them to O(bundle_path). Reads no material; O(keys[].key_material) and
        O(keys[].key_material_path) are ignored.
      - V(wrap) - offline. Needs no credentials and opens no network connection. Reads O(bundle_path)
        and the material of every key, refuses expired import tokens, tokens for keys not in O(keys)
        and weak wrapping keys, and writes the wrapped material with its check values to
        O(wrapped_path) (mode 0600).
      - V(import) - online, needs credentials. Reads O(wrapped_path), imports, verifies and reports.
        Reads no material. A token that expired since the export fails its key with a message saying
        to run the export and wrap phases again.
    type: str
    default: all
    choices: [all, export, wrap, import]
  bundle_path:
    description:
      - The export bundle on the host that runs the module; written by O(phase=export) (mode 0600),
        read by O(phase=wrap). Its directory must exist.
      - It holds import tokens and wrapping public keys, no key material.
    type: path
  wrapped_path:
    description:
      - The wrapped bundle; written by O(phase=wrap) (mode 0600), read by O(phase=import). Its
        directory must exist.
      - It holds material wrapped for KMS (useless without the KMS private wrapping key) and
        check values, never plaintext material.
    type: path
  bundle_digest:
    description:
      - O(phase=wrap) only, and required there. The digest of the export bundle that O(phase=export)
        printed and returned (RV(bundle_digest)), typed in on the wrap station from a channel other than
        the one that carried the file (read aloud, or from the screen of the online station).
      - The wrap phase refuses to wrap anything when O(bundle_path) does not have this digest, so a
        bundle whose wrapping public keys were swapped on the way never receives material.
      - 32 hex digits (printed as 8 groups of 4 separated by C(-); any case, any grouping), or all
        64 digits of C(sha256sum) of the file.
    type: str
  wrapped_digest:
    description:
      - O(phase=import) only, and required there. The digest of the wrapped bundle that O(phase=wrap)
        printed and returned (RV(wrapped_digest)), typed in on the online station.
      - The import phase imports nothing when O(wrapped_path) does not have this digest, so material
        swapped in the wrapped bundle on the way is never imported.
      - The same forms as O(bundle_digest). For a wrapped bundle filled by another tool (an HSM),
        C(sha256sum) of the file gives it.
    type: str
  report_path:
    description:
      - Write an evidence report of this run here (JSON), and its Markdown rendering next to it
        (C(.json) replaced by C(.md)), for O(phase=all) and O(phase=import). The other phases import
        nothing and ignore it, so that one set of options serves every phase.
      - Its directory must exist; when it does not, the run fails before it changes anything.
      - One record per key - alias, key ID, key spec, action, wrapping algorithm, phase times
        (UTC), material expiry, check value, collection version, user and host. Never material,
        tokens or credentials. Not written in check mode.
    type: path
  renew_within_days:
    description:
      - Renew material that expires within this many days - delete it and import the same material
        again with the later O(keys[].expiration_time), one key at a time. V(0) (the default) never
        renews. Only with O(phase=all).
      - Only after proving that the given material is the one KMS holds (see O(keys[].rotate) for the
        proofs); a key without that proof, or holding other material, fails and keeps its material. Between the deletion and the import
        (a few API calls) the key cannot be used.
    type: int
    default: 0
  expiry_warning_days:
    description:
      - Warn for every key whose material expires within this many days. V(0) disables the warning.
    type: int
    default: 30
extends_documentation_fragment:
  - dew.kms.auth
  - dew.kms.wait
  - dew.kms.requirements
  - dew.kms.requirements.cryptography
  - dew.kms.attributes
attributes:
  check_mode:
    details:
      - Reports what would be created and imported; makes no call that changes a key.
  diff_mode:
    support: full
    details:
      - One diff per changed key, with the key state and material expiry before and after.
        Never the material.
notes:
  - "Calls per key - one key listing for all aliases (one call per 100 keys in the project), then
    for a key waiting for its material C(get-parameters-for-import) and C(import-key-material),
    plus the material record tag for AES material, C(describe-key) on Open Telekom Cloud (its listing
    shows no key_spec), and C(create-key) for a key that is created. Verification adds
    C(describe-key) and either C(encrypt-data) and C(decrypt-data) or C(get-publickey). A key
    that already holds its material is compared with it: AES keys through one query of the
    material records of all keys for the whole run (a key missing from its answer is asked
    alone), RSA and EC keys by their public key."
  - "When C(create-key) or C(import-key-material) fails unclearly (a 5xx answer, or a connection
    lost after the request was sent), the module reads the key state before it acts again - it
    looks the alias up, or describes the key. A key that exists or holds its material is used as
    it is; otherwise the call is made again (an import with fresh import parameters), at most
    O(retries) times, each time with a warning. Nothing is ever created or imported twice."
  - B(Keep a backup of your key material.) A key that once held material accepts only the same
    material again, after it expired or was deleted. Without the backup, the key and all data
    encrypted under it are lost.
seealso:
  - module: dew.kms.kms_key_material
    description: Import material into one key, or delete imported material.
  - module: dew.kms.kms_key
    description: Create, enable, disable and schedule deletion of keys.
  - module: dew.kms.kms_public_key
    description: Read the public key of an RSA or EC key.
  - ref: ansible_collections.dew.kms.docsite.design_decisions
    description: Why a batch module exists beside the single-key modules.
'''

EXAMPLES = r'''
# Authentication as for every dew.kms module: module_defaults for group/dew.kms.kms, or the
# environment. Relative paths are relative to the directory ansible-playbook runs in.

- name: Import three keys on the controller, creating the missing ones
  dew.kms.kms_byok:
    keys:
      - alias: batch-data
        key_material_path: keys/batch-data.bin       # 32 raw bytes
      - alias: batch-archive
        key_material: "{{ vault_batch_archive_b64 }}"  # base64 of 32 bytes
        expiration_time: "2031-01-01T00:00:00Z"
      - alias: batch-signing
        key_spec: RSA_2048
        key_material_path: keys/batch-signing.pem    # RSA private key
    region: eu-de
  delegate_to: localhost
  run_once: true
  register: byok

- name: Show what happened to each key
  ansible.builtin.debug:
    msg: "{{ byok.results | map(attribute='action') }}"

- name: An external key made elsewhere (here with dew.kms.kms_key)
  dew.kms.kms_key:
    alias: legacy-data
    origin: external
  register: legacy

- name: Import material into existing keys given by ID, without verification
  dew.kms.kms_byok:
    keys:
      - key_id: "{{ legacy.key.key_id }}"
        key_material_path: keys/legacy-data.bin
    verify: false
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
results:
  description:
    - One entry per element of O(keys), in the same order. Never contains key material.
  returned: always, also when the module fails because some keys failed
  type: list
  elements: dict
  contains:
    alias:
      description: Alias of the key (from KMS, or as given when the key was not found).
      type: str
      sample: app-data
    key_id:
      description: ID of the key; V(null) if it does not exist (yet).
      type: str
      sample: 0d0466b0-e727-4d9c-b35d-f84bb474a37f
    key_spec:
      description: Algorithm of the key.
      type: str
      sample: AES_256
    key_state:
      description: >-
        State code as KMS gives it (V(2) enabled, V(3) disabled, V(4) pending deletion,
        V(5) pending import); in check mode, the predicted state. V(null) if unknown.
      type: str
      sample: '2'
    key_state_name:
      description: >-
        The state in words - V(enabled), V(disabled), V(pending_deletion), V(pending_import), ...
      type: str
      sample: enabled
    changed:
      description: Whether this key was (or, in check mode, would be) changed.
      type: bool
    action:
      description:
        - What happened to the key. V(created+imported) - the key was created and its material
          imported. V(imported) - material was imported into an existing key. V(unchanged) - the
          key already held its material. V(would_create+import) and V(would_import) - the same
          in check mode. V(failed) - see RV(results[].error).
        - V(exported), V(created+exported), V(would_export), V(would_create+export) - the export
          phase fetched (or would fetch) import parameters. V(wrapped), V(would_wrap) - the wrap
          phase. V(renewed), V(would_renew) - see O(renew_within_days). V(rotated), V(would_rotate) -
          see O(keys[].rotate).
      type: str
      choices: [created+imported, imported, unchanged, would_create+import, would_import, failed,
                exported, created+exported, would_export, would_create+export, wrapped, would_wrap,
                renewed, would_renew, rotated, would_rotate]
      sample: created+imported
    verified:
      description:
        - V(true) when the verification after the import passed, V(false) when it failed, V(null)
          when it did not run (O(verify=false), check mode, no import in this run).
      type: bool
    material_check:
      description:
        - How the module knows which material the key holds.
        - V(imported) - this run imported it (for V(AES_256) keys, its material record was written as
          the key tag C(dew-kms-record)).
        - V(public key matched) - the RSA/EC key held material, and its public key is the one of the
          given private key.
        - V(matched) - the V(AES_256) key held material whose material record (bound to this key) is
          the one of the given material, a proof only the holder of the material can produce.
        - V(unproven) - the V(AES_256) key held material without a material record (imported by
          another tool or an earlier version, or tags that cannot be read). Which material it holds
          cannot be proven; the key is left as it is and nothing is renewed or rotated.
        - V(null) - the key failed, or check mode predicts an import.
        - A key that holds other material fails instead (RV(results[].error)).
      type: str
      choices: [imported, public key matched, matched, unproven]
      sample: matched
    expiration_time:
      description: Expiry of the key material in epoch seconds; V(null) when it never expires.
      type: int
      sample: 1924992000
    expiration_date:
      description: RV(results[].expiration_time) as ISO 8601 UTC.
      type: str
      sample: '2031-01-01T00:00:00Z'
    error:
      description: Why this key failed (V(null) when it did not).
      type: str
      sample: >-
        Key 0d0466b0-e727-4d9c-b35d-f84bb474a37f is pending deletion: cancel the deletion first
        (dew.kms.kms_key with cancel_deletion=true), then import the material.
    error_code:
      description: KMS or API gateway error code of the failure, if the service gave one.
      type: str
      sample: KMS.0310
    request_id:
      description: Request ID of the failed call, for the cloud's support, if any.
      type: str
    expires_in_days:
      description:
        - Whole days until the material expires (negative once expired); V(null) when it never
          expires or the expiry is not known. Counted on KMS's clock (the C(Date) of its answers),
          the clock that deletes expired material.
      type: int
      sample: 397
    check_value_type:
      description:
        - V(kcv) for AES-256 material, V(public_key_sha256) for RSA and EC keys. Set when this run
          had the material (or the wrapped bundle) of the key.
      type: str
      sample: kcv
    check_value:
      description:
        - The check value of the material - the first 3 bytes of AES-CMAC over 16 zero bytes as 6
          upper-case hex digits (KCV), or the SHA-256 of the DER public key. Not a secret.
      type: str
      sample: 5B1A2C
    wrapping_algorithm:
      description: The wrapping algorithm of the bundle (O(phase=wrap) and O(phase=import)).
      type: str
      sample: RSAES_OAEP_SHA_256
    retired_key_id:
      description: The old key of a rotation (O(keys[].rotate)), now under RV(results[].retired_alias).
      type: str
      returned: when the key was rotated
    retired_alias:
      description: The alias of the old key after a rotation.
      type: str
      returned: when the key was rotated
      sample: app-data-retired-20300101T000000Z
    token_expiration_date:
      description: When the import token of the key expires (O(phase=export) and O(phase=wrap)).
      type: str
      sample: '2031-01-01T00:00:00Z'
    wrapping_key_sha256:
      description:
        - SHA-256 (hex) of the DER of the wrapping public key KMS handed out for the key
          (O(phase=export)) and the one the material was wrapped for (O(phase=wrap)). Printed by both
          phases so that the two stations can compare them key by key.
      type: str
      returned: phase export and phase wrap
      sample: 9c1d0c3e5c1f4f0e2a5b8f6a9d7e3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d
bundle_path:
  description: The export bundle written (O(phase=export)).
  returned: when a bundle was written
  type: str
wrapped_path:
  description: The wrapped bundle written (O(phase=wrap)).
  returned: when a bundle was written
  type: str
report_path:
  description: The evidence report written (JSON; the Markdown is next to it).
  returned: when a report was written
  type: str
bundle_digest:
  description:
    - The digest of the export bundle (the first 128 bits of its SHA-256, as 8 groups of 4 hex
      digits; C(sha256sum FILE | cut -c1-32) shows the same digits). O(phase=export) returns and prints
      the digest of the bundle it wrote, to be given to O(phase=wrap) as O(bundle_digest);
      O(phase=wrap) returns the digest it checked.
  returned: phase export when a bundle was written, phase wrap
  type: str
  sample: 3f2a-91c0-5b7e-0d44-a8e1-6c2f-77b9-e035
wrapped_digest:
  description:
    - The digest of the wrapped bundle, in the same form. O(phase=wrap) returns and prints it, to be
      given to O(phase=import) as O(wrapped_digest); O(phase=import) returns the digest it checked.
  returned: phase wrap when a bundle was written, phase import
  type: str
  sample: 0b6d-2e47-c1a9-88f3-45d0-9e1b-6a72-c4f8
'''

from ansible_collections.dew.kms.plugins.module_utils._batch import Batch
from ansible_collections.dew.kms.plugins.module_utils._common import WAIT_ARGSPEC, KmsModule
from ansible_collections.dew.kms.plugins.module_utils._phases import PHASES
from ansible_collections.dew.kms.plugins.module_utils._wrap import (
    ASYMMETRIC_KEY_SPECS,
    SYMMETRIC_KEY_SPECS,
    WRAPPING_ALGORITHMS,
)

KEY_OPTIONS = dict(
    alias=dict(type='str'),
    key_id=dict(type='str'),
    key_spec=dict(type='str', default='AES_256', choices=list(SYMMETRIC_KEY_SPECS + ASYMMETRIC_KEY_SPECS)),
    key_usage=dict(type='str', choices=['ENCRYPT_DECRYPT', 'SIGN_VERIFY']),
    key_material=dict(type='str', no_log=True),
    key_material_path=dict(type='path'),
    expiration_time=dict(type='str'),
    description=dict(type='str'),
    rotate=dict(type='bool', default=False),
)

ARGUMENT_SPEC = dict(
    WAIT_ARGSPEC,
    keys=dict(type='list', elements='dict', required=True, options=KEY_OPTIONS, no_log=False,
              mutually_exclusive=[['alias', 'key_id'], ['key_material', 'key_material_path']],
              required_one_of=[['alias', 'key_id']]),
    wrapping_algorithm=dict(type='str', default='RSAES_OAEP_SHA_256', choices=list(WRAPPING_ALGORITHMS)),
    create_missing=dict(type='bool', default=True),
    verify=dict(type='bool', default=True),
    max_workers=dict(type='int', default=8),
    phase=dict(type='str', default='all', choices=list(PHASES)),
    bundle_path=dict(type='path'),
    wrapped_path=dict(type='path'),
    bundle_digest=dict(type='str'),
    wrapped_digest=dict(type='str'),
    report_path=dict(type='path'),
    renew_within_days=dict(type='int', default=0),
    expiry_warning_days=dict(type='int', default=30),
)


def run(kms):
    return Batch(kms).run()


def main():
    KmsModule(ARGUMENT_SPEC).run(run)


if __name__ == '__main__':
    main()
