"""IAM: password tokens, project lookup, temporary AK/SK."""

import datetime

import requests

from conftest import assert_error, iam_token
from signing import AkSkAuth


def _password_body(project, password=None, scope=None):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": project["username"], "password": password or project["password"],
        "domain": {"name": project["domain_name"]}}}}}}
    if scope is not None:
        body["auth"]["scope"] = scope
    return body


def _tokens_url(emulator, query=""):
    return emulator.info["iam_endpoint"] + "/auth/tokens" + query


def _parse_time(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")


def test_password_token_scoped_by_project_name(emulator):
    project = emulator.project(0)
    response = requests.post(_tokens_url(emulator), json=_password_body(
        project, scope={"project": {"name": project["project_name"]}}))
    assert response.status_code == 201
    token = response.json()["token"]
    assert response.headers["X-Subject-Token"]
    assert token["project"]["id"] == project["project_id"]
    assert token["project"]["name"] == project["project_name"]
    assert token["user"]["name"] == project["username"]
    assert token["methods"] == ["password"]
    lifetime = _parse_time(token["expires_at"]) - _parse_time(token["issued_at"])
    assert lifetime == datetime.timedelta(hours=24)
    kms_urls = [endpoint["url"] for entry in token["catalog"] if entry["type"] == "kms"
                for endpoint in entry["endpoints"]]
    assert kms_urls == ["%s/v1.0/%s" % (emulator.url, project["project_id"])]


def test_password_token_scoped_by_project_id_without_catalog(emulator):
    project = emulator.project(1)
    response = requests.post(_tokens_url(emulator, "?nocatalog=true"), json=_password_body(
        project, scope={"project": {"id": project["project_id"]}}))
    assert response.status_code == 201
    assert response.json()["token"]["project"]["id"] == project["project_id"]
    assert "catalog" not in response.json()["token"]


def test_domain_scoped_and_unscoped_tokens_have_no_project(emulator):
    project = emulator.project(0)
    domain = requests.post(_tokens_url(emulator), json=_password_body(
        project, scope={"domain": {"name": project["domain_name"]}}))
    assert domain.status_code == 201
    assert "project" not in domain.json()["token"]
    assert domain.json()["token"]["domain"]["name"] == project["domain_name"]
    unscoped = requests.post(_tokens_url(emulator), json=_password_body(project))
    assert unscoped.status_code == 201
    assert "project" not in unscoped.json()["token"]


def test_wrong_password_unknown_user_and_foreign_project_are_401(emulator):
    project, other = emulator.project(0), emulator.project(1)
    assert_error(requests.post(_tokens_url(emulator), json=_password_body(
        project, password="wrong")), 401, "IAM.0003")
    stranger = dict(project, username="nobody")
    assert_error(requests.post(_tokens_url(emulator), json=_password_body(stranger)), 401,
                 "IAM.0003")
    foreign = _password_body(project, scope={"project": {"id": other["project_id"]}})
    assert_error(requests.post(_tokens_url(emulator), json=foreign), 401, "IAM.0003")
    foreign_name = _password_body(project, scope={"project": {"name": other["project_name"]}})
    assert_error(requests.post(_tokens_url(emulator), json=foreign_name), 401, "IAM.0003")


def test_malformed_token_requests_are_400(emulator):
    url = _tokens_url(emulator)
    assert requests.post(url, data=b"{not json").status_code == 400
    assert requests.post(url, json={"auth": {}}).status_code == 400
    body = _password_body(emulator.project(0))
    body["auth"]["identity"]["methods"] = ["totp"]
    assert requests.post(url, json=body).status_code == 400


def test_projects_by_name_with_token(emulator):
    project = emulator.project(0)
    token = iam_token(emulator, project)
    response = requests.get(emulator.info["iam_endpoint"] + "/projects",
                            params={"name": project["project_name"]},
                            headers={"X-Auth-Token": token})
    assert response.status_code == 200
    projects = response.json()["projects"]
    assert [p["id"] for p in projects] == [project["project_id"]]
    assert projects[0]["domain_id"] == project["domain_id"]
    none = requests.get(emulator.info["iam_endpoint"] + "/projects",
                        params={"name": emulator.project(1)["project_name"]},
                        headers={"X-Auth-Token": token})
    assert none.json()["projects"] == []


def test_projects_by_name_with_aksk_like_the_sdk(emulator):
    project = emulator.project(1)
    auth = AkSkAuth(project["access_key"], project["secret_key"])
    response = requests.get(emulator.info["iam_endpoint"] + "/projects",
                            params={"name": project["project_name"]}, auth=auth,
                            headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert [p["id"] for p in response.json()["projects"]] == [project["project_id"]]


def test_auth_projects_lists_the_users_projects(emulator):
    project = emulator.project(1)
    response = requests.get(emulator.info["iam_endpoint"] + "/auth/projects",
                            headers={"X-Auth-Token": iam_token(emulator, project)})
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["projects"]] == [project["project_id"]]


def test_iam_queries_need_authentication(emulator):
    for path in ("/projects", "/auth/projects"):
        assert_error(requests.get(emulator.info["iam_endpoint"] + path), 401, "IAM.0001")
        assert_error(requests.get(emulator.info["iam_endpoint"] + path,
                                  headers={"X-Auth-Token": "bogus"}), 401, "IAM.0001")


def _sts_url(emulator):
    return emulator.url + "/v3.0/OS-CREDENTIAL/securitytokens"


def _sts_body(duration=None):
    token = {} if duration is None else {"duration_seconds": duration}
    return {"auth": {"identity": {"methods": ["token"], "token": token}}}


def test_security_token_default_and_explicit_duration(emulator):
    token = iam_token(emulator, emulator.project(0))
    # Expiry follows the emulator clock, which other tests of the shared emulator move.
    now = datetime.datetime.fromtimestamp(emulator.admin("/clock")["now"],
                                          datetime.timezone.utc).replace(tzinfo=None)
    for duration, expected in ((None, 900), (3600, 3600), ("86400", 86400)):
        response = requests.post(_sts_url(emulator), json=_sts_body(duration),
                                 headers={"X-Auth-Token": token})
        assert response.status_code == 201, response.text
        credential = response.json()["credential"]
        assert credential["access"] and credential["secret"] and credential["securitytoken"]
        remaining = (_parse_time(credential["expires_at"]) - now).total_seconds()
        assert expected - 30 < remaining <= expected + 30


def test_security_token_rejects_bad_duration_and_missing_token(emulator):
    token = iam_token(emulator, emulator.project(0))
    for duration in (899, 86401, "x", True):
        response = requests.post(_sts_url(emulator), json=_sts_body(duration),
                                 headers={"X-Auth-Token": token})
        assert response.status_code == 400, duration
    assert requests.post(_sts_url(emulator), json=_sts_body()).status_code == 401
