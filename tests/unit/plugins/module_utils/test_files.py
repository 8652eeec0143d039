# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.dew.kms.plugins.module_utils import _files
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsInputError


def test_reads_a_regular_file_up_to_the_limit(tmp_path):
    path = tmp_path / 'material.bin'
    path.write_bytes(b'x' * 32)
    assert _files.read_capped(str(path), 'key_material_path', 32, 'key material') == b'x' * 32


def test_one_byte_over_the_limit_fails(tmp_path):
    path = tmp_path / 'material.bin'
    path.write_bytes(b'x' * 33)
    with pytest.raises(KmsInputError) as info:
        _files.read_capped(str(path), 'key_material_path', 32, 'key material')
    assert info.value.msg == ('key_material_path %s is too large to hold key material: at most 32 bytes.' % path)


def test_symlink_to_a_regular_file_is_read(tmp_path):
    target = tmp_path / 'target.pem'
    target.write_bytes(b'content')
    link = tmp_path / 'link.pem'
    link.symlink_to(target)
    assert _files.read_capped(str(link), 'dest', 100, 'a public key') == b'content'


def test_directory_fails_naming_option_and_path(tmp_path):
    with pytest.raises(KmsInputError, match=r'^dest .* is a directory: give the path of a file\.$'):
        _files.read_capped(str(tmp_path), 'dest', 100, 'a public key')


def test_fifo_fails_at_once(tmp_path):
    fifo = tmp_path / 'pipe'
    os.mkfifo(str(fifo))
    with pytest.raises(KmsInputError, match='is not a regular file'):
        _files.read_capped(str(fifo), 'key_material_path', 100, 'key material')


def test_device_fails_at_once():
    with pytest.raises(KmsInputError, match=r'^key_material_path /dev/zero is not a regular file'):
        _files.read_capped('/dev/zero', 'key_material_path', 100, 'key material')


def test_missing_file_fails_with_the_reason(tmp_path):
    missing = str(tmp_path / 'missing')
    with pytest.raises(KmsInputError) as info:
        _files.read_capped(missing, 'key_material_path', 100, 'key material')
    assert info.value.msg == 'key_material_path %s cannot be read: No such file or directory.' % missing


@pytest.mark.parametrize('value', ['A' * 257, 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQ'],
                         ids=['long', 'multi-line'])
def test_pasted_content_is_never_echoed(value):
    with pytest.raises(KmsInputError) as info:
        _files.read_capped(value, 'key_material_path', 100, 'key material')
    assert info.value.msg.startswith('key_material_path cannot be read: ')
    assert 'AAAA' not in info.value.msg and 'MIIE' not in info.value.msg


def test_shown_path():
    assert _files.shown_path('dest', '/srv/key.pem') == 'dest /srv/key.pem'
    assert _files.shown_path('dest', 'x' * 256) == 'dest ' + 'x' * 256
    assert _files.shown_path('dest', 'x' * 257) == 'dest'
    assert _files.shown_path('dest', 'a\rb') == 'dest'


def test_read_capped_if_exists(tmp_path):
    assert _files.read_capped_if_exists(str(tmp_path / 'none'), 'dest', 10, 'a public key') is None
    dangling = tmp_path / 'dangling'
    dangling.symlink_to(tmp_path / 'nowhere')
    with pytest.raises(KmsInputError, match='cannot be read'):
        _files.read_capped_if_exists(str(dangling), 'dest', 10, 'a public key')
    path = tmp_path / 'file'
    path.write_bytes(b'abc')
    assert _files.read_capped_if_exists(str(path), 'dest', 10, 'a public key') == b'abc'


def test_a_file_swapped_between_check_and_open_is_refused(tmp_path, monkeypatch):
    path = tmp_path / 'material.bin'
    path.write_bytes(b'x' * 32)
    other = tmp_path / 'other.bin'
    other.write_bytes(b'y')
    real_stat = os.stat
    # the check sees another file than the one then opened
    monkeypatch.setattr(_files.os, 'stat', lambda p: real_stat(str(other)) if p == str(path) else real_stat(p))
    with pytest.raises(KmsInputError, match=r'changed while it was opened: run the task again\.$'):
        _files.read_capped(str(path), 'key_material_path', 100, 'key material')
