"""Load on loopback: 8 concurrent clients (the collection's own KmsClient, half with IAM
password tokens, half with AK/SK signatures) run a mix of actions against one emulator for a
bounded time (about 10 s in `make test`, 60 s in `make reliability-long`) and a bounded count.

Every call must succeed (but for the one list-keys call per client that OTC refuses for its
key_spec field, which the collection then leaves out). Afterwards nothing is lost: the emulator
counted exactly the calls the clients made, and after a restart on the same state file every key any client created is there
with the state and description its client left it in. Contended operations (8 clients creating
the same alias, importing into the same key) have exactly one winner.
"""

import base64
import collections
import os
import random
import sqlite3
import statistics
import threading
import time

import pytest

from harness import Emulator, budget, make_client, record_figure
from support.activation import wait_for_activation

CLIENTS = 8
SECONDS = float(os.environ.get("RELIABILITY_LOAD_SECONDS", 0)) or budget(10, 60)
MAX_ITERATIONS = 200000     # per client: the time bound is the one that acts
CONTENDED_ROUNDS = budget(5, 20)
WRAPPING = "RSAES_OAEP_SHA_256"


def _usable(client, key):
    """The new ``key`` once it has left pending activation (described again by ``client``)."""
    from ansible_collections.dew.kms.plugins.module_utils import _keys

    return wait_for_activation(lambda key_id: _keys.describe_key(client, key_id), key["key_id"])


class CountingClient:
    """A KmsClient that counts its calls per action and measures their latency."""

    def __init__(self, client):
        self._client = client
        self.counts = collections.Counter()
        self.latencies = []

    def __getattr__(self, name):
        return getattr(self._client, name)

    def call(self, action, body=None, **kwargs):
        started = time.perf_counter()
        try:
            return self._client.call(action, body, **kwargs)
        finally:
            self.latencies.append(time.perf_counter() - started)
            self.counts[action] += 1


class Worker(threading.Thread):
    """One client: creates its own keys and works on them; keeps a model of what it did."""

    def __init__(self, index, emulator, collections_root, deadline):
        super().__init__(name="load-%d" % index, daemon=True)
        self.index = index
        self.deadline = deadline
        self.random = random.Random(index)
        self.warnings = []
        auth = "password" if index % 2 == 0 else "aksk"
        self.client = CountingClient(make_client(
            collections_root, emulator.module_options(auth=auth, retries=0, timeout=30),
            self.warnings))
        self.keys = {}           # key_id -> {'alias', 'state', 'description', 'origin'}
        self.iterations = 0
        self.error = None

    def run(self):
        from ansible_collections.dew.kms.plugins.module_utils import _keys, _material

        self._keys, self._material = _keys, _material
        try:
            while time.monotonic() < self.deadline and self.iterations < MAX_ITERATIONS:
                self.step()
                self.iterations += 1
        except Exception as error:  # the test reports it; a load test must not lose it
            self.error = error

    def _own(self, state=None, origin=None):
        keys = [k for k, v in self.keys.items()
                if (state is None or v["state"] == state)
                and (origin is None or v["origin"] == origin)]
        return self.random.choice(keys) if keys else None

    def step(self):
        _keys, client = self._keys, self.client
        roll = self.random.random()
        if roll < 0.12 or not self.keys:
            alias = "load-%d-%d" % (self.index, len(self.keys))
            key = _usable(client, _keys.create_key(client, alias, key_spec="AES_256"))
            self.keys[key["key_id"]] = {"alias": alias, "state": "2", "description": "",
                                        "origin": "kms"}
        elif roll < 0.17:
            alias = "load-%d-%d" % (self.index, len(self.keys))
            key = _usable(client, _keys.create_key(client, alias, key_spec="AES_256",
                                                   origin="external"))
            self._material.import_material(
                client, key, self._material.load_material(os.urandom(32), "key_material"), WRAPPING)
            self.keys[key["key_id"]] = {"alias": alias, "state": "2", "description": "",
                                        "origin": "external"}
        elif roll < 0.37:
            key_id = self._own()
            seen = _keys.describe_key(client, key_id)
            expected = self.keys[key_id]
            assert (seen["key_state"], seen["description"], seen["alias"]) == (
                expected["state"], expected["description"], expected["alias"]), (seen, expected)
        elif roll < 0.57:
            key_id = self._own(state="2")
            if key_id:
                probe = base64.b64encode(os.urandom(24)).decode()
                cipher_text = _keys.encrypt_data(client, key_id, probe)
                assert _keys.decrypt_data(client, cipher_text) == probe
        elif roll < 0.62:
            listed = {key["key_id"] for key in _keys.list_keys(client)}
            assert set(self.keys) <= listed, "a key of this client is missing from list-keys"
        elif roll < 0.74:
            key_id = self._own()
            state = self.keys[key_id]["state"]
            if state == "2":
                _keys.disable_key(client, key_id)
                self.keys[key_id]["state"] = "3"
            elif state == "3":
                _keys.enable_key(client, key_id)
                self.keys[key_id]["state"] = "2"
        elif roll < 0.88:
            key_id = self._own()
            description = "rev-%d-%d" % (self.index, self.iterations)
            _keys.update_key_description(client, key_id, description)
            self.keys[key_id]["description"] = description
        else:
            key_id = self._own(state="2")
            if key_id:
                _keys.schedule_key_deletion(client, key_id, 7)
                _keys.cancel_key_deletion(client, key_id)
                self.keys[key_id]["state"] = "3"   # a cancelled deletion leaves it disabled


