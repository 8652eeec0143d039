# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Every module that acts on a key that may still be pending activation: dew.kms.wait.
    # Must stay identical to _common.WAIT_ARGSPEC.
    DOCUMENTATION = r'''
options:
  wait_timeout:
    description:
      - How many seconds to wait at most while a key is pending activation (key state 1).
      - A new key is not usable at once. Until KMS activates it (usually within a second) it
        refuses import parameters, key material, its public key and enabling or disabling.
        The module then polls the key (describe-key) with growing pauses, from 0.2 up to
        3 seconds, until it is usable, and fails naming the key when it is still pending
        activation after O(wait_timeout) seconds.
      - V(0) does not wait, so a key pending activation fails the task with the error of KMS.
    type: int
    default: 60
'''
