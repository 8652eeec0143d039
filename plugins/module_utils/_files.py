# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one reader for every file the collection reads: capped, regular files only.

Messages name the option and, when it looks like a path, the path; a value that looks like
pasted content (long, or spanning lines) is never echoed. Private module: the interface may
change between releases.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible_collections.dew.kms.plugins.module_utils._errors import KmsInputError

# the longest value still shown in a message as a path; longer ones are likely pasted content
MAX_SHOWN_PATH = 256


def shown_path(option, path):
    """'key_material_path /x/y' for a message; just the option when the value is no plausible path."""
    if not isinstance(path, str) or len(path) > MAX_SHOWN_PATH or '\n' in path or '\r' in path:
        return option
    return '%s %s' % (option, path)


def _check_regular(path, option, mode):
    """KmsInputError unless ``mode`` (an st_mode) is a regular file's."""
    if stat.S_ISDIR(mode):
        raise KmsInputError('%s is a directory: give the path of a file.' % shown_path(option, path))
    if not stat.S_ISREG(mode):
        raise KmsInputError('%s is not a regular file (a device, FIFO or socket): give the path of a file.'
                            % shown_path(option, path))


def _unreadable(path, option, err):
    return KmsInputError('%s cannot be read: %s.' % (shown_path(option, path), err.strerror or err))


def read_capped(path, option, limit, what):
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    The file type is checked before the file is opened, so a FIFO or a device fails at once
    instead of blocking or streaming, and again on the open file (it may have been swapped).
    ``what`` names the expected content for the too-large message ("key material").
    KmsInputError naming ``option`` for a missing, unreadable, irregular or too large file.
    """
    try:
        before = os.stat(path)
    except (IOError, OSError, ValueError) as err:
        raise _unreadable(path, option, err)
    _check_regular(path, option, before.st_mode)
    try:
        with open(path, 'rb') as handle:
            now = os.fstat(handle.fileno())
            if (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino):
                raise KmsInputError('%s changed while it was opened: run the task again.' % shown_path(option, path))
            _check_regular(path, option, now.st_mode)
            data = handle.read(limit + 1)
    except (IOError, OSError) as err:
        raise _unreadable(path, option, err)
    if len(data) > limit:
        raise KmsInputError('%s is too large to hold %s: at most %d bytes.'
                            % (shown_path(option, path), what, limit))
    return data


def read_capped_if_exists(path, option, limit, what):
    """Like ``read_capped``, but None when nothing exists at ``path``."""
    if not os.path.lexists(path):
        return None
    return read_capped(path, option, limit, what)
