# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Constants and small helpers shared by the module_utils unit tests."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

PROJECT_ID = '0123456789abcdef0123456789abcdef'
KEY_ID = '0d0466b0-e727-4d9c-b35d-f84bb474a37f'
KMS = 'https://kms.eu-de.otc.t-systems.com'
IAM = 'https://iam.eu-de.otc.t-systems.com/v3'


def kms_url(action, project_id=PROJECT_ID, endpoint=KMS):
    return '%s/v1.0/%s/kms/%s' % (endpoint, project_id, action)
