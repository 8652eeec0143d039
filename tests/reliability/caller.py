"""A small HTTP caller of the emulator for the tests that probe it directly.

It signs AK/SK requests with its own SDK-HMAC-SHA256 implementation, written from the API
specification (section 6.2) and checked against its test vector, so that the emulator is probed
independently of both the emulator's verifier and the collection's signer.
"""

import base64
import datetime
import hashlib
import hmac
import json
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from support.activation import wait_for_activation

SDK_DATE_FORMAT = "%Y%m%dT%H%M%SZ"


def sdk_date(moment=None):
    moment = moment or datetime.datetime.now(datetime.timezone.utc)
    return moment.strftime(SDK_DATE_FORMAT)


def _segment(text):
    return quote(text, safe="~")


def canonical_request(method, url, headers, body):
    """``headers``: name -> value; every header whose name has no '_' is signed."""
    parts = urlsplit(url)
    uri = "/".join(_segment(unquote(segment)) for segment in parts.path.split("/"))
    if not uri.endswith("/"):
        uri += "/"
    query = "&".join("%s=%s" % (_segment(k), _segment(v))
                     for k, v in sorted(parse_qsl(parts.query, keep_blank_values=True)))
    lowered = {name.lower(): str(value).strip() for name, value in headers.items()
               if "_" not in name}
    signed = sorted(lowered)
    lines = [method.upper(), uri, query]
    lines += ["%s:%s" % (name, lowered[name]) for name in signed]
    lines += ["", ";".join(signed), hashlib.sha256(body).hexdigest()]
    return "\n".join(lines), ";".join(signed)


def signature(secret_key, date, canonical):
    to_sign = "SDK-HMAC-SHA256\n%s\n%s" % (date, hashlib.sha256(canonical.encode()).hexdigest())
    return hmac.new(secret_key.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


def sign(method, url, headers, body, access_key, secret_key, date=None):
    """Headers with X-Sdk-Date, Host and Authorization added."""
    headers = dict(headers)
    headers.setdefault("X-Sdk-Date", date or sdk_date())
    headers.setdefault("Host", urlsplit(url).netloc)
    canonical, signed = canonical_request(method, url, headers, body)
    headers["Authorization"] = "SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%s" % (
        access_key, signed, signature(secret_key, headers["X-Sdk-Date"], canonical))
    return headers


class Answer:
    def __init__(self, response):
        self.status = response.status_code
        self.headers = response.headers
        try:
            self.data = response.json() if response.content else {}
        except ValueError:
            self.data = response.text

    @property
    def code(self):
        data = self.data if isinstance(self.data, dict) else {}
        error = data.get("error") if isinstance(data.get("error"), dict) else data
        return error.get("error_code")

    def __repr__(self):
        return "<Answer %s %s>" % (self.status, json.dumps(self.data)[:300])


class Caller:
    """KMS calls as one project's user, with a token (``auth='token'``), AK/SK (``'aksk'``) or
    nothing (``'none'``)."""

    def __init__(self, emulator, index=0, auth="token"):
        self.emulator = emulator
        self.project = emulator.project(index)
        self.auth = auth
        self.session = requests.Session()
        self._token = None

    @property
    def project_id(self):
        return self.project["project_id"]

    def token(self):
        if self._token is None:
            body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
                "name": self.project["username"], "password": self.project["password"],
                "domain": {"name": self.project["domain_name"]}}}},
                "scope": {"project": {"id": self.project_id}}}}
            response = self.session.post(self.emulator.info["iam_endpoint"] + "/auth/tokens",
                                         json=body, timeout=30)
            assert response.status_code == 201, response.text
            self._token = response.headers["X-Subject-Token"]
        return self._token

    def url(self, action, project_id=None):
        return "%s/v1.0/%s/kms/%s" % (self.emulator.url, project_id or self.project_id, action)

    def headers(self, method, url, body, extra=None):
        headers = {"Content-Type": "application/json;charset=utf-8"}
        headers.update(extra or {})
        if self.auth == "token":
            headers["X-Auth-Token"] = self.token()
        elif self.auth == "aksk":
            headers["X-Project-Id"] = urlsplit(url).path.split("/")[2]
            headers = sign(method, url, headers, body, self.project["access_key"],
                           self.project["secret_key"])
        return headers

    def post(self, action, body=None, project_id=None, method="POST"):
        """``action`` with a JSON body (``method``: GET for the query actions)."""
        url = self.url(action, project_id)
        payload = json.dumps(body if body is not None else {}).encode()
        headers = self.headers(method, url, payload)
        return self.send(method, url, headers, payload)

    def call(self, method, action, project_id=None):
        """``action`` without a body (GET queries such as user-quotas)."""
        url = self.url(action, project_id)
        return self.send(method, url, self.headers(method, url, b""), b"")

    def send(self, method, url, headers, payload):
        return Answer(self.session.request(method, url, data=payload, headers=headers,
                                           timeout=30))

    def ok(self, action, body=None):
        answer = self.post(action, body)
        assert answer.status == 200, (action, answer)
        return answer.data

    # -- conveniences for setting up keys -----------------------------------------------------
    def create_key(self, alias, **fields):
        """The id of a new key, once it has left pending activation."""
        body = dict({"key_alias": alias}, **fields)
        key_id = self.ok("create-key", body)["key_info"]["key_id"]
        wait_for_activation(self.describe, key_id)
        return key_id

    def wrapped_import(self, key_id, material):
        """(import_token, encrypted_key_material) for ``material`` into ``key_id``."""
        params = self.ok("get-parameters-for-import",
                         {"key_id": key_id, "wrapping_algorithm": "RSAES_OAEP_SHA_256"})
        public_key = serialization.load_der_public_key(base64.b64decode(params["public_key"]))
        wrapped = public_key.encrypt(material, padding.OAEP(
            mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
        return params["import_token"], base64.b64encode(wrapped).decode()

    def import_material(self, key_id, material):
        token, wrapped = self.wrapped_import(key_id, material)
        return self.ok("import-key-material", {"key_id": key_id, "import_token": token,
                                               "encrypted_key_material": wrapped})

    def describe(self, key_id):
        return self.ok("describe-key", {"key_id": key_id})["key_info"]
