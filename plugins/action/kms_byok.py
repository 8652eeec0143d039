# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of dew.kms.kms_byok: runs the batch on the controller and shows each key as it
completes, then a totals line and a table of every key.

In the controller's Python, the batch engine runs in this worker process, so every finished key
can go through Ansible's Display (default callback, AWX job output) at once. Where that would
change what the task does, the module runs as usual instead (no per-key lines, the totals and
the table still follow): a connection that is not local (the material lives on that host),
become (the module would run as another user), or a controller Python without requests or
cryptography. See docs/docsite/rst/design_decisions.rst.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os
import threading

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.dew.kms.plugins.module_utils import _report
from ansible_collections.dew.kms.plugins.module_utils._common import kms_argument_spec, wait_timeout_of
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsError
from ansible_collections.dew.kms.plugins.modules.kms_byok import ARGUMENT_SPEC

display = Display()

MODULE = 'dew.kms.kms_byok'


def secret_values(spec, params):
    """Every value of a no_log option in ``params``, also inside list and dict suboptions."""
    found = set()
    for name, option in spec.items():
        value = params.get(name)
        if value is None:
            continue
        if option.get('no_log') and isinstance(value, str) and value:
            found.add(value)
        suboptions = option.get('options')
        if suboptions:
            for element in value if isinstance(value, list) else [value]:
                if isinstance(element, dict):
                    found.update(secret_values(suboptions, element))
    return found


class ControllerKms:
    """What the batch engine needs of a KmsModule, for a run in this process: params,
    check_mode, diff_mode, warn and a client built from the task's environment."""

    def __init__(self, params, check_mode, diff_mode, env, no_log_values):
        self.params = params
        self.check_mode = check_mode
        self.diff_mode = diff_mode
        self.env = env
        self.no_log_values = no_log_values
        self.warnings = []
        self._client = None
        self._lock = threading.Lock()

    def warn(self, msg):
        with self._lock:
            if msg not in self.warnings:
                self.warnings.append(msg)

    @property
    def wait_timeout(self):
        """Seconds to wait while a key is pending activation (option wait_timeout)."""
        return wait_timeout_of(self.params)

    @property
    def client(self):
        with self._lock:
            if self._client is None:
                from ansible_collections.dew.kms.plugins.module_utils._auth import resolve_config
                from ansible_collections.dew.kms.plugins.module_utils._client import KmsClient

                config = resolve_config(self.params, self.env)
                # secrets read from the environment are masked like option values
                self.no_log_values.update(config.secret_values())
                self._client = KmsClient(config, warn=self._warn_unlocked, env=self.env)
            return self._client

    def now(self):
        """Epoch seconds on KMS's clock (``_client.kms_now``)."""
        from ansible_collections.dew.kms.plugins.module_utils._client import kms_now
        return kms_now(self._client)

    def _warn_unlocked(self, msg):
        # the client warns while it is built, under the lock
        if msg not in self.warnings:
            self.warnings.append(msg)

    def close(self):
        if self._client is not None:
            self._client.close()
            self._client = None


class Progress:
    """Shows each key as the engine finishes it, one line at a time, secrets masked."""

    def __init__(self, total, no_log_values, show):
        self.total = total
        self.no_log_values = no_log_values
        self.show = show
        self.done = 0
        self._lock = threading.Lock()

    def entry_done(self, entry):
        with self._lock:
            self.done += 1
            if self.show:
                line = _report.progress_line(entry.result, entry.index, self.done, self.total)
                display.display('kms_byok %s' % remove_values(line, self.no_log_values))


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        no_log_values = secret_values(kms_argument_spec(**ARGUMENT_SPEC), args)

        problems = _report.entry_problems(args.get('keys'), ARGUMENT_SPEC['keys'])
        if problems:
            result.update(failed=True, msg=remove_values(' '.join(problems), no_log_values))
            return result

        if self._runs_in_process():
            outcome = self._run_in_process(args, no_log_values)
        else:
            display.vvv('kms_byok: running the module %s on %s, without per-key progress'
                        % (MODULE, self._connection.transport))
            outcome = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
        result.update(outcome)
        self._show_summary(result.get('results'))
        self._show_digests(result)
        return result

    def _runs_in_process(self):
        """In this process only where the module would run here too, as this user, with the
        libraries it needs."""
        if self._connection.transport != 'local' or self._play_context.become:
            return False
        from ansible_collections.dew.kms.plugins.module_utils import _client
        return _client.HAS_REQUESTS and importlib.util.find_spec('cryptography') is not None

    def _task_environment(self):
        """The controller's environment with the task's ``environment:`` keyword applied, as a
        module process would see it."""
        task_env = {}
        self._compute_environment_string(raw_environment_out=task_env)
        env = dict(os.environ)
        env.update((str(name), str(value)) for name, value in task_env.items())
        return env

    def _run_in_process(self, args, no_log_values):
        from ansible_collections.dew.kms.plugins.module_utils._auth import cloud_secret_values
        from ansible_collections.dew.kms.plugins.module_utils._batch import Batch, BatchFailed

        validated = ArgumentSpecValidator(kms_argument_spec(**ARGUMENT_SPEC)).validate(args)
        if validated.error_messages:
            return {'failed': True, 'msg': remove_values('; '.join(validated.error_messages), no_log_values)}
        params = validated.validated_parameters
        no_log_values.update(cloud_secret_values(params))

        km = ControllerKms(params, check_mode=bool(self._task.check_mode), diff_mode=bool(self._task.diff),
                           env=self._task_environment(), no_log_values=no_log_values)
        progress = Progress(len(params['keys']), no_log_values, show=not self._task.no_log)
        try:
            wait_timeout_of(params)  # a bad value fails before any call, as in the module
            outcome = Batch(km, on_done=progress.entry_done).run()
        except BatchFailed as error:
            outcome = dict(error.as_fail_kwargs(), failed=True)
        except KmsError as error:
            outcome = dict(error.as_fail_kwargs(), failed=True)
        finally:
            km.close()
        if km.warnings:
            outcome['warnings'] = km.warnings
        outcome['invocation'] = {'module_args': params}
        outcome.setdefault('changed', False)
        return remove_values(outcome, no_log_values)

    def _show_digests(self, result):
        """What the operator compares across the air gap: the wrapping keys and the bundle digests."""
        if self._task.no_log or result.get('failed'):
            return
        lines = _report.digest_lines(result)
        if lines:
            display.display('kms_byok ' + '\n'.join(lines))

    def _show_summary(self, results):
        if not isinstance(results, list) or not results or self._task.no_log:
            return
        lines = [_report.totals_line(results)] + _report.results_table(results)
        display.display('kms_byok ' + '\n'.join(lines))
