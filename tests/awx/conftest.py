# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the AWX-path tests: the credential type, the collection as AWX sees it, the emulator.

Run with the tool environment (``make awx-test``): it has ansible-core, ansible-runner and the
libraries the modules need. ``KMS_EMULATOR_PYTHON`` names the interpreter for the emulator
(default: the one running the tests).
"""

from __future__ import absolute_import, division, print_function

import glob
import os
import shutil
import subprocess
import sys

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/support

from support.collection import REPO  # noqa: E402  (pylint: disable=wrong-import-position)
from support.emulator import running_emulator  # noqa: E402  (pylint: disable=wrong-import-position)

CREDENTIAL_TYPE = os.path.join(REPO, 'extensions', 'awx', 'credential_type.yml')


def _bin(name):
    """A console script of the environment that runs the tests."""
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    return candidate if os.path.exists(candidate) else shutil.which(name)


@pytest.fixture(scope='session')
def credential_type():
    with open(CREDENTIAL_TYPE, 'rb') as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope='session')
def collection_source(tmp_path_factory):
    """``ansible_collections/dew/kms`` pointing at the checkout, importable from Python."""
    root = tmp_path_factory.mktemp('src')
    parent = root / 'ansible_collections' / 'dew'
    parent.mkdir(parents=True)
    os.symlink(REPO, str(parent / 'kms'))
    sys.path.insert(0, str(root))
    yield str(root)
    sys.path.remove(str(root))


@pytest.fixture(scope='session')
def installed_collection(tmp_path_factory):
    """The collection built and installed like an execution environment has it.

    Returns the collections path to put into ANSIBLE_COLLECTIONS_PATH.
    """
    work = tmp_path_factory.mktemp('galaxy')
    dist = work / 'dist'
    collections = work / 'collections'
    galaxy = _bin('ansible-galaxy')

    def run(*args):
        proc = subprocess.run((galaxy, 'collection') + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              check=False)
        assert proc.returncode == 0, proc.stdout.decode('utf-8', 'replace')

    run('build', '--output-path', str(dist), REPO)
    tarball = glob.glob(str(dist / 'dew-kms-*.tar.gz'))
    assert len(tarball) == 1, tarball
    run('install', '--offline', '--no-deps', '--force', '-p', str(collections), tarball[0])
    assert (collections / 'ansible_collections' / 'dew' / 'kms' / 'MANIFEST.json').exists()
    return str(collections)


@pytest.fixture(scope='session')
def emulator(tmp_path_factory):
    """A running KMS emulator; its ready line (endpoints and credentials) as a dict."""
    work = tmp_path_factory.mktemp('emulator')
    python = os.environ.get('KMS_EMULATOR_PYTHON') or sys.executable
    with running_emulator(workdir=work, python=python, exit_after=600,
                          log_file=work / 'requests.log') as process:
        yield process.info
