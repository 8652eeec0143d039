#!/usr/bin/env python
"""Start the KMS emulator in the background and print its JSON line on stdout.

Used by the setup_emulator integration target. ansible-test runs targets from a copy of
tests/integration inside tests/output/.tmp, so the emulator source is found by walking up from
this file to the first directory holding tests/emulator/kms_emulator (override with the
environment variable KMS_EMULATOR_SOURCE). The emulator runs in its own session with output
redirected to files, so this script returns as soon as the emulator is ready.
"""

import argparse
import os
import subprocess
import sys
import time


def find_emulator_source(start):
    override = os.environ.get("KMS_EMULATOR_SOURCE")
    if override:
        return override
    directory = os.path.abspath(start)
    while True:
        candidate = os.path.join(directory, "tests", "emulator")
        if os.path.isfile(os.path.join(candidate, "kms_emulator", "__main__.py")):
            return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            sys.exit("cannot find tests/emulator/kms_emulator above %s" % start)
        directory = parent


def wait_for_ready_line(path, process, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        if text.endswith("\n"):
            return text.splitlines()[0]
        if process.poll() is not None:
            return None
        time.sleep(0.05)
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--exit-after", default="1800")
    # a target is done with its emulator once it stops talking to it: do not idle for 30 min
    parser.add_argument("--exit-when-idle", default="300")
    parser.add_argument("--timeout", type=float, default=60)
    args, extra = parser.parse_known_args()
    source = find_emulator_source(os.path.dirname(__file__))
    ready_file = os.path.join(args.workdir, "ready.json")
    log_file = os.path.join(args.workdir, "emulator.log")
    env = dict(os.environ, PYTHONPATH=source)
    with open(ready_file, "w") as stdout, open(log_file, "a") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "kms_emulator", "--state-file",
             os.path.join(args.workdir, "state.sqlite"), "--log-file", log_file,
             "--exit-after", args.exit_after, "--exit-when-idle", args.exit_when_idle] + extra,
            cwd=args.workdir, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
            start_new_session=True, close_fds=True)
    line = wait_for_ready_line(ready_file, process, args.timeout)
    if line is None:
        process.kill()
        with open(log_file, encoding="utf-8") as handle:
            sys.exit("the emulator did not start:\n" + handle.read()[-4000:])
    print(line)


if __name__ == "__main__":
    main()
