# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import os
import stat

import pytest

from unittest import mock

from ansible_collections.dew.kms.plugins.modules import kms_public_key
from ansible_collections.dew.kms.tests.unit.plugins.modules.utils import AUTH, KEY_ID, key_info, run_module


def public_forms(private_key):
    """(SPKI DER, SPKI PEM with LF, service answer: SPKI PEM with CRLF, PKCS#1 inside PUBLIC KEY armour)."""
    from cryptography.hazmat.primitives import serialization

    public = private_key.public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    crlf = pem.replace('\n', '\r\n')
    pkcs1 = crlf
    if hasattr(public, 'public_numbers') and hasattr(public.public_numbers(), 'n'):
        body = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
        b64 = base64.b64encode(body).decode()
        pkcs1 = '-----BEGIN PUBLIC KEY-----\r\n%s\r\n-----END PUBLIC KEY-----\r\n' % '\r\n'.join(
            b64[i:i + 64] for i in range(0, len(b64), 64))
    return der, pem, crlf, pkcs1


@pytest.fixture
def rsa_key(private_keys):
    return public_forms(private_keys['RSA_3072'])


def answer(kms, pem, key_id=KEY_ID):
    kms.add('get-publickey', {'key_id': key_id, 'public_key': pem})


def run(args, tmp_path, **kwargs):
    return run_module(kms_public_key, dict(AUTH, **args), tmpdir=tmp_path, **kwargs)


@pytest.mark.parametrize('form', [2, 3], ids=['spki-crlf', 'pkcs1-in-public-key-armour'])
def test_returns_normalised_public_key(kms, rsa_key, tmp_path, form):
    der, pem = rsa_key[0], rsa_key[1]
    answer(kms, rsa_key[form])

    result = run({'key_id': KEY_ID}, tmp_path)

    assert not result['failed'] and not result['changed']
    assert result['public_key_pem'] == pem and '\r' not in result['public_key_pem']
    assert result['public_key_der'] == base64.b64encode(der).decode()
    assert result['fingerprint_sha256'] == hashlib.sha256(der).hexdigest()
    assert result['key_spec'] == 'RSA_3072' and result['key_id'] == KEY_ID
    assert 'dest' not in result


def test_ec_key(kms, private_keys, tmp_path):
    der, pem, crlf = public_forms(private_keys['EC_P384'])[:3]
    answer(kms, crlf)

    result = run({'key_id': KEY_ID}, tmp_path)

    assert result['key_spec'] == 'EC_P384' and result['public_key_pem'] == pem


def test_writes_dest_once_then_unchanged(kms, rsa_key, tmp_path):
    dest = tmp_path / 'out' / 'signing.pem'
    dest.parent.mkdir()
    answer(kms, rsa_key[2])
    answer(kms, rsa_key[2])

    first = run({'key_id': KEY_ID, 'dest': str(dest), 'mode': '0640'}, tmp_path, diff=True)
    second = run({'key_id': KEY_ID, 'dest': str(dest), 'mode': '0640'}, tmp_path)

    assert first['changed'] and not second['changed'] and first['dest'] == str(dest)
    assert dest.read_text() == rsa_key[1]
    assert stat.S_IMODE(os.stat(str(dest)).st_mode) == 0o640
    assert first['diff']['before'] == '' and first['diff']['after'] == rsa_key[1]


def test_rewrites_differing_dest_and_shows_diff(kms, rsa_key, tmp_path):
    dest = tmp_path / 'signing.pem'
    dest.write_text('old content\n')
    answer(kms, rsa_key[2])

    result = run({'key_id': KEY_ID, 'dest': str(dest)}, tmp_path, diff=True)

    assert result['changed'] and dest.read_text() == rsa_key[1]
    assert result['diff']['before'] == 'old content\n' and result['diff']['after'] == rsa_key[1]


def test_mode_change_alone_is_a_change(kms, rsa_key, tmp_path):
    dest = tmp_path / 'signing.pem'
    dest.write_text(rsa_key[1])
    dest.chmod(0o600)
    answer(kms, rsa_key[2])

    result = run({'key_id': KEY_ID, 'dest': str(dest), 'mode': '0644'}, tmp_path)

    assert result['changed'] and stat.S_IMODE(os.stat(str(dest)).st_mode) == 0o644


@pytest.mark.parametrize('existing', [None, 'old\n'], ids=['new-file', 'differing-file'])
def test_check_mode_does_not_write(kms, rsa_key, tmp_path, existing):
    dest = tmp_path / 'signing.pem'
    if existing is not None:
        dest.write_text(existing)
    answer(kms, rsa_key[2])

    result = run({'key_id': KEY_ID, 'dest': str(dest), 'mode': '0600'}, tmp_path, check_mode=True, diff=True)

    assert result['changed'] and result['diff']['after'] == rsa_key[1]
    assert (dest.read_text() if dest.exists() else None) == existing


