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


# ----------------------------------------------------------------- key instances by tag

def by_tags(kms, **body):
    return kms.post("resource_instances/action", body)


def tagged_keys(kms, count, tag_key, value=lambda index: "v%d" % index):
    """``count`` new keys tagged ``tag_key`` (a name no other test uses), in creation order."""
    key_ids = []
    for index in range(count):
        key_id = kms.create_key(wait=False)
        assert batch(kms, key_id, "create", [{"key": tag_key, "value": value(index)}]).status_code == 204
        key_ids.append(key_id)
    return key_ids


def test_filter_answers_the_tagged_keys_with_their_tags_and_details(cloud_kms):
    tag_key = unique_alias("kcv")
    tagged = tagged_keys(cloud_kms, 2, tag_key)
    cloud_kms.create_key(wait=False)  # untagged: not in the answer
    response = by_tags(cloud_kms, action="filter", tags=[{"key": tag_key, "values": []}], limit="10", offset="0")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"resources", "total_count"} and body["total_count"] == 2
    assert [resource["resource_id"] for resource in body["resources"]] == tagged
    first = body["resources"][0]
    assert set(first) == {"resource_id", "resource_detail", "resource_name", "tags"}
    assert first["tags"] == [{"key": tag_key, "value": "v0"}]
    described = cloud_kms.describe(tagged[0])
    assert first["resource_name"] == described["key_alias"]
    assert first["resource_detail"]["key_id"] == tagged[0]
    # the details are those of a list-keys entry of the profile (OTC lists no key_spec)
    listed = cloud_kms.ok("list-keys", {"limit": "1000"} if cloud_kms.project["project_name"] == "eu-de"
                          else {"limit": "1000", "key_spec": "ALL"})["key_details"]
    assert set(first["resource_detail"]) == set(listed[0])


def test_filter_pages_with_limit_and_offset_and_counts(cloud_kms):
    tag_key = unique_alias("page")
    tagged = tagged_keys(cloud_kms, 3, tag_key)
    tags = [{"key": tag_key, "values": []}]
    pages = [by_tags(cloud_kms, action="filter", tags=tags, limit="2", offset=offset).json()
             for offset in ("0", "2", "4")]
    assert [[r["resource_id"] for r in page["resources"]] for page in pages] == [tagged[:2], tagged[2:], []]
    assert [page["total_count"] for page in pages] == [3, 3, 3]
    default = by_tags(cloud_kms, action="filter", tags=tags).json()
    assert len(default["resources"]) == 3  # limit 10, offset 0 by default
    assert by_tags(cloud_kms, action="count", tags=tags).json() == {"total_count": 3}


def test_filter_by_tag_values_and_alias(cloud_kms):
    tag_key = unique_alias("val")
    tagged = tagged_keys(cloud_kms, 3, tag_key)
    found = by_tags(cloud_kms, action="filter", tags=[{"key": tag_key, "values": ["v0", "v2"]}]).json()
    assert [r["resource_id"] for r in found["resources"]] == [tagged[0], tagged[2]]
    alias = cloud_kms.describe(tagged[1])["key_alias"]
    found = by_tags(cloud_kms, action="filter", tags=[{"key": tag_key, "values": []}],
                    matches=[{"key": "resource_name", "value": alias}]).json()
    assert [r["resource_id"] for r in found["resources"]] == [tagged[1]]


def test_filter_sees_only_the_callers_project(kms, kms_b):
    tag_key = unique_alias("iso")
    tagged_keys(kms, 1, tag_key)
    found = by_tags(kms_b, action="filter", tags=[{"key": tag_key, "values": []}]).json()
    assert found == {"resources": [], "total_count": 0}


def test_filter_is_counted_under_its_name(cloud_kms):
    before = cloud_kms.emulator.stats()["requests"].get("list-kms-by-tags", 0)
    by_tags(cloud_kms, action="count", tags=[{"key": "k", "values": []}])
    assert cloud_kms.emulator.stats()["requests"]["list-kms-by-tags"] == before + 1


@pytest.mark.parametrize("body", [
    {"action": "list"},
    {},
    {"action": "filter", "limit": "0"},
    {"action": "filter", "limit": "1001"},
    {"action": "filter", "offset": "-1"},
    {"action": "filter", "limit": "ten"},
    {"action": "filter", "tags": {"key": "k"}},
    {"action": "filter", "tags": [{"key": "k", "value": "v"}]},
    {"action": "filter", "tags": [{"key": "", "values": []}]},
    {"action": "filter", "tags": [{"key": "k", "values": "v"}]},
    {"action": "filter", "matches": [{"key": "key_id", "value": "x"}]},
    {"action": "filter", "matches": [{"key": "resource_name", "value": ""}]},
    {"action": "filter", "key_id": "0d0466b0-e727-4d9c-b35d-f84bb474a37f"},
])
def test_bad_filter_requests_are_refused(cloud_kms, body):
    code = "KMS.0204" if "action" not in body else "KMS.0308"
    assert_error(by_tags(cloud_kms, **body), 400, code)


def test_filter_path_only_takes_posts_with_credentials(cloud_kms):
    assert_error(cloud_kms.session.get(cloud_kms.url("resource_instances/action")), 405, "KMS.0215")
    assert_error(requests.post(cloud_kms.url("resource_instances/action"), json={"action": "count"}),
                 403, "KMS.0301")
    # the action is reached by its documented path only
    assert_error(cloud_kms.post("list-kms-by-tags", {"action": "count"}), 404, "APIGW.0101")
