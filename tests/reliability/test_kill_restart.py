"""Kill the emulator (SIGKILL) in the middle of a role run, restart it on the same state file,
run the role again: it converges, nothing is imported twice, every key holds the right material.

"The right material" is proven with the service's own rule for re-imports: KMS accepts into a
key only the material that key held first (KMS.2606 otherwise). For every key the test
encrypts a probe, deletes the imported material, imports the material the test generated for
that alias, and decrypts the earlier ciphertext. Acceptance of the re-import and the decrypted
probe both prove that the key held exactly that material; a negative control shows that a
different material is refused.
"""

import base64
import os
import sqlite3
import threading
import time

import pytest

from harness import Emulator, make_client, record_figure, wait_until
from roles import make_materials, run_role

KEYS = 20
KILL_AFTER_IMPORTS = 6   # SIGKILL once this many imports succeeded: the run is mid-way
LATENCY_MS = 50          # slows the run down so the kill lands in its middle
WRAPPING = "RSAES_OAEP_SHA_256"


def _successful_imports(emulator):
    return [r for r in emulator.log_records()
            if r["action"] == "import-key-material" and r["status"] == "200"]


@pytest.mark.role
def test_sigkill_mid_run_then_restart_converges(collections_root, tmp_path):
    workdir = tmp_path / "emulator"
    state_file = workdir / "state.sqlite"
    first = Emulator(workdir, "--latency-ms", LATENCY_MS, state_file=state_file,
                     log_name="emulator-1.log").start()
    second = None
    try:
        keys = make_materials(tmp_path / "material", KEYS, "restart")
        options = first.module_options(timeout=10)

        # --- run 1, killed in the middle ------------------------------------------------------
        outcome = {}
        runner = threading.Thread(target=lambda: outcome.update(
            run=run_role(collections_root, tmp_path / "play", options, keys)))
        runner.start()
        assert wait_until(lambda: len(_successful_imports(first)) >= KILL_AFTER_IMPORTS, 120,
                          interval=0.01), "the role never got going"
        killed_at = time.monotonic()
        first.kill()
        runner.join(300)
        assert not runner.is_alive()
        run1 = outcome["run"]
        assert run1.returncode != 0, "the first run cannot have finished: its server was killed"
        run1_results = (run1.results() or {}).get("results") or []
        imported_by_run1 = len(_successful_imports(first))
        assert KILL_AFTER_IMPORTS <= imported_by_run1 < KEYS
        # the keys cut off by the kill say what happened, in plain words
        failed = [r for r in run1_results if r["action"] == "failed"]
        assert failed
        for result in failed:
            assert "cannot connect" in result["error"] or "again is safe" in result["error"], result

        # --- restart on the same state file, same port when it can be had ---------------------
        port = first.port
        second = Emulator(workdir, state_file=state_file, port=port, log_name="emulator-2.log")
        try:
            second.start()
            same_port = True
        except RuntimeError:
            second = Emulator(workdir, state_file=state_file, log_name="emulator-2.log").start()
            same_port = False
        restarted_after = time.monotonic() - killed_at
        # the state file kept the credentials: the same options work again
        assert second.project(0) == first.project(0)
        options = second.module_options(timeout=10)

        # --- run 2 converges ------------------------------------------------------------------
        run2 = run_role(collections_root, tmp_path / "play", options, keys)
        assert run2.returncode == 0, run2.output[-4000:]
        results = {r["alias"]: r for r in (run2.results() or {}).get("results")}
        imported_by_run2 = [a for a, r in results.items() if r["action"] != "unchanged"]
        assert all(results[a]["verified"] for a in imported_by_run2)

        # --- nothing imported twice -----------------------------------------------------------
        # A second import of a key that already holds material is refused with KMS.0310; none
        # was even tried. Every import the restarted server accepted was for a key run 2 said it
        # imported; together with run 1's they are at most one per key.
        records = first.log_records() + second.log_records()
        assert not [r for r in records if r["action"] == "import-key-material"
                    and r["code"] == "KMS.0310"]
        imported_by_server2 = len(_successful_imports(second))
        assert imported_by_server2 == len(imported_by_run2)
        assert imported_by_run1 + imported_by_server2 <= KEYS
        # a commit whose answer the kill swallowed is possible at most once per request in flight
        assert imported_by_run1 + imported_by_server2 >= KEYS - 8
        # the run 2 listing found every key created in run 1: none was created twice
        created = [r for r in records if r["action"] == "create-key" and r["status"] == "200"]
        assert len(created) <= KEYS

        # --- every key enabled, with exactly the material generated for its alias ------------
        client = make_client(collections_root, second.module_options(auth="aksk"))
        from ansible_collections.dew.kms.plugins.module_utils import _keys, _material

        def import_material(key, material):
            return _material.import_material(
                client, key, _material.load_material(material, "key_material"), WRAPPING)

        # described one by one: list entries need not carry the origin (OTC lists none)
        keys_by_alias = {key["alias"]: _keys.describe_key(client, key["key_id"])
                         for key in _keys.list_keys(client)}
        assert sorted(keys_by_alias) == sorted(alias for alias, _path, _material in keys)
        for alias, _path, material in keys:
            key = keys_by_alias[alias]
            assert key["key_state"] == "2" and key["origin"] == "external", key
            probe = base64.b64encode(os.urandom(18)).decode("ascii")
            cipher_text = _keys.encrypt_data(client, key["key_id"], probe)
            _material.delete_material(client, key)
            pending = _keys.describe_key(client, key["key_id"])
            assert pending["key_state"] == "5"
            changed, _before, _after = import_material(pending, material)
            assert changed
            assert _keys.decrypt_data(client, cipher_text) == probe

        # negative control: a different material is refused (KMS.2606), the right one is not
        alias, _path, material = keys[0]
        key = _keys.describe_key(client, keys_by_alias[alias]["key_id"])
        _material.delete_material(client, key)
        pending = _keys.describe_key(client, key["key_id"])
        with pytest.raises(_keys.KmsError) as refused:
            import_material(pending, os.urandom(32))
        assert refused.value.error_code == "KMS.2606"
        assert import_material(pending, material)[0]
        client.close()
    finally:
        first.kill()
        if second is not None:
            second.stop()

    # the state file went through a SIGKILL and is intact
    with sqlite3.connect(str(state_file)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    record_figure("kill_restart", {
        "keys": KEYS, "imports_before_kill": imported_by_run1,
        "keys_failed_by_kill": len(failed), "imported_after_restart": imported_by_server2,
        "same_port": same_port, "restart_seconds_after_kill": round(restarted_after, 1),
        "run1_seconds": round(run1.seconds, 1), "run2_seconds": round(run2.seconds, 1)})
