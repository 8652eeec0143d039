"""State survives a SIGKILL: credentials, keys, material, IAM tokens, import tokens, clock."""

import os

from conftest import Emulator, assert_error, wrap

CREDENTIAL_FIELDS = ("project_id", "project_name", "domain_name", "username", "password",
                     "access_key", "secret_key")


def test_everything_survives_sigkill_and_restart(tmp_path):
    state_file = str(tmp_path / "state.sqlite")
    first = Emulator(tmp_path / "first", state_file=state_file).start()
    try:
        client = first.client()
        aes = client.create_key(key_alias="persisted-aes")
        external = client.create_key(origin="external")
        material = os.urandom(32)
        assert client.import_symmetric(external, material).ok
        cipher = client.ok("encrypt-data", {"key_id": external,
                                            "plain_text": "kept"})["cipher_text"]
        waiting = client.create_key(origin="external")
        params = client.import_parameters(waiting)
        disabled = client.create_key(key_spec="EC_P256")
        client.ok("disable-key", {"key_id": disabled})
        offset = first.advance_clock(100)["offset_seconds"]
        public_key = client.ok("get-publickey", {"key_id": disabled})["public_key"]
    finally:
        first.kill()  # SIGKILL: no chance to clean up

    second = Emulator(tmp_path / "second", state_file=state_file).start()
    try:
        for index, project in enumerate(first.info["projects"]):
            for field in CREDENTIAL_FIELDS:
                assert second.project(index)[field] == project[field]
        assert second.admin("/clock")["offset_seconds"] == offset
        # The IAM token issued by the first process still works.
        revived = second.client(token=client.token)
        assert revived.describe(aes)["key_alias"] == "persisted-aes"
        assert revived.describe(external)["key_state"] == "2"
        assert revived.describe(disabled)["key_state"] == "3"
        assert revived.ok("decrypt-data", {"cipher_text": cipher})["plain_text"] == "kept"
        assert revived.ok("get-publickey", {"key_id": disabled})["public_key"] == public_key
        # The import token handed out before the crash is still honoured.
        body = {"key_id": waiting, "import_token": params["import_token"],
                "encrypted_key_material": wrap(params["public_key"], os.urandom(32))}
        assert revived.ok("import-key-material", body) == {}
        # Re-import after deletion still demands the same material.
        revived.ok("delete-imported-key-material", {"key_id": external})
        assert_error(revived.import_symmetric(external, os.urandom(32)), 400, "KMS.2606")
        assert revived.import_symmetric(external, material).ok
        aksk = second.client(auth="aksk")
        assert aksk.ok("list-keys")["total"] == 4
    finally:
        second.stop()


def test_fresh_state_files_get_fresh_credentials(fresh_emulator):
    one, two = fresh_emulator(), fresh_emulator()
    for field in ("project_id", "password", "access_key", "secret_key"):
        assert one.info[field] != two.info[field]


def test_without_state_file_the_state_is_in_memory(tmp_path):
    process = Emulator(tmp_path, in_memory=True).start()
    try:
        assert process.info["state_file"] is None
        process.client().create_key()
    finally:
        process.stop()
    assert sorted(os.listdir(tmp_path)) == ["emulator.log"]
