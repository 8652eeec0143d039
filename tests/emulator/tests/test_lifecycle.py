"""Key lifecycle: create, describe, list, enable/disable, deletion, alias and description."""

import re

import pytest

from conftest import assert_error, unique_alias, wait_for_activation

ID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DAY = 86400


@pytest.mark.parametrize("key_spec, key_usage, expected_usage", [
    ("AES_256", None, "ENCRYPT_DECRYPT"),
    ("RSA_2048", None, "SIGN_VERIFY"),
    ("RSA_3072", "ENCRYPT_DECRYPT", "ENCRYPT_DECRYPT"),
    ("EC_P256", None, "SIGN_VERIFY"),
    ("EC_P384", "SIGN_VERIFY", "SIGN_VERIFY"),
    ("HMAC_256", None, "GENERATE_VERIFY_MAC"),
])
def test_create_kms_key_is_enabled_with_string_fields(kms, key_spec, key_usage, expected_usage):
    body = {"key_alias": unique_alias(), "key_spec": key_spec, "key_description": "d"}
    if key_usage:
        body["key_usage"] = key_usage
    created = kms.ok("create-key", body)["key_info"]
    assert ID_PATTERN.match(created["key_id"])
    assert created["domain_id"] == kms.project["domain_id"]
    info = wait_for_activation(kms, created["key_id"])
    assert info["key_state"] == "2"
    assert info["key_spec"] == key_spec
    assert info["key_usage"] == expected_usage
    assert info["origin"] == "kms"
    assert info["key_alias"] == body["key_alias"]
    assert info["key_description"] == "d"
    assert info["scheduled_deletion_date"] == ""
    assert info["expiration_time"] == ""
    assert info["default_key_flag"] == "0"
    assert re.fullmatch(r"[0-9]{13}", info["creation_date"])
    assert all(isinstance(value, str) for value in info.values())


def test_create_defaults_to_aes_256_from_kms(kms):
    info = kms.describe(kms.create_key())
    assert (info["key_spec"], info["key_usage"], info["origin"]) == \
        ("AES_256", "ENCRYPT_DECRYPT", "kms")


@pytest.mark.parametrize("key_spec", ["AES_256", "RSA_2048", "RSA_4096", "EC_P256", "EC_P384"])
def test_create_external_key_waits_for_import(kms, key_spec):
    info = kms.describe(kms.create_key(key_spec=key_spec, origin="external"))
    assert (info["key_state"], info["origin"]) == ("5", "external")


@pytest.mark.parametrize("body, code", [
    ({}, "KMS.0204"),
    ({"key_alias": "bad alias!"}, "KMS.1101"),
    ({"key_alias": "x" * 256}, "KMS.1101"),
    ({"key_alias": "svc/default"}, "KMS.1101"),
    ({"key_spec": "SM4"}, "KMS.1110"),
    ({"key_spec": "AES_128"}, "KMS.1110"),
    ({"key_spec": "AES_256", "key_usage": "SIGN_VERIFY"}, "KMS.0308"),
    ({"key_spec": "EC_P256", "key_usage": "ENCRYPT_DECRYPT"}, "KMS.1114"),
    ({"key_spec": "HMAC_256", "origin": "external"}, "KMS.0308"),
    ({"origin": "cloud"}, "KMS.0308"),
    ({"key_description": "x" * 256}, "KMS.1103"),
    ({"key_spec": 256}, "KMS.0308"),
])
def test_create_rejects_invalid_input(kms, body, code):
    if body:
        body = dict({"key_alias": unique_alias()}, **body)
    assert_error(kms.post("create-key", body), 400, code)


def test_create_rejects_a_duplicate_alias(kms):
    alias = unique_alias()
    kms.create_key(key_alias=alias)
    assert_error(kms.post("create-key", {"key_alias": alias}), 400, "KMS.1104")


def test_create_beyond_the_quota_is_kms_1105(fresh_emulator):
    client = fresh_emulator("--key-quota", "2").client()
    client.create_key()
    client.create_key(origin="external")
    assert_error(client.post("create-key", {"key_alias": unique_alias()}), 400, "KMS.1105")


def test_describe_refuses_alias_forms(cloud_kms):
    alias = unique_alias("lookup")
    cloud_kms.create_key(key_alias=alias)
    for reference in (alias, "alias/" + alias,
                      "kms:eu-de:%s:alias:%s" % (cloud_kms.project["domain_id"], alias)):
        assert_error(cloud_kms.post("describe-key", {"key_id": reference}), 400, "KMS.0205")


def test_an_alias_shaped_like_a_key_id_is_not_a_key_id(cloud_kms):
    alias = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"
    key_id = cloud_kms.create_key(key_alias=unique_alias())
    cloud_kms.ok("update-key-alias", {"key_id": key_id, "key_alias": alias})
    assert_error(cloud_kms.post("describe-key", {"key_id": alias}), 404, "KMS.0207")
    cloud_kms.ok("schedule-key-deletion", {"key_id": key_id, "pending_days": "7"})


