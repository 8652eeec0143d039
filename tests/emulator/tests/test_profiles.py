"""Cloud profiles: key activation, strict request fields and key ids, answer shapes per cloud,
wrapping algorithms and the key quota."""

import time

import pytest
import requests

from conftest import (CLOUDS, KEY_ACTIONS, assert_error, body_for, unique_alias,
                      wait_for_activation)

OTC_DESCRIBE = {"key_id", "domain_id", "key_alias", "realm", "key_description", "key_spec",
                "key_usage", "creation_date", "scheduled_deletion_date", "key_state",
                "default_key_flag", "key_type", "expiration_time", "origin"}
OTC_LIST_ENTRY = OTC_DESCRIBE - {"key_spec", "key_usage"}
HUAWEI_KEY_DETAILS = OTC_DESCRIBE | {"key_rotation_enabled", "sys_enterprise_project_id",
                                     "keystore_id"}
SLOW_ACTIVATION = "30"
QUOTA = 100


@pytest.fixture(params=CLOUDS)
def slow_activation(request, fresh_emulator):
    """A client of an emulator of each cloud whose new keys wait 30 s (emulator clock)."""
    return fresh_emulator("--cloud", request.param, "--activation-delay",
                          SLOW_ACTIVATION).client()


def _sign_body(key_id):
    return {"key_id": key_id, "signing_algorithm": "ECDSA_SHA_256",
            "message": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}


# -- activation ---------------------------------------------------------------------------------
def test_new_keys_wait_for_activation_then_follow_the_emulator_clock(slow_activation):
    kms = slow_activation
    generated = kms.create_key(wait=False)
    external = kms.create_key(origin="external", wait=False)
    assert kms.describe(generated)["key_state"] == "1"
    assert kms.describe(external)["key_state"] == "1"
    assert kms.ok("list-keys", {"key_state": "1"})["keys"] == [generated, external]
    kms.emulator.advance_clock(int(SLOW_ACTIVATION) - 2)
    assert kms.describe(generated)["key_state"] == "1"
    kms.emulator.advance_clock(3)
    assert kms.describe(generated)["key_state"] == "2"
    assert kms.describe(external)["key_state"] == "5"


def test_actions_needing_a_usable_key_refuse_it_during_activation(slow_activation):
    kms = slow_activation
    aes = kms.create_key(wait=False)
    signer = kms.create_key(key_spec="EC_P256", wait=False)
    external = kms.create_key(origin="external", wait=False)
    cases = [
        ("encrypt-data", {"key_id": aes, "plain_text": "x"}, "KMS.1301"),
        ("sign", _sign_body(signer), "KMS.1301"),
        ("get-publickey", {"key_id": signer}, "KMS.1301"),
        ("enable-key", {"key_id": aes}, "KMS.1201"),
        ("disable-key", {"key_id": aes}, "KMS.1301"),
        ("get-parameters-for-import",
         {"key_id": external, "wrapping_algorithm": "RSAES_OAEP_SHA_256"}, "KMS.0310"),
        ("delete-imported-key-material", {"key_id": external}, "KMS.2701"),
    ]
    for action, body, code in cases:
        assert_error(kms.post(action, body), 400, code)
    for key_id in (aes, signer, external):
        assert kms.describe(key_id)["key_state"] == "1"
    # Deleting a key must stay possible: it is scheduled, and cancelling disables it.
    kms.ok("schedule-key-deletion", {"key_id": aes, "pending_days": "7"})
    assert kms.ok("cancel-key-deletion", {"key_id": aes})["key_state"] == "3"
    kms.emulator.advance_clock(int(SLOW_ACTIVATION) + 1)
    assert kms.describe(aes)["key_state"] == "3"
    assert kms.ok("sign", _sign_body(signer))["signature"]
    assert kms.import_parameters(external)["import_token"]


