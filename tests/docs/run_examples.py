# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lint and run every YAML example of the documentation against a fresh KMS emulator.

Run from the collection root (an ansible_collections/dew/kms tree that ANSIBLE_COLLECTIONS_PATH
finds), with ansible-core, ansible-lint, requests and cryptography on PATH: `make docs-examples`.

Sources: the EXAMPLES of plugins/modules/*.py, the ```yaml blocks of README.md and
roles/byok/README.md, the yaml code blocks of docs/docsite/rst/*.rst.

1. Every snippet must parse. Snippets that are plays (items with `hosts`) or task lists are
   Ansible content; any other YAML (clouds.yaml, requirements.yml, CI jobs) is only parsed.
2. All snippets pass `ansible-lint --profile production`, exactly as written (plays as
   playbooks, task lists as tasks files, requirements as requirements.yml, any other YAML as
   YAML); one ansible-lint run for all, beside the run of step 3.
3. They run in ONE ansible-playbook run against an emulator started with the documented
   command (tools/kms_emulator_env.py), each snippet in an emulator project of its own so that
   no snippet depends on another. A task list becomes the tasks of a play on localhost.
   What the runner provides, per snippet (the contract the examples are written against):
   - environment variables from tools/kms_emulator_env.py for that project: HW_KMS_ENDPOINT,
     OS_AUTH_URL, HW_REGION_NAME (eu-de), OS_USERNAME, OS_PASSWORD, OS_USER_DOMAIN_NAME,
     OS_PROJECT_NAME; so examples that only set `region: eu-de` reach the emulator;
   - the variables the examples use for credentials: otc_username, otc_password, otc_domain,
     otc_access_key, otc_secret_key, otc_project_id, otc_token (an IAM token of the project);
   - vaulted material variables (base64 of 32 random bytes): every variable whose name starts
     with `vault_` and ends with `_b64`, and those of vault/byok_material.yml;
   - the working directory holds the key material files the examples name under keys/ (AES: 32
     random bytes; RSA/EC: a new private key of the example's key_spec) and the empty
     directories public-keys/ and exchange/ that they write to.
4. Finally the documented CI recipe is run as written in a shell: `eval` the output of
   tools/kms_emulator_env.py and run an ad-hoc dew.kms command; then its other options.
"""

from __future__ import absolute_import, division, print_function

import argparse
import ast
import base64
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ROOT = os.getcwd()
EMULATOR_ENV = os.path.join(ROOT, "tools", "kms_emulator_env.py")
# The variables tools/kms_emulator_env.py exports (password auth), by the emulator's field.
CREDENTIAL_OPTIONS = {"auth_token", "username", "password", "access_key", "secret_key", "cloud"}
ENV_FIELDS = (("HW_KMS_ENDPOINT", "kms_endpoint"), ("OS_AUTH_URL", "iam_endpoint"),
              ("HW_REGION_NAME", "region"), ("OS_USERNAME", "username"),
              ("OS_PASSWORD", "password"), ("OS_USER_DOMAIN_NAME", "domain_name"),
              ("OS_PROJECT_NAME", "project_name"))
# Authentication set by the caller must not mix with the emulator's.
FOREIGN_AUTH = ("HW_AUTH_TOKEN", "OS_AUTH_TOKEN", "HW_ACCESS_KEY", "HW_SECRET_KEY",
                "HW_SECURITY_TOKEN", "OS_ACCESS_KEY", "OS_SECRET_KEY", "OS_SECURITY_TOKEN",
                "OS_CLOUD", "HW_PROJECT_ID", "OS_PROJECT_ID", "OS_DOMAIN_NAME", "OS_REGION_NAME",
                "HW_IAM_ENDPOINT", "HW_CLOUD_PROVIDER", "OS_CLIENT_CONFIG_FILE")
VAULT_VAR = re.compile(r"\b(vault_[a-z0-9_]*_b64)\b")
MATERIAL_PATH = re.compile(r"\bkeys/[A-Za-z0-9_.-]+\.(?:bin|pem|der)\b")


class Snippet(object):
    def __init__(self, source, text):
        self.source = source
        self.text = text
        self.data = None

    @property
    def slug(self):
        return re.sub(r"[^a-z0-9]+", "_", self.source.lower()).strip("_")

    def kind(self):
        """'play', 'tasks' or 'other'."""
        if not isinstance(self.data, list) or not self.data:
            return "other"
        plays = [isinstance(item, dict) and "hosts" in item for item in self.data]
        if all(plays):
            return "play"
        if any(plays):
            fail("%s mixes plays and tasks: make it one or the other" % self.source)
        if all(isinstance(item, dict) and "name" in item for item in self.data):
            return "tasks"
        return "other"


def module_examples():
    for path in sorted(glob.glob("plugins/modules/*.py")):
        with open(path) as handle:
            tree = ast.parse(handle.read())
        for node in tree.body:
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "EXAMPLES":
                yield Snippet("%s EXAMPLES" % path, node.value.value)


def markdown_blocks(path):
    with open(path) as handle:
        lines = handle.read().splitlines()
    start = None
    for number, line in enumerate(lines, 1):
        if start is None and line.strip() == "```yaml":
            start = number
        elif start is not None and line.strip() == "```":
            yield Snippet("%s:%s" % (path, start), "\n".join(lines[start:number - 1]) + "\n")
            start = None


def rst_blocks(path):
    with open(path) as handle:
        lines = handle.read().splitlines()
    number = 0
    while number < len(lines):
        line = lines[number]
        match = re.match(r"^(\s*)\.\. code-block:: (yaml|yaml\+jinja)\s*$", line)
        number += 1
        if not match:
            continue
        start, body = number, []
        while number < len(lines) and (not lines[number].strip()
                                       or len(lines[number]) - len(lines[number].lstrip())
                                       > len(match.group(1))):
            body.append(lines[number])
            number += 1
        indent = min(len(item) - len(item.lstrip()) for item in body if item.strip())
        text = "\n".join(item[indent:] for item in body).strip("\n") + "\n"
        yield Snippet("%s:%d" % (path, start), text)


def collect():
    snippets = list(module_examples())
    for path in ("README.md", "roles/byok/README.md"):
        snippets.extend(markdown_blocks(path))
    for path in sorted(glob.glob("docs/docsite/rst/*.rst")):
        snippets.extend(rst_blocks(path))
    return snippets


def fail(message):
    sys.stderr.write("docs-examples: %s\n" % message)
    sys.exit(1)


def run(command, **kwargs):
    print("+ %s" % " ".join(command), flush=True)
    return subprocess.call(command, **kwargs)


def start_lint(snippets, work):
    """Start ansible-lint on the snippets as written; lint_result() waits for it."""
    lint_dir = os.path.join(work, "lint")
    for snippet in snippets:
        kind = snippet.kind()
        if kind == "other" and isinstance(snippet.data, dict) and "collections" in snippet.data:
            path = os.path.join("requirements", snippet.slug, "requirements.yml")
        else:
            path = os.path.join({"play": "playbooks", "tasks": "tasks"}.get(kind, "other"),
                                snippet.slug + ".yml")
        os.makedirs(os.path.dirname(os.path.join(lint_dir, path)), exist_ok=True)
        with open(os.path.join(lint_dir, path), "w") as handle:
            handle.write(snippet.text if snippet.text.startswith("---") else "---\n" + snippet.text)
    with open(os.path.join(lint_dir, ".ansible-lint"), "w") as handle:
        handle.write("---\nprofile: production\noffline: true\n")
    command = ["ansible-lint", "--profile", "production", "--offline"] + sorted(
        name for name in os.listdir(lint_dir) if os.path.isdir(os.path.join(lint_dir, name)))
    print("+ %s (in the background)" % " ".join(command), flush=True)
    return subprocess.Popen(command, cwd=lint_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def lint_result(process):
    output = process.communicate()[0].decode(errors="replace")
    print(output)
    if process.returncode:
        fail("ansible-lint (production profile) failed on the examples above; the file names "
             "say where each example comes from")


def walk(data):
    if isinstance(data, dict):
        yield data
        for value in data.values():
            yield from walk(value)
    elif isinstance(data, list):
        for value in data:
            yield from walk(value)


def material_specs(snippet):
    """keys/... file -> key spec, from the dicts that name the file (or its key's alias)."""
    spec_by_alias = {}
    for item in walk(snippet.data):
        if isinstance(item.get("alias"), str) and "key_spec" in item:
            spec_by_alias[item["alias"]] = item["key_spec"]
    specs = {}
    for item in walk(snippet.data):
        path = item.get("key_material_path")
        if not isinstance(path, str):
            continue
        key = str(item.get("key_id", ""))
        alias = item.get("alias") or (key[len("alias/"):] if key.startswith("alias/") else None)
        specs[path] = item.get("key_spec") or spec_by_alias.get(alias, "AES_256")
    for path in MATERIAL_PATH.findall(snippet.text):
        specs.setdefault(path, "AES_256")
    return specs


def write_material(path, spec):
    if os.path.exists(path):
        return
    if spec.startswith("AES"):
        data = os.urandom(32)
    else:
        if spec.startswith("RSA_"):
            key = rsa.generate_private_key(public_exponent=65537, key_size=int(spec[4:]))
        else:
            key = ec.generate_private_key({"EC_P256": ec.SECP256R1(), "EC_P384": ec.SECP384R1()}[spec])
        data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def start_emulator(projects, work):
    output = subprocess.check_output([sys.executable, EMULATOR_ENV, "--format", "json",
                                      "--projects", str(projects), "--idle-exit", "120",
                                      "--log-file", os.path.join(work, "emulator.log")])
    return json.loads(output)


def iam_token(emulator, project):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": project["username"], "password": project["password"],
        "domain": {"name": project["domain_name"]}}}},
        "scope": {"project": {"id": project["project_id"]}}}}
    request = urllib.request.Request(emulator["iam_endpoint"] + "/auth/tokens",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.headers["X-Subject-Token"]


def project_env(emulator, project):
    merged = dict(emulator, **project)
    return {name: str(merged[field]) for name, field in ENV_FIELDS}


def project_vars(emulator, project, snippet):
    values = {"otc_username": project["username"], "otc_password": project["password"],
              "otc_domain": project["domain_name"], "otc_access_key": project["access_key"],
              "otc_secret_key": project["secret_key"], "otc_project_id": project["project_id"],
              "otc_token": iam_token(emulator, project)}
    for name in set(VAULT_VAR.findall(snippet.text)):
        values[name] = base64.b64encode(os.urandom(32)).decode()
    return values


def as_plays(snippet, emulator, project):
    """The snippet's plays with the project's environment and variables added."""
    environment, variables = project_env(emulator, project), project_vars(emulator, project, snippet)
    if snippet.kind() == "tasks":
        plays = [{"name": "Example from %s" % snippet.source, "hosts": "localhost",
                  "gather_facts": False, "tasks": snippet.data}]
    else:
        plays = snippet.data
    for play in plays:
        play["environment"] = dict(environment, **(play.get("environment") or {}))
        play["vars"] = dict(variables, **(play.get("vars") or {}))
        point_option_credentials_at(play, environment)
    return plays


def point_option_credentials_at(play, environment):
    """Credentials given as options go only to endpoints given as options (never to one from
    the environment): a play with credentials in module_defaults gets the emulator's endpoints
    there too, as a user of such a play sets kms_endpoint/iam_endpoint (or region) beside them."""
    defaults = (play.get("module_defaults") or {}).get("group/dew.kms.kms")
    if isinstance(defaults, dict) and CREDENTIAL_OPTIONS & set(defaults):
        defaults.setdefault("kms_endpoint", environment["HW_KMS_ENDPOINT"])
        defaults.setdefault("iam_endpoint", environment["OS_AUTH_URL"])


def prepare_work(snippets, work):
    for snippet in snippets:
        for path, spec in material_specs(snippet).items():
            os.makedirs(os.path.join(work, os.path.dirname(path)), mode=0o700, exist_ok=True)
            write_material(os.path.join(work, path), spec)
    for directory in ("public-keys", "exchange"):
        os.makedirs(os.path.join(work, directory), exist_ok=True)
    os.makedirs(os.path.join(work, "vault"), exist_ok=True)
    with open(os.path.join(work, "vault", "byok_material.yml"), "w") as handle:
        yaml.safe_dump({"byok_material_db_master": base64.b64encode(os.urandom(32)).decode()}, handle)
    with open(os.path.join(work, "inventory.yml"), "w") as handle:
        yaml.safe_dump({"all": {"hosts": {"localhost": {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable}}}}, handle)
    with open(os.path.join(work, "ansible.cfg"), "w") as handle:
        handle.write("[defaults]\nretry_files_enabled = false\n[connection]\npipelining = true\n")


def run_plays(snippets, work):
    emulator = start_emulator(len(snippets) + 1, work)
    try:
        plays = []
        for snippet, project in zip(snippets, emulator["projects"]):
            plays.extend(as_plays(snippet, emulator, project))
        with open(os.path.join(work, "examples.yml"), "w") as handle:
            yaml.safe_dump(plays, handle, sort_keys=False)
        env = dict((name, value) for name, value in os.environ.items() if name not in FOREIGN_AUTH)
        env["ANSIBLE_CONFIG"] = os.path.join(work, "ansible.cfg")
        if run(["ansible-playbook", "-i", "inventory.yml", "examples.yml"], cwd=work, env=env):
            fail("an example failed against the emulator (see the task above; the play's name "
                 "or the file names where it comes from)")
    finally:
        os.kill(emulator["pid"], 15)


CI_RECIPE = """
set -euo pipefail
eval "$(python3 "$DEW_KMS/tools/kms_emulator_env.py" --idle-exit 60)"
trap 'kill "$DEW_KMS_EMULATOR_PID"' EXIT
ansible localhost -m dew.kms.kms_key -a 'alias=ci-smoke origin=external'
ansible localhost -m dew.kms.kms_key_info -a 'alias=ci-smoke' | grep -q '"key_state_name": "pending_import"'
"""


# The other options of tools/kms_emulator_env.py: dotenv into a 0600 file, AK/SK credentials,
# a state file that keeps keys across a restart, and the idle exit.
STARTER_OPTIONS = """
set -euo pipefail
starter="$DEW_KMS/tools/kms_emulator_env.py"
python3 "$starter" --format dotenv --auth aksk --state-file state.db --idle-exit 60 --output ci.env
test "$(stat -c %a ci.env)" = 600
set -a && . ./ci.env && set +a
test -z "${OS_USERNAME:-}" && test -n "$HW_ACCESS_KEY" && test -n "$HW_PROJECT_ID"
ansible localhost -m dew.kms.kms_key -a 'alias=ci-kept origin=external' >/dev/null
kill "$DEW_KMS_EMULATOR_PID"
while kill -0 "$DEW_KMS_EMULATOR_PID" 2>/dev/null; do sleep 0.1; done
python3 "$starter" --format dotenv --auth aksk --state-file state.db --idle-exit 60 --output ci.env
set -a && . ./ci.env && set +a
ansible localhost -m dew.kms.kms_key_info -a 'alias=ci-kept' | grep -q '"alias": "ci-kept"'
kill "$DEW_KMS_EMULATOR_PID"
eval "$(python3 "$starter" --idle-exit 1)"
sleep 3
if kill -0 "$DEW_KMS_EMULATOR_PID" 2>/dev/null; then echo "--idle-exit 1 did not stop the emulator" >&2; exit 1; fi
"""


def run_ci_recipe(work):
    """The shell recipe of the docs, with python3 being this interpreter."""
    bin_dir = os.path.join(work, "bin")
    os.makedirs(bin_dir, exist_ok=True)
    # not a symlink: a venv's interpreter finds its packages only when called by its own path
    wrapper = os.path.join(bin_dir, "python3")
    with open(wrapper, "w") as handle:
        handle.write('#!/bin/sh\nexec "%s" "$@"\n' % sys.executable)
    os.chmod(wrapper, 0o755)
    env = dict((name, value) for name, value in os.environ.items() if name not in FOREIGN_AUTH)
    env.update(DEW_KMS=ROOT, PATH=bin_dir + os.pathsep + env["PATH"])
    if run(["bash", "-c", CI_RECIPE], cwd=work, env=env):
        fail("the CI recipe (eval of tools/kms_emulator_env.py, then an ad-hoc command) failed")
    if run(["bash", "-c", STARTER_OPTIONS], cwd=work, env=env):
        fail("an option of tools/kms_emulator_env.py did not work as documented (script above)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", required=True, help="scratch directory (emptied first)")
    args = parser.parse_args()
    started = time.monotonic()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    work = os.path.abspath(args.work)

    snippets = collect()
    for snippet in snippets:
        try:
            snippet.data = yaml.safe_load(snippet.text)
        except yaml.YAMLError as error:
            fail("%s is not valid YAML: %s" % (snippet.source, error))
    ansible = [snippet for snippet in snippets if snippet.kind() != "other"]
    print("docs-examples: %d YAML snippets, %d of them Ansible content:" % (len(snippets), len(ansible)))
    for snippet in snippets:
        print("  %-6s %s" % (snippet.kind(), snippet.source))

    linting = start_lint(snippets, work)
    try:
        prepare_work(ansible, work)
        run_plays(ansible, work)
        run_ci_recipe(work)
    finally:
        lint_result(linting)
    print("docs-examples: %d examples linted and run in %.0f s" % (len(ansible), time.monotonic() - started))


if __name__ == "__main__":
    main()