def _contended(emulator, collections_root):
    """8 clients at once: create one alias; import into one key. Exactly one winner each."""
    from ansible_collections.dew.kms.plugins.module_utils import _errors, _keys, _material

    clients = [make_client(collections_root, emulator.module_options(
        auth="aksk" if i % 2 else "password", retries=0)) for i in range(CLIENTS)]
    outcomes = collections.Counter()
    for round_ in range(CONTENDED_ROUNDS):
        alias = "contended-%d" % round_
        barrier = threading.Barrier(CLIENTS)
        results = [None] * CLIENTS

        def create(i):
            barrier.wait()
            try:
                results[i] = _keys.create_key(clients[i], alias, origin="external")["key_id"]
            except _errors.KmsError as error:
                results[i] = error.error_code

        threads = [threading.Thread(target=create, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        winners = [r for r in results if r and r != "KMS.1104"]
        assert len(winners) == 1 and results.count("KMS.1104") == CLIENTS - 1, results
        outcomes["create_refused"] += CLIENTS - 1
        key = wait_for_activation(lambda key_id: _keys.describe_key(clients[0], key_id),
                                  winners[0])

        # every client fetched its own parameters; all import at once
        wrapped = []
        for client in clients:
            params = _material.get_import_params(client, key["key_id"], WRAPPING)
            wrapped.append(params)
        barrier = threading.Barrier(CLIENTS)

        def import_(i):
            from ansible_collections.dew.kms.plugins.module_utils import _wrap

            material = os.urandom(32)
            blob = _wrap.wrap_symmetric_material(wrapped[i]["public_key"], material, WRAPPING)
            barrier.wait()
            try:
                _material.import_key_material(clients[i], key["key_id"], _material.WrappedMaterial(
                    wrapped[i]["import_token"], blob))
                results[i] = "imported"
            except _errors.KmsError as error:
                results[i] = error.error_code

        threads = [threading.Thread(target=import_, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert results.count("imported") == 1, results
        assert results.count("KMS.0310") == CLIENTS - 1, results
        outcomes["import_refused"] += CLIENTS - 1
        assert _keys.describe_key(clients[0], key["key_id"])["key_state"] == "2"
    for client in clients:
        client.close()
    return dict(outcomes)


@pytest.mark.parametrize("clients", [CLIENTS])
def test_load_mixed_actions(clients, tmp_path, collections_root):
    workdir = tmp_path / "emulator"
    # the default quota of 100 keys per project is reached within seconds of this mix
    emulator = Emulator(workdir, "--key-quota", 1000000).start()
    restarted = None
    try:
        emulator.reset_stats()
        deadline = time.monotonic() + SECONDS
        workers = [Worker(i, emulator, collections_root, deadline) for i in range(clients)]
        started = time.monotonic()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(SECONDS + 120)
        elapsed = time.monotonic() - started
        for worker in workers:
            assert not worker.is_alive(), "a client did not stop"
            assert worker.error is None, "%s: %r" % (worker.name, worker.error)
            assert worker.warnings == [], worker.warnings  # no retry was needed
        stats = emulator.stats()

        # --- nothing lost: the server counted exactly the calls the clients made ------------
        sent = collections.Counter()
        for worker in workers:
            # the client names a key tag call by its path, the emulator by its action
            for action, count in worker.client.counts.items():
                sent["batch-create-kms-tags" if action.endswith("/tags/action") else action] += count
        kms_counted = {action: count for action, count in stats["requests"].items()
                       if not action.startswith("iam:")}
        assert kms_counted == dict(sent)
        refused = [record for record in emulator.log_records()
                   if record["status"] not in ("200", "201", "204")]
        assert all((record["action"], record["code"]) == ("list-keys", "KMS.0308")
                   for record in refused), refused
        assert len(refused) <= clients, refused
        total = sum(sent.values())
        latencies = sorted(l for worker in workers for l in worker.client.latencies)

        contended = _contended(emulator, collections_root)

        for worker in workers:
            worker.client.close()
        emulator.stop()

        # --- the state survives a restart: every key as its client left it -----------------
        with sqlite3.connect(str(emulator.state_file)) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        restarted = Emulator(workdir, "--key-quota", 1000000, log_name="emulator-2.log").start()
        client = make_client(collections_root, restarted.module_options(auth="aksk"))
        from ansible_collections.dew.kms.plugins.module_utils import _keys
        stored = {key["key_id"]: key for key in _keys.list_keys(client)}
        created = 0
        for worker in workers:
            for key_id, model in worker.keys.items():
                created += 1
                assert key_id in stored, model
                # described: list entries need not carry the origin (OTC lists none)
                key = _keys.describe_key(client, key_id)
                assert (key["alias"], key["key_state"], key["description"], key["origin"]) == (
                    model["alias"], model["state"], model["description"], model["origin"])
        client.close()
        load_keys = [k for k in stored.values() if k["alias"].startswith("load-")]
        assert len(load_keys) == created, "keys that no client created"
    finally:
        emulator.stop()
        if restarted is not None:
            restarted.stop()

    record_figure("load", {
        "clients": clients, "seconds": round(elapsed, 1), "requests": total,
        "requests_per_second": round(total / elapsed),
        "latency_ms_p50": round(statistics.median(latencies) * 1000, 1),
        "latency_ms_p95": round(latencies[int(len(latencies) * 0.95)] * 1000, 1),
        "by_action": dict(sorted(sent.items())), "keys_created": created,
        "iterations": sum(w.iterations for w in workers),
        "contended_refusals": contended, "errors": 0})
