"""The emulator holds its own: authentication on every call, project isolation for every action
with both token and AK/SK credentials, and AK/SK signatures that break when anything changes.
"""

import base64
import datetime
import hashlib
import json
import os
import subprocess
import sys

import pytest

from caller import Caller, canonical_request, sign, signature
from harness import EMULATOR_DIR, Emulator, record_figure

# Every KMS action of the emulator (checked against its table below).
ACTIONS = sorted([
    "create-key", "describe-key", "list-keys", "enable-key", "disable-key",
    "schedule-key-deletion", "cancel-key-deletion", "update-key-alias", "update-key-description",
    "get-parameters-for-import", "import-key-material", "delete-imported-key-material",
    "get-publickey", "encrypt-data", "decrypt-data", "sign", "verify", "user-quotas"])
# every action is a POST with a JSON body but these queries
GET_ACTIONS = ("user-quotas",)
AUTH_MODES = ("token", "aksk")


def method_of(action):
    return "GET" if action in GET_ACTIONS else "POST"


# The tag API (URLs carry the key id, or are resource_instances/action) has its auth, isolation
# and strictness tests in tests/emulator/tests/test_tags.py.
TAG_ACTIONS = ("show-kms-tags", "create-kms-tag", "batch-create-kms-tags", "delete-kms-tag",
               "list-kms-by-tags")


def test_the_action_list_is_the_emulators():
    """A new action in the emulator must get its isolation and auth tests here too."""
    listing = subprocess.run(
        [sys.executable, "-c", "import json; from kms_emulator.actions import ACTIONS;"
                               " print(json.dumps(sorted(ACTIONS)))"],
        env=dict(os.environ, PYTHONPATH=str(EMULATOR_DIR)), check=True,
        stdout=subprocess.PIPE, text=True).stdout
    assert [action for action in json.loads(listing) if action not in TAG_ACTIONS] == ACTIONS
    assert set(TAG_ACTIONS) <= set(json.loads(listing))


def test_own_signer_matches_the_spec_vector():
    """caller.sign is an independent implementation; spec 6.2.1 vector V1 pins it."""
    url = ("https://kms.eu-de.otc.t-systems.com/v1.0/0123456789abcdef0123456789abcdef"
           "/kms/describe-key")
    headers = {"Content-Type": "application/json;charset=utf-8",
               "X-Sdk-Date": "20250101T000000Z",
               "X-Project-Id": "0123456789abcdef0123456789abcdef",
               "Host": "kms.eu-de.otc.t-systems.com"}
    body = b'{"key_id": "0d0466b0-e727-4d9c-b35d-f84bb474a37f"}'
    canonical, signed = canonical_request("POST", url, headers, body)
    assert signed == "content-type;host;x-project-id;x-sdk-date"
    assert hashlib.sha256(canonical.encode()).hexdigest() == \
        "92741c5f65fcabc1759145d9a4b26dc3bfd3fcc349322d13c470fa1a5c6930cf"
    assert signature("EXAMPLESKabcdefghijklmnopqrstuvwxyz0123456", "20250101T000000Z",
                     canonical) == \
        "11323db9d22b9f0c93b0d97ce760f49f172d29acacd9a746edd0656057bd3eec"


