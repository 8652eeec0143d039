# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bad-input table: one row per bad input, the message it must produce, and why.

This file is the single source of the table. ``test_bad_inputs.py`` turns it into ONE playbook
(one task per row, ``ignore_errors``) and checks every row's registered result; the same data
renders ``docs/docsite/rst/bad_inputs.rst`` (``python tests/security/bad_inputs.py --write-doc``),
and a test fails when the page and the table differ.

Row arguments may name fixtures as ``${name}``: keys the test creates before the run (their
IDs, ``${...alias}`` for their aliases), files it writes, and the emulator's endpoints and
credentials. ``Long('a', 300)`` stands for a long string (shown short in the docs).
"""

import os
import string
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
DOC = os.path.join(HERE, '..', '..', 'docs', 'docsite', 'rst', 'bad_inputs.rst')


class Long(str):
    """A long repeated string (after an optional prefix) that the docs show as ``'a' x 300``."""

    def __new__(cls, unit, count, prefix=''):
        obj = str.__new__(cls, prefix + unit * count)
        obj.label = '%s%r x %d' % (prefix, unit, count)
        return obj


# Keys the test creates in project 1 before the run (name -> (key_spec, origin, state)).
FIXTURE_KEYS = {
    'aes_pending': ('AES_256', 'external', 'pending_import'),
    'aes_enabled': ('AES_256', 'external', 'enabled'),
    'rsa_pending': ('RSA_2048', 'external', 'pending_import'),
    'rsa_enabled': ('RSA_2048', 'external', 'enabled'),
    'ec_pending': ('EC_P256', 'external', 'pending_import'),
    'kms_key': ('AES_256', 'kms', 'enabled'),
    'deleting': ('AES_256', 'external', 'pending_deletion'),
    'disabled': ('AES_256', 'kms', 'disabled'),
}

# Targets: a module (the play's module_defaults give token authentication), the role, or
# 'auth:<module>' (a play without module_defaults; the row gives every connection option).
KM, IP, PK = 'dew.kms.kms_key_material', 'dew.kms.kms_import_params', 'dew.kms.kms_public_key'
KK, KI, KB, ROLE = 'dew.kms.kms_key', 'dew.kms.kms_key_info', 'dew.kms.kms_byok', 'role dew.kms.byok'

AES = '${aes_b64}'                      # valid base64 of 32 bytes
TOKEN_AUTH = {'auth_token': '${auth_token}', 'project_id': '${project_id}',
              'kms_endpoint': '${kms_endpoint}', 'retries': 0}
AKSK_AUTH = {'access_key': '${access_key}', 'secret_key': '${secret_key}', 'project_id': '${project_id}',
             'kms_endpoint': '${kms_endpoint}', 'iam_endpoint': '${iam_endpoint}', 'retries': 0}
PASSWORD_AUTH = {'username': '${username}', 'password': '${password}', 'domain_name': '${domain_name}',
                 'project_name': '${project_name}', 'kms_endpoint': '${kms_endpoint}',
                 'iam_endpoint': '${iam_endpoint}', 'retries': 0}
IMPORT_AES = {'key_id': '${aes_pending}', 'key_material': AES}


def auth(**options):
    """Arguments of an auth row: import valid material into the pending AES key with ``options``.

    Had the module acted on bad credentials or settings, the key would now hold material.
    """
    args = dict(IMPORT_AES)
    args.update(options)
    return args


def _with(base, **changes):
    args = dict(base)
    args.update(changes)
    return dict((k, v) for k, v in args.items() if v is not None)


class Row:
    """``expect``: fragments the message must contain; ``reject``: fragments it must not (a
    wrong hint is worse than none)."""

    def __init__(self, row_id, target, args, expect, why, category, reject=()):
        self.id = row_id
        self.target = target
        self.args = args
        self.expect = [expect] if isinstance(expect, str) else list(expect)
        self.reject = list(reject)
        self.why = why
        self.category = category

    @property
    def is_role(self):
        return self.target == ROLE

    @property
    def is_auth(self):
        return self.target.startswith('auth:')

    @property
    def module(self):
        return self.target[len('auth:'):] if self.is_auth else self.target


R = Row
TABLE = [
    # --------------------------------------------------------------------- malformed ids, aliases
    R('id-malformed', KM, _with(IMPORT_AES, key_id='not-a-key-id'),
      ['key_id is malformed', 'such as 0d0466b0-e727-4d9c-b35d-f84bb474a37f', 'alias/<name>'],
      'A typo must not reach the API; the message shows what an ID looks like.', 'malformed id'),
    R('id-path-traversal', KM, _with(IMPORT_AES, key_id='../../__emulator/stats/reset'),
      'key_id is malformed',
      'Key IDs become part of request bodies and messages; path characters are refused.', 'malformed id'),
    R('id-homoglyph', KM, _with(IMPORT_AES, key_id='${aes_pending_homoglyph}'),
      'key_id is malformed',
      'A key ID with a Cyrillic letter that looks Latin is not the key it resembles.', 'unicode'),
    R('id-oversized', KI, {'key_id': Long('0', 10000)}, 'key_id is malformed',
      'A 10 000 character ID is refused locally, not sent.', 'oversized'),
    R('id-dict', KI, {'key_id': {'id': 'x'}}, 'key_id is malformed',
      'A mapping where a string belongs (Ansible turns it into text) is not an ID.', 'type'),
    R('id-alias-spaces', KM, _with(IMPORT_AES, key_id='alias/app data!'),
      ['key_id is invalid', 'from letters, digits'],
      'Alias references follow the alias rules; the message lists the allowed characters.', 'alias'),
    R('id-alias-unicode', KM, _with(IMPORT_AES, key_id='alias/schlüssel'),
      ['key_id is invalid', 'from letters, digits'],
      'Non-ASCII letters are not allowed in aliases.', 'unicode'),
    R('id-alias-oversized', KM, _with(IMPORT_AES, key_id=Long('a', 300, prefix='alias/')),
      ['key_id is invalid', '1 to 255 characters'],
      'An alias longer than KMS allows is refused before any call.', 'oversized'),
    R('id-alias-unknown', IP, {'key_id': 'alias/secbad-does-not-exist'},
      ['No KMS key has the alias secbad-does-not-exist', 'create the key with dew.kms.kms_key'],
      'A missing alias is reported as such, with how to create the key.', 'malformed id'),
    R('id-unknown', KK, {'key_id': '00000000-0000-4000-8000-000000000000', 'enabled': False},
      ['No key has the ID 00000000-0000-4000-8000-000000000000', 'give its alias instead of key_id'],
      'kms_key creates keys by alias only; an unknown ID must not create anything.', 'malformed id'),
    R('alias-spaces', KK, {'alias': 'bad alias with spaces'}, ['alias is invalid', 'from letters, digits'],
      'An invalid alias must not reach create-key.', 'alias'),
    R('alias-default-suffix', KK, {'alias': 'app/default'}, 'must not end in "/default"',
      'Aliases ending in /default belong to the Default Master Keys of cloud services.', 'alias'),
    R('alias-oversized', KK, {'alias': Long('k', 256)}, '1 to 255 characters',
      'KMS aliases have at most 255 characters.', 'oversized'),
    R('alias-unicode', KK, {'alias': 'schlüssel'}, ['alias is invalid', 'from letters, digits'],
      'Non-ASCII aliases are refused locally.', 'unicode'),
    R('alias-rename-invalid', KK, {'key_id': '${aes_enabled}', 'alias': 'bad alias!'}, 'alias is invalid',
      'An invalid new alias must not reach update-key-alias.', 'alias'),
    R('alias-conflicting-ref', KI, {'key_id': '${aes_enabled}', 'alias': '${aes_enabled_alias}'},
      'parameters are mutually exclusive: key_id|alias',
      'Naming a key twice is ambiguous.', 'conflicting'),

    # --------------------------------------------------------------------- material: sizes, encodings
    R('material-31-bytes', KM, _with(IMPORT_AES, key_material='${b64_31}'),
      ['exactly 32 bytes', 'decodes to 31 bytes'],
      'AES-256 material is exactly 32 bytes; KMS would refuse anything else after a wasted import token.',
      'size'),
    R('material-hex', KM, _with(IMPORT_AES, key_material='${hex_64}'),
      ['exactly 32 bytes', 'base64 text (44 characters)', 'decodes to 48 bytes'],
      'Hex is not base64: 64 hex digits decode to 48 bytes. The message says which encoding is expected.',
      'encoding'),
    R('material-urlsafe', KM, _with(IMPORT_AES, key_material='${urlsafe_b64}'),
      ['not valid base64', 'standard alphabet'],
      'URL-safe base64 (- and _) is not what the option takes.', 'encoding'),
    R('material-not-base64', KM, _with(IMPORT_AES, key_material='this is not base64!'),
      ['key_material is not valid base64', '32 bytes'],
      'Arbitrary text is refused without echoing it.', 'encoding'),
    R('material-empty', KM, _with(IMPORT_AES, key_material=''), 'key_material is empty',
      'An empty value (an undefined vault variable rendered as "") is not material.', 'size'),
    R('material-unicode', KM, _with(IMPORT_AES, key_material='schlüssel-ключ'),
      'key_material is not valid base64',
      'Non-ASCII text cannot be base64 or PEM.', 'unicode'),
    R('material-oversized', KM, _with(IMPORT_AES, key_material=Long('QUFB', 50000)),
      ['exactly 32 bytes', 'decodes to 150000 bytes'],
      'A 200 000 character value is refused by its decoded size.', 'oversized'),
    R('material-private-into-aes', KM, _with(IMPORT_AES, key_material='${rsa_pem}'),
      ['is an AES_256 key', 'must be exactly 32 bytes', 'not a private key'],
      'A private key is not AES material.', 'key spec'),
    R('material-aes-into-rsa', KM, {'key_id': '${rsa_pending}', 'key_material': AES},
      ['is a RSA_2048 key', 'must be a private key of that type'],
      '32 bytes cannot become an RSA key.', 'key spec'),
    R('material-ec-into-rsa', KM, {'key_id': '${rsa_pending}', 'key_material': '${ec_pem}'},
      ['The private key is EC_P256 but key', 'is RSA_2048', 'same type and size'],
      'The private key must match the key spec of the KMS key.', 'key spec'),
    R('material-rsa-1024', KM, {'key_id': '${rsa_pending}', 'key_material_path': '${rsa1024_pem}'},
      ['1024-bit RSA key', '2048, 3072 or 4096 bits'],
      'KMS imports RSA keys of 2048, 3072 and 4096 bits only.', 'key spec'),
    R('material-secp256k1', KM, {'key_id': '${ec_pending}', 'key_material_path': '${secp256k1_pem}'},
      ['curve secp256k1', 'P-256 (EC_P256) or P-384 (EC_P384)'],
      'Only the NIST curves P-256 and P-384 are importable.', 'key spec'),
    R('material-ed25519', KM, {'key_id': '${ec_pending}', 'key_material_path': '${ed25519_pem}'},
      ['is not an RSA or EC private key', 'KMS imports RSA_2048'],
      'Ed25519 keys cannot be imported; the importable types are listed.', 'key spec'),
    R('material-encrypted-pem', KM, {'key_id': '${rsa_pending}', 'key_material_path': '${encrypted_pem}'},
      ['is encrypted', 'decrypt it first'],
      'A passphrase-protected key must be decrypted first; the message says how. No option takes a '
      'passphrase, so the message must not ask for one.', 'encoding', reject=['passphrase']),
    R('material-truncated-pem', KM, {'key_id': '${rsa_pending}', 'key_material_path': '${truncated_pem}'},
      ['is not a readable private key', 'expected PEM or DER'],
      'A damaged PEM file is refused without echoing its content (and without blaming a passphrase '
      'that no option takes).', 'encoding', reject=['passphrase']),
    R('material-other-private-key', KM, {'key_id': '${rsa_enabled}', 'key_material': '${rsa_pem}'},
      ['already holds other material', 'not the public key of the private key in key_material',
       'Nothing was changed'],
      'A key that holds material is compared with the given private key by its public key; other '
      'material fails instead of being reported as unchanged.', 'key state'),
    R('batch-other-private-key', KB, {'keys': [{'alias': '${rsa_enabled_alias}', 'key_spec': 'RSA_2048',
                                                'key_material': '${rsa_pem}'}]},
      ['1 of 1 keys failed', 'already holds other material', 'not the public key of the private key'],
      'The batch compares the same way and fails only that key.', 'key state'),
    R('material-into-kms-key', KM, {'key_id': '${kms_key}', 'key_material': AES},
      ['has origin kms', 'origin=external'],
      'Material can only go into keys created with origin external.', 'key state'),
    R('material-into-deleting-key', KM, {'key_id': '${deleting}', 'key_material': AES},
      ['is pending deletion', 'cancel_deletion=true'],
      'A key scheduled for deletion must not get material; the message says how to cancel.', 'key state'),
    R('material-both-inputs', KM, _with(IMPORT_AES, key_material_path='${aes31_bin}'),
      'parameters are mutually exclusive: key_material|key_material_path',
      'Two sources of material are ambiguous.', 'conflicting'),
    R('material-missing', KM, {'key_id': '${aes_pending}'},
      'state is present but any of the following are missing: key_material, key_material_path, import_token',
      'Importing needs material.', 'missing'),

    # --------------------------------------------------------------------- paths
    R('path-missing', KM, {'key_id': '${aes_pending}', 'key_material_path': '/nonexistent/secbad/aes.bin'},
      ['key_material_path /nonexistent/secbad/aes.bin cannot be read', 'No such file or directory'],
      'The message names the file and the reason.', 'path'),
    R('path-directory', KM, {'key_id': '${aes_pending}', 'key_material_path': '${a_directory}'},
      ['is a directory', 'give the path of a file'],
      'A directory is not a material file.', 'path'),
    R('path-fifo', KM, {'key_id': '${aes_pending}', 'key_material_path': '${a_fifo}'},
      ['is not a regular file', 'give the path of a file'],
      'A named pipe is refused before it is opened: reading it would block the task, or stream '
      'whatever another process writes into it.', 'path'),
    R('path-pasted-pem', KM, {'key_id': '${rsa_pending}', 'key_material_path': '${rsa_pem}'},
      'key_material_path cannot be read',
      'A private key pasted into the path option (key_material belongs there) is never echoed back.',
      'path', reject=['BEGIN', 'PRIVATE KEY']),
    R('path-oversized-file', KM, {'key_id': '${aes_pending}', 'key_material_path': '${big_file}'},
      'is too large to hold key material',
      'A huge file (a wrong path to a backup, a disk image) is not read whole into memory.', 'oversized'),
    R('path-31-bytes', KM, {'key_id': '${aes_pending}', 'key_material_path': '${aes31_bin}'},
      ['must hold exactly 32 bytes', 'it holds 31 bytes'],
      'A binary file of the wrong size is reported by its size.', 'size'),
    R('dest-missing-dir', PK, {'key_id': '${rsa_enabled}', 'dest': '/nonexistent/secbad/public.pem'},
      ['The directory of dest /nonexistent/secbad/public.pem does not exist'],
      'The public key is not written to an unexpected place.', 'path'),
    R('dest-directory', PK, {'key_id': '${rsa_enabled}', 'dest': '${a_directory}'},
      ['is a directory', 'give the path of a file'],
      'A directory as dest is refused.', 'path'),
    R('dest-private-key', PK, {'key_id': '${rsa_enabled}', 'dest': '${private_key_dest}'},
      ['holds a private key', 'never shown or overwritten', 'Give another path'],
      'A dest that holds a private key (a mixed-up path) is neither overwritten nor shown in a '
      'diff.', 'path'),

    # --------------------------------------------------------------------- algorithms, expiry
    R('wrapping-unknown', KM, _with(IMPORT_AES, wrapping_algorithm='RSAES_OAEP_SHA_512'),
      'value of wrapping_algorithm must be one of: RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1, RSAES_PKCS1_V1_5',
      'Only the three documented wrapping algorithms exist.', 'algorithm'),
    R('wrapping-lowercase', IP, {'key_id': '${aes_pending}', 'wrapping_algorithm': 'rsaes_oaep_sha_256'},
      'value of wrapping_algorithm must be one of',
      'Algorithm names are case-sensitive.', 'algorithm'),
    R('format-unknown', PK, {'key_id': '${rsa_enabled}', 'format': 'pkcs12'},
      'value of format must be one of: pem, der', 'Only PEM and DER are written.', 'algorithm'),
    R('spec-unknown', KK, {'alias': 'secbad-new', 'key_spec': 'AES_128'}, 'value of key_spec must be one of',
      'An unknown key spec must not reach create-key.', 'key spec'),
    R('spec-change', KK, {'key_id': '${aes_enabled}', 'key_spec': 'RSA_2048'},
      ['cannot change key_spec', 'Create a new key with another alias'],
      'KMS cannot change a key spec; the module does not pretend to.', 'key spec'),
    R('origin-change', KK, {'key_id': '${aes_enabled}', 'origin': 'kms'}, 'cannot change origin',
      'The origin of a key is fixed.', 'key spec'),
    R('expiry-past', KM, _with(IMPORT_AES, expiration_time='2001-01-01T00:00:00Z'),
      ['is in the past', 'must be in the future', 'omit expiration_time'],
      'Material that expired on import would be deleted at once.', 'expiry'),
    R('expiry-garbage', KM, _with(IMPORT_AES, expiration_time='next tuesday'),
      'must be epoch seconds or an ISO 8601 date such as 2030-01-31T00:00:00Z',
      'The accepted formats are named.', 'expiry'),
    R('expiry-asymmetric', KM, {'key_id': '${rsa_pending}', 'key_material': '${rsa_pem}',
                                'expiration_time': '2099-01-01'},
      ['applies only to symmetric keys', 'omit expiration_time'],
      'RSA and EC material is permanent.', 'expiry'),
    R('expiry-oversized', KM, _with(IMPORT_AES, expiration_time='99999999999999999999'),
      ['expiration_time is too far in the future', '9999-12-31T23:59:59Z'],
      'A 20-digit expiry is far beyond any date KMS stores; it must be refused locally, naming the option.',
      'expiry'),
    R('pending-days-short', KK, {'key_id': '${aes_enabled}', 'state': 'absent', 'pending_days': 3},
      'pending_days must be between 7 and 1096',
      'KMS waits 7 to 1096 days before deleting a key; the range is given.', 'expiry'),
    R('pending-days-long', KK, {'key_id': '${aes_enabled}', 'state': 'absent', 'pending_days': 5000},
      'pending_days must be between 7 and 1096', 'Out of range the other way.', 'expiry'),
    R('pending-days-text', KK, {'key_id': '${aes_enabled}', 'state': 'absent', 'pending_days': 'seven'},
      "argument 'pending_days' is of type", 'Days are a number.', 'type'),

    # --------------------------------------------------------------------- types, states, options
    R('enabled-not-bool', KK, {'key_id': '${aes_enabled}', 'enabled': 'maybe'},
      "argument 'enabled' is of type", 'Only booleans enable or disable a key.', 'type'),
    R('description-oversized', KK, {'key_id': '${aes_enabled}', 'description': Long('d', 256)},
      'description is too long: at most 255 characters',
      'KMS descriptions have at most 255 characters.', 'oversized'),
    R('enable-deleting-key', KK, {'key_id': '${deleting}', 'enabled': True},
      ['is pending deletion', 'Set cancel_deletion=true'],
      'Enabling a key pending deletion needs the deletion cancelled first, explicitly.', 'key state'),
    R('state-unknown', KM, _with(IMPORT_AES, state='deleted'), 'value of state must be one of: present, absent',
      'Only present and absent exist.', 'type'),
    R('key-state-filter-unknown', KI, {'key_state': 'active'}, 'value of key_state must be one of',
      'Filters take the documented state names.', 'type'),
    R('params-has-material', IP, {'key_id': '${aes_enabled}'}, 'not waiting for import',
      'A key that has its material cannot get it again; KMS.0310 is explained in plain words.', 'key state'),
    R('params-kms-key', IP, {'key_id': '${kms_key}'}, 'external',
      'Import parameters exist only for keys with origin external.', 'key state'),
    R('public-key-symmetric', PK, {'key_id': '${aes_enabled}'}, 'public key',
      'Symmetric keys have no public key; the message says so.', 'key spec'),
    R('absent-rsa-material', KM, {'key_id': '${rsa_enabled}', 'state': 'absent'},
      ['imported private key material cannot be deleted', 'schedule deletion of the key'],
      'RSA and EC material is permanent; the message points at the way out.', 'key state'),
    R('absent-kms-key', KM, {'key_id': '${kms_key}', 'state': 'absent'},
      'only imported (origin external) material can be deleted',
      'Deleting the material of a KMS-generated key would destroy it.', 'key state'),

    # --------------------------------------------------------------------- pre-wrapped input, tokens
    R('token-malformed', KM, {'key_id': '${aes_pending}', 'import_token': 'abc',
                              'encrypted_key_material': '${wrapped_344}'},
      ['import_token is malformed', 'as returned by kms_import_params'],
      'An import token has a known shape; a truncated one is refused locally.', 'token'),
    R('token-wrapped-malformed', KM, {'key_id': '${aes_pending}', 'import_token': '${token_like}',
                                      'encrypted_key_material': 'c2hvcnQ='},
      ['encrypted_key_material is malformed', 'one RSA-2048 ciphertext'],
      'Wrapped material of the wrong length is refused locally.', 'token'),
    R('token-without-material', KM, {'key_id': '${aes_pending}', 'import_token': '${token_like}'},
      'parameters are required together: import_token, encrypted_key_material',
      'A token alone imports nothing.', 'missing'),
    R('token-privatekey-for-aes', KM, {'key_id': '${aes_pending}', 'import_token': '${token_like}',
                                       'encrypted_key_material': '${wrapped_344}',
                                       'encrypted_privatekey': '${token_like}'},
      'encrypted_privatekey applies only to RSA and EC keys',
      'Pre-wrapped private key input for a symmetric key is a mix-up.', 'key spec'),
    R('token-rsa-without-privatekey', KM, {'key_id': '${rsa_pending}', 'import_token': '${token_like}',
                                           'encrypted_key_material': '${wrapped_344}'},
      'needs encrypted_privatekey too',
      'An RSA or EC import needs the wrapped private key.', 'missing'),

    # --------------------------------------------------------------------- the batch module
    R('batch-workers-zero', KB, {'keys': [{'key_id': '${aes_pending}', 'key_material': AES}], 'max_workers': 0},
      'max_workers must be between 1 and 32', 'The thread pool has 1 to 32 workers.', 'type'),
    R('batch-repeated-key', KB, {'keys': [{'alias': '${aes_enabled_alias}', 'key_material': AES},
                                          {'alias': '${aes_enabled_alias}', 'key_material': AES}]},
      'give each key only once',
      'The same key twice in one list is a mistake, not a retry.', 'conflicting'),
    R('batch-unknown-id', KB, {'keys': [{'key_id': '00000000-0000-4000-8000-000000000000', 'key_material': AES}]},
      ['was not found in this project and region', 'keys named by key_id are never created'],
      'Keys named by ID are never created.', 'malformed id'),
    R('batch-no-create', KB, {'keys': [{'alias': 'secbad-not-there', 'key_material': AES}],
                              'create_missing': False},
      ['No key has the alias secbad-not-there', 'create_missing is false'],
      'With create_missing=false a missing alias fails, and says how to proceed.', 'missing'),
    R('batch-spec-mismatch', KB, {'keys': [{'alias': '${rsa_pending_alias}', 'key_material': AES}]},
      ['RSA_2048', 'but key_spec is AES_256', 'key_spec'],
      'The entry says AES_256 (default) but the key is RSA_2048.', 'key spec'),
    R('batch-invalid-alias', KB, {'keys': [{'alias': 'bad alias!', 'key_material': AES}]},
      'alias is invalid', 'An invalid alias must not reach create-key.', 'alias'),
    R('batch-export-no-bundle', KB, {'keys': [{'key_id': '${aes_pending}'}], 'phase': 'export'},
      'phase=export needs bundle_path', 'The export phase writes a bundle: it needs its path.', 'missing'),
    R('batch-wrap-no-material', KB, {'keys': [{'key_id': '${aes_pending}'}], 'phase': 'wrap',
                                     'bundle_path': '/nonexistent/export.json', 'wrapped_path': '/tmp/dew-kms-bad-input-wrapped.json'},
      'has neither key_material nor key_material_path',
      'The wrap phase wraps material: every key needs it.', 'missing'),
    R('batch-wrap-no-digest', KB, {'keys': [{'key_id': '${aes_pending}', 'key_material': AES}], 'phase': 'wrap',
                                   'bundle_path': '/nonexistent/export.json', 'wrapped_path': '/tmp/dew-kms-bad-input-wrapped.json'},
      ['phase=wrap needs bundle_digest', 'Nothing was done'],
      'The wrap phase wraps only a bundle whose digest the operator typed in.', 'missing'),
    R('batch-import-no-digest', KB, {'keys': [{'key_id': '${aes_pending}'}], 'phase': 'import',
                                     'wrapped_path': '/nonexistent/wrapped.json'},
      ['phase=import needs wrapped_digest', 'Nothing was done'],
      'The import phase imports only a wrapped bundle whose digest the operator typed in.', 'missing'),
    R('batch-wrap-bundle-missing', KB, {'keys': [{'key_id': '${aes_pending}', 'key_material': AES}], 'phase': 'wrap',
                                        'bundle_digest': '0' * 32,
                                        'bundle_path': '/nonexistent/export.json', 'wrapped_path': '/tmp/dew-kms-bad-input-wrapped.json'},
      'bundle_path (/nonexistent/export.json) cannot be read',
      'A missing export bundle stops the wrap phase and names the option.', 'missing'),
    R('batch-renew-negative', KB, {'keys': [{'key_id': '${aes_pending}', 'key_material': AES}],
                                   'renew_within_days': -1},
      'renew_within_days must be 0', 'A negative renewal window is a mistake.', 'type'),
    R('batch-phase-unknown', KB, {'keys': [{'key_id': '${aes_pending}', 'key_material': AES}], 'phase': 'prepare'},
      ['value of phase must be one of', 'all, export, wrap, import'],
      'A phase the ceremony does not have.', 'type'),
    R('batch-import-no-wrapped', KB, {'keys': [{'key_id': '${aes_pending}'}], 'phase': 'import'},
      'phase=import needs wrapped_path', 'The import phase reads the wrapped bundle: it needs its path.', 'missing'),
    R('batch-warning-negative', KB, {'keys': [{'key_id': '${aes_pending}', 'key_material': AES}],
                                     'expiry_warning_days': -5},
      'expiry_warning_days must be 0', 'A negative warning window is a mistake.', 'type'),
    R('batch-report-directory-missing', KB, {'keys': [{'key_id': '${aes_pending}', 'key_material': AES}],
                                             'report_path': '/nonexistent/evidence/report.json'},
      ['report_path (/nonexistent/evidence/report.json) is in a directory that does not exist',
       'create the directory first'],
      'The report is written after the import: a path that cannot be written stops the run before it.', 'missing'),
    R('batch-bundle-directory-missing', KB, {'keys': [{'alias': 'secbad-export-new'}], 'phase': 'export',
                                             'bundle_path': '/nonexistent/ceremony/export.json'},
      'bundle_path (/nonexistent/ceremony/export.json) is in a directory that does not exist',
      'The export phase creates keys before it writes the bundle: a bad path stops it first.', 'missing'),
    R('batch-rotate-import-phase', KB, {'keys': [{'key_id': '${aes_pending}', 'rotate': True}], 'phase': 'import',
                                        'wrapped_path': '/nonexistent/w.json'},
      'rotate needs phase=all', 'A rotation imports material: it cannot run in the import phase.', 'conflicting'),

    # --------------------------------------------------------------------- the role
    R('role-no-keys', ROLE, {}, 'missing required arguments: byok_keys',
      'The role validates its inputs before anything runs.', 'missing'),
    R('role-keys-not-list', ROLE, {'byok_keys': 'app-data'}, 'byok_keys',
      'A string where the list of keys belongs.', 'type'),
    R('role-alias-and-id', ROLE, {'byok_keys': [{'alias': 'secbad-x', 'key_id': '${aes_pending}',
                                                 'key_material': AES}]},
      'mutually exclusive: alias|key_id', 'A key is named by alias or by ID, not both.', 'conflicting'),
    R('role-no-material', ROLE, {'byok_keys': [{'key_id': '${aes_pending}'}]},
      'keys[0] has neither key_material nor key_material_path',
      'Each key needs its material.', 'missing'),
    R('role-spec-unknown', ROLE, {'byok_keys': [{'key_id': '${aes_pending}', 'key_spec': 'AES_512',
                                                 'key_material': AES}]},
      'value of key_spec must be one of', 'Unknown key specs are refused by the argument spec.', 'key spec'),
    R('role-wrapping-unknown', ROLE, {'byok_keys': [{'key_id': '${aes_pending}', 'key_material': AES}],
                                      'byok_wrapping_algorithm': 'RSA_OAEP'},
      'value of byok_wrapping_algorithm must be one of', 'Only the documented algorithms.', 'algorithm'),
    R('role-workers-text', ROLE, {'byok_keys': [{'key_id': '${aes_pending}', 'key_material': AES}],
                                  'byok_max_workers': 'many'},
      "byok_max_workers' is of type", 'Workers are a number.', 'type'),
    R('role-material-16-bytes', ROLE, {'byok_keys': [{'key_id': '${aes_pending}', 'key_material': '${b64_16}'}]},
      ['exactly 32 bytes', 'decodes to 16 bytes'],
      'AES-128 material where AES-256 belongs.', 'size'),
    R('role-deleting-key', ROLE, {'byok_keys': [{'key_id': '${deleting}', 'key_material': AES}]},
      ['is pending deletion', 'cancel_deletion=true'],
      'The role fails for a key pending deletion and says how to cancel.', 'key state'),
    R('role-kms-key', ROLE, {'byok_keys': [{'key_id': '${kms_key}', 'key_material': AES}]},
      ['has origin kms', 'origin=external'],
      'The role never imports into keys KMS generated.', 'key state'),
    R('role-expiry-past', ROLE, {'byok_keys': [{'key_id': '${aes_pending}', 'key_material': AES,
                                                'expiration_time': '1999-12-31'}]},
      ['is in the past', 'omit expiration_time'], 'Expiry must be in the future.', 'expiry'),

    R('role-phase-unknown', ROLE, {'byok_keys': [{'key_id': '${aes_pending}', 'key_material': AES}],
                                   'byok_phase': 'prepare'},
      ['byok_phase', 'prepare'], 'The role checks the phase against its argument spec.', 'type'),
    R('role-report-directory-missing', ROLE, {'byok_keys': [{'key_id': '${aes_pending}', 'key_material': AES}],
                                              'byok_report_path': '/nonexistent/evidence/report.json'},
      'report_path (/nonexistent/evidence/report.json) is in a directory that does not exist',
      'A report path that cannot be written stops the role before any import.', 'missing'),

    # --------------------------------------------------------------------- authentication
    R('auth-none', 'auth:' + KM, auth(kms_endpoint='${kms_endpoint}', retries=0),
      ['No KMS credentials were found', 'Use one of: auth_token'],
      'Without credentials nothing is sent; the message lists every method and its variables.', 'credentials'),
    R('auth-conflicting', 'auth:' + KM,
      auth(**dict(TOKEN_AUTH, username='${username}', password='${password}', domain_name='${domain_name}')),
      ['Conflicting authentication options', 'Give only one authentication method'],
      'Two methods at once is ambiguous: which account would the import go to?', 'credentials'),
    R('auth-ak-without-sk', 'auth:' + KM, auth(**_with(AKSK_AUTH, secret_key=None)),
      ['AK/SK authentication needs', 'missing: secret_key'],
      'Half a key pair.', 'credentials'),
    R('auth-password-without-domain', 'auth:' + KM, auth(**_with(PASSWORD_AUTH, domain_name=None)),
      ['needs username, password and domain_name', 'missing: domain_name'],
      'IAM needs the account (domain) name.', 'credentials'),
    R('auth-wrong-password', 'auth:' + KM, auth(**_with(PASSWORD_AUTH, password='wrong-password-secbad')),
      ['failed: HTTP 401', 'IAM refused the credentials of user', 'Check username, password and domain_name'],
      'IAM refuses; the message says it is the password (not the project) and never shows it.',
      'credentials', reject=['wrong-password-secbad']),
    R('auth-wrong-project', 'auth:' + KM, auth(**_with(PASSWORD_AUTH, project_name='secbad-no-project')),
      ['IAM accepted the password of user', 'but refused a token for project secbad-no-project',
       'Check project_id / project_name'],
      'The password is right but the project is not: a different message than for a wrong password.',
      'credentials', reject=['Check username, password']),
    R('auth-wrong-secret-key', 'auth:' + KM, auth(**_with(AKSK_AUTH, secret_key='0' * 40)),
      ['HTTP 401', 'Check access_key and secret_key'],
      'The signature does not verify; the hint mentions the clock too.', 'credentials'),
    R('auth-forged-token', 'auth:' + KM, auth(**_with(TOKEN_AUTH, auth_token='MIIforged-secbad-token')),
      ['Check that auth_token', 'valid, unexpired IAM token'],
      'A token KMS does not know.', 'token'),
    R('auth-forged-security-token', 'auth:' + KM, auth(**_with(AKSK_AUTH, access_key='${temp_access_key}',
                                                               secret_key='${temp_secret_key}',
                                                               security_token='forged-secbad-sts')),
      ['HTTP 401', 'security_token for temporary credentials'],
      'Temporary credentials with a security token that is not theirs.', 'token'),
    R('auth-endpoint-scheme', 'auth:' + KM, auth(**_with(TOKEN_AUTH, kms_endpoint='ftp://127.0.0.1/')),
      'kms_endpoint must be an http(s) URL', 'Only HTTP(S) endpoints.', 'credentials'),
    R('auth-no-endpoint', 'auth:' + KM, auth(**_with(TOKEN_AUTH, kms_endpoint=None)),
      ['Cannot tell which KMS endpoint to use', 'set region'],
      'No region and no endpoint: nowhere to send the request.', 'missing'),
    R('auth-provider-unknown', 'auth:' + KM, auth(**_with(TOKEN_AUTH, cloud_provider='aws')),
      'value of cloud_provider must be one of: otc, huaweicloud', 'Two clouds are known.', 'credentials'),
    R('auth-cloud-undefined', 'auth:' + KM, auth(cloud='secbad-nowhere', kms_endpoint='${kms_endpoint}'),
      ['cloud secbad-nowhere is not defined in', '(defined: secbad-empty)'],
      'A clouds.yaml entry that does not exist; the defined ones are listed.', 'credentials'),
    R('auth-cloud-without-credentials', 'auth:' + KM, auth(cloud='secbad-empty', kms_endpoint='${kms_endpoint}'),
      ['clouds.yaml entry secbad-empty has no credentials', 'auth.username and auth.password'],
      'An entry without credentials.', 'credentials'),
    R('auth-ca-path-missing', 'auth:' + KM, auth(**_with(TOKEN_AUTH, ca_path='/nonexistent/secbad/ca.pem')),
      'ca_path cannot be read: it does not name an existing file',
      'A missing CA bundle is named by its option; the value is not echoed.', 'path',
      reject=['/nonexistent/secbad']),
    R('auth-ca-path-pasted-pem', 'auth:' + KM, auth(**_with(TOKEN_AUTH, ca_path='-----BEGIN CERTIFICATE-----MIIBsecbad')),
      'ca_path cannot be read', 'Material pasted into a path option is never echoed back.', 'path',
      reject=['BEGIN CERTIFICATE', 'MIIBsecbad']),
    R('auth-token-control-character', 'auth:' + KM, auth(**_with(TOKEN_AUTH, auth_token='MIIsecbad\nline-two')),
      ['auth_token (from the task options) contains a control character', 'nothing was sent'],
      'A pasted token with a line break inside would be quoted escaped by the HTTP library, where '
      'masking cannot find it: refused before any request, named by option.', 'credentials',
      reject=['MIIsecbad', 'line-two']),
    R('auth-secret-key-control-character', 'auth:' + KM, auth(**_with(AKSK_AUTH, secret_key='secbad\tsk-value')),
      'secret_key (from the task options) contains a control character',
      'A tab inside a secret key; the value is not shown.', 'credentials', reject=['sk-value']),
    R('auth-cloud-not-a-name', 'auth:' + KM, auth(cloud=['secbad-list'], kms_endpoint='${kms_endpoint}'),
      'cloud must be the name of a clouds.yaml entry or a dictionary',
      'cloud takes a name or an openstack.cloud-style dictionary, nothing else.', 'type'),
    R('auth-cloud-dict-wrong-password', 'auth:' + KM, auth(cloud={
        'auth': {'auth_url': '${iam_endpoint}', 'username': '${username}', 'password': 'secbad-dict-password',
                 'user_domain_name': '${domain_name}', 'project_name': '${project_name}'},
        'kms_endpoint_override': '${kms_endpoint}'}),
      ['IAM refused the credentials of user', 'Check username, password and domain_name'],
      'A cloud given as a dictionary works like a clouds.yaml entry; the password inside it is masked.',
      'credentials', reject=['secbad-dict-password']),
    R('auth-timeout-zero', 'auth:' + KM, auth(**_with(TOKEN_AUTH, timeout=0)),
      'timeout must be a positive number of seconds', 'A zero timeout cannot work.', 'type'),
    R('auth-retries-many', 'auth:' + KM, auth(**_with(TOKEN_AUTH, retries=100)),
      'retries must be between 0 and 20', 'Unbounded retries would hammer the service.', 'type'),
    R('auth-project-id-injection', 'auth:' + KI, dict(TOKEN_AUTH, key_id='${disabled}',
                                                      project_id='${project_id}/kms/enable-key?x='),
      ['project_id', 'is malformed', '32 hexadecimal characters'],
      'The project ID becomes part of the request URL: path or query characters in it must be refused, '
      'or a read could turn into another action (here enable-key).', 'malformed id'),
    R('auth-project-unknown', 'auth:' + KM, auth(**_with(AKSK_AUTH, project_id=None, project_name='secbad-nowhere')),
      ['found 0 projects', 'set project_id'],
      'An AK/SK project lookup that finds nothing names the fix.', 'credentials'),
    R('auth-iam-unreachable', 'auth:' + KM, auth(**_with(PASSWORD_AUTH, iam_endpoint='http://127.0.0.1:9/v3')),
      ['cannot connect to http://127.0.0.1:9', 'Check the endpoint'],
      'A wrong IAM endpoint is named with what to check.', 'credentials'),
]


# ------------------------------------------------------------------------------------ rendering

def substitute(value, context):
    """Resolve ``${name}`` placeholders in strings, lists and dicts."""
    if isinstance(value, Long):
        return str(value)
    if isinstance(value, str):
        return string.Template(value).substitute(context)
    if isinstance(value, list):
        return [substitute(item, context) for item in value]
    if isinstance(value, dict):
        return dict((k, substitute(v, context)) for k, v in value.items())
    return value


def _show(value):
    if isinstance(value, Long):
        return value.label
    if isinstance(value, str):
        text = value.replace('${', '<').replace('}', '>')
        # quoted (control characters escaped) unless it reads the same bare inside a literal
        plain = text and text.isprintable() and ' ' not in text and ':' not in text
        return text if plain else repr(text)
    if isinstance(value, list):
        return '[' + ', '.join(_show(item) for item in value) + ']'
    if isinstance(value, dict):
        return '{' + ', '.join('%s: %s' % (k, _show(v)) for k, v in value.items()) + '}'
    return repr(value).lower() if isinstance(value, bool) else repr(value)


CONNECTION_OPTIONS = ('auth_token', 'project_id', 'kms_endpoint', 'iam_endpoint', 'retries', 'access_key',
                      'secret_key', 'username', 'password', 'domain_name', 'project_name')


def show_args(row):
    """The row's input as the docs show it (connection options of auth rows abbreviated)."""
    args = dict(row.args)
    if row.is_auth:
        usual = dict(PASSWORD_AUTH, **dict(AKSK_AUTH, **TOKEN_AUTH))
        hidden = [k for k in CONNECTION_OPTIONS if k in args and args[k] == usual.get(k)]
        for k in hidden:
            del args[k]
        for k in ('key_id', 'key_material'):
            if args.get(k) == IMPORT_AES.get(k):
                del args[k]
    shown = ', '.join('%s=%s' % (k, _show(v)) for k, v in args.items())
    if row.is_auth and row.module == KM:
        shown = 'import into <aes_pending>' + (', ' + shown if shown else '')
    return shown or '(none)'


