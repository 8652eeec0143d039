# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Session fixtures of the security suite: one emulator, one collection tree.

Run with the pinned tool environment ``.venv/tools`` (``make security-test``); the emulator runs
on the same interpreter.
"""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]  # helpers, canaries; tests/support

import helpers  # noqa: E402  (pylint: disable=wrong-import-position)


@pytest.fixture(scope='session')
def emulator(tmp_path_factory):
    """The KMS emulator for the whole session (``--exit-after``: it cannot outlive a hung run)."""
    emu = helpers.Emulator.start(str(tmp_path_factory.mktemp('emulator')), exit_after=1800)
    yield emu
    emu.stop()


@pytest.fixture(scope='session')
def collections_root(tmp_path_factory):
    """A temporary ``ansible_collections/dew/kms`` copy of the checkout."""
    return helpers.build_collection_tree(str(tmp_path_factory.mktemp('collections')))


# The suite runs in two worker processes (pytest-xdist): each hands its timings to the main one.
def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, 'workeroutput', None)
    if workeroutput is not None:
        workeroutput['timings'] = helpers.TIMINGS


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):  # pylint: disable=unused-argument
    helpers.TIMINGS.update(getattr(node, 'workeroutput', {}).get('timings', {}))


def pytest_terminal_summary(terminalreporter):
    if helpers.TIMINGS:
        terminalreporter.write_sep('-', 'security suite timings')
        for name, (wall, cpu) in sorted(helpers.TIMINGS.items()):
            terminalreporter.write_line('%-44s %6.1f s wall, %6.1f s CPU' % (name, wall, cpu))