def test_der_format(kms, rsa_key, tmp_path):
    dest = tmp_path / 'signing.der'
    answer(kms, rsa_key[2])
    answer(kms, rsa_key[2])

    first = run({'key_id': KEY_ID, 'dest': str(dest), 'format': 'der'}, tmp_path, diff=True)
    second = run({'key_id': KEY_ID, 'dest': str(dest), 'format': 'der'}, tmp_path)

    assert first['changed'] and not second['changed'] and dest.read_bytes() == rsa_key[0]
    assert first['diff']['after'] == 'DER, sha256 %s\n' % hashlib.sha256(rsa_key[0]).hexdigest()


def test_alias_is_resolved_through_the_listing(kms, rsa_key, tmp_path):
    kms.listed(key_info(alias='signing', state='2', spec='RSA_3072', origin='kms'))
    answer(kms, rsa_key[2])

    result = run({'key_id': 'alias/signing'}, tmp_path)

    assert not result['failed'] and result['key_spec'] == 'RSA_3072' and result['key_id'] == KEY_ID
    assert kms.actions() == ['list-keys', 'get-publickey']
    assert kms.bodies('get-publickey') == [{'key_id': KEY_ID}]


def test_key_pending_activation_is_awaited_then_asked_again(kms, rsa_key, tmp_path):
    kms.add('get-publickey', status=400, error='KMS.1301')
    kms.describe(state='1', spec='RSA_3072', origin='kms')
    kms.describe(state='2', spec='RSA_3072', origin='kms')
    answer(kms, rsa_key[2])

    with mock.patch('time.sleep') as sleep:
        result = run({'key_id': KEY_ID}, tmp_path)

    assert not result['failed'] and result['key_spec'] == 'RSA_3072'
    assert [call.args[0] for call in sleep.call_args_list] == [0.2]
    assert kms.actions() == ['get-publickey', 'describe-key', 'describe-key', 'get-publickey']


def test_wrong_state_of_a_usable_key_is_not_awaited(kms, tmp_path):
    kms.add('get-publickey', status=400, error='KMS.1301')
    kms.describe(state='3', spec='RSA_3072', origin='kms')

    result = run({'key_id': KEY_ID}, tmp_path)

    assert result['failed'] and result['error_code'] == 'KMS.1301'
    assert kms.actions() == ['get-publickey', 'describe-key']


def test_symmetric_key_has_no_public_key(kms, tmp_path):
    kms.add('get-publickey', status=400, error='KMS.0331')

    result = run({'key_id': KEY_ID}, tmp_path)

    assert result['failed'] and 'not supported for symmetric keys' in result['msg']


def test_unknown_key(kms, tmp_path):
    kms.not_found('get-publickey')

    result = run({'key_id': KEY_ID}, tmp_path)

    assert result['failed'] and result['error_code'] == 'KMS.0207'


@pytest.mark.parametrize('args,expected', [
    ({'key_id': 'x'}, 'key_id is malformed'),
    ({'key_id': KEY_ID, 'format': 'jwk'}, 'value of format must be one of'),
])
def test_bad_input(kms, tmp_path, args, expected):
    result = run(args, tmp_path)

    assert result['failed'] and expected in result['msg'] and kms.actions() == []


def test_dest_is_a_directory(kms, rsa_key, tmp_path):
    answer(kms, rsa_key[2])

    result = run({'key_id': KEY_ID, 'dest': str(tmp_path)}, tmp_path)

    assert result['failed'] and 'is a directory' in result['msg']


@pytest.mark.parametrize('check_mode', [False, True])
def test_dest_directory_missing(kms, rsa_key, tmp_path, check_mode):
    answer(kms, rsa_key[2])

    result = run({'key_id': KEY_ID, 'dest': str(tmp_path / 'missing' / 'k.pem')}, tmp_path, check_mode=check_mode)

    assert result['failed'] and 'does not exist' in result['msg']
    assert not result.get('changed')


@pytest.mark.parametrize('check_mode', [False, True])
def test_dest_directory_not_writable(kms, rsa_key, tmp_path, monkeypatch, check_mode):
    answer(kms, rsa_key[2])
    target = tmp_path / 'locked'
    target.mkdir()
    real_access = os.access
    # the user running the tests may be root, for whom a mode of 0500 does not lock a directory
    monkeypatch.setattr(os, 'access', lambda path, mode: False if str(path) == str(target) else real_access(path, mode))

    result = run({'key_id': KEY_ID, 'dest': str(target / 'k.pem')}, tmp_path, check_mode=check_mode)

    assert result['failed'] and 'is not writable' in result['msg'], result
    assert not (target / 'k.pem').exists()


