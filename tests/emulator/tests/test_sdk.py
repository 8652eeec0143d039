"""The official huaweicloudsdkkms client, which nobody here wrote, against the emulator."""

import base64
import importlib
import os

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

from conftest import OAEP_SHA256, SHARED_QUOTA, iam_token, unique_alias
from support.activation import wait_for_activation


@pytest.fixture(scope="module")
def sdk(tmp_path_factory):
    """The SDK modules, imported with HOME in a temporary directory: the SDK writes
    ~/.huaweicloud/application_id."""
    home = str(tmp_path_factory.mktemp("sdk-home"))
    saved = os.environ.get("HOME")
    os.environ["HOME"] = home
    try:
        modules = {name: importlib.import_module(name) for name in (
            "huaweicloudsdkcore.auth.credentials", "huaweicloudsdkcore.http.http_config",
            "huaweicloudsdkcore.exceptions.exceptions", "huaweicloudsdkkms.v2")}
        yield modules
    finally:
        if saved is None:
            del os.environ["HOME"]
        else:
            os.environ["HOME"] = saved


def _client(sdk, emulator, project, security_token=None, access_key=None, secret_key=None):
    credentials = sdk["huaweicloudsdkcore.auth.credentials"].BasicCredentials(
        ak=access_key or project["access_key"], sk=secret_key or project["secret_key"],
        project_id=project["project_id"])
    if security_token:
        credentials = credentials.with_security_token(security_token)
    config = sdk["huaweicloudsdkcore.http.http_config"].HttpConfig.get_default_config()
    kms = sdk["huaweicloudsdkkms.v2"]
    return (kms.KmsClient.new_builder().with_http_config(config).with_credentials(credentials)
            .with_endpoint(emulator.url).build())


@pytest.fixture(scope="module")
def client(sdk, huawei_emulator):
    return _client(sdk, huawei_emulator, huawei_emulator.project(0))


def _create(kms, client, **fields):
    """Create a key and wait, re-describing it as a real SDK user must, until it left state 1
    (waiting for activation)."""
    body = kms.CreateKeyRequestBody(key_alias=unique_alias("sdk"), **fields)
    key_id = client.create_key(kms.CreateKeyRequest(body=body)).key_info.key_id
    wait_for_activation(lambda new_key: {"key_state": _describe(kms, client, new_key).key_state},
                        key_id)
    return key_id


def _import_parameters(kms, client, key_id):
    return client.create_parameters_for_import(kms.CreateParametersForImportRequest(
        body=kms.GetParametersForImportRequestBody(key_id=key_id,
                                                   wrapping_algorithm="RSAES_OAEP_SHA_256")))


def _encrypt_for_import(public_key_b64, data):
    public_key = serialization.load_der_public_key(base64.b64decode(public_key_b64))
    return base64.b64encode(public_key.encrypt(data, OAEP_SHA256)).decode()


def _describe(kms, client, key_id):
    return client.list_key_detail(kms.ListKeyDetailRequest(
        body=kms.OperateKeyRequestBody(key_id=key_id))).key_info


def test_sdk_symmetric_byok(sdk, client):
    kms = sdk["huaweicloudsdkkms.v2"]
    key_id = _create(kms, client, key_spec="AES_256", origin="external")
    assert _describe(kms, client, key_id).key_state == "5"
    params = _import_parameters(kms, client, key_id)
    assert isinstance(params.expiration_time, int)
    material = os.urandom(32)
    response = client.import_key_material(kms.ImportKeyMaterialRequest(
        body=kms.ImportKeyMaterialRequestBody(
            key_id=key_id, import_token=params.import_token,
            encrypted_key_material=_encrypt_for_import(params.public_key, material))))
    assert response.status_code == 200
    info = _describe(kms, client, key_id)
    assert (info.key_state, info.origin, info.key_spec) == ("2", "external", "AES_256")
    encrypted = client.encrypt_data(kms.EncryptDataRequest(
        body=kms.EncryptDataRequestBody(key_id=key_id, plain_text="round trip")))
    decrypted = client.decrypt_data(kms.DecryptDataRequest(
        body=kms.DecryptDataRequestBody(cipher_text=encrypted.cipher_text)))
    assert decrypted.plain_text == "round trip"
    keys = client.list_keys(kms.ListKeysRequest(body=kms.ListKeysRequestBody(limit="1000")))
    assert key_id in keys.keys


def test_sdk_reads_an_rsa_public_key(sdk, client):
    kms = sdk["huaweicloudsdkkms.v2"]
    key_id = _create(kms, client, key_spec="RSA_2048", key_usage="SIGN_VERIFY")
    response = client.show_public_key(kms.ShowPublicKeyRequest(
        body=kms.OperateKeyRequestBody(key_id=key_id)))
    public_key = serialization.load_pem_public_key(response.public_key.encode())
    assert public_key.key_size == 2048
    assert response.key_id == key_id


