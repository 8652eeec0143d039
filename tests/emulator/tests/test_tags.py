"""Key tags (both profiles): query, add one, delete one, add or delete several; strict fields,
the documented limits, 204 answers, and tags that go with their key."""

import pytest
import requests

from conftest import assert_error, unique_alias


def tags_of(kms, key_id):
    response = kms.session.get(kms.url("%s/tags" % key_id))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"tags", "existTagsNum"}
    assert body["existTagsNum"] == len(body["tags"])
    return dict((tag["key"], tag["value"]) for tag in body["tags"])


def batch(kms, key_id, action, tags):
    return kms.session.post(kms.url("%s/tags/action" % key_id), json={"action": action, "tags": tags})


@pytest.fixture
def key_id(cloud_kms):
    # tags work during activation too: no wait
    return cloud_kms.create_key(wait=False)


def test_a_new_key_has_no_tags(cloud_kms, key_id):
    assert tags_of(cloud_kms, key_id) == {}


def test_batch_create_then_overwrite_then_delete(cloud_kms, key_id):
    tags = [{"key": "dew-kms-kcv", "value": "1A2B3C"}, {"key": "team", "value": ""}]
    response = batch(cloud_kms, key_id, "create", tags)
    assert response.status_code == 204 and response.content == b""
    assert tags_of(cloud_kms, key_id) == {"dew-kms-kcv": "1A2B3C", "team": ""}
    assert batch(cloud_kms, key_id, "create", [{"key": "dew-kms-kcv", "value": "FFFFFF"}]).status_code == 204
    assert tags_of(cloud_kms, key_id) == {"dew-kms-kcv": "FFFFFF", "team": ""}
    assert batch(cloud_kms, key_id, "delete", [{"key": "team"}]).status_code == 204
    assert tags_of(cloud_kms, key_id) == {"dew-kms-kcv": "FFFFFF"}


def test_single_create_and_delete(cloud_kms, key_id):
    response = cloud_kms.session.post(cloud_kms.url("%s/tags" % key_id), json={"tag": {"key": "a b", "value": "v"}})
    assert response.status_code == 204, response.text
    assert tags_of(cloud_kms, key_id) == {"a b": "v"}
    assert cloud_kms.session.delete(cloud_kms.url("%s/tags/a%%20b" % key_id)).status_code == 204
    assert tags_of(cloud_kms, key_id) == {}
    assert_error(cloud_kms.session.delete(cloud_kms.url("%s/tags/a%%20b" % key_id)), 404, "KMS.0308")


def test_tags_belong_to_one_key(cloud_kms, key_id):
    other = cloud_kms.create_key(wait=False)
    batch(cloud_kms, key_id, "create", [{"key": "k", "value": "v"}])
    assert tags_of(cloud_kms, other) == {}


@pytest.mark.parametrize("tags,code", [
    ([{"key": "", "value": "v"}], "KMS.0308"),
    ([{"key": "k" * 37, "value": "v"}], "KMS.0308"),
    ([{"key": "k", "value": "v" * 44}], "KMS.0308"),
    ([{"key": "a=b", "value": "v"}], "KMS.0308"),
    ([{"key": "k", "value": "line\nbreak"}], "KMS.0308"),
    ([{"key": "k", "value": "v", "extra": 1}], "KMS.0308"),
    ([], "KMS.0204"),
])
def test_bad_tags_are_refused_and_change_nothing(cloud_kms, key_id, tags, code):
    assert_error(batch(cloud_kms, key_id, "create", tags), 400, code)
    assert tags_of(cloud_kms, key_id) == {}


def test_at_most_ten_tags_per_key(cloud_kms, key_id):
    ten = [{"key": "t%d" % index, "value": ""} for index in range(10)]
    assert batch(cloud_kms, key_id, "create", ten).status_code == 204
    assert batch(cloud_kms, key_id, "create", [{"key": "t0", "value": "again"}]).status_code == 204
    assert_error(batch(cloud_kms, key_id, "create", [{"key": "eleventh", "value": ""}]), 400, "KMS.0308")
    assert len(tags_of(cloud_kms, key_id)) == 10


def test_action_must_be_create_or_delete_and_fields_are_strict(cloud_kms, key_id):
    response = cloud_kms.session.post(cloud_kms.url("%s/tags/action" % key_id),
                                      json={"action": "update", "tags": [{"key": "k", "value": "v"}]})
    assert_error(response, 400, "KMS.0308")
    response = cloud_kms.session.post(cloud_kms.url("%s/tags/action" % key_id),
                                      json={"action": "create", "tags": [{"key": "k", "value": "v"}],
                                            "key_id": key_id})
    assert_error(response, 400, "KMS.0308")
    assert "parameter key_id is not defined for batch-create-kms-tags" in response.json()["error"]["error_msg"]
    assert tags_of(cloud_kms, key_id) == {}


def test_unknown_keys_aliases_methods_and_no_credentials(cloud_kms):
    missing = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"
    assert_error(cloud_kms.session.get(cloud_kms.url("%s/tags" % missing)), 404, "KMS.0207")
    assert_error(batch(cloud_kms, missing, "create", [{"key": "k", "value": "v"}]), 404, "KMS.0207")
    alias = unique_alias()
    cloud_kms.create_key(wait=False, key_alias=alias)
    assert_error(cloud_kms.session.get(cloud_kms.url("alias%%2F%s/tags" % alias)), 400, "KMS.0205")
    assert_error(cloud_kms.session.get(cloud_kms.url("%s/tags" % alias)), 400, "KMS.0205")
    key_id = cloud_kms.create_key(wait=False)
    assert_error(cloud_kms.session.put(cloud_kms.url("%s/tags" % key_id), json={}), 405, "KMS.0215")
    assert_error(requests.get(cloud_kms.url("%s/tags" % key_id)), 403, "KMS.0301")
