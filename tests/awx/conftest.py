# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the AWX-path tests: the credential type, the collection as AWX sees it, the emulator.

Run with the lint environment (``make awx-test``): it has ansible-core, ansible-runner and the
libraries the modules need. ``KMS_EMULATOR_PYTHON`` names the interpreter for the emulator
(default: the one running the tests).
"""

from __future__ import absolute_import, division, print_function

import glob
import json
import os
import shutil
import subprocess
import sys
import time

import pytest
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
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
    out_path = str(work / 'stdout')
    log_path = str(work / 'requests.log')
    python = os.environ.get('KMS_EMULATOR_PYTHON') or sys.executable
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, 'tests', 'emulator'))
    with open(out_path, 'wb') as out:
        proc = subprocess.Popen(
            [python, '-m', 'kms_emulator', '--port', '0', '--exit-after', '600', '--log-file', log_path],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=str(work))
    info = None
    deadline = time.time() + 30
    while time.time() < deadline and info is None:
        if proc.poll() is not None:
            break
        with open(out_path, 'rb') as handle:
            first = handle.readline()
        if first.endswith(b'\n'):
            info = json.loads(first)
        else:
            time.sleep(0.1)
    if info is None:
        proc.kill()
        with open(out_path, 'rb') as handle:
            pytest.fail('the KMS emulator did not start: %s' % handle.read().decode('utf-8', 'replace'))
    yield info
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