def test_default_activation_takes_a_fraction_of_a_second_in_real_time(huawei_kms):
    started = time.monotonic()
    key_id = huawei_kms.create_key(wait=False)
    first = huawei_kms.describe(key_id)["key_state"]
    assert first == "1" or time.monotonic() - started >= 0.2
    while huawei_kms.describe(key_id)["key_state"] == "1":
        assert time.monotonic() - started < 5
        time.sleep(0.05)
    assert 0.2 <= time.monotonic() - started
    assert huawei_kms.describe(key_id)["key_state"] == "2"


def test_activation_delay_zero_turns_it_off(fresh_emulator):
    kms = fresh_emulator("--activation-delay", "0").client()
    assert kms.describe(kms.create_key(wait=False))["key_state"] == "2"
    assert kms.describe(kms.create_key(origin="external", wait=False))["key_state"] == "5"


# -- strict requests ----------------------------------------------------------------------------
@pytest.mark.parametrize("cloud, action, undefined, body", [
    ("otc", "list-keys", "key_spec", {"key_spec": "ALL"}),
    ("otc", "list-keys", "enterprise_project_id", {"enterprise_project_id": "all"}),
    ("otc", "create-key", "enterprise_project_id",
     {"key_alias": "KEEP", "enterprise_project_id": "0"}),
    ("otc", "encrypt-data", "encryption_algorithm",
     {"key_id": "KEY", "plain_text": "x", "encryption_algorithm": "SYMMETRIC_DEFAULT"}),
    ("otc", "decrypt-data", "key_id", {"cipher_text": "QUJD", "key_id": "KEY"}),
    ("otc", "import-key-material", "import_type",
     {"key_id": "KEY", "import_token": "A" * 212, "encrypted_key_material": "A" * 344,
      "import_type": "x"}),
    ("huaweicloud", "create-key", "realm", {"key_alias": "KEEP", "realm": "eu-de"}),
    ("huaweicloud", "encrypt-data", "encryption_context",
     {"key_id": "KEY", "plain_text": "x", "encryption_context": {"a": "b"}}),
    ("huaweicloud", "describe-key", "key_alias", {"key_id": "KEY", "key_alias": "x"}),
    ("huaweicloud", "user-quotas", "limit", {"limit": "1"}),
])
def test_fields_the_reference_does_not_define_are_refused(clouds_by_name, cloud, action, undefined, body):
    kms, key_id = clouds_by_name[cloud]
    alias = unique_alias("strict")
    body = {name: key_id if value == "KEY" else alias if value == "KEEP" else value
            for name, value in body.items()}
    send = kms.session.get if action == "user-quotas" else kms.session.post
    response = send(kms.url(action), json=body)
    assert_error(response, 400, "KMS.0308")
    message = response.json()["error"]["error_msg"]
    assert "parameter %s is not defined for %s in the %s" % (undefined, action, cloud) in message
    # Nothing was done: no key under that alias.
    listing = kms.ok("list-keys", {"key_spec": "ALL"} if cloud == "huaweicloud" else {})
    assert alias not in [detail["key_alias"] for detail in listing["key_details"]]


@pytest.fixture(scope="module")
def clouds_by_name(kms, huawei_kms):
    return {"otc": (kms, kms.create_key()), "huaweicloud": (huawei_kms, huawei_kms.create_key())}


@pytest.mark.parametrize("reference", ["alias/{alias}", "{alias}",
                                       "kms:eu-de:0123:alias:{alias}"])
@pytest.mark.parametrize("action", KEY_ACTIONS)
def test_key_id_must_be_the_36_character_id_in_every_action(cloud_kms, action, reference):
    body = body_for(action, reference.format(alias=unique_alias()))
    assert_error(cloud_kms.post(action, body), 400, "KMS.0205")


# -- answers --------------------------------------------------------------------------------------
def test_otc_answers_carry_exactly_the_reference_fields(kms):
    created = kms.ok("create-key", {"key_alias": unique_alias()})["key_info"]
    assert set(created) == {"key_id", "domain_id"}
    key_id = created["key_id"]
    assert set(wait_for_activation(kms, key_id)) == OTC_DESCRIBE
    entries = [entry for entry in kms.ok("list-keys")["key_details"] if entry["key_id"] == key_id]
    assert len(entries) == 1 and set(entries[0]) == OTC_LIST_ENTRY


