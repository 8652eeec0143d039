# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SDK-HMAC-SHA256 request signing (Huawei Cloud / OTC AK/SK), pure functions.

The caller signs exactly the bytes and headers it sends: the client builds the URL (query
included, encoded by ``encode_query``), the body bytes and the header dict, passes them here and
sends the returned headers unchanged. Private module: the interface may change between releases.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import hmac

from urllib.parse import quote, unquote, urlsplit, parse_qsl

ALGORITHM = 'SDK-HMAC-SHA256'
DATE_HEADER = 'X-Sdk-Date'
DATE_FORMAT = '%Y%m%dT%H%M%SZ'


def _encode(text):
    # keeps only A-Z a-z 0-9 - _ . ~ unescaped, as the service's canonical form requires
    return quote(text, safe='~')


def encode_query(params):
    """Canonical query string of ``params`` (dict or list of pairs); also what the client sends."""
    if not params:
        return ''
    items = params.items() if isinstance(params, dict) else params
    pairs = []
    for key, value in items:
        values = value if isinstance(value, (list, tuple)) else [value]
        for one in values:
            if isinstance(one, bool):
                one = 'true' if one else 'false'
            pairs.append((str(key), '' if one is None else str(one)))
    return '&'.join('%s=%s' % (_encode(key), _encode(value)) for key, value in sorted(pairs))


def canonical_uri(path):
    """Percent-decode, re-encode each segment, always end with '/'."""
    segments = [_encode(unquote(segment)) for segment in (path or '/').split('/')]
    uri = '/'.join(segments)
    if not uri.endswith('/'):
        uri += '/'
    return uri


def _signed_header_items(headers):
    items = {}
    for name, value in headers.items():
        if '_' in name:  # the service ignores names with underscores
            continue
        items[name.lower()] = str(value).strip()
    return sorted(items.items())


def payload_hash(body):
    if body is None:
        body = b''
    elif not isinstance(body, bytes):
        body = body.encode('utf-8')
    return hashlib.sha256(body).hexdigest()


def canonical_request(method, url, headers, body):
    """The canonical request text; ``headers`` must already hold every header to sign."""
    parts = urlsplit(url)
    query = encode_query(parse_qsl(parts.query, keep_blank_values=True))
    header_items = _signed_header_items(headers)
    canonical_headers = ''.join('%s:%s\n' % item for item in header_items)
    signed_headers = ';'.join(name for name, _value in header_items)
    return '\n'.join([
        method.upper(),
        canonical_uri(parts.path),
        query,
        canonical_headers,
        signed_headers,
        payload_hash(body),
    ])


def string_to_sign(canonical, sdk_date):
    digest = hashlib.sha256(canonical.encode('utf-8')).hexdigest()
    return '%s\n%s\n%s' % (ALGORITHM, sdk_date, digest)


def _host_of(url):
    netloc = urlsplit(url).netloc
    return netloc.rsplit('@', 1)[-1]  # never sign (or send) userinfo


def _header(headers, name):
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def sign(method, url, headers, body, access_key, secret_key, now=None):
    """Return a new header dict with ``X-Sdk-Date``, ``Host`` and ``Authorization`` added.

    ``headers`` holds what is sent and signed (Content-Type, X-Project-Id, X-Security-Token...).
    An ``X-Sdk-Date`` already present is reused (test vectors); otherwise ``now`` (UTC datetime)
    or the current time is used. ``body`` is the exact bytes sent (b'' or None when empty).
    """
    signed = dict(headers)
    sdk_date = _header(signed, DATE_HEADER)
    if sdk_date is None:
        moment = now or datetime.datetime.now(datetime.timezone.utc)
        sdk_date = moment.strftime(DATE_FORMAT)
        signed[DATE_HEADER] = sdk_date
    if _header(signed, 'Host') is None:
        signed['Host'] = _host_of(url)

    canonical = canonical_request(method, url, signed, body)
    signature = hmac.new(secret_key.encode('utf-8'),
                         string_to_sign(canonical, sdk_date).encode('utf-8'),
                         hashlib.sha256).hexdigest()
    signed_names = ';'.join(name for name, _value in _signed_header_items(signed))
    signed['Authorization'] = '%s Access=%s, SignedHeaders=%s, Signature=%s' % (
        ALGORITHM, access_key, signed_names, signature)
    return signed
