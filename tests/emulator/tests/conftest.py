"""Fixtures: real emulator processes and small HTTP clients speaking to them."""

import base64
import uuid
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from signing import AkSkAuth
from support.activation import wait_for_activation as support_wait_for_activation
from support.emulator import EmulatorProcess

EMULATOR_DIR = Path(__file__).resolve().parents[1]

# Every action with its smallest complete body for a key (``KEY`` is replaced by a key id).
ACTION_BODIES = {
    "describe-key": {"key_id": "KEY"},
    "enable-key": {"key_id": "KEY"},
    "disable-key": {"key_id": "KEY"},
    "schedule-key-deletion": {"key_id": "KEY", "pending_days": "7"},
    "cancel-key-deletion": {"key_id": "KEY"},
    "update-key-alias": {"key_id": "KEY", "key_alias": "some-alias"},
    "update-key-description": {"key_id": "KEY", "key_description": "d"},
    "get-parameters-for-import": {"key_id": "KEY", "wrapping_algorithm": "RSAES_OAEP_SHA_256"},
    "import-key-material": {"key_id": "KEY", "import_token": "A" * 212,
                            "encrypted_key_material": "A" * 344},
    "delete-imported-key-material": {"key_id": "KEY"},
    "get-publickey": {"key_id": "KEY"},
    "encrypt-data": {"key_id": "KEY", "plain_text": "x"},
    "sign": {"key_id": "KEY", "signing_algorithm": "ECDSA_SHA_256", "message": "QUJD"},
    "verify": {"key_id": "KEY", "signing_algorithm": "ECDSA_SHA_256", "message": "QUJD",
               "signature": "QUJD"},
}
KEY_ACTIONS = sorted(ACTION_BODIES)
MANDATORY = {
    "create-key": ["key_alias"],
    "get-parameters-for-import": ["key_id", "wrapping_algorithm"],
    "import-key-material": ["key_id", "import_token", "encrypted_key_material"],
    "schedule-key-deletion": ["key_id", "pending_days"],
    "update-key-alias": ["key_id", "key_alias"],
    "update-key-description": ["key_id", "key_description"],
    "encrypt-data": ["key_id", "plain_text"],
    "decrypt-data": ["cipher_text"],
    "sign": ["key_id", "signing_algorithm", "message"],
    "verify": ["key_id", "signing_algorithm", "message", "signature"],
}


def body_for(action, key_id):
    return {name: key_id if value == "KEY" else value
            for name, value in ACTION_BODIES[action].items()}


OAEP_SHA256 = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                           label=None)


class Emulator(EmulatorProcess):
    """One emulator subprocess (tests/support) with its request log and, unless ``in_memory``,
    its state file in ``workdir``; ``info`` is its parsed JSON line."""

    def __init__(self, workdir, *args, state_file=None, in_memory=False):
        workdir = Path(workdir)
        super().__init__(workdir, *args, log_file=workdir / "emulator.log", exit_after=600,
                         state_file=None if in_memory else (state_file or workdir / "state.sqlite"))

    def stop(self, timeout=30):
        super().stop(timeout)

    # -- conveniences -------------------------------------------------------------------------
    @property
    def url(self):
        return self.info["kms_endpoint"]

    def admin(self, path, body=None, **kwargs):
        url = self.info["admin_url"] + path
        if body is None and not path.endswith("reset"):
            response = requests.get(url, **kwargs)
        else:
            response = requests.post(url, json=body or {}, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def advance_clock(self, seconds):
        return self.admin("/clock", {"advance_seconds": seconds})

    def stats(self):
        return self.admin("/stats")

    def project(self, index=0):
        return self.info["projects"][index]

    def client(self, index=0, auth="token", **kwargs):
        return KmsClient(self, self.project(index), auth, **kwargs)


class KmsClient:
    """Calls KMS actions of one project with an IAM token or AK/SK signatures."""

    def __init__(self, emulator, project, auth="token", verify=True, token=None):
        self.emulator = emulator
        self.project = project
        self.project_id = project["project_id"]
        self.session = requests.Session()
        # Per request, not session.verify: requests lets REQUESTS_CA_BUNDLE override the latter.
        self.verify = verify
        if auth == "token":
            self.token = token or iam_token(emulator, project, verify=verify)
            self.session.headers["X-Auth-Token"] = self.token
        else:
            self.session.auth = AkSkAuth(project["access_key"], project["secret_key"],
                                         {"X-Project-Id": self.project_id})

    def url(self, action, project_id=None):
        return "%s/v1.0/%s/kms/%s" % (self.emulator.url, project_id or self.project_id, action)

    def post(self, action, body=None, project_id=None, **kwargs):
        kwargs.setdefault("verify", self.verify)
        return self.session.post(self.url(action, project_id), json=body or {}, **kwargs)

    def ok(self, action, body=None, **kwargs):
        response = self.post(action, body, **kwargs)
        assert response.status_code == 200, (action, response.status_code, response.text)
        return response.json()

    def create_key(self, wait=True, **fields):
        """Create a key; unless ``wait`` is false, return once it left activation (state 1)."""
        fields.setdefault("key_alias", unique_alias())
        key_id = self.ok("create-key", fields)["key_info"]["key_id"]
        if wait:
            wait_for_activation(self, key_id)
        return key_id

    def describe(self, key_id):
        return self.ok("describe-key", {"key_id": key_id})["key_info"]

    def import_parameters(self, key_id, algorithm="RSAES_OAEP_SHA_256"):
        return self.ok("get-parameters-for-import",
                       {"key_id": key_id, "wrapping_algorithm": algorithm})

    def import_symmetric(self, key_id, material, algorithm="RSAES_OAEP_SHA_256", **extra):
        params = self.import_parameters(key_id, algorithm)
        body = {"key_id": key_id, "import_token": params["import_token"],
                "encrypted_key_material": wrap(params["public_key"], material, algorithm)}
        body.update(extra)
        return self.post("import-key-material", body)


# The longest random activation delay of the emulator's default (seconds).
ACTIVATION_STEP_SECONDS = 1.0


def wait_for_activation(kms, key_id):
    """The key_info of ``key_id`` once it left state 1 (waiting for activation).

    Re-describes the key like a client of the real service, but instead of sleeping it moves the
    emulator clock, which activation follows, by the longest default delay: the suite stays
    fast, and one second of clock drift changes nothing for tests of the shared emulator.
    """
    return support_wait_for_activation(
        kms.describe, key_id,
        step=lambda: kms.emulator.admin("/clock", {"advance_seconds": ACTIVATION_STEP_SECONDS},
                                        verify=kms.verify))


def iam_token(emulator, project, verify=True):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": project["username"], "password": project["password"],
        "domain": {"name": project["domain_name"]}}}},
        "scope": {"project": {"name": project["project_name"]}}}}
    response = requests.post(emulator.info["iam_endpoint"] + "/auth/tokens", json=body,
                             verify=verify)
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


