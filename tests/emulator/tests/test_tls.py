"""--tls: HTTPS with a generated CA whose file is announced in the JSON line."""

import os

import pytest
import requests

from conftest import assert_error, iam_token


@pytest.fixture(scope="module")
def tls_emulator(tmp_path_factory):
    from conftest import Emulator
    process = Emulator(tmp_path_factory.mktemp("tls"), "--tls").start()
    yield process
    process.stop()


def test_json_line_announces_https_and_the_ca_file(tls_emulator):
    info = tls_emulator.info
    assert info["kms_endpoint"].startswith("https://127.0.0.1:")
    assert info["iam_endpoint"] == info["kms_endpoint"] + "/v3"
    assert os.path.isfile(info["ca_file"])
    with open(info["ca_file"]) as handle:
        assert handle.read().startswith("-----BEGIN CERTIFICATE-----")


def test_clients_trusting_the_ca_work(tls_emulator):
    ca_file = tls_emulator.info["ca_file"]
    client = tls_emulator.client(verify=ca_file)
    key_id = client.create_key()
    assert client.describe(key_id)["key_state"] == "2"
    aksk = tls_emulator.client(auth="aksk", verify=ca_file)
    assert aksk.describe(key_id)["key_id"] == key_id
    localhost = tls_emulator.info["kms_endpoint"].replace("127.0.0.1", "localhost")
    assert requests.get(localhost + "/", verify=ca_file).status_code == 200


def test_clients_not_trusting_the_ca_fail_and_the_server_carries_on(tls_emulator):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(tls_emulator.info["kms_endpoint"] + "/")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(tls_emulator.info["kms_endpoint"].replace("https", "http") + "/",
                     timeout=5)
    token = iam_token(tls_emulator, tls_emulator.project(0), verify=tls_emulator.info["ca_file"])
    response = requests.post(
        "%s/v1.0/%s/kms/describe-key" % (tls_emulator.url, tls_emulator.project(0)["project_id"]),
        json={"key_id": "00000000-0000-0000-0000-000000000000"}, headers={"X-Auth-Token": token},
        verify=tls_emulator.info["ca_file"])
    assert_error(response, 404, "KMS.0207")