def test_describe_unknown_and_malformed_ids(kms):
    assert_error(kms.post("describe-key", {"key_id": "alias/none-such"}), 400, "KMS.0205")
    assert_error(kms.post("describe-key", {"key_id": "0d0466b0-e727-4d9c-b35d-f84bb474a37f"}),
                 404, "KMS.0207")
    assert_error(kms.post("describe-key", {"key_id": "not-an-id"}), 400, "KMS.0205")
    assert_error(kms.post("describe-key", {"key_id": 42}), 400, "KMS.0205")
    assert_error(kms.post("describe-key", {}), 400, "KMS.0204")


def test_list_keys_pages_with_string_fields(fresh_emulator):
    client = fresh_emulator().client()
    ids = [client.create_key() for _index in range(5)]
    first = client.ok("list-keys", {"limit": "2"})
    assert first["keys"] == ids[:2]
    assert (first["truncated"], first["next_marker"], first["total"]) == ("true", "2", 5)
    assert [detail["key_id"] for detail in first["key_details"]] == ids[:2]
    second = client.ok("list-keys", {"limit": "2", "marker": first["next_marker"]})
    assert second["keys"] == ids[2:4]
    last = client.ok("list-keys", {"limit": "2", "marker": second["next_marker"]})
    assert (last["keys"], last["truncated"], last["next_marker"]) == (ids[4:], "false", "")
    everything = client.ok("list-keys")
    assert (everything["keys"], everything["truncated"], everything["total"]) == \
        (ids, "false", 5)
    assert client.ok("list-keys", {"limit": 3})["keys"] == ids[:3]


def _three_keys(client):
    return (client.create_key(), client.create_key(key_spec="RSA_2048"),
            client.create_key(origin="external"))


def test_otc_list_keys_lists_every_spec_and_filters_by_state(fresh_emulator):
    client = fresh_emulator().client()
    aes, rsa, external = _three_keys(client)
    assert client.ok("list-keys")["keys"] == [aes, rsa, external]
    assert client.ok("list-keys", {"key_state": "5"})["keys"] == [external]
    assert client.ok("list-keys", {"key_state": "2"})["keys"] == [aes, rsa]
    for key_spec in ("ALL", "AES_256"):
        assert_error(client.post("list-keys", {"key_spec": key_spec}), 400, "KMS.0308")


def test_huawei_list_keys_defaults_to_aes_256_and_all_lists_every_spec(fresh_emulator):
    client = fresh_emulator("--cloud", "huaweicloud").client()
    aes, rsa, external = _three_keys(client)
    assert client.ok("list-keys")["keys"] == [aes, external]
    assert client.ok("list-keys")["total"] == 2
    assert client.ok("list-keys", {"key_spec": "ALL"})["keys"] == [aes, rsa, external]
    assert client.ok("list-keys", {"key_spec": "AES_256"})["keys"] == [aes, external]
    assert client.ok("list-keys", {"key_spec": "RSA_2048"})["keys"] == [rsa]
    assert client.ok("list-keys", {"key_spec": "SM2"})["keys"] == []
    assert client.ok("list-keys", {"key_state": "5"})["keys"] == [external]
    assert client.ok("list-keys", {"key_state": "2", "key_spec": "ALL"})["keys"] == [aes, rsa]
    # The reference enumerates the filter values: HMAC specs are not among them.
    for key_spec in ("HMAC_256", "DES"):
        assert_error(client.post("list-keys", {"key_spec": key_spec}), 400, "KMS.0308")


@pytest.mark.parametrize("body, code", [
    ({"limit": "0"}, "KMS.1601"),
    ({"limit": "ten"}, "KMS.1601"),
    ({"marker": "-1"}, "KMS.1602"),
    ({"marker": "x"}, "KMS.1603"),
    ({"key_state": "7"}, "KMS.0308"),
    ({"key_spec": "DES"}, "KMS.0308"),
])
def test_list_keys_rejects_invalid_paging_and_filters(kms, body, code):
    assert_error(kms.post("list-keys", body), 400, code)


def _state(client, key_id):
    return client.describe(key_id)["key_state"]


def test_disable_enable_round_trip(kms):
    key_id = kms.create_key()
    assert kms.ok("disable-key", {"key_id": key_id}) == \
        {"key_info": {"key_id": key_id, "key_state": "3"}}
    assert_error(kms.post("disable-key", {"key_id": key_id}), 400, "KMS.1301")
    assert kms.ok("enable-key", {"key_id": key_id}) == \
        {"key_info": {"key_id": key_id, "key_state": "2"}}
    assert_error(kms.post("enable-key", {"key_id": key_id}), 400, "KMS.1201")


