"""Many clients at once: no errors, no lost updates, consistent counters."""

import os
import threading

THREADS = 8
REQUESTS_PER_THREAD = 25


def test_parallel_clients_with_token_and_aksk(fresh_emulator):
    # Exact request counts: no activation, so nothing re-describes behind the test's back.
    emulator = fresh_emulator("--activation-delay", "0")
    clients = [emulator.client(index % 2, auth="token" if index % 4 < 2 else "aksk")
               for index in range(THREADS)]
    failures = []
    created = [[] for _thread in range(THREADS)]

    def work(index):
        client = clients[index]
        try:
            for step in range(REQUESTS_PER_THREAD):
                if step % 5 == 0:
                    created[index].append(client.create_key(wait=False))
                elif step % 5 == 1:
                    assert client.describe(created[index][-1])["key_state"] == "2"
                elif step % 5 == 2:
                    cipher = client.ok("encrypt-data", {"key_id": created[index][-1],
                                                        "plain_text": "t%d" % index})
                    created[index].append(cipher["cipher_text"])
                elif step % 5 == 3:
                    plain = client.ok("decrypt-data", {"cipher_text": created[index].pop()})
                    assert plain["plain_text"] == "t%d" % index
                else:
                    client.ok("list-keys", {"limit": "5"})
        except Exception as exc:  # collected and reported by the main thread
            failures.append(repr(exc))

    threads = [threading.Thread(target=work, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    stats = emulator.stats()
    kms_requests = sum(count for name, count in stats["requests"].items()
                       if not name.startswith("iam:"))
    assert kms_requests == THREADS * REQUESTS_PER_THREAD
    assert stats["statuses"]["200"] == THREADS * REQUESTS_PER_THREAD
    totals = [emulator.client(index).ok("list-keys")["total"] for index in (0, 1)]
    assert sum(totals) == THREADS * REQUESTS_PER_THREAD // 5


def test_parallel_imports_into_distinct_keys(fresh_emulator):
    emulator = fresh_emulator()
    client = emulator.client()
    keys = [client.create_key(origin="external") for _thread in range(THREADS)]
    results = []

    def work(key_id):
        response = client.import_symmetric(key_id, os.urandom(32))
        results.append(response.status_code)

    threads = [threading.Thread(target=work, args=(key_id,)) for key_id in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [200] * THREADS
    assert {client.describe(key_id)["key_state"] for key_id in keys} == {"2"}