def test_diff_has_the_shared_shape_with_dest_as_header(kms, rsa_key, tmp_path):
    dest = tmp_path / 'signing.pem'
    answer(kms, rsa_key[2])

    result = run({'key_id': KEY_ID, 'dest': str(dest)}, tmp_path, diff=True)

    assert result['diff'] == {'before_header': str(dest), 'after_header': str(dest), 'before': '', 'after': rsa_key[1]}


def test_backup_keeps_the_previous_content(kms, rsa_key, tmp_path):
    dest = tmp_path / 'signing.pem'
    dest.write_text('old content\n')
    answer(kms, rsa_key[2])
    answer(kms, rsa_key[2])

    first = run({'key_id': KEY_ID, 'dest': str(dest), 'backup': True}, tmp_path)
    second = run({'key_id': KEY_ID, 'dest': str(dest), 'backup': True}, tmp_path)

    assert first['changed'] and dest.read_text() == rsa_key[1]
    backup = first['backup_file']
    assert os.path.dirname(backup) == str(tmp_path) and os.path.basename(backup).startswith('signing.pem.')
    with open(backup) as handle:
        assert handle.read() == 'old content\n'
    # nothing overwritten, nothing backed up
    assert not second['changed'] and 'backup_file' not in second


def test_backup_of_a_new_file_or_in_check_mode_makes_no_copy(kms, rsa_key, tmp_path):
    (tmp_path / 'keys').mkdir()
    dest = tmp_path / 'keys' / 'signing.pem'
    answer(kms, rsa_key[2])
    answer(kms, rsa_key[2])

    new = run({'key_id': KEY_ID, 'dest': str(dest), 'backup': True}, tmp_path)
    dest.write_text('old\n')
    check = run({'key_id': KEY_ID, 'dest': str(dest), 'backup': True}, tmp_path, check_mode=True)

    assert new['changed'] and 'backup_file' not in new
    assert check['changed'] and 'backup_file' not in check
    assert os.listdir(str(tmp_path / 'keys')) == ['signing.pem'] and dest.read_text() == 'old\n'


def private_key_forms(private_keys):
    from cryptography.hazmat.primitives import serialization

    key = private_keys['EC_P256']
    pkcs8 = serialization.PrivateFormat.PKCS8
    return {
        'pem': key.private_bytes(serialization.Encoding.PEM, pkcs8, serialization.NoEncryption()),
        'der': key.private_bytes(serialization.Encoding.DER, pkcs8, serialization.NoEncryption()),
        'encrypted-pem': key.private_bytes(serialization.Encoding.PEM, pkcs8,
                                           serialization.BestAvailableEncryption(b'secret')),
        'encrypted-der': key.private_bytes(serialization.Encoding.DER, pkcs8,
                                           serialization.BestAvailableEncryption(b'secret')),
        'rsa-traditional': private_keys['RSA_2048'].private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()),
    }


@pytest.mark.parametrize('form', ['pem', 'der', 'encrypted-pem', 'encrypted-der', 'rsa-traditional'])
@pytest.mark.parametrize('check_mode', [False, True])
def test_dest_holding_a_private_key_is_never_shown_nor_overwritten(
        kms, rsa_key, private_keys, tmp_path, form, check_mode):
    content = private_key_forms(private_keys)[form]
    (tmp_path / 'keys').mkdir()
    dest = tmp_path / 'keys' / 'app.key'
    dest.write_bytes(content)
    answer(kms, rsa_key[2])

    result = run({'key_id': KEY_ID, 'dest': str(dest), 'backup': True}, tmp_path, check_mode=check_mode, diff=True)

    assert result['failed'] and 'diff' not in result and dest.read_bytes() == content
    assert result['msg'] == ('dest %s holds a private key: it is never shown or overwritten. Give another path '
                             'for the public key.' % dest)
    assert os.listdir(str(tmp_path / 'keys')) == ['app.key']


def test_dest_larger_than_any_public_key_is_refused(kms, rsa_key, tmp_path):
    dest = tmp_path / 'big.pem'
    dest.write_bytes(b'x' * (16 * 1024 + 1))
    answer(kms, rsa_key[2])

    result = run({'key_id': KEY_ID, 'dest': str(dest)}, tmp_path)

    assert result['failed'] and dest.stat().st_size == 16 * 1024 + 1
    assert result['msg'] == 'dest %s is too large to hold a public key: at most 16384 bytes.' % dest


def test_dest_fifo_is_refused_at_once(kms, rsa_key, tmp_path):
    dest = tmp_path / 'pipe'
    os.mkfifo(str(dest))
    answer(kms, rsa_key[2])

    result = run({'key_id': KEY_ID, 'dest': str(dest)}, tmp_path)

    assert result['failed'] and 'dest %s is not a regular file' % dest in result['msg']
