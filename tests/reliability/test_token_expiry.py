"""An import token that expires between fetching the parameters and importing.

The emulator's clock is moved forward past the 24 h token lifetime:

* pre-wrapped input (kms_import_params, wrap elsewhere, kms_key_material with the token) cannot
  be renewed by the module: it fails and says in plain words that the token expired (KMS.2601)
  and what to do;
* plaintext input fetches its own parameters, so it imports with fresh ones; and when the token
  expires between that module's own fetch and import, it fetches fresh parameters exactly once
  and succeeds.
"""

import base64
import os

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from harness import make_client, run_playbook
from support.activation import wait_for_activation

TOKEN_LIFETIME = 24 * 3600
PAST_EXPIRY = TOKEN_LIFETIME + 3600

PREPARE = """
- name: Create an external key and fetch its import parameters
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/dew.kms.kms: "{{ kms_options }}"
  tasks:
    - name: External key
      dew.kms.kms_key:
        alias: "{{ alias }}"
        key_spec: AES_256
        origin: external
      register: key
    - name: Import parameters
      dew.kms.kms_import_params:
        key_id: "{{ key.key.key_id }}"
      register: params
    - name: Write them out
      ansible.builtin.copy:
        content: "{{ {'key_id': key.key.key_id, 'import_token': params.import_token,
                      'public_key': params.public_key,
                      'expiration_time': params.expiration_time} | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
"""

IMPORT = """
- name: Import after the token expired
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/dew.kms.kms: "{{ kms_options }}"
  tasks:
    - name: Pre-wrapped material with the expired token
      dew.kms.kms_key_material:
        key_id: "{{ key_id }}"
        import_token: "{{ import_token }}"
        encrypted_key_material: "{{ encrypted_key_material }}"
      register: prewrapped
      ignore_errors: true
    - name: Plaintext material (the module fetches its own parameters)
      dew.kms.kms_key_material:
        key_id: "{{ key_id }}"
        key_material_path: "{{ material_path }}"
      register: plaintext
    - name: Describe the key
      dew.kms.kms_key_info:
        key_id: "{{ key_id }}"
      register: info
    - name: Write the outcome
      ansible.builtin.copy:
        content: "{{ {'prewrapped': prewrapped, 'plaintext': plaintext, 'info': info} | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
"""


def _wrap(public_key_b64, material):
    public_key = serialization.load_der_public_key(base64.b64decode(public_key_b64))
    wrapped = public_key.encrypt(material, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()),
                                                        algorithm=hashes.SHA256(), label=None))
    return base64.b64encode(wrapped).decode("ascii")


@pytest.mark.role
def test_expired_token_prewrapped_fails_clearly_plaintext_succeeds(start_emulator,
                                                                   collections_root, tmp_path):
    emulator = start_emulator()
    options = emulator.module_options()
    material = os.urandom(32)
    material_path = tmp_path / "material.bin"
    material_path.write_bytes(material)
    material_path.chmod(0o600)

    prepared = run_playbook(collections_root, tmp_path, PREPARE,
                            {"kms_options": options, "alias": "token-expiry"})
    assert prepared.returncode == 0, prepared.output[-3000:]
    params = prepared.results()
    wrapped = _wrap(params["public_key"], material)

    moved = emulator.advance_clock(PAST_EXPIRY)
    assert moved["now"] > params["expiration_time"]
    emulator.reset_stats()

    run = run_playbook(collections_root, tmp_path, IMPORT, {
        "kms_options": options, "key_id": params["key_id"],
        "import_token": params["import_token"], "encrypted_key_material": wrapped,
        "material_path": str(material_path)})
    assert run.returncode == 0, run.output[-3000:]
    outcome = run.results()

    failed = outcome["prewrapped"]
    assert failed["failed"]
    assert failed["error_code"] == "KMS.2601"
    assert failed["status"] == 400
    assert "import token has expired" in failed["msg"]
    assert "fetch new import parameters" in failed["msg"]
    assert params["key_id"] in failed["msg"]
    # no secret and no wrapped blob in what the user sees
    assert params["import_token"] not in run.output and wrapped not in run.output

    assert outcome["plaintext"]["changed"] is True
    assert outcome["plaintext"]["key"]["key_state"] == "2"
    assert [key["key_state"] for key in outcome["info"]["kms_keys"]] == ["2"]
    requests_seen = emulator.stats()["requests"]
    # the pre-wrapped task made its one import call; the plaintext task fetched parameters
    # once and imported once
    assert requests_seen["get-parameters-for-import"] == 1
    assert requests_seen["import-key-material"] == 2


class _ExpiringClient:
    """Moves the emulator clock past the token lifetime right after get-parameters-for-import
    answered (the first ``expire_times`` times): the token expires between fetch and import."""

    def __init__(self, client, emulator, expire_times):
        self._client = client
        self._emulator = emulator
        self._left = expire_times
        self.calls = []

    def __getattr__(self, name):
        return getattr(self._client, name)

    def call(self, action, body=None, **kwargs):
        try:
            answer = self._client.call(action, body, **kwargs)
        except Exception as error:
            self.calls.append((action, getattr(error, "error_code", type(error).__name__)))
            raise
        self.calls.append((action, "ok"))
        if action == "get-parameters-for-import" and self._left > 0:
            self._left -= 1
            self._emulator.advance_clock(PAST_EXPIRY)
        return answer


def _pending_key(client):
    """A new external key, once it has left pending activation for pending import."""
    from ansible_collections.dew.kms.plugins.module_utils import _keys

    key = _keys.create_key(client, "expiry-%s" % os.urandom(4).hex(), key_spec="AES_256",
                           origin="external")
    key = wait_for_activation(lambda key_id: _keys.describe_key(client, key_id), key["key_id"])
    assert key["key_state"] == "5"
    return key


def _import(client, key):
    """Import fresh random material into ``key`` the way kms_key_material does."""
    from ansible_collections.dew.kms.plugins.module_utils import _material

    return _material.import_material(client, key, _material.load_material(os.urandom(32),
                                                                          "key_material"),
                                     "RSAES_OAEP_SHA_256")


def test_plaintext_path_fetches_fresh_parameters_once(start_emulator, collections_root):
    emulator = start_emulator()
    # AK/SK: signatures follow the real clock, so moving the emulator clock keeps them valid
    client = make_client(collections_root, emulator.module_options(auth="aksk"))
    from ansible_collections.dew.kms.plugins.module_utils import _keys

    key = _pending_key(client)
    expiring = _ExpiringClient(client, emulator, expire_times=1)
    changed, _before, after = _import(expiring, key)
    assert changed and after["key_state"] == "2"
    assert expiring.calls == [("get-parameters-for-import", "ok"),
                              ("import-key-material", "KMS.2601"),
                              ("get-parameters-for-import", "ok"),
                              ("import-key-material", "ok"),
                              # the check value of the AES material, recorded as a key tag
                              ("%s/tags/action" % key["key_id"], "ok")]
    assert _keys.describe_key(client, key["key_id"])["key_state"] == "2"

    # expiring again after the fresh parameters: no loop, a clear KMS.2601 failure
    key = _pending_key(client)
    expiring = _ExpiringClient(client, emulator, expire_times=5)
    with pytest.raises(_keys.KmsError) as failure:
        _import(expiring, key)
    assert failure.value.error_code == "KMS.2601"
    assert "import token has expired" in failure.value.msg
    assert [action for action, _body in expiring.calls].count("get-parameters-for-import") == 2
    assert _keys.describe_key(client, key["key_id"])["key_state"] == "5"
    client.close()