def test_huawei_answers_follow_the_sdk_models(huawei_kms):
    created = huawei_kms.ok("create-key", {"key_alias": unique_alias()})["key_info"]
    assert set(created) == {"key_id", "domain_id", "region_id"}
    assert created["region_id"] == "cn-north-4"
    key_id = created["key_id"]
    assert set(wait_for_activation(huawei_kms, key_id)) == HUAWEI_KEY_DETAILS
    entries = [entry for entry in huawei_kms.ok("list-keys")["key_details"]
               if entry["key_id"] == key_id]
    assert len(entries) == 1 and set(entries[0]) == HUAWEI_KEY_DETAILS
    assert entries[0]["realm"] == "cn-north-4"


# -- wrapping algorithms --------------------------------------------------------------------------
@pytest.mark.parametrize("cloud, algorithm, allowed", [
    ("otc", "RSAES_PKCS1_V1_5", True), ("otc", "RSAES_OAEP_SHA_1", True),
    ("otc", "RSAES_OAEP_SHA_256", True), ("otc", "SM2_ENCRYPT", False),
    ("huaweicloud", "RSAES_OAEP_SHA_256", True), ("huaweicloud", "RSAES_OAEP_SHA_1", False),
    ("huaweicloud", "RSAES_PKCS1_V1_5", False), ("huaweicloud", "SM2_ENCRYPT", False),
])
def test_wrapping_algorithms_per_cloud(external_keys, cloud, algorithm, allowed):
    kms, key_id = external_keys[cloud]
    body = {"key_id": key_id, "wrapping_algorithm": algorithm}
    if allowed:
        assert kms.ok("get-parameters-for-import", body)["import_token"]
        return
    response = kms.post("get-parameters-for-import", body)
    assert_error(response, 400, "KMS.0308")
    message = response.json()["error"]["error_msg"]
    assert algorithm in message and "RSAES_OAEP_SHA_256" in message
    if cloud == "huaweicloud" and algorithm == "SM2_ENCRYPT":
        assert "not available in region cn-north-4" in message


@pytest.fixture(scope="module")
def external_keys(kms, huawei_kms):
    return {"otc": (kms, kms.create_key(origin="external")),
            "huaweicloud": (huawei_kms, huawei_kms.create_key(origin="external"))}


# -- quota --------------------------------------------------------------------------------------
@pytest.mark.parametrize("cloud", CLOUDS)
def test_100_keys_per_project_and_user_quotas(fresh_emulator, cloud):
    emulator = fresh_emulator("--cloud", cloud, "--activation-delay", "0")
    kms = emulator.client()
    for _index in range(QUOTA - 1):
        kms.create_key(wait=False)
    kms.create_key(origin="external", wait=False)
    response = kms.post("create-key", {"key_alias": unique_alias()})
    assert_error(response, 400, "KMS.1105")
    assert "100 keys" in response.json()["error"]["error_msg"]
    quotas = kms.session.get(kms.url("user-quotas"))
    assert quotas.status_code == 200, quotas.text
    assert quotas.json() == {"quotas": {"resources": [
        {"type": "CMK", "used": QUOTA, "quota": QUOTA},
        {"type": "grant_per_CMK", "used": 0, "quota": 100}]}}
    # The other project has its own quota.
    assert emulator.client(1).create_key(wait=False)


def test_key_quota_option_shows_in_user_quotas(fresh_emulator):
    kms = fresh_emulator("--key-quota", "3").client()
    kms.create_key(wait=False)
    resources = kms.session.get(kms.url("user-quotas")).json()["quotas"]["resources"]
    assert resources[0] == {"type": "CMK", "used": 1, "quota": 3}


def test_user_quotas_is_a_get_with_authentication(kms):
    assert_error(kms.post("user-quotas", {}), 405, "KMS.0215")
    assert_error(requests.get(kms.url("user-quotas")), 403, "KMS.0301")
