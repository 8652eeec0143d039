# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Every module that talks to KMS (all of them): dew.kms.requirements.
    # A fragment must carry options (even empty) to be accepted.
    DOCUMENTATION = r'''
requirements:
  - python >= 3.9
  - requests >= 2.25
options: {}
'''

    # Modules that wrap key material or parse keys locally: dew.kms.requirements.cryptography
    CRYPTOGRAPHY = r'''
requirements:
  - cryptography >= 3.4
options: {}
'''
