# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The security suite's environment (the tool environment) is pinned, so that its results are reproducible."""

import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))


def test_requirements_are_pinned_exactly():
    with open(os.path.join(HERE, '..', 'requirements', 'tools.txt')) as handle:
        lines = [line.split('#', 1)[0].strip() for line in handle]
    requirements = [line for line in lines if line]
    assert requirements
    for line in requirements:
        assert re.match(r'^[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*$', line), line
    names = [line.split('==')[0].lower() for line in requirements]
    for needed in ('ansible-core', 'ansible-runner', 'requests', 'cryptography', 'pytest'):
        assert needed in names