class ProjectA:
    """Project A's keys, one for every action to be tried against, and their state."""

    def __init__(self, emulator):
        a = Caller(emulator, 0, "token")
        self.caller = a
        tag = os.urandom(3).hex()
        self.material = os.urandom(32)
        self.imported = a.create_key("a-imported-" + tag, origin="external")
        a.import_material(self.imported, self.material)
        self.pending = a.create_key("a-pending-" + tag, origin="external")
        # a valid token + wrapped material of A's, which B will try to use
        self.token, self.wrapped = a.wrapped_import(self.pending, os.urandom(32))
        self.enabled = a.create_key("a-enabled-" + tag)
        self.disabled = a.create_key("a-disabled-" + tag)
        a.ok("disable-key", {"key_id": self.disabled})
        self.deleting = a.create_key("a-deleting-" + tag)
        a.ok("schedule-key-deletion", {"key_id": self.deleting, "pending_days": "7"})
        self.rsa = a.create_key("a-rsa-" + tag, key_spec="RSA_2048", key_usage="SIGN_VERIFY")
        self.ec = a.create_key("a-ec-" + tag, key_spec="EC_P256")
        self.digest = base64.b64encode(hashlib.sha256(b"A's message").digest()).decode()
        self.signature = a.ok("sign", {"key_id": self.ec, "signing_algorithm": "ECDSA_SHA_256",
                                       "message": self.digest})["signature"]
        self.probe = "A's secret probe"
        self.cipher_text = a.ok("encrypt-data", {"key_id": self.imported,
                                                 "plain_text": self.probe})["cipher_text"]
        self.keys = [self.imported, self.pending, self.enabled, self.disabled, self.deleting,
                     self.rsa, self.ec]
        self.before = self.snapshot()

    def snapshot(self):
        return {key_id: self.caller.describe(key_id) for key_id in self.keys}

    def bodies(self):
        """action -> the bodies that name A's keys or data (None: not about a key)."""
        return {
            "create-key": None,
            "list-keys": None,
            "user-quotas": None,
            "describe-key": [{"key_id": k} for k in self.keys] + [
                {"key_id": "alias/" + self.before[self.imported]["key_alias"]},
                {"key_id": self.before[self.imported]["key_alias"]}],
            "enable-key": [{"key_id": self.disabled}],
            "disable-key": [{"key_id": self.enabled}, {"key_id": self.imported}],
            "schedule-key-deletion": [{"key_id": self.enabled, "pending_days": "7"}],
            "cancel-key-deletion": [{"key_id": self.deleting}],
            "update-key-alias": [{"key_id": self.enabled, "key_alias": "b-took-it"}],
            "update-key-description": [{"key_id": self.enabled, "key_description": "B was here"}],
            "get-parameters-for-import": [{"key_id": self.pending,
                                           "wrapping_algorithm": "RSAES_OAEP_SHA_256"}],
            "import-key-material": [{"key_id": self.pending, "import_token": self.token,
                                     "encrypted_key_material": self.wrapped}],
            "delete-imported-key-material": [{"key_id": self.imported}],
            "get-publickey": [{"key_id": self.rsa}, {"key_id": self.ec}],
            "encrypt-data": [{"key_id": self.imported, "plain_text": "x"},
                             {"key_id": self.enabled, "plain_text": "x"}],
            # OTC's decrypt-data has no key_id field (the emulator's default profile refuses it)
            "decrypt-data": [{"cipher_text": self.cipher_text}],
            "sign": [{"key_id": self.ec, "signing_algorithm": "ECDSA_SHA_256",
                      "message": self.digest}],
            "verify": [{"key_id": self.ec, "signing_algorithm": "ECDSA_SHA_256",
                        "message": self.digest, "signature": self.signature}],
        }


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    emulator = Emulator(tmp_path_factory.mktemp("security-emulator")).start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def project_a(emulator):
    return ProjectA(emulator)


@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_needs_auth(emulator, project_a, action):
    bodies = project_a.bodies()[action] or [{"key_alias": "no-auth", "limit": "10"}]
    for credentials in ("none", "garbage-token", "garbage-signature"):
        caller = Caller(emulator, 0, "none")
        url = caller.url(action)
        payload = json.dumps(bodies[0]).encode()
        headers = {"Content-Type": "application/json;charset=utf-8"}
        if credentials == "garbage-token":
            headers["X-Auth-Token"] = "MIIemu" + "x" * 100
        elif credentials == "garbage-signature":
            headers = sign("POST", url, headers, payload, "NOSUCHACCESSKEY00000", "nope")
        answer = caller.send(method_of(action), url, headers, payload)
        assert answer.status in (401, 403), (action, credentials, answer)
        assert answer.code in ("KMS.0301", "APIGW.0301"), (action, credentials, answer)
    # nothing changed
    assert project_a.snapshot() == project_a.before