def test_enable_and_disable_refuse_pending_import_and_pending_deletion(kms):
    external = kms.create_key(origin="external")
    assert_error(kms.post("enable-key", {"key_id": external}), 400, "KMS.1201")
    assert_error(kms.post("disable-key", {"key_id": external}), 400, "KMS.1301")
    doomed = kms.create_key()
    kms.ok("schedule-key-deletion", {"key_id": doomed, "pending_days": "7"})
    assert_error(kms.post("enable-key", {"key_id": doomed}), 400, "KMS.1201")
    assert_error(kms.post("disable-key", {"key_id": doomed}), 400, "KMS.1301")


@pytest.mark.parametrize("start", ["2", "3", "5"])
def test_schedule_deletion_from_each_allowed_state(kms, start):
    key_id = kms.create_key(origin="external" if start == "5" else "kms")
    if start == "3":
        kms.ok("disable-key", {"key_id": key_id})
    assert kms.ok("schedule-key-deletion", {"key_id": key_id, "pending_days": "7"}) == \
        {"key_id": key_id, "key_state": "4"}
    info = kms.describe(key_id)
    assert info["key_state"] == "4"
    assert int(info["scheduled_deletion_date"]) - int(info["creation_date"]) >= 7 * DAY * 1000
    assert_error(kms.post("schedule-key-deletion", {"key_id": key_id, "pending_days": "7"}),
                 400, "KMS.1402")
    cancelled = kms.ok("cancel-key-deletion", {"key_id": key_id})
    # Cancelling leaves a key disabled; one that never had material waits for import again.
    expected = "5" if start == "5" else "3"
    assert cancelled == {"key_id": key_id, "key_state": expected}
    assert kms.describe(key_id)["scheduled_deletion_date"] == ""
    assert_error(kms.post("cancel-key-deletion", {"key_id": key_id}), 400, "KMS.1501")


@pytest.mark.parametrize("days", ["6", "1097", "seven", "-7"])
def test_schedule_deletion_rejects_bad_pending_days(kms, days):
    key_id = kms.create_key()
    assert_error(kms.post("schedule-key-deletion", {"key_id": key_id, "pending_days": days}),
                 400, "KMS.1401")


def test_schedule_deletion_needs_pending_days(kms):
    assert_error(kms.post("schedule-key-deletion", {"key_id": kms.create_key()}),
                 400, "KMS.0204")


def test_pending_deletion_completes_when_the_window_passes(fresh_emulator):
    emulator = fresh_emulator()
    client = emulator.client()
    key_id = client.create_key()
    client.ok("schedule-key-deletion", {"key_id": key_id, "pending_days": 7})
    emulator.advance_clock(7 * DAY - 60)
    client = emulator.client()  # a new token: the old one expired with the clock
    assert _state(client, key_id) == "4"
    emulator.advance_clock(120)
    assert_error(client.post("describe-key", {"key_id": key_id}), 404, "KMS.0207")
    assert client.ok("list-keys")["total"] == 0


def test_update_alias_and_description(kms):
    key_id = kms.create_key()
    alias = unique_alias("renamed")
    assert kms.ok("update-key-alias", {"key_id": key_id, "key_alias": alias}) == \
        {"key_info": {"key_id": key_id, "key_alias": alias}}
    assert kms.describe(key_id)["key_alias"] == alias
    assert kms.ok("update-key-description", {"key_id": key_id, "key_description": "new"}) == \
        {"key_info": {"key_id": key_id, "key_description": "new"}}
    assert kms.describe(key_id)["key_description"] == "new"
    assert kms.ok("update-key-description", {"key_id": key_id, "key_description": ""})
    # Renaming to its own alias is allowed, to another key's alias is not.
    kms.ok("update-key-alias", {"key_id": key_id, "key_alias": alias})
    other = kms.create_key()
    assert_error(kms.post("update-key-alias", {"key_id": other, "key_alias": alias}),
                 400, "KMS.1104")


def test_update_alias_and_description_errors(kms):
    key_id = kms.create_key()
    assert_error(kms.post("update-key-alias", {"key_id": key_id}), 400, "KMS.0204")
    assert_error(kms.post("update-key-alias", {"key_id": key_id, "key_alias": "a b"}),
                 400, "KMS.1101")
    assert_error(kms.post("update-key-description", {"key_id": key_id}), 400, "KMS.0204")
    assert_error(kms.post("update-key-description", {"key_id": key_id,
                                                     "key_description": "x" * 256}),
                 400, "KMS.1103")
    kms.ok("schedule-key-deletion", {"key_id": key_id, "pending_days": "7"})
    assert_error(kms.post("update-key-alias", {"key_id": key_id, "key_alias": unique_alias()}),
                 400, "KMS.0210")
    assert_error(kms.post("update-key-description", {"key_id": key_id,
                                                     "key_description": "x"}),
                 400, "KMS.0210")
