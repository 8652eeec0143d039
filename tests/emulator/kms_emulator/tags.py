"""Key tags: query, add one, delete one, add or delete several (the documented tag API).

Routes: GET and POST /v1.0/{project_id}/kms/{key_id}/tags, POST .../tags/action and
DELETE .../tags/{key}. Limits from the references (README, "Key tags"): at most 10 tags per
key, keys of 1-36 and values of 0-43 characters without ASCII 0-31 and ``*<>\\=``.
"""

import re

from .context import KEY_ID_PATTERN
from .errors import kms_error

MAX_TAGS_PER_KEY = 10
MAX_TAG_KEY = 36
MAX_TAG_VALUE = 43
_FORBIDDEN = re.compile(r"[\x00-\x1f*<>\\=]")
BATCH_ACTIONS = ("create", "delete")


def _path_key(call, db, key_id):
    if not KEY_ID_PATTERN.match(key_id):
        raise kms_error("KMS.0205", "the key ID in the URL is invalid: it must be the 36-character"
                        " key ID")
    return call.key(db, key_id)


def _text(value, name, limit, allow_empty):
    if not isinstance(value, str):
        raise kms_error("KMS.0308", "the tag %s must be a string" % name)
    if (not value and not allow_empty) or len(value) > limit or _FORBIDDEN.search(value):
        raise kms_error("KMS.0308", "the tag %s is invalid: %s characters, none of ASCII 0-31 and"
                        " *<>\\=" % (name, "1-%d" % limit if not allow_empty else "0-%d" % limit))
    return value


def _tag_item(item, value_required):
    if not isinstance(item, dict) or set(item) - {"key", "value"}:
        raise kms_error("KMS.0308", "a tag must be an object with key and value")
    key = _text(item.get("key"), "key", MAX_TAG_KEY, allow_empty=False)
    if item.get("value") is None and not value_required:
        return key, None
    return key, _text(item.get("value"), "value", MAX_TAG_VALUE, allow_empty=True)


def _add(db, key, tags):
    """Add or overwrite tags; the per-key limit counts the tags after the change."""
    current = db.key_tags(key.key_id)
    new_names = set(name for name, _value in tags) - set(current)
    if len(current) + len(new_names) > MAX_TAGS_PER_KEY:
        raise kms_error("KMS.0308", "a key has at most %d tags" % MAX_TAGS_PER_KEY)
    for name, value in tags:
        db.set_key_tag(key.key_id, name, value or "")


def show_kms_tags(call, key_id):
    with call.transaction() as db:
        key = _path_key(call, db, key_id)
        tags = db.key_tags(key.key_id)
    return {"tags": [{"key": name, "value": value} for name, value in tags.items()],
            "existTagsNum": len(tags)}


def create_kms_tag(call, key_id):
    item = call.body.get("tag")
    if item is None:
        raise kms_error("KMS.0204", "the mandatory parameter tag is missing")
    tag = _tag_item(item, value_required=True)
    with call.transaction() as db:
        _add(db, _path_key(call, db, key_id), [tag])


def batch_create_kms_tags(call, key_id):
    action = call.text("action", required=True)
    if action not in BATCH_ACTIONS:
        raise kms_error("KMS.0308", "the parameter action must be create or delete")
    items = call.body.get("tags")
    if not isinstance(items, list) or not items:
        raise kms_error("KMS.0204", "the mandatory parameter tags is missing or empty")
    tags = [_tag_item(item, value_required=action == "create") for item in items]
    with call.transaction() as db:
        key = _path_key(call, db, key_id)
        if action == "create":
            _add(db, key, tags)
        else:
            for name, _value in tags:
                db.delete_key_tag(key.key_id, name)


def delete_kms_tag(call, key_id, tag_key):
    with call.transaction() as db:
        key = _path_key(call, db, key_id)
        if tag_key not in db.key_tags(key.key_id):
            raise kms_error("KMS.0308", "the key has no tag %s" % tag_key, status=404)
        db.delete_key_tag(key.key_id, tag_key)