def _rst_cell(text):
    return text.replace('\\', '\\\\').replace('*', '\\*').replace('`', "'").replace('|', '\\|')


def _wrapped(first, text, width=100):
    """A list-table cell over several lines (continuation lines indented under the text)."""
    return textwrap.wrap(text, width, initial_indent=first, subsequent_indent=' ' * len(first),
                         break_long_words=False, break_on_hyphens=False)


def render_doc():
    lines = [
        '..',
        '  Copyright (c) dew.kms contributors',
        '  GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)',
        '',
        '..',
        '  GENERATED from tests/security/bad_inputs.py - do not edit by hand.',
        '  Regenerate with: python tests/security/bad_inputs.py --write-doc',
        '',
        '.. _ansible_collections.dew.kms.docsite.bad_inputs:',
        '',
        'Bad inputs and their messages',
        '=============================',
        '',
        'Every module of the collection and the role :ansplugin:`dew.kms.byok#role` check their input',
        'before they change anything. This page lists the bad inputs that the security test suite',
        '(``make security-test``) feeds to them, the message each one must produce, and why. For every',
        'row the suite checks that the task fails with that message, that KMS received no',
        'state-changing call (create, import, delete material, enable, disable, schedule or cancel',
        'deletion, update) and that every test key is exactly as it was before.',
        '',
        'Placeholders in angle brackets stand for test keys and files: ``<aes_pending>`` is an',
        'external AES_256 key waiting for its material, ``<aes_enabled>`` one that has it,',
        '``<rsa_pending>`` / ``<rsa_enabled>`` / ``<ec_pending>`` the same for RSA_2048 and EC_P256,',
        '``<kms_key>`` a key whose material KMS generated, ``<deleting>`` a key pending deletion and',
        '``<disabled>`` a disabled key. ``<aes_b64>`` is valid AES-256 material. Rows of the target',
        '*auth* import valid material into ``<aes_pending>`` with the connection options shown (plus',
        'the usual endpoint and project options); had they gone through, the key would hold material.',
        '',
        'The messages quoted are fragments: the full message also names the key and, for errors',
        'from the service, the HTTP status, the KMS error code and the request ID.',
        '',
        '.. list-table::',
        '  :header-rows: 1',
        '  :widths: 14 12 30 24 20',
        '',
        '  * - Row',
        '    - Target',
        '    - Input',
        '    - The message contains',
        '    - Why',
    ]
    for row in TABLE:
        target = row.module.replace('dew.kms.', '')
        if row.is_auth:
            target = 'auth (%s)' % target
        expected = (' ... '.join('"%s"' % _rst_cell(e) for e in row.expect)
                    + ''.join('; not "%s"' % _rst_cell(r) for r in row.reject))
        lines += ['  * - ``%s``' % row.id, '    - %s' % _rst_cell(target),
                  '    - ``%s``' % show_args(row).replace('``', "''")]
        lines += _wrapped('    - ', expected)
        lines += _wrapped('    - ', _rst_cell(row.why))
    lines.append('')
    return '\n'.join(lines)


def main(argv):
    if argv[1:] == ['--write-doc']:
        with open(DOC, 'w') as handle:
            handle.write(render_doc())
        print('wrote %s (%d rows)' % (os.path.relpath(DOC), len(TABLE)))
        return 0
    print(render_doc())
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
