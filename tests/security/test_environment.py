# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test environments are pinned, so that the suites' results are reproducible."""

import glob
import os
import re

import pytest

REQUIREMENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'requirements')


def _requirements(name):
    with open(os.path.join(REQUIREMENTS, name)) as handle:
        lines = [line.split('#', 1)[0].strip() for line in handle]
    return [line for line in lines if line]


@pytest.mark.parametrize('name', sorted(os.path.basename(path) for path in glob.glob(os.path.join(REQUIREMENTS, '*.txt'))))
def test_requirements_are_pinned_exactly(name):
    requirements = _requirements(name)
    assert requirements
    for line in requirements:
        assert re.match(r'^[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*$', line), line


def test_the_tool_environment_has_what_the_security_suite_runs():
    names = [line.split('==')[0].lower() for line in _requirements('tools.txt')]
    for needed in ('ansible-core', 'ansible-runner', 'requests', 'cryptography', 'pytest'):
        assert needed in names