def wrapping_padding(algorithm):
    if algorithm == "RSAES_OAEP_SHA_256":
        return OAEP_SHA256
    if algorithm == "RSAES_OAEP_SHA_1":
        return padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    return padding.PKCS1v15()


def wrap(public_key_b64, material, algorithm="RSAES_OAEP_SHA_256"):
    """base64 of ``material`` encrypted with the import public key (base64 SPKI DER)."""
    public_key = serialization.load_der_public_key(base64.b64decode(public_key_b64))
    return base64.b64encode(public_key.encrypt(material, wrapping_padding(algorithm))).decode()


def unique_alias(prefix="key"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def assert_error(response, status, code):
    """The response is the given error, in the body shape of the component answering it."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers.get("X-Request-Id")
    body = response.json()
    found = body["error"]["error_code"] if "error" in body else body["error_code"]
    assert found == code, body


SHARED_QUOTA = ("--key-quota", "10000")


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """The emulator most tests share. Tests that move its clock or change its faults use
    ``fresh_emulator`` instead. Its key quota is out of the way of the keys the whole suite
    creates; the quota tests have emulators of their own."""
    process = Emulator(tmp_path_factory.mktemp("shared-emulator"), *SHARED_QUOTA).start()
    yield process
    process.stop()


@pytest.fixture
def fresh_emulator(tmp_path):
    """Factory for private emulators: ``fresh_emulator(*args)``; all are stopped afterwards."""
    started = []

    def start(*args, **kwargs):
        process = Emulator(tmp_path / ("emulator%d" % len(started)), *args, **kwargs).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture(scope="session")
def kms(emulator):
    """Token-authenticated client of the shared emulator's first project."""
    return emulator.client(0)


@pytest.fixture(scope="session")
def kms_b(emulator):
    """Token-authenticated client of the shared emulator's second project."""
    return emulator.client(1)


@pytest.fixture(scope="session")
def kms_aksk(emulator):
    """AK/SK-signing client of the shared emulator's first project."""
    return emulator.client(0, auth="aksk")


# -- cloud profiles ---------------------------------------------------------------------------
CLOUDS = ("otc", "huaweicloud")


@pytest.fixture(scope="session")
def huawei_emulator(tmp_path_factory):
    """A shared emulator following the Huawei Cloud profile (defaults otherwise)."""
    process = Emulator(tmp_path_factory.mktemp("huawei-emulator"), "--cloud", "huaweicloud", *SHARED_QUOTA)
    yield process.start()
    process.stop()


@pytest.fixture(scope="session")
def huawei_kms(huawei_emulator):
    """Token-authenticated client of the Huawei Cloud profile emulator's first project."""
    return huawei_emulator.client(0)


@pytest.fixture(params=CLOUDS)
def cloud_kms(request):
    """The shared client of each profile in turn; ``cloud_kms.emulator.info["cloud"]`` says
    which."""
    return request.getfixturevalue("kms" if request.param == "otc" else "huawei_kms")