def test_iam_queries_need_auth(emulator):
    caller = Caller(emulator, 0, "none")
    for path in ("/projects", "/auth/projects"):
        response = caller.session.get(emulator.info["iam_endpoint"] + path, timeout=10)
        assert response.status_code == 401, (path, response.text)


_isolation = {"refused": 0}


@pytest.mark.parametrize("auth", AUTH_MODES)
@pytest.mark.parametrize("action", ACTIONS)
def test_project_b_cannot_touch_project_a(emulator, project_a, action, auth):
    b = Caller(emulator, 1, auth)
    bodies = project_a.bodies()[action]

    # 1. B's credentials on A's project URL: refused before anything is looked at
    for body in bodies or [{"key_alias": "b-in-a", "limit": "10"}]:
        answer = b.post(action, body, project_id=project_a.caller.project_id,
                        method=method_of(action))
        assert answer.status == 403 and answer.code == "KMS.0321", (action, auth, answer)
        _isolation["refused"] += 1

    # 2. B's credentials on B's own project, naming A's keys and data: A's keys do not exist
    if bodies is not None:
        for body in bodies:
            answer = b.post(action, body)
            # an alias, bare or as alias/<name>, is not a key ID: KMS.0205 (invalid key ID)
            alias = project_a.before[project_a.imported]["key_alias"]
            by_alias = body.get("key_id") in (alias, "alias/" + alias)
            expected = (400, "KMS.0205") if by_alias else (404, "KMS.0207")
            assert (answer.status, answer.code) == expected, (action, auth, body, answer)
            _isolation["refused"] += 1
    elif action == "user-quotas":  # B's quota counts B's keys, none of A's
        resources = b.call("GET", "user-quotas").data["quotas"]["resources"]
        used = [r["used"] for r in resources if r["type"] == "CMK"]
        assert used == [int(b.ok("list-keys", {"limit": "1000"})["total"])], resources
    elif action == "list-keys":
        listed = b.ok("list-keys", {"limit": "1000"})
        assert not set(listed["keys"]) & set(project_a.keys)
        assert all(d["domain_id"] != project_a.before[project_a.imported]["domain_id"]
                   for d in listed["key_details"])
    else:  # create-key: B may use an alias A uses; it gets its own key, A's stays A's
        alias = project_a.before[project_a.enabled]["key_alias"]
        answer = b.post("create-key", {"key_alias": alias})
        assert answer.status in (200, 400), answer
        if answer.status == 200:
            assert answer.data["key_info"]["key_id"] not in project_a.keys
        else:
            assert answer.code == "KMS.1104"  # B already made one in the other auth mode

    # A's keys are exactly as they were
    assert project_a.snapshot() == project_a.before
    record_figure("isolation_refusals", _isolation["refused"])


@pytest.mark.parametrize("auth", AUTH_MODES)
def test_a_token_of_project_a_is_useless_in_project_b(emulator, project_a, auth):
    """A's import token on B's own key: refused as issued for another project."""
    b = Caller(emulator, 1, auth)
    own = b.create_key("b-own-%s-%s" % (auth, os.urandom(3).hex()), origin="external")
    answer = b.post("import-key-material", {"key_id": own, "import_token": project_a.token,
                                            "encrypted_key_material": project_a.wrapped})
    assert answer.status == 400 and answer.code in ("KMS.2605", "KMS.2603"), answer
    assert b.describe(own)["key_state"] == "5"


# ------------------------------------------------------------------------------- signatures

