# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Every module: dew.kms.attributes. A module adds only what is its own (the details of
    # check_mode, and diff_mode support with its details); its values win over these.
    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: all
  action_group:
    description: Action is part of action_group(s), for convenient setting of module_defaults.
    support: N/A
    membership:
      - dew.kms.kms
'''

    # Modules that change nothing: dew.kms.attributes.info_module (after dew.kms.attributes)
    INFO_MODULE = r'''
options: {}
attributes:
  check_mode:
    details: The module changes nothing, it runs the same in check mode.
  diff_mode:
    support: N/A
    details: The module changes nothing.
'''

    # Modules that write files: dew.kms.attributes.files
    FILES = r'''
options: {}
attributes:
  safe_file_operations:
    description: Uses Ansible's strict file operation functions to ensure proper permissions and avoid data corruption.
    support: full
  vault:
    description: Can automatically decrypt Ansible vaulted files.
    support: none
'''
