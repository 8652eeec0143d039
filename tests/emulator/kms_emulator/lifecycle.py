"""Key lifecycle actions: create, describe, list, enable/disable, deletion, alias, description."""

import re
import uuid

from . import crypto
from .context import validate_alias
from .errors import kms_error
from .store import Key

MIN_PENDING_DAYS, MAX_PENDING_DAYS = 7, 1096
MAX_DESCRIPTION = 255
DAY_MS = 86400 * 1000


def _description(call, required=False):
    description = call.body.get("key_description")
    if description is None:
        if required:
            raise kms_error("KMS.0204", "the mandatory parameter key_description is missing")
        return ""
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise kms_error("KMS.1103", "the key description is invalid")
    return description


def _creation_options(call):
    alias = call.text("key_alias", required=True)
    validate_alias(alias)
    key_spec = call.text("key_spec") or "AES_256"
    if key_spec not in crypto.KEY_SPECS:
        raise kms_error("KMS.1110", "the key spec %s is not supported" % key_spec)
    spec = crypto.KEY_SPECS[key_spec]
    key_usage = call.text("key_usage") or spec.default_usage
    if key_usage not in spec.allowed_usages:
        if spec.family == "ec" and key_usage == "ENCRYPT_DECRYPT":
            raise kms_error("KMS.1114", "EC keys cannot encrypt or decrypt")
        raise kms_error("KMS.0308", "key usage %s is not valid for %s" % (key_usage, key_spec))
    origin = call.text("origin") or "kms"
    if origin not in ("kms", "external"):
        raise kms_error("KMS.0308", "origin must be kms or external")
    if origin == "external" and spec.family not in crypto.IMPORTABLE_FAMILIES:
        raise kms_error("KMS.0308", "key material of %s keys cannot be imported" % key_spec)
    return alias, key_spec, key_usage, origin, _description(call)


def create_key(call):
    alias, key_spec, key_usage, origin, description = _creation_options(call)
    # Generated outside the transaction: RSA key generation must not block other callers.
    material = crypto.generate_material(key_spec) if origin == "kms" else None
    emulator = call.emulator
    delay_ms = int(emulator.activation_delay() * 1000)
    with call.transaction() as db:
        if db.key_by_alias(call.project_id, alias) is not None:
            raise kms_error("KMS.1104", "the key alias already exists")
        if db.count_keys(call.project_id) >= emulator.key_quota:
            raise kms_error("KMS.1105", "the number of keys has reached the quota of %d keys"
                            " per project" % emulator.key_quota)
        project = db.project_by("project_id", call.project_id)
        now_ms = emulator.clock.now_ms()
        key = Key(key_id=str(uuid.uuid4()), project_id=call.project_id,
                  domain_id=project.domain_id, alias=alias, description=description,
                  key_spec=key_spec, key_usage=key_usage, origin=origin,
                  state="2" if material is not None else "5",
                  created_ms=now_ms, material=material)
        if delay_ms > 0:
            # Waiting for activation; Db.apply_time moves it on by the emulator clock.
            key.state, key.activates_ms = "1", now_ms + delay_ms
        db.insert_key(key)
    created = {"key_id": key.key_id, "domain_id": key.domain_id, "region_id": emulator.region}
    return {"key_info": {name: created[name] for name in emulator.profile.create_fields}}


def describe_key(call):
    key_id = call.key_id()
    with call.transaction() as db:
        key = call.key(db, key_id)
    return {"key_info": call.key_info(key, call.emulator.profile.describe_fields)}


def _paging(call):
    limit = call.integer("limit", "KMS.1601")
    if limit is not None and limit <= 0:
        raise kms_error("KMS.1601", "limit must be a positive integer")
    marker = call.integer("marker", "KMS.1603") or 0
    if marker < 0:
        raise kms_error("KMS.1602", "marker must not be negative")
    return limit, marker


