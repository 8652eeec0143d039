# Copyright: dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark-only callback: where the wall time of a playbook run goes.

Enabled by the benchmark's diagnostic runs only (ANSIBLE_CALLBACK_PLUGINS pointing here,
ANSIBLE_CALLBACKS_ENABLED=bench_timings, BENCH_TIMINGS_FILE=<path>). Writes JSON: the time
from process start to the playbook start (interpreter, imports, inventory and playbook
parsing), per task name the summed wall time and the count of executions (a task looped or
included per key is summed), and the time after the last task.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: bench_timings
type: aggregate
short_description: per-task wall times for the dew.kms benchmark
description:
  - Sums the wall time of every task by name and writes it to the file named by
    E(BENCH_TIMINGS_FILE) when the playbook ends. For the benchmark in tests/perf only.
requirements:
  - psutil (for the process start time)
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_timings'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        try:
            import psutil
            self._proc_start = psutil.Process(os.getpid()).create_time()
        except Exception:  # pragma: no cover - diagnostics only
            self._proc_start = None
        self._playbook_start = None
        self._current = None
        self._current_start = None
        self._tasks = {}
        self._order = []

    def _close(self):
        if self._current is not None:
            entry = self._tasks.setdefault(self._current, {'seconds': 0.0, 'count': 0})
            entry['seconds'] += time.time() - self._current_start
            entry['count'] += 1
            self._current = None

    def v2_playbook_on_start(self, playbook):
        self._playbook_start = time.time()

    def _start(self, task):
        self._close()
        name = task.get_name().strip()
        role = getattr(task, '_role', None)
        if role is not None and not name.startswith(role.get_name()):
            name = '%s : %s' % (role.get_name(), name)
        action = getattr(task, 'action', '')
        name = '%s [%s]' % (name, action)
        if name not in self._tasks:
            self._order.append(name)
        self._current = name
        self._current_start = time.time()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._start(task)

    def v2_playbook_on_stats(self, stats):
        self._close()
        end = time.time()
        out = {
            'startup_seconds': (self._playbook_start - self._proc_start)
            if self._proc_start and self._playbook_start else None,
            'tasks': [dict(name=n, **self._tasks[n]) for n in self._order if n in self._tasks],
            'playbook_seconds': end - self._playbook_start if self._playbook_start else None,
        }
        path = os.environ.get('BENCH_TIMINGS_FILE')
        if path:
            with open(path, 'w') as f:
                json.dump(out, f, indent=1)
