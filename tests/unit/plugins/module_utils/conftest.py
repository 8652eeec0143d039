# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dew.kms.plugins.module_utils import _auth
from ansible_collections.dew.kms.plugins.module_utils._client import KmsClient


class Recorder:
    """Collects warnings and sleeps of a client instead of waiting."""

    def __init__(self):
        self.warnings = []
        self.sleeps = []

    def warn(self, msg):
        self.warnings.append(msg)

    def sleep(self, seconds):
        self.sleeps.append(seconds)


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def make_client(recorder):
    """make_client(**params) -> KmsClient whose config comes from params only (empty env)."""
    clients = []

    def factory(env=None, **params):
        params.setdefault('region', 'eu-de')
        config = _auth.resolve_config(params, env=env or {})
        client = KmsClient(config, warn=recorder.warn)
        client.sleep = recorder.sleep
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()
