"""Authentication of KMS calls: IAM tokens and AK/SK signatures, incl. temporary credentials."""

import datetime
import json

import pytest
import requests

from conftest import assert_error, iam_token
from signing import AkSkAuth, sign_request

DESCRIBE_UNKNOWN = {"key_id": "00000000-0000-0000-0000-000000000000"}


def _describe_url(emulator, project_id=None):
    return "%s/v1.0/%s/kms/describe-key" % (emulator.url,
                                            project_id or emulator.project(0)["project_id"])


def _signed_post(url, body, project, extra=None, sdk_date=None, secret=None):
    payload = json.dumps(body).encode()
    headers = {"Content-Type": "application/json;charset=utf-8"}
    headers.update(extra or {})
    signed = sign_request("POST", url, headers, payload, project["access_key"],
                          secret or project["secret_key"], sdk_date)
    return url, signed, payload


def test_token_auth_reaches_the_action(emulator):
    response = requests.post(_describe_url(emulator), json=DESCRIBE_UNKNOWN,
                             headers={"X-Auth-Token": iam_token(emulator, emulator.project(0))})
    assert_error(response, 404, "KMS.0207")


def test_missing_and_invalid_token_are_403_kms_0301(emulator):
    assert_error(requests.post(_describe_url(emulator), json=DESCRIBE_UNKNOWN), 403, "KMS.0301")
    assert_error(requests.post(_describe_url(emulator), json=DESCRIBE_UNKNOWN,
                               headers={"X-Auth-Token": "MIIforged"}), 403, "KMS.0301")


def test_token_of_another_project_is_403_kms_0321(emulator):
    token_b = iam_token(emulator, emulator.project(1))
    assert_error(requests.post(_describe_url(emulator), json=DESCRIBE_UNKNOWN,
                               headers={"X-Auth-Token": token_b}), 403, "KMS.0321")


def test_unscoped_token_is_refused_for_kms(emulator):
    project = emulator.project(0)
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": project["username"], "password": project["password"],
        "domain": {"name": project["domain_name"]}}}}}}
    token = requests.post(emulator.info["iam_endpoint"] + "/auth/tokens",
                          json=body).headers["X-Subject-Token"]
    assert_error(requests.post(_describe_url(emulator), json=DESCRIBE_UNKNOWN,
                               headers={"X-Auth-Token": token}), 403, "KMS.0321")


def test_expired_token_is_403_kms_0303(fresh_emulator):
    emulator = fresh_emulator()
    token = iam_token(emulator, emulator.project(0))
    headers = {"X-Auth-Token": token}
    assert requests.post(_describe_url(emulator), json=DESCRIBE_UNKNOWN,
                         headers=headers).status_code == 404
    emulator.advance_clock(24 * 3600 + 1)
    assert_error(requests.post(_describe_url(emulator), json=DESCRIBE_UNKNOWN, headers=headers),
                 403, "KMS.0303")


def test_aksk_signature_reaches_the_action(emulator):
    project = emulator.project(0)
    url, headers, payload = _signed_post(_describe_url(emulator), DESCRIBE_UNKNOWN, project,
                                         {"X-Project-Id": project["project_id"]})
    assert_error(requests.post(url, data=payload, headers=headers), 404, "KMS.0207")


def test_aksk_without_x_project_id_is_accepted(emulator):
    url, headers, payload = _signed_post(_describe_url(emulator), DESCRIBE_UNKNOWN,
                                         emulator.project(0))
    assert_error(requests.post(url, data=payload, headers=headers), 404, "KMS.0207")


def test_aksk_wrong_secret_is_401_apigw_0301(emulator):
    url, headers, payload = _signed_post(_describe_url(emulator), DESCRIBE_UNKNOWN,
                                         emulator.project(0), secret="not-the-secret")
    response = requests.post(url, data=payload, headers=headers)
    assert_error(response, 401, "APIGW.0301")
    assert response.json()["request_id"] == response.headers["X-Request-Id"]


def test_aksk_unknown_access_key_is_401(emulator):
    project = dict(emulator.project(0), access_key="UNKNOWNACCESSKEY0000")
    url, headers, payload = _signed_post(_describe_url(emulator), DESCRIBE_UNKNOWN, project)
    assert_error(requests.post(url, data=payload, headers=headers), 401, "APIGW.0301")


@pytest.mark.parametrize("minutes", [-16, 16])
def test_aksk_skewed_date_is_401(emulator, minutes):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    url, headers, payload = _signed_post(_describe_url(emulator), DESCRIBE_UNKNOWN,
                                         emulator.project(0),
                                         sdk_date=moment.strftime("%Y%m%dT%H%M%SZ"))
    assert_error(requests.post(url, data=payload, headers=headers), 401, "APIGW.0301")


