# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running ansible-playbook (and the other ansible commands) against a collection tree from
``support.collection``, isolated from the user's configuration, with the tools of the Python
environment running the tests."""

import json
import os
import subprocess
import sys
import time

BIN = os.path.dirname(sys.executable)


def ansible_settings(collections_root):
    """ANSIBLE_* settings of every run: this collection only, no colour, no noise."""
    return {
        'ANSIBLE_COLLECTIONS_PATH': str(collections_root),
        'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_RETRY_FILES_ENABLED': 'false',
        'ANSIBLE_HOST_KEY_CHECKING': 'false',
        'ANSIBLE_LOCALHOST_WARNING': 'false',
        'ANSIBLE_INVENTORY_UNPARSED_WARNING': 'false',
        'PYTHONDONTWRITEBYTECODE': '1',
    }


class AnsibleEnv:
    """Environment of a run that must leave nothing behind unseen: a private HOME (so
    ~/.ansible/tmp is ours to scan), a dedicated TMPDIR and nothing else from the caller's
    environment but PATH and the locale."""

    def __init__(self, collections_root, workdir, extra_env=None):
        self.workdir = workdir
        self.home = os.path.join(workdir, 'home')
        self.tmpdir = os.path.join(workdir, 'tmp')
        for path in (self.home, self.tmpdir):
            os.makedirs(path, exist_ok=True)
        keep = ('PATH', 'LANG', 'LC_ALL', 'PYENV_ROOT')
        env = dict((name, os.environ[name]) for name in keep if name in os.environ)
        env.update(ansible_settings(collections_root))
        env.update({
            'PATH': BIN + os.pathsep + os.environ.get('PATH', ''),
            'HOME': self.home,
            'TMPDIR': self.tmpdir,
            'ANSIBLE_DEPRECATION_WARNINGS': 'false',
        })
        env.update(extra_env or {})
        self.env = env

    def scan_roots(self):
        """Where a run may leave files behind: TMPDIR and HOME (incl. ~/.ansible/tmp)."""
        return [self.tmpdir, self.home]


def write_inventory(path):
    """An INI inventory of localhost on the local connection with the playbook's interpreter."""
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write('localhost ansible_connection=local '
                     'ansible_python_interpreter="{{ ansible_playbook_python }}"\n')
    return path


def run(cmd, ansible_env, cwd, timeout=600, stdout_path=None):
    """Run a command in ``ansible_env``; returns (rc, stdout, stderr) as text, and writes them
    to ``stdout_path`` and ``stdout_path.stderr`` if given."""
    proc = subprocess.run(cmd, cwd=cwd, env=ansible_env.env, stdout=subprocess.PIPE, check=False,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=timeout)
    out = proc.stdout.decode('utf-8', 'replace')
    err = proc.stderr.decode('utf-8', 'replace')
    if stdout_path:
        with open(stdout_path, 'w', encoding='utf-8') as handle:
            handle.write(out)
        with open(stdout_path + '.stderr', 'w', encoding='utf-8') as handle:
            handle.write(err)
    return proc.returncode, out, err


class PlaybookRun:
    """What one ``run_playbook`` did: return code, output, duration and the play's results."""

    def __init__(self, completed, seconds, result_file):
        self.returncode = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.seconds = seconds
        self.result_file = result_file

    @property
    def output(self):
        return self.stdout + self.stderr

    def results(self):
        """What the playbook wrote to ``result_file`` (JSON), or None."""
        if not os.path.exists(self.result_file):
            return None
        with open(self.result_file, encoding='utf-8') as handle:
            text = handle.read()
        return json.loads(text) if text else None

    def warnings(self):
        """The [WARNING] lines ansible-playbook printed (folded continuation lines joined)."""
        found, current = [], None
        for line in self.output.splitlines():
            if line.startswith('[WARNING]:'):
                if current is not None:
                    found.append(current)
                current = line[len('[WARNING]:'):].strip()
            elif current is not None and line.startswith(' ') and line.strip():
                current += ' ' + line.strip()
            else:
                if current is not None:
                    found.append(current)
                current = None
        if current is not None:
            found.append(current)
        return found


def run_playbook(collections_root, workdir, playbook, extra_vars=None, timeout=600, env=None,
                 verbosity=0):
    """ansible-playbook on localhost with the collection from ``collections_root``.

    ``playbook``: the YAML text. ``extra_vars`` go in as a JSON file (secrets stay off the
    command line). A play can write its findings to ``{{ result_file }}``. The caller's
    environment is kept except HW_* / OS_* variables: the play says which credentials it uses.
    """
    workdir = str(workdir)
    os.makedirs(workdir, exist_ok=True)
    stamp = '%d-%d' % (os.getpid(), time.monotonic_ns())
    playbook_path = os.path.join(workdir, 'play-%s.yml' % stamp)
    inventory = os.path.join(workdir, 'inventory.yml')
    result_file = os.path.join(workdir, 'result-%s.json' % stamp)
    vars_path = os.path.join(workdir, 'vars-%s.json' % stamp)
    with open(playbook_path, 'w', encoding='utf-8') as handle:
        handle.write(playbook)
    with open(inventory, 'w', encoding='utf-8') as handle:
        handle.write('all:\n  hosts:\n    localhost:\n      ansible_connection: local\n'
                     '      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n')
    with open(vars_path, 'w', encoding='utf-8') as handle:
        json.dump(dict(extra_vars or {}, result_file=result_file), handle)
    run_env = dict((name, value) for name, value in os.environ.items()
                   if not name.startswith(('HW_', 'OS_')))
    run_env.update(ansible_settings(collections_root))
    run_env.update({
        'PATH': BIN + os.pathsep + run_env.get('PATH', ''),
        'ANSIBLE_HOME': os.path.join(workdir, 'ansible-home'),
        'ANSIBLE_LOCAL_TEMP': os.path.join(workdir, 'ansible-tmp'),
        'ANSIBLE_DISPLAY_ARGS_TO_STDOUT': 'false',
    })
    run_env.update(env or {})
    command = [os.path.join(BIN, 'ansible-playbook'), '-i', inventory, '-e', '@' + vars_path,
               playbook_path]
    if verbosity:
        command.append('-' + 'v' * verbosity)
    started = time.monotonic()
    completed = subprocess.run(command, cwd=workdir, env=run_env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=timeout, check=False)
    return PlaybookRun(completed, time.monotonic() - started, result_file)