def _signed_describe(emulator, project_a, date=None, secret=None, extra_headers=None):
    a = Caller(emulator, 0, "aksk")
    url = a.url("describe-key")
    payload = json.dumps({"key_id": project_a.enabled}).encode()
    headers = {"Content-Type": "application/json;charset=utf-8",
               "X-Project-Id": a.project_id, "User-Agent": "reliability-suite/1"}
    headers.update(extra_headers or {})
    headers = sign("POST", url, headers, payload, a.project["access_key"],
                   secret or a.project["secret_key"], date=date)
    return a, url, headers, payload


def _skewed(minutes):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _tampered(emulator, project_a):
    """name -> (url, headers, payload) of a request that must be refused."""
    cases = {}
    for minutes in (-16, 16, -24 * 60):
        a, url, headers, payload = _signed_describe(emulator, project_a, date=_skewed(minutes))
        cases["date skewed %+d min" % minutes] = (a, url, headers, payload)
    a, url, headers, payload = _signed_describe(emulator, project_a)
    cases["body changed after signing"] = (
        a, url, headers, json.dumps({"key_id": project_a.imported}).encode())
    cases["body whitespace changed"] = (a, url, headers, payload.replace(b": ", b":"))
    for name, value in (("User-Agent", "someone-else/2"),
                        ("Content-Type", "application/json"),
                        ("X-Sdk-Date", _skewed(-1)),
                        ("Host", "127.0.0.1:1")):
        a, url, headers, payload = _signed_describe(emulator, project_a)
        changed = dict(headers)
        changed[name] = value
        cases["signed header %s changed" % name] = (a, url, changed, payload)
    a, url, headers, payload = _signed_describe(emulator, project_a)
    cases["signed to another action"] = (a, a.url("schedule-key-deletion"), headers, payload)
    a, url, headers, payload = _signed_describe(emulator, project_a, secret="wrong-secret")
    cases["wrong secret key"] = (a, url, headers, payload)
    a, url, headers, payload = _signed_describe(emulator, project_a)
    changed = dict(headers)
    changed["Authorization"] = headers["Authorization"].replace(
        "SignedHeaders=content-type;host;", "SignedHeaders=content-type;")
    cases["host left out of SignedHeaders"] = (a, url, changed, payload)
    a, url, headers, payload = _signed_describe(emulator, project_a)
    changed = dict(headers)
    sig = headers["Authorization"].rsplit("=", 1)[1]
    changed["Authorization"] = headers["Authorization"][:-len(sig)] + sig[::-1]
    cases["signature reversed"] = (a, url, changed, payload)
    return cases


def test_signature_baseline_is_accepted(emulator, project_a):
    a, url, headers, payload = _signed_describe(emulator, project_a)
    answer = a.send("POST", url, headers, payload)
    assert answer.status == 200, answer
    # a header that was not signed may be added: it is not covered, and not trusted either
    headers = dict(headers, **{"X-Unsigned": "anything"})
    assert a.send("POST", url, headers, payload).status == 200


def test_tampered_signatures_are_refused(emulator, project_a):
    refused = {}
    for name, (a, url, headers, payload) in _tampered(emulator, project_a).items():
        answer = a.send("POST", url, headers, payload)
        refused[name] = answer.status
        assert answer.status == 401 and answer.code == "APIGW.0301", (name, answer)
    record_figure("signature_tampering_refused", sorted(refused))
    assert project_a.snapshot() == project_a.before


def test_project_a_still_works_after_the_attacks(project_a):
    """Last in this module: it imports into A's pending key."""
    a = project_a.caller
    assert a.ok("decrypt-data", {"cipher_text": project_a.cipher_text})["plain_text"] == \
        project_a.probe
    # the token B tried to use still imports for A: B's attempts consumed nothing
    a.ok("import-key-material", {"key_id": project_a.pending, "import_token": project_a.token,
                                 "encrypted_key_material": project_a.wrapped})
    assert a.describe(project_a.pending)["key_state"] == "2"
