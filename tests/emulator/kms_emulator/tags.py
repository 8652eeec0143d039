"""Key tags: query, add one, delete one, add or delete several, and keys by tag (the
documented tag API).

Routes: GET and POST /v1.0/{project_id}/kms/{key_id}/tags, POST .../tags/action,
DELETE .../tags/{key} and POST /v1.0/{project_id}/kms/resource_instances/action. Limits from the
references (README, "Key tags"): at most 10 tags per key, keys of 1-36 and values of 0-43
characters without ASCII 0-31 and ``*<>\\=``.
"""

import re

from .context import KEY_ID_PATTERN
from .errors import kms_error

MAX_TAGS_PER_KEY = 10
MAX_TAG_KEY = 36
MAX_TAG_VALUE = 43
_FORBIDDEN = re.compile(r"[\x00-\x1f*<>\\=]")
BATCH_ACTIONS = ("create", "delete")
# query key instances (resource_instances/action): its actions, limit range and defaults
INSTANCE_ACTIONS = ("filter", "count")
MAX_INSTANCES_LIMIT = 1000
DEFAULT_INSTANCES_LIMIT = 10
MAX_MATCH_VALUE = 255


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


def _tag_filters(items):
    """[(tag key, set of values)] of the ``tags`` field; an empty set accepts any value."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise kms_error("KMS.0308", "the parameter tags must be a list")
    filters = []
    for item in items:
        if not isinstance(item, dict) or set(item) - {"key", "values"}:
            raise kms_error("KMS.0308", "a tag filter must be an object with key and values")
        values = item.get("values", [])
        if not isinstance(values, list):
            raise kms_error("KMS.0308", "the values of a tag filter must be a list")
        filters.append((_text(item.get("key"), "key", MAX_TAG_KEY, allow_empty=False),
                        set(_text(value, "value", MAX_TAG_VALUE, allow_empty=True) for value in values)))
    return filters


def _name_matches(items):
    """The values ``matches`` asks resource names to contain (key resource_name only)."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise kms_error("KMS.0308", "the parameter matches must be a list")
    wanted = []
    for item in items:
        if not isinstance(item, dict) or set(item) - {"key", "value"} or item.get("key") != "resource_name":
            raise kms_error("KMS.0308", "a match must be an object with key resource_name and value")
        value = item.get("value")
        if not isinstance(value, str) or not 1 <= len(value) <= MAX_MATCH_VALUE:
            raise kms_error("KMS.0308", "the value of a match must have 1-%d characters" % MAX_MATCH_VALUE)
        wanted.append(value)
    return wanted


def _bounded(call, name, default, low, high):
    value = call.integer(name, "KMS.0308")
    if value is None:
        return default
    if not low <= value <= high:
        raise kms_error("KMS.0308", "the parameter %s must be from %d to %d" % (name, low, high))
    return value


def list_kms_by_tags(call):
    """The caller's keys carrying every tag filter (and containing every match in their alias),
    in creation order; ``filter`` answers a page of them, ``count`` their number."""
    action = call.text("action", required=True)
    if action not in INSTANCE_ACTIONS:
        raise kms_error("KMS.0308", "the parameter action must be filter or count")
    filters = _tag_filters(call.body.get("tags"))
    names = _name_matches(call.body.get("matches"))
    limit = _bounded(call, "limit", DEFAULT_INSTANCES_LIMIT, 1, MAX_INSTANCES_LIMIT)
    offset = _bounded(call, "offset", 0, 0, 2 ** 31)
    with call.transaction() as db:
        found = []
        for key in db.keys(call.project_id):
            tags = db.key_tags(key.key_id)
            if all(name in tags and (not values or tags[name] in values) for name, values in filters) \
                    and all(value in (key.alias or "") for value in names):
                found.append((key, tags))
    if action == "count":
        return {"total_count": len(found)}
    fields = call.emulator.profile.list_fields
    return {"resources": [{"resource_id": key.key_id,
                           "resource_detail": call.key_info(key, fields),
                           "resource_name": key.alias or "",
                           "tags": [{"key": name, "value": value} for name, value in tags.items()]}
                          for key, tags in found[offset:offset + limit]],
            "total_count": len(found)}