def test_aksk_date_within_window_is_accepted(emulator):
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)
    url, headers, payload = _signed_post(_describe_url(emulator), DESCRIBE_UNKNOWN,
                                         emulator.project(0),
                                         sdk_date=moment.strftime("%Y%m%dT%H%M%SZ"))
    assert_error(requests.post(url, data=payload, headers=headers), 404, "KMS.0207")


def test_aksk_body_changed_after_signing_is_401(emulator):
    url, headers, payload = _signed_post(_describe_url(emulator), DESCRIBE_UNKNOWN,
                                         emulator.project(0))
    tampered = payload.replace(b"0000-0000", b"0000-0001", 1)
    assert_error(requests.post(url, data=tampered, headers=headers), 401, "APIGW.0301")


def test_aksk_signed_header_changed_after_signing_is_401(emulator):
    project = emulator.project(0)
    url, headers, payload = _signed_post(_describe_url(emulator), DESCRIBE_UNKNOWN, project,
                                         {"X-Project-Id": project["project_id"]})
    headers["Content-Type"] = "application/json"
    assert_error(requests.post(url, data=payload, headers=headers), 401, "APIGW.0301")


def test_aksk_of_another_account_is_403_kms_0321(emulator):
    url, headers, payload = _signed_post(_describe_url(emulator), DESCRIBE_UNKNOWN,
                                         emulator.project(1))
    assert_error(requests.post(url, data=payload, headers=headers), 403, "KMS.0321")


def test_aksk_x_project_id_must_match_the_url(emulator):
    project = emulator.project(0)
    url, headers, payload = _signed_post(_describe_url(emulator), DESCRIBE_UNKNOWN, project,
                                         {"X-Project-Id": emulator.project(1)["project_id"]})
    assert_error(requests.post(url, data=payload, headers=headers), 403, "KMS.0321")


def _temporary_credentials(emulator, index=0, duration=900):
    token = iam_token(emulator, emulator.project(index))
    response = requests.post(emulator.url + "/v3.0/OS-CREDENTIAL/securitytokens",
                             headers={"X-Auth-Token": token},
                             json={"auth": {"identity": {"methods": ["token"], "token": {
                                 "duration_seconds": duration}}}})
    assert response.status_code == 201
    return response.json()["credential"]


def _temporary_auth(credential, security_token=None):
    return AkSkAuth(credential["access"], credential["secret"],
                    {"X-Security-Token": security_token or credential["securitytoken"]})


def test_temporary_credentials_with_security_token(emulator):
    credential = _temporary_credentials(emulator)
    response = requests.post(_describe_url(emulator), json=DESCRIBE_UNKNOWN,
                             auth=_temporary_auth(credential))
    assert_error(response, 404, "KMS.0207")


def test_temporary_credentials_need_their_own_security_token(emulator):
    credential = _temporary_credentials(emulator)
    without = requests.post(_describe_url(emulator), json=DESCRIBE_UNKNOWN,
                            auth=AkSkAuth(credential["access"], credential["secret"]))
    assert_error(without, 401, "APIGW.0301")
    other = _temporary_credentials(emulator)["securitytoken"]
    wrong = requests.post(_describe_url(emulator), json=DESCRIBE_UNKNOWN,
                          auth=_temporary_auth(credential, other))
    assert_error(wrong, 401, "APIGW.0301")


def test_temporary_credentials_stay_in_their_account(emulator):
    credential = _temporary_credentials(emulator, index=1)
    response = requests.post(_describe_url(emulator), json=DESCRIBE_UNKNOWN,
                             auth=_temporary_auth(credential))
    assert_error(response, 403, "KMS.0321")


def test_temporary_credentials_expire_with_the_emulator_clock(fresh_emulator):
    emulator = fresh_emulator()
    credential = _temporary_credentials(emulator, duration=900)
    emulator.advance_clock(901)
    response = requests.post(_describe_url(emulator), json=DESCRIBE_UNKNOWN,
                             auth=_temporary_auth(credential))
    assert_error(response, 401, "APIGW.0301")


def test_a_signature_with_another_algorithm_is_401(emulator):
    response = requests.post(_describe_url(emulator), json=DESCRIBE_UNKNOWN, headers={
        "Authorization": "V11-HMAC-SHA256 Credential=AK/20250101/eu-de/kms, Signature=00"})
    assert_error(response, 401, "APIGW.0301")
