"""Projects are isolated: no action of one project can see or touch another project's keys."""

import os

import pytest

from conftest import KEY_ACTIONS, assert_error, body_for, wrap


@pytest.fixture(scope="module")
def key_of_a(kms):
    """An enabled key of project A with imported material (so every action could apply)."""
    key_id = kms.create_key(origin="external")
    assert kms.import_symmetric(key_id, os.urandom(32)).ok
    return key_id


@pytest.mark.parametrize("action", KEY_ACTIONS)
def test_project_b_cannot_reach_a_key_of_project_a(kms, kms_b, key_of_a, action):
    assert_error(kms_b.post(action, body_for(action, key_of_a)), 404, "KMS.0207")
    assert kms.describe(key_of_a)["key_state"] == "2"


@pytest.mark.parametrize("action", KEY_ACTIONS + ["create-key", "list-keys", "decrypt-data"])
def test_project_b_token_cannot_call_project_a_urls(kms, kms_b, key_of_a, action):
    body = body_for(action, key_of_a) if action in KEY_ACTIONS else {"key_alias": "stolen"}
    response = kms_b.post(action, body, project_id=kms.project_id)
    assert_error(response, 403, "KMS.0321")


@pytest.mark.parametrize("action", ["describe-key", "schedule-key-deletion", "encrypt-data"])
def test_project_b_access_key_cannot_call_project_a_urls(emulator, kms, key_of_a, action):
    client_b = emulator.client(1, auth="aksk")
    client_b.session.auth.extra = {}  # no X-Project-Id: only the URL names project A
    response = client_b.post(action, body_for(action, key_of_a), project_id=kms.project_id)
    assert_error(response, 403, "KMS.0321")


def test_ciphertext_of_project_a_does_not_decrypt_in_project_b(kms, kms_b, key_of_a):
    cipher = kms.ok("encrypt-data", {"key_id": key_of_a, "plain_text": "a"})["cipher_text"]
    assert_error(kms_b.post("decrypt-data", {"cipher_text": cipher}), 404, "KMS.0207")


def test_listings_aliases_and_import_tokens_are_per_project(kms, kms_b, key_of_a):
    alias = kms.describe(key_of_a)["key_alias"]
    key_b = kms_b.create_key(key_alias=alias)  # the same alias is free in another project
    assert key_of_a not in kms_b.ok("list-keys")["keys"]
    assert key_b not in kms.ok("list-keys")["keys"]
    for client, key_id in ((kms_b, key_b), (kms, key_of_a)):
        owners = [detail["key_id"] for detail in client.ok("list-keys")["key_details"]
                  if detail["key_alias"] == alias]
        assert owners == [key_id]


def test_project_a_token_is_not_accepted_for_import_into_b(kms, kms_b):
    key_a = kms.create_key(origin="external")
    params = kms.import_parameters(key_a)
    key_b = kms_b.create_key(origin="external")
    body = {"key_id": key_b, "import_token": params["import_token"],
            "encrypted_key_material": wrap(params["public_key"], os.urandom(32))}
    assert_error(kms_b.post("import-key-material", body), 400, "KMS.2605")
    body["key_id"] = key_a
    assert_error(kms_b.post("import-key-material", body), 404, "KMS.0207")
    assert kms.describe(key_a)["key_state"] == "5"