def _list_key_spec(call):
    """The key_spec filter of list-keys; None lists every key."""
    profile = call.emulator.profile
    key_spec = call.text("key_spec") or profile.list_key_spec_default
    if key_spec is not None and key_spec not in profile.list_key_specs:
        raise kms_error("KMS.0308", "key_spec %s is not one of %s"
                        % (key_spec, ", ".join(profile.list_key_specs)))
    return None if key_spec == "ALL" else key_spec


def list_keys(call):
    limit, marker = _paging(call)
    key_state = call.text("key_state")
    if key_state is not None and not re.fullmatch(r"[1-5]", key_state):
        raise kms_error("KMS.0308", "key_state must be one of 1 to 5")
    key_spec = _list_key_spec(call)
    with call.transaction() as db:
        keys = db.keys(call.project_id, key_state=key_state, key_spec=key_spec)
    end = len(keys) if limit is None else marker + limit
    page = keys[marker:end]
    truncated = end < len(keys)
    return {"keys": [key.key_id for key in page],
            "key_details": [call.key_info(key, call.emulator.profile.list_fields)
                            for key in page],
            "next_marker": str(end) if truncated else "",
            "truncated": "true" if truncated else "false",
            "total": len(keys)}


def _change_state(call, required_state, new_state, code, message):
    with call.transaction() as db:
        key = call.key(db, call.key_id())
        if key.state != required_state:
            raise kms_error(code, message)
        key.state = new_state
        db.update_key(key)
    return {"key_info": {"key_id": key.key_id, "key_state": key.state}}


def enable_key(call):
    return _change_state(call, "3", "2", "KMS.1201", "the key is not disabled")


def disable_key(call):
    return _change_state(call, "2", "3", "KMS.1301", "the key is not enabled")


def schedule_key_deletion(call):
    key_id = call.key_id()
    days = call.integer("pending_days", "KMS.1401", required=True)
    if not MIN_PENDING_DAYS <= days <= MAX_PENDING_DAYS:
        raise kms_error("KMS.1401", "pending_days must be from 7 to 1096")
    with call.transaction() as db:
        key = call.key(db, key_id)
        if key.state == "4":
            raise kms_error("KMS.1402", "the key is already pending deletion")
        key.state = "4"
        key.deletion_ms = call.emulator.clock.now_ms() + days * DAY_MS
        db.update_key(key)
    return {"key_id": key.key_id, "key_state": key.state}


def cancel_key_deletion(call):
    with call.transaction() as db:
        key = call.key(db, call.key_id())
        if key.state != "4":
            raise kms_error("KMS.1501", "the key is not pending deletion")
        # Disabled, as the service does; a key that never got material waits for import again.
        key.state = "3" if key.material is not None else "5"
        key.deletion_ms = None
        db.update_key(key)
    return {"key_id": key.key_id, "key_state": key.state}


def user_quotas(call):
    with call.transaction() as db:
        used = db.count_keys(call.project_id)
    # Grants are not modelled: none are ever used; 100 per key is the documented quota.
    return {"quotas": {"resources": [
        {"type": "CMK", "used": used, "quota": call.emulator.key_quota},
        {"type": "grant_per_CMK", "used": 0, "quota": 100}]}}


def _refuse_pending_deletion(key):
    if key.state == "4":
        raise kms_error("KMS.0210", "the key is pending deletion")


def update_key_alias(call):
    key_id = call.key_id()
    alias = call.text("key_alias", required=True)
    validate_alias(alias)
    with call.transaction() as db:
        key = call.key(db, key_id)
        _refuse_pending_deletion(key)
        holder = db.key_by_alias(call.project_id, alias)
        if holder is not None and holder.key_id != key.key_id:
            raise kms_error("KMS.1104", "the key alias already exists")
        key.alias = alias
        db.update_key(key)
    return {"key_info": {"key_id": key.key_id, "key_alias": key.alias}}


def update_key_description(call):
    key_id = call.key_id()
    description = _description(call, required=True)
    with call.transaction() as db:
        key = call.key(db, key_id)
        _refuse_pending_deletion(key)
        key.description = description
        db.update_key(key)
    return {"key_info": {"key_id": key.key_id, "key_description": key.description}}
