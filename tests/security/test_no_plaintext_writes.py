# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection never writes plaintext material to disk: a review of its source.

The canary runs show that nothing is left behind; this test shows where the code could write
at all. Every call in ``plugins/`` that can create or write a file is listed; the only one
allowed are listed in ``ALLOWED_WRITERS`` with their reason (``kms_public_key``'s
``write_atomically``: the public key to ``dest``, through a ``mkstemp`` file, created 0600, in the
module's own temporary directory, which Ansible removes).
Any new writer fails this test until it is reviewed and added here with its reason. The role's
tasks may only call the collection's modules and a few controller-side actions that write nothing.
"""

import ast
import os

import yaml

import helpers

PLUGINS = os.path.join(helpers.REPO, 'plugins')
ROLE_TASKS = os.path.join(helpers.REPO, 'roles', 'byok', 'tasks')

# (file relative to plugins/, function) -> why writing there is fine
ALLOWED_WRITERS = {
    ('modules/kms_public_key.py', 'write_atomically'):
        'writes the public key (never private material) to dest via a 0600 mkstemp file in module.tmpdir',
    ('module_utils/_ceremony.py', 'write_file_atomic'):
        'writes ceremony bundles (wrapping public keys, import tokens, wrapped material) and evidence '
        'reports, never plaintext material: mkstemp in the target directory, its mode set before the '
        'first byte, then a rename',
    ('module_utils/_ceremony.py', '_read_bounded'):
        'os.open read-only (O_RDONLY | O_NONBLOCK) to read a bundle: writes nothing',
    ('module_utils/_transcript.py', 'record'):
        'appends the shape of each KMS exchange (types and lengths, no values) to $DEW_KMS_TRANSCRIPT, '
        'created 0600, only when that variable is set',
}

# calls that write whatever object they are called on, and calls that write as os.* / shutil.*
WRITING_CALLS = {'mkstemp', 'mkdtemp', 'NamedTemporaryFile', 'TemporaryFile', 'SpooledTemporaryFile',
                 'write_bytes', 'write_text', 'atomic_move'}
OS_WRITING_CALLS = {'open', 'write', 'rename', 'replace', 'makedirs', 'mkdir', 'symlink', 'link',
                    'truncate', 'chmod', 'mkfifo', 'mknod'}
SHUTIL_WRITING_CALLS = {'copy', 'copy2', 'copyfile', 'copyfileobj', 'copytree', 'move'}
WRITE_MODES = set('wax+')
# set_stats publishes byok_results (no material: the batch never returns any) to the run's stats
ROLE_ACTIONS = {'dew.kms.kms_byok', 'ansible.builtin.set_fact', 'ansible.builtin.set_stats',
                'ansible.builtin.debug', 'ansible.builtin.fail', 'ansible.builtin.assert',
                'ansible.builtin.meta'}


def _call_name(node):
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _open_mode(node):
    mode = None
    if len(node.args) >= 2:
        mode = node.args[1]
    for keyword in node.keywords:
        if keyword.arg == 'mode':
            mode = keyword.value
    if mode is None:
        return 'r'
    if isinstance(mode, ast.Constant) and isinstance(mode.value, str):
        return mode.value
    return '?'  # computed: treat as writing


def writers_in(path):
    """[(function, line, what)] for each call in ``path`` that may write a file."""
    with open(path, encoding='utf-8') as handle:
        tree = ast.parse(handle.read(), path)
    found = []

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, child.name)
                continue
            if isinstance(child, ast.Call):
                name = _call_name(child)
                owner = child.func.value.id if isinstance(child.func, ast.Attribute) and isinstance(
                    child.func.value, ast.Name) else None
                writes_mode = bool(set(_open_mode(child)) & (WRITE_MODES | {'?'}))
                if owner == 'os' and name in OS_WRITING_CALLS:
                    found.append((function, child.lineno, 'os.%s' % name))
                elif owner == 'shutil' and name in SHUTIL_WRITING_CALLS:
                    found.append((function, child.lineno, 'shutil.%s' % name))
                elif name in ('open', 'fdopen') and owner != 'os' and writes_mode:
                    found.append((function, child.lineno, '%s(mode=%s)' % (name, _open_mode(child))))
                elif name == 'fdopen' and writes_mode:
                    found.append((function, child.lineno, 'os.fdopen(mode=%s)' % _open_mode(child)))
                elif name in WRITING_CALLS:
                    found.append((function, child.lineno, name))
            visit(child, function)

    visit(tree, '<module>')
    return found


def test_only_reviewed_code_writes_files():
    unexpected = []
    seen = set()
    for folder, _dirs, names in os.walk(PLUGINS):
        for name in sorted(names):
            if not name.endswith('.py'):
                continue
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, PLUGINS)
            for function, line, what in writers_in(path):
                if (relative, function) in ALLOWED_WRITERS:
                    seen.add((relative, function))
                else:
                    unexpected.append('%s:%d in %s(): %s' % (relative, line, function, what))
    assert not unexpected, ('code that may write files, not reviewed for plaintext material:\n  '
                            + '\n  '.join(unexpected))
    assert seen == set(ALLOWED_WRITERS), 'allowed writers that no longer exist: %s' % (
        set(ALLOWED_WRITERS) - seen)


def test_public_key_temp_file_is_private_and_in_the_module_tmpdir():
    """``write_atomically`` uses mkstemp (mode 0600) in module.tmpdir and writes what it is given;
    ``write_dest`` gives it the public key only."""
    path = os.path.join(PLUGINS, 'modules', 'kms_public_key.py')
    with open(path, encoding='utf-8') as handle:
        tree = ast.parse(handle.read(), path)
    functions = dict((node.name, node) for node in ast.walk(tree) if isinstance(node, ast.FunctionDef))
    mkstemp = [node for node in ast.walk(functions['write_atomically'])
               if isinstance(node, ast.Call) and _call_name(node) == 'mkstemp']
    assert len(mkstemp) == 1
    directory = [k.value for k in mkstemp[0].keywords if k.arg == 'dir']
    assert directory and ast.unparse(directory[0]) == 'module.tmpdir'
    # the content handed to write_atomically derives from public_key['pem'] / ['der_b64'] only
    source = ast.unparse(functions['write_dest'])
    assert "public_key['pem']" in source and "public_key['der_b64']" in source
    callers = [name for name, node in functions.items() if name != 'write_atomically' and any(
        isinstance(n, ast.Call) and _call_name(n) == 'write_atomically' for n in ast.walk(node))]
    assert callers == ['write_dest']


def test_the_role_only_runs_actions_that_write_nothing():
    actions = set()
    for name in os.listdir(ROLE_TASKS):
        with open(os.path.join(ROLE_TASKS, name)) as handle:
            tasks = yaml.safe_load(handle) or []
        stack = list(tasks)
        while stack:
            task = stack.pop()
            for key in ('block', 'rescue', 'always'):
                stack.extend(task.get(key) or [])
            actions.update(key for key in task if '.' in key and key.split('.')[0] in ('ansible', 'dew'))
    assert actions and actions <= ROLE_ACTIONS, 'role actions to review: %s' % (actions - ROLE_ACTIONS)


def test_the_checker_finds_writes(tmp_path):
    """The AST scan itself: it must see the usual ways of writing a file."""
    sample = str(tmp_path / 'writer_sample.py')
    code = ('import os, tempfile, shutil\n'
            'def a(p):\n    open(p, "wb").write(b"x")\n'
            'def b(p):\n    with open(p, mode="a") as f: f.write("x")\n'
            'def c(p):\n    fd, t = tempfile.mkstemp()\n    os.write(fd, b"x")\n'
            'def d(p):\n    shutil.copyfile(p, p + ".bak")\n'
            'def e(p):\n    open(p).read()\n')
    with open(sample, 'w') as handle:
        handle.write(code)
    found = writers_in(sample)
    functions = sorted(set(function for function, _line, _what in found))
    assert functions == ['a', 'b', 'c', 'd'], found
