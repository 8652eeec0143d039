# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plumbing shared by the test suites that run outside ansible-test (tests/emulator/tests,
tests/security, tests/reliability, tests/perf, tests/awx, tests/live).

- ``support.emulator``: start the KMS emulator as a process with any extra command line
  arguments, read its JSON line, stop it (``start_emulator``, ``running_emulator``,
  ``EmulatorProcess``).
- ``support.collection``: copy the checkout to ``<root>/ansible_collections/dew/kms``
  (``build_collection_tree``) and make it importable (``import_collection``).
- ``support.ansible``: the environment of an isolated ansible run and ``run_playbook``.
- ``support.canaries``: secrets of a test run in every form they could leak in, and the
  scanner that finds them in text, bytes and directory trees.

A suite puts the ``tests`` directory on ``sys.path`` (``pythonpath`` in its pytest.ini, or
``sys.path.insert`` in its conftest) and imports ``support.<module>``. Nothing here imports the
emulator package: the emulator only ever runs as a process, so it stays independent.
"""