def test_sdk_asymmetric_byok_with_ec_p256(sdk, client):
    kms = sdk["huaweicloudsdkkms.v2"]
    private_key = ec.generate_private_key(ec.SECP256R1())
    key_id = _create(kms, client, key_spec="EC_P256", key_usage="SIGN_VERIFY", origin="external")
    params = _import_parameters(kms, client, key_id)
    temporary_key = os.urandom(32)
    pkcs8 = private_key.private_bytes(serialization.Encoding.DER,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
    client.import_key_material(kms.ImportKeyMaterialRequest(body=kms.ImportKeyMaterialRequestBody(
        key_id=key_id, import_token=params.import_token,
        encrypted_key_material=_encrypt_for_import(params.public_key, temporary_key),
        encrypted_privatekey=base64.b64encode(
            aes_key_wrap_with_padding(temporary_key, pkcs8)).decode())))
    assert _describe(kms, client, key_id).key_state == "2"
    served = client.show_public_key(kms.ShowPublicKeyRequest(
        body=kms.OperateKeyRequestBody(key_id=key_id))).public_key
    expected = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert served.replace("\r\n", "\n") == expected
    digest = hashes.Hash(hashes.SHA256())
    digest.update(b"signed through the SDK")
    signature = client.sign(kms.SignRequest(body=kms.SignRequestBody(
        key_id=key_id, message=base64.b64encode(digest.finalize()).decode(),
        signing_algorithm="ECDSA_SHA_256", message_type="DIGEST"))).signature
    private_key.public_key().verify(base64.b64decode(signature), b"signed through the SDK",
                                    ec.ECDSA(hashes.SHA256()))


def test_sdk_sees_kms_errors_with_code_and_request_id(sdk, client):
    kms = sdk["huaweicloudsdkkms.v2"]
    exceptions = sdk["huaweicloudsdkcore.exceptions.exceptions"]
    with pytest.raises(exceptions.ClientRequestException) as raised:
        _describe(kms, client, "00000000-0000-0000-0000-000000000000")
    assert raised.value.status_code == 404
    assert raised.value.error_code == "KMS.0207"
    assert raised.value.request_id


def test_sdk_with_wrong_secret_gets_apigw_0301(sdk, huawei_emulator):
    kms = sdk["huaweicloudsdkkms.v2"]
    exceptions = sdk["huaweicloudsdkcore.exceptions.exceptions"]
    bad = _client(sdk, huawei_emulator, huawei_emulator.project(0), secret_key="wrong-secret")
    with pytest.raises(exceptions.ClientRequestException) as raised:
        bad.list_keys(kms.ListKeysRequest(body=kms.ListKeysRequestBody()))
    assert (raised.value.status_code, raised.value.error_code) == (401, "APIGW.0301")


def test_sdk_with_temporary_credentials(sdk, huawei_emulator):
    emulator = huawei_emulator
    kms = sdk["huaweicloudsdkkms.v2"]
    project = emulator.project(1)
    credential = requests.post(
        emulator.url + "/v3.0/OS-CREDENTIAL/securitytokens",
        headers={"X-Auth-Token": iam_token(emulator, project)},
        json={"auth": {"identity": {"methods": ["token"], "token": {}}}}).json()["credential"]
    client = _client(sdk, emulator, project, security_token=credential["securitytoken"],
                     access_key=credential["access"], secret_key=credential["secret"])
    key_id = _create(kms, client)
    assert _describe(kms, client, key_id).key_state == "2"


def test_sdk_reads_quotas_and_lists_keys_of_every_spec(sdk, client):
    kms = sdk["huaweicloudsdkkms.v2"]
    signer = _create(kms, client, key_spec="EC_P256", key_usage="SIGN_VERIFY")
    quotas = client.show_user_quotas(kms.ShowUserQuotasRequest()).quotas.resources
    cmk = [resource for resource in quotas if resource.type == "CMK"][0]
    # the shared emulator's quota (conftest); the 100-key default has its own tests
    assert cmk.quota == int(SHARED_QUOTA[1]) and 1 <= cmk.used <= cmk.quota
    default = client.list_keys(kms.ListKeysRequest(body=kms.ListKeysRequestBody(limit="1000")))
    assert signer not in default.keys
    every = client.list_keys(kms.ListKeysRequest(body=kms.ListKeysRequestBody(
        limit="1000", key_spec="ALL")))
    assert signer in every.keys
    assert [detail.key_spec for detail in every.key_details if detail.key_id == signer] == \
        ["EC_P256"]
