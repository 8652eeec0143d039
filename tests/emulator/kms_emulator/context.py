"""What every KMS action needs: the call context, field validation and key lookup."""

import base64
import binascii
import re
from contextlib import contextmanager

from . import crypto
from .errors import kms_error

KEY_ID_PATTERN = re.compile(r"^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$")
ALIAS_PATTERN = re.compile(r"^[a-zA-Z0-9:/_-]{1,255}$")
SEQUENCE_LENGTH = 36


class Call:
    """One KMS action call by an authenticated caller on ``project_id``."""

    def __init__(self, emulator, project_id, body):
        self.emulator = emulator
        self.project_id = project_id
        self.body = body

    @contextmanager
    def transaction(self):
        """A state transaction in which time has already done its work (expiry, deletion)."""
        with self.emulator.store.transaction() as db:
            db.apply_time(self.emulator.clock.now_ms())
            yield db

    # -- fields -------------------------------------------------------------------------------
    def text(self, name, required=False):
        """A string field; absent/None/"" is 'missing' (KMS.0204 when required)."""
        value = self.body.get(name)
        if value is None or value == "":
            if required:
                raise kms_error("KMS.0204", "the mandatory parameter %s is missing" % name)
            return None
        if not isinstance(value, str):
            raise kms_error("KMS.0308", "the parameter %s must be a string" % name)
        return value

    def integer(self, name, code, required=False):
        """A numeric field sent as a decimal string (JSON integers are accepted too)."""
        value = self.body.get(name)
        if value is None or value == "":
            if required:
                raise kms_error("KMS.0204", "the mandatory parameter %s is missing" % name)
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,19}", value):
            return int(value)
        raise kms_error(code, "the parameter %s must be an integer" % name)

    def base64_field(self, name, required=True):
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise kms_error("KMS.0308", "the parameter %s is not valid base64" % name)

    def key_id(self, required=True):
        """``key_id``: the 36-character ID in every action of both profiles (no alias forms)."""
        key_id = self.body.get("key_id")
        if key_id is None or key_id == "":
            if required:
                raise kms_error("KMS.0204", "the mandatory parameter key_id is missing")
            return None
        if not isinstance(key_id, str) or not KEY_ID_PATTERN.match(key_id):
            raise kms_error("KMS.0205", "the key ID is invalid: key_id must be the 36-character"
                            " key ID (aliases are not accepted)")
        return key_id

    def check_sequence(self):
        sequence = self.body.get("sequence")
        if sequence is not None and (not isinstance(sequence, str)
                                     or len(sequence) != SEQUENCE_LENGTH):
            raise kms_error("KMS.0206", "the sequence must be a 36-character string")

    # -- keys ---------------------------------------------------------------------------------
    def key(self, db, key_id):
        """The caller's key with a pure ``key_id``; 404 KMS.0207 if it has none."""
        key = db.key_by_id(self.project_id, key_id)
        if key is None:
            raise key_not_found()
        return key

    def key_info(self, key, fields):
        """``key_info`` of ``key`` with exactly the given fields of the profile."""
        info = key_info(key, self.emulator.region)
        return {name: info[name] for name in fields}

    def refuse_undefined_fields(self, action):
        """Strict by design: a field the profile's reference does not define for ``action``
        is an invalid parameter, whatever its value."""
        profile = self.emulator.profile
        for name in self.body:
            if not profile.defines(action, name):
                raise kms_error("KMS.0308", "the parameter %s is not defined for %s in the %s API"
                                " reference; remove it" % (name, action, profile.name))


def key_not_found():
    return kms_error("KMS.0207", "The key does not exist.", status=404)


def refuse_waiting_for_activation(key):
    if key.state == "1":
        raise kms_error("KMS.1301", "the key is not enabled: it is waiting for activation")


def require_usable(key):
    """Refuse cryptographic use of a key that is not active yet, disabled, pending deletion or
    without material."""
    refuse_waiting_for_activation(key)
    if key.state == "3":
        raise kms_error("KMS.0209", "the key is disabled")
    if key.state == "4":
        raise kms_error("KMS.0210", "the key is pending deletion and cannot be used")
    if key.state == "5" or key.material is None:
        raise kms_error("KMS.0310", "the key has no key material: it is waiting for import")


def key_info(key, region):
    """The ``key_info`` object of describe-key / list-keys (every scalar a string)."""
    return {
        "key_id": key.key_id,
        "domain_id": key.domain_id,
        "key_alias": key.alias,
        "realm": region,
        "key_description": key.description,
        "key_spec": key.key_spec,
        "key_usage": key.key_usage,
        "creation_date": str(key.created_ms),
        "scheduled_deletion_date": str(key.deletion_ms) if key.state == "4" else "",
        "key_state": key.state,
        "default_key_flag": "0",
        "key_type": "1",
        "expiration_time": "" if key.material_expires_ms is None else str(key.material_expires_ms),
        "origin": key.origin,
        "key_rotation_enabled": "false",
        "sys_enterprise_project_id": "0",
        "keystore_id": "0",
    }


def key_family(key):
    return crypto.KEY_SPECS[key.key_spec].family


def validate_alias(alias):
    if not ALIAS_PATTERN.match(alias) or alias.endswith("/default"):
        raise kms_error("KMS.1101", "the key alias is invalid")
