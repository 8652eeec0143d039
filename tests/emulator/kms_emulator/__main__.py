"""Command line: start the emulator and print one JSON line describing it."""

import argparse
import json
import math
import os
import signal
import sys
import tempfile
import threading
import time

from . import tlscert
from .core import DEFAULT_KEY_QUOTA, RANDOM_ACTIVATION_DELAY, Emulator, Faults
from .profiles import DEFAULT_PROFILE, PROFILES
from .server import EmulatorServer, open_log
from .store import Store


def _rate(text):
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _non_negative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _non_negative_float(text):
    value = float(text)
    if math.isfinite(value) and value >= 0:
        return value
    raise argparse.ArgumentTypeError("must be a non-negative number of seconds")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m kms_emulator",
        description="Local stand-in for Huawei Cloud / OTC KMS v1.0 and IAM.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=_non_negative_int, default=0,
                        help="port to bind; 0 picks a free one (default)")
    parser.add_argument("--state-file", help="SQLite state file; in memory when omitted")
    parser.add_argument("--latency-ms", type=_non_negative_int, default=0,
                        help="delay added to every KMS and IAM request")
    parser.add_argument("--fail-rate", type=_rate, default=0.0,
                        help="fraction of KMS requests answered 500 KMS.0103 / 503 KMS.0104")
    parser.add_argument("--throttle-rate", type=_rate, default=0.0,
                        help="fraction of KMS requests answered 429 APIGW.0308")
    parser.add_argument("--retry-after", type=_non_negative_int, default=1,
                        help="Retry-After seconds sent with 429 answers (default 1)")
    parser.add_argument("--fault-seed", type=int, help="seed for the fault injection dice")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a generated CA")
    parser.add_argument("--tls-dir", help="where to write the CA and server certificate"
                        " (default: a new temporary directory)")
    parser.add_argument("--exit-after", type=float, help="stop by itself after this many seconds")
    parser.add_argument("--exit-when-idle", type=float,
                        help="stop by itself once no request came for this many seconds")
    parser.add_argument("--log-file", help="request log file (default: stderr)")
    parser.add_argument("--projects", type=int, default=2,
                        help="number of isolated projects (accounts) to create, at least 2")
    parser.add_argument("--wrapping-pool", type=int, default=4,
                        help="number of pre-generated RSA-2048 wrapping key pairs")
    parser.add_argument("--key-quota", type=_non_negative_int, default=DEFAULT_KEY_QUOTA,
                        help="keys per project before create-key answers KMS.1105"
                             " (default %d)" % DEFAULT_KEY_QUOTA)
    parser.add_argument("--cloud", choices=sorted(PROFILES), default=DEFAULT_PROFILE,
                        help="API reference the emulator follows (default %s)" % DEFAULT_PROFILE)
    parser.add_argument("--activation-delay", type=_non_negative_float,
                        help="seconds a new key waits in state 1 before it can be used;"
                             " 0 turns it off (default: random %.1f to %.1f s per key)"
                             % RANDOM_ACTIVATION_DELAY)
    args = parser.parse_args(argv)
    if args.projects < 2:
        parser.error("--projects must be at least 2")
    return args


def _advertised_host(host):
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return "[%s]" % host if ":" in host else host


def describe(emulator, args, ca_file):
    """The JSON line: endpoints plus the credentials of every project (first one on top)."""
    projects = []
    for project in emulator.projects():
        projects.append({
            "project_id": project.project_id, "project_name": project.project_name,
            "domain_id": project.domain_id, "domain_name": project.domain_name,
            "user_id": project.user_id, "username": project.username,
            "password": project.password, "access_key": project.access_key,
            "secret_key": project.secret_key})
    info = {"kms_endpoint": emulator.endpoint, "iam_endpoint": emulator.endpoint + "/v3",
            "admin_url": emulator.endpoint + "/__emulator", "region": emulator.region,
            "cloud": emulator.profile.name,
            "pid": os.getpid(), "state_file": args.state_file}
    info.update(projects[0])
    info["projects"] = projects
    if ca_file:
        info["ca_file"] = ca_file
    return info


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    log = open_log(args.log_file)
    store = Store(args.state_file)
    faults = Faults(args.latency_ms, args.fail_rate, args.throttle_rate, args.retry_after,
                    args.fault_seed)
    try:
        emulator = Emulator(store, projects=args.projects, wrapping_pool_size=args.wrapping_pool,
                            faults=faults, key_quota=args.key_quota, cloud=args.cloud,
                            activation_delay=args.activation_delay)
    except ValueError as exc:
        sys.exit("kms_emulator: %s" % exc)
    emulator.wrapping_keys.start_filling()
    tls_context = ca_file = None
    if args.tls:
        paths = tlscert.create(args.tls_dir or tempfile.mkdtemp(prefix="kms-emulator-tls-"),
                               args.host)
        tls_context, ca_file = tlscert.server_context(paths), paths["ca.pem"]
    server = EmulatorServer((args.host, args.port), emulator, log, tls_context)
    emulator.endpoint = "%s://%s:%d" % ("https" if args.tls else "http",
                                        _advertised_host(args.host), server.server_address[1])

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                     name="http", daemon=True).start()
    sys.stdout.write(json.dumps(describe(emulator, args, ca_file)) + "\n")
    sys.stdout.flush()
    log.write("kms emulator listening on %s (pid %d)\n" % (emulator.endpoint, os.getpid()))
    deadline = None if args.exit_after is None else time.monotonic() + args.exit_after
    server.wait_until_idle(args.exit_when_idle, stop, deadline)
    server.shutdown()
    server.server_close()
    store.close()
    sys.stdout.flush()
    # Every change is committed already. Skip interpreter finalisation: it would kill a
    # wrapping-key generation thread inside OpenSSL, which aborts the process.
    os._exit(0)


if __name__ == "__main__":
    main()
