# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start the KMS emulator shipped in this collection and print the environment for dew.kms.

    python3 <collection>/tools/kms_emulator_env.py [--format shell|dotenv|json]
                                                   [--auth password|aksk] [--output FILE]
                                                   [--idle-exit SECONDS] [--projects N]

The emulator (tests/emulator/kms_emulator beside this file, which needs only the Python standard
library and cryptography) starts in the background on a free loopback port. This script waits until
it is ready, prints the variables that point the dew.kms modules at it and exits; the emulator
stops by itself after --idle-exit seconds without a request, or with `kill $DEW_KMS_EMULATOR_PID`.

    eval "$(python3 .../tools/kms_emulator_env.py)"                  # a shell
    python3 .../tools/kms_emulator_env.py --format dotenv >> "$GITHUB_ENV"   # GitHub Actions
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

EMULATOR_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "emulator")

# Variables the dew.kms modules read, and the field of the emulator's JSON line each one takes.
COMMON = (("HW_KMS_ENDPOINT", "kms_endpoint"), ("OS_AUTH_URL", "iam_endpoint"),
          ("HW_REGION_NAME", "region"))
BY_AUTH = {
    "password": (("OS_USERNAME", "username"), ("OS_PASSWORD", "password"),
                 ("OS_USER_DOMAIN_NAME", "domain_name"), ("OS_PROJECT_NAME", "project_name")),
    "aksk": (("HW_ACCESS_KEY", "access_key"), ("HW_SECRET_KEY", "secret_key"),
             ("HW_PROJECT_ID", "project_id")),
}
READY_TIMEOUT = 30.0


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Start the dew.kms KMS emulator in the background and print the environment"
                    " variables that point the dew.kms modules at it.")
    parser.add_argument("--format", choices=("shell", "dotenv", "json"), default="shell",
                        help="shell: export lines for eval; dotenv: NAME=value lines"
                             " (GitHub Actions $GITHUB_ENV, GitLab dotenv reports, docker --env-file);"
                             " json: the emulator's own description, with every project")
    parser.add_argument("--auth", choices=sorted(BY_AUTH), default="password",
                        help="credentials to export: IAM password (default) or AK/SK signing")
    parser.add_argument("--output", help="write the variables to this file (mode 0600) instead of stdout")
    parser.add_argument("--idle-exit", type=float, default=900.0,
                        help="the emulator stops after this many seconds without a request (default 900)")
    parser.add_argument("--state-file", help="SQLite file that keeps the emulator's keys across restarts")
    parser.add_argument("--projects", type=int, default=2,
                        help="isolated projects (accounts) to create, at least 2; the variables"
                             " name the first one, --format json lists all")
    parser.add_argument("--log-file", help="the emulator's request log (default: a temporary file)")
    args = parser.parse_args(argv)
    if args.idle_exit <= 0:
        parser.error("--idle-exit must be a positive number of seconds")
    return args


def start_emulator(args):
    """Start the emulator detached from this process; return (its JSON description, log path)."""
    if not os.path.isdir(os.path.join(EMULATOR_DIR, "kms_emulator")):
        sys.exit("kms_emulator_env: no emulator at %s (is the collection complete?)" % EMULATOR_DIR)
    workdir = tempfile.mkdtemp(prefix="dew-kms-emulator-")
    ready_file = os.path.join(workdir, "ready.json")
    error_file = os.path.join(workdir, "stderr.txt")
    log_file = args.log_file or os.path.join(workdir, "emulator.log")
    command = [sys.executable, "-m", "kms_emulator", "--host", "127.0.0.1", "--port", "0",
               "--exit-when-idle", str(args.idle_exit), "--log-file", log_file]
    command += ["--projects", str(args.projects)]
    if args.state_file:
        command += ["--state-file", args.state_file]
    env = dict(os.environ, PYTHONPATH=os.path.abspath(EMULATOR_DIR))
    with open(ready_file, "w") as ready, open(error_file, "w") as errors, \
            open(os.devnull, "rb") as stdin:
        # A session of its own: the emulator outlives this script and the shell's job control.
        process = subprocess.Popen(command, stdin=stdin, stdout=ready, stderr=errors, env=env,
                                   start_new_session=True)
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        with open(ready_file) as ready:
            line = ready.readline()
        if line.endswith("\n"):
            os.remove(ready_file)  # it holds the credentials of every project
            return json.loads(line), log_file
        if process.poll() is not None:
            with open(error_file) as errors:
                sys.exit("kms_emulator_env: the emulator exited with status %s:\n%s"
                         % (process.returncode, errors.read()))
        time.sleep(0.05)
    process.terminate()
    sys.exit("kms_emulator_env: the emulator did not report ready within %d s" % READY_TIMEOUT)


def render(emulator, args, log_file):
    pairs = [(name, emulator[field]) for name, field in COMMON + BY_AUTH[args.auth]]
    pairs += [("DEW_KMS_EMULATOR_PID", emulator["pid"]), ("DEW_KMS_EMULATOR_LOG", log_file)]
    if args.format == "json":
        return json.dumps(emulator) + "\n"
    if args.format == "shell":
        return "".join("export %s=%s\n" % (name, shlex.quote(str(value))) for name, value in pairs)
    return "".join("%s=%s\n" % (name, value) for name, value in pairs)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    emulator, log_file = start_emulator(args)
    text = render(emulator, args, log_file)
    if args.output:
        # The file holds the emulator's password or secret key: readable by its owner only.
        descriptor = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
