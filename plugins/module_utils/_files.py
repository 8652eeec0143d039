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

import errno
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


def _open_regular(path, option):
    """A read-only descriptor of a regular file; devices, FIFOs and directories fail at once."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer before fstat can refuse it
        fd = os.open(path, os.O_RDONLY | getattr(os, 'O_NONBLOCK', 0))
    except (IOError, OSError) as err:
        if err.errno == errno.EISDIR:
            raise KmsInputError('%s is a directory: give the path of a regular file.' % shown_path(option, path))
        raise KmsInputError('%s cannot be read: %s.' % (shown_path(option, path), err.strerror or err))
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = 'a directory' if stat.S_ISDIR(mode) else 'not a regular file (a device, FIFO or socket)'
        raise KmsInputError('%s is %s: give the path of a regular file.' % (shown_path(option, path), what))
    return fd


def read_capped(path, option, limit, what):
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    ``what`` names the expected content for the too-large message ("key material").
    KmsInputError naming ``option`` for a missing, unreadable, irregular or too large file.
    """
    fd = _open_regular(path, option)
    with os.fdopen(fd, 'rb') as handle:
        try:
            data = handle.read(limit + 1)
        except (IOError, OSError) as err:
            raise KmsInputError('%s cannot be read: %s.' % (shown_path(option, path), err.strerror or err))
    if len(data) > limit:
        raise KmsInputError('%s is too large to hold %s: at most %d bytes.'
                            % (shown_path(option, path), what, limit))
    return data


def read_capped_if_exists(path, option, limit, what):
    """Like ``read_capped``, but None when nothing exists at ``path``."""
    if not os.path.lexists(path):
        return None
    return read_capped(path, option, limit, what)
