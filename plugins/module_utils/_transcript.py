# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shape transcript of the HTTP exchanges, for the live conformance suite (tests/live).

Off unless the environment variable ``DEW_KMS_TRANSCRIPT`` names a file. Then the client calls
``record()`` once per answer it receives and one JSON line is appended to that file: the action,
the HTTP status, the service's error code, and the *shape* of the request and answer bodies:
every value is replaced by its type and length (``str:36``, ``int:13``, ``bool``), so that
where the emulator and the real service differ shows without any id, token, key, material,
project id or credential ever being written. Private module: may change between releases.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import threading

from urllib.parse import urlsplit

from ansible_collections.dew.kms.plugins.module_utils._errors import parse_error_body

ENV_VAR = 'DEW_KMS_TRANSCRIPT'

_LOCK = threading.Lock()
_KMS_PATH_RE = re.compile(r'/v1\.0/[^/]+/kms/([a-z0-9-]+)$')
# path segments and keys that may carry an identifier rather than a name
_NAME_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_.-]{0,63}$')
_ID_LIKE_RE = re.compile(r'[0-9a-fA-F]{16,}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-')


def record(method, url, payload, status, content):
    """Append the shape of one exchange to ``$DEW_KMS_TRANSCRIPT`` (nothing when unset)."""
    path = os.environ.get(ENV_VAR)
    if not path:
        return
    entry = {'action': action_of(method, url), 'status': status,
             'error_code': _error_code(status, content),
             'request': body_shape(payload), 'answer': body_shape(content)}
    line = (json.dumps(entry, sort_keys=True) + '\n').encode('utf-8')
    with _LOCK:  # one write per line on an O_APPEND descriptor: lines never interleave
        handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(handle, line)
        finally:
            os.close(handle)


def action_of(method, url):
    """``kms <action>`` for KMS, ``<METHOD> <path>`` otherwise; identifiers become ``{id}``."""
    path = urlsplit(url).path
    match = _KMS_PATH_RE.search(path)
    if match:
        return 'kms %s' % match.group(1)
    return '%s %s' % (method, '/'.join(_name(part, '{id}') for part in path.split('/')))


def body_shape(data):
    """Shape of a raw body: ``empty``, ``text:<length>`` when not JSON, else ``shape()``."""
    if not data:
        return 'empty'
    try:
        return shape(json.loads(data.decode('utf-8') if isinstance(data, bytes) else data))
    except ValueError:
        return 'text:%d' % len(data)


def shape(value):
    """The value with every scalar replaced by its type and length; dicts and lists kept."""
    if isinstance(value, dict):
        return dict((_name(key, '<key>'), shape(item)) for key, item in value.items())
    if isinstance(value, list):
        items = [shape(item) for item in value]
        merged = items[0] if items else None
        for item in items[1:]:
            merged = merge(merged, item)
        return ['list:%d' % len(items)] + ([merged] if items else [])
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'bool'
    if isinstance(value, int):
        return 'int:%d' % len(str(abs(value)))
    if isinstance(value, float):
        return 'float'
    if isinstance(value, str):
        return 'str:%d' % len(value)
    return type(value).__name__


def merge(left, right):
    """One shape covering both: keys united, differing scalar shapes joined by ``|``."""
    if isinstance(left, dict) and isinstance(right, dict):
        merged = dict(left)
        for key, item in right.items():
            merged[key] = merge(left[key], item) if key in left else item
        return merged
    if isinstance(left, list) and isinstance(right, list):
        head = merge(left[0], right[0])
        tail = left[1:] + right[1:]
        if len(tail) == 2:
            tail = [merge(tail[0], tail[1])]
        return [head] + tail
    if left == right:
        return left
    texts = [json.dumps(part, sort_keys=True) if not isinstance(part, str) else part
             for part in (left, right)]
    return '|'.join(sorted(set('|'.join(texts).split('|'))))


def _name(text, placeholder):
    if text == '' or (_NAME_RE.match(text) and not _ID_LIKE_RE.search(text)):
        return text
    return placeholder


def _error_code(status, content):
    if status is None or status < 400 or not content:
        return None
    try:
        body = json.loads(content.decode('utf-8') if isinstance(content, bytes) else content)
    except ValueError:
        return None
    code = parse_error_body(body)[0]
    return code if isinstance(code, str) and _name(code, None) else None
