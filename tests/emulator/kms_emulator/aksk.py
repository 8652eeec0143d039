"""Server-side verification of SDK-HMAC-SHA256 request signatures (spec section 6.2).

Pure functions: nothing here touches the network, the clock or the state store, so the test
vectors of the spec can be checked directly.
"""

import calendar
import hashlib
import hmac
import re
import time
from urllib.parse import parse_qsl, quote, unquote

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_CLOCK_SKEW_SECONDS = 15 * 60

_AUTH_FIELD = re.compile(r"\s*([A-Za-z]+)=([^,\s]*)\s*")


class SignatureError(Exception):
    """The request carries no valid signature; the message says why (safe to show)."""


def parse_authorization(value):
    """Split ``SDK-HMAC-SHA256 Access=.., SignedHeaders=.., Signature=..`` into its parts."""
    if not value.startswith(ALGORITHM + " "):
        raise SignatureError("unsupported signing algorithm")
    fields = {}
    for part in value[len(ALGORITHM) + 1:].split(","):
        match = _AUTH_FIELD.fullmatch(part)
        if not match:
            raise SignatureError("malformed Authorization header")
        fields[match.group(1)] = match.group(2)
    try:
        access, signed, signature = fields["Access"], fields["SignedHeaders"], fields["Signature"]
    except KeyError:
        raise SignatureError("Authorization header lacks Access, SignedHeaders or Signature")
    signed_headers = signed.split(";")
    if not access or not signature or not all(signed_headers):
        raise SignatureError("malformed Authorization header")
    return access, signed_headers, signature


def _encode(text):
    return quote(text, safe="~")


def canonical_uri(raw_path):
    segments = [_encode(unquote(segment)) for segment in raw_path.split("/")]
    uri = "/".join(segments)
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(raw_query):
    pairs = sorted(parse_qsl(raw_query, keep_blank_values=True))
    return "&".join("%s=%s" % (_encode(key), _encode(value)) for key, value in pairs)


def canonical_request(method, raw_path, raw_query, headers, signed_headers, body):
    """``headers`` maps lower-case header names to their received values."""
    lines = [method.upper(), canonical_uri(raw_path), canonical_query(raw_query)]
    lines.extend("%s:%s" % (name, headers[name].strip()) for name in signed_headers)
    lines.append("")
    lines.append(";".join(signed_headers))
    lines.append(hashlib.sha256(body).hexdigest())
    return "\n".join(lines)


def string_to_sign(sdk_date, canonical):
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return "%s\n%s\n%s" % (ALGORITHM, sdk_date, digest)


def compute_signature(secret_key, sdk_date, canonical):
    message = string_to_sign(sdk_date, canonical).encode("utf-8")
    return hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def parse_sdk_date(value):
    try:
        return calendar.timegm(time.strptime(value, DATE_FORMAT))
    except (TypeError, ValueError):
        raise SignatureError("X-Sdk-Date is not in the format YYYYMMDDTHHMMSSZ")


def verify(method, raw_path, raw_query, headers, body, secret_for, now=None):
    """Check a signed request and return ``(access_key, signed_headers)``.

    ``headers``: lower-case name -> value. ``secret_for(access_key)`` returns the secret key or
    None for an unknown access key. ``now``: epoch seconds of the real clock (default time.time()).
    Raises SignatureError.
    """
    access, signed_headers, signature = parse_authorization(headers.get("authorization", ""))
    if signed_headers != sorted(signed_headers) or any(
            name != name.lower() or name not in headers for name in signed_headers):
        raise SignatureError("SignedHeaders names a header the request does not carry")
    for required in ("host", "x-sdk-date"):
        if required not in signed_headers:
            raise SignatureError("the %s header must be signed" % required)
    sdk_date = headers["x-sdk-date"].strip()
    signed_at = parse_sdk_date(sdk_date)
    now = time.time() if now is None else now
    if abs(now - signed_at) > MAX_CLOCK_SKEW_SECONDS:
        raise SignatureError("X-Sdk-Date is more than 15 minutes away from the server time")
    secret = secret_for(access)
    if secret is None:
        raise SignatureError("ak not exist")
    canonical = canonical_request(method, raw_path, raw_query, headers, signed_headers, body)
    expected = compute_signature(secret, sdk_date, canonical)
    if not hmac.compare_digest(expected.encode("ascii"), signature.lower().encode("ascii", "replace")):
        raise SignatureError("verify aksk signature fail")
    return access, signed_headers
