"""Faults never lose a key: the role imports 20 keys through injected 5xx, 429 and latency.

The emulator answers 20 % of KMS calls with 500/503, 10 % with 429 + Retry-After and delays
every call by 50 ms. A recording proxy in front of it sees every KMS call with its key_id and
answer, which is what proves per key that material was imported exactly once and that no
import was attempted again after it succeeded.
"""

import collections

import pytest

from harness import RecordingProxy, make_client, record_figure
from roles import make_materials, retry_warnings, run_role

KEYS = 20
FAIL_RATE = 0.2
THROTTLE_RATE = 0.1
LATENCY_MS = 50
RETRY_AFTER = 1
# Each call may take up to 1 + RETRIES attempts. With 30 % of attempts failing, 8 retries leave
# one call in 50 000 failing for good (0.3 ** 9); the default of 3 would lose about one call in 120.
RETRIES = 8
# A 5xx on create-key or import-key-material is settled in the run by reading the key state, so
# one run normally suffices; a key that still fails (its retries used up) is brought in by the next.
MAX_RUNS = 8


@pytest.fixture
def faulty_emulator(start_emulator):
    return start_emulator("--fail-rate", FAIL_RATE, "--throttle-rate", THROTTLE_RATE,
                          "--latency-ms", LATENCY_MS, "--retry-after", RETRY_AFTER)


@pytest.mark.role
def test_role_imports_every_key_through_faults(faulty_emulator, collections_root, tmp_path):
    emulator = faulty_emulator
    proxy = RecordingProxy(emulator.url)
    try:
        options = emulator.module_options(retries=RETRIES, timeout=30)
        # KMS calls go through the proxy; IAM is not fault-injected and goes direct
        options["kms_endpoint"] = proxy.url
        keys = make_materials(tmp_path / "material", KEYS, "faults")

        runs = []
        for _run in range(MAX_RUNS):
            run = run_role(collections_root, tmp_path / "play", options, keys)
            runs.append(run)
            results = (run.results() or {}).get("results") or []
            if run.returncode == 0:
                break
        first = runs[0]
        first_results = (first.results() or {}).get("results") or []
        calls = proxy.calls()
    finally:
        proxy.close()

    stats = emulator.stats()
    injected = stats["faults_injected"]
    warnings = [w for run in runs for w in retry_warnings(run)]
    failed_first = [r for r in first_results if r["action"] == "failed"]
    record_figure("faults_role", {
        "keys": KEYS, "fail_rate": FAIL_RATE, "throttle_rate": THROTTLE_RATE,
        "latency_ms": LATENCY_MS, "retries_setting": RETRIES,
        "kms_calls": len(calls), "faults_injected": injected,
        "retry_warnings": len(warnings), "role_runs_needed": len(runs),
        "keys_failed_in_first_run": len(failed_first),
        "first_run_failure_codes": sorted({r.get("error_code") or "-" for r in failed_first}),
        "seconds_per_run": [round(run.seconds, 1) for run in runs]})

    # --- the role converged, and every key is enabled and verified --------------------------
    last = runs[-1]
    assert last.returncode == 0, last.output[-4000:]
    results = (last.results() or {}).get("results")
    assert results is not None and len(results) == KEYS
    # faults happened and were survived; every retry was reported as a warning
    assert injected.get("fail", 0) > 0 and injected.get("throttle", 0) > 0, injected
    assert warnings, "no retry was reported as a warning"
    retried_statuses = collections.Counter(
        code for code in ("HTTP 429", "HTTP 500", "HTTP 503")
        for w in warnings if code in w)
    assert retried_statuses["HTTP 429"] > 0, warnings[:5]

    client = make_client(collections_root, emulator.module_options())
    from ansible_collections.dew.kms.plugins.module_utils import _keys
    by_alias = {key["alias"]: key for key in _keys.list_keys(client)}
    verified = {}
    for run in runs:
        for result in (run.results() or {}).get("results") or []:
            if result.get("verified"):
                verified[result["alias"]] = True
    for alias, _path, _material in keys:
        assert by_alias[alias]["key_state"] == "2", by_alias[alias]
        assert verified.get(alias), "key %s was never verified" % alias

    # --- per key: exactly one successful import, no attempt after it ------------------------
    imports = collections.defaultdict(list)
    for call in calls:
        if call["action"] == "import-key-material":
            imports[call["key_id"]].append(call)
    for alias, _path, _material in keys:
        key_id = by_alias[alias]["key_id"]
        attempts = imports[key_id]
        successes = [i for i, call in enumerate(attempts) if call["status"] == 200]
        assert len(successes) == 1, (alias, attempts)
        assert successes[0] == len(attempts) - 1, (
            "key %s got another import attempt after a successful one: %s" % (alias, attempts))
    assert not [c for c in calls if c["code"] == "KMS.0310"], "an import met a key with material"

    # every key was created once, even though create-key met faults too
    created = [c for c in calls if c["action"] == "create-key" and c["status"] == 200]
    assert len(created) == KEYS

    # --- a key that failed in an earlier run said why and that running again is safe ---------
    for run in runs[:-1]:
        for result in (run.results() or {}).get("results") or []:
            if result["action"] == "failed":
                assert "again is safe" in result["error"] or result.get("error_code") in (
                    "KMS.0103", "KMS.0104"), result


@pytest.mark.role
def test_role_single_run_survives_faults(faulty_emulator, collections_root, tmp_path):
    """One run of the role is enough: injected 5xx on create-key and import-key-material are
    survived in the run itself, retried once the key state shows that it is safe."""
    emulator = faulty_emulator
    options = emulator.module_options(retries=RETRIES, timeout=30)
    keys = make_materials(tmp_path / "material", KEYS, "single")
    run = run_role(collections_root, tmp_path / "play", options, keys)
    results = (run.results() or {}).get("results") or []
    failed = [r for r in results if r["action"] == "failed"]
    record_figure("faults_role_single_run", {
        "keys": KEYS, "keys_failed": len(failed),
        "failure_codes": sorted({r.get("error_code") or "-" for r in failed}),
        "seconds": round(run.seconds, 1)})
    assert run.returncode == 0 and not failed, [
        (r["alias"], r["error_code"], r["error"]) for r in failed]
