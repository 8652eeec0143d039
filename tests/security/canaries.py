# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The canary detector lives in tests/support/canaries.py: these are the names the suite imports."""

from support.canaries import Secrets, scan_bytes, scan_text, scan_tree  # noqa: F401  (pylint: disable=unused-import)
