"""Client-side SDK-HMAC-SHA256 signer for the tests, written apart from the emulator's verifier
so that one mistake cannot hide in both."""

import datetime
import hashlib
import hmac
from urllib.parse import quote, unquote, urlsplit, parse_qsl

import requests


def _canonical_path(path):
    encoded = "/".join(quote(unquote(part), safe="~") for part in path.split("/"))
    return encoded if encoded.endswith("/") else encoded + "/"


def _canonical_query(query):
    items = sorted(parse_qsl(query, keep_blank_values=True))
    return "&".join(quote(k, safe="~") + "=" + quote(v, safe="~") for k, v in items)


def sign_request(method, url, headers, body, access_key, secret_key, sdk_date=None):
    """Return the headers to send: ``headers`` plus X-Sdk-Date, Host and Authorization.

    Every header present is signed (names without ``_``), as the official SDK does."""
    parts = urlsplit(url)
    headers = dict(headers)
    if sdk_date is None:
        sdk_date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    headers.setdefault("X-Sdk-Date", sdk_date)
    headers.setdefault("Host", parts.netloc)
    lowered = {name.lower(): str(value).strip() for name, value in headers.items()
               if "_" not in name}
    names = sorted(lowered)
    canonical = "\n".join(
        [method.upper(), _canonical_path(parts.path), _canonical_query(parts.query)]
        + ["%s:%s" % (name, lowered[name]) for name in names]
        + ["", ";".join(names), hashlib.sha256(body or b"").hexdigest()])
    to_sign = "SDK-HMAC-SHA256\n%s\n%s" % (
        headers["X-Sdk-Date"], hashlib.sha256(canonical.encode()).hexdigest())
    signature = hmac.new(secret_key.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = "SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%s" % (
        access_key, ";".join(names), signature)
    return headers


class AkSkAuth(requests.auth.AuthBase):
    """requests auth hook; ``extra`` headers (X-Project-Id, X-Security-Token) get signed too."""

    def __init__(self, access_key, secret_key, extra=None, sdk_date=None):
        self.access_key, self.secret_key = access_key, secret_key
        self.extra = extra or {}
        self.sdk_date = sdk_date

    def __call__(self, request):
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        base = {name: value for name, value in request.headers.items()
                if name.lower() in ("content-type",)}
        base.update(self.extra)
        signed = sign_request(request.method, request.url, base, body, self.access_key,
                              self.secret_key, self.sdk_date)
        request.headers.update(signed)
        return request
