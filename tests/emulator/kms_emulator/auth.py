"""Who is calling: IAM tokens (X-Auth-Token) and AK/SK signatures (SDK-HMAC-SHA256)."""

import collections
import hashlib
import hmac

from . import aksk
from .errors import gateway_error, iam_error, kms_error

Principal = collections.namedtuple("Principal", "user_id domain_id project_id method")


def secret_hash(value):
    """What the state file stores instead of a bearer secret (IAM token, security token)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class AuthFailure(Exception):
    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind  # missing | invalid | expired | signature


def _token_principal(emulator, token):
    with emulator.store.transaction() as db:
        row = db.token(secret_hash(token))
    if row is None:
        raise AuthFailure("invalid", "the X-Auth-Token is invalid")
    user_id, domain_id, project_id, expires_at = row
    if expires_at <= emulator.clock.now():
        raise AuthFailure("expired", "the X-Auth-Token has expired")
    return Principal(user_id, domain_id, project_id, "token")


# What an access key stands for. ``security_token_hash`` and ``expires_at`` are set for
# temporary credentials only.
AccessKey = collections.namedtuple(
    "AccessKey", "secret_key user_id domain_id security_token_hash expires_at")


def _access_key(emulator, access_key):
    with emulator.store.transaction() as db:
        project = db.project_by("access_key", access_key)
        if project is not None:
            return AccessKey(project.secret_key, project.user_id, project.domain_id, None, None)
        row = db.temp_credential(access_key)
        if row is None:
            return None
        secret_key, token_hash, user_id, expires_at = row
        owner = db.project_by("user_id", user_id)
    return AccessKey(secret_key, user_id, owner.domain_id, token_hash, expires_at)


def _aksk_principal(emulator, request):
    try:
        access_key = aksk.parse_authorization(request.headers["authorization"])[0]
        credential = _access_key(emulator, access_key)
        signed_headers = aksk.verify(
            request.method, request.raw_path, request.raw_query, request.headers, request.body,
            lambda presented: credential.secret_key if credential else None)[1]
    except aksk.SignatureError as exc:
        raise AuthFailure("signature", str(exc))
    if credential.security_token_hash is not None:
        _check_security_token(emulator, request, signed_headers, credential)
    return Principal(credential.user_id, credential.domain_id, None, "aksk")


def _check_security_token(emulator, request, signed_headers, credential):
    presented = request.headers.get("x-security-token")
    if presented is None or "x-security-token" not in signed_headers:
        raise AuthFailure("signature", "temporary credentials need a signed X-Security-Token")
    if not hmac.compare_digest(secret_hash(presented), credential.security_token_hash):
        raise AuthFailure("signature", "the X-Security-Token does not belong to the access key")
    if credential.expires_at <= emulator.clock.now():
        raise AuthFailure("signature", "the temporary credentials have expired")


def _principal(emulator, request):
    if request.headers.get("authorization"):
        return _aksk_principal(emulator, request)
    token = request.headers.get("x-auth-token")
    if not token:
        raise AuthFailure("missing", "the request carries neither X-Auth-Token nor a signature")
    return _token_principal(emulator, token)


def authenticate_kms(emulator, request, project_id):
    """The caller of a KMS action on ``project_id``, or the ApiError the service would answer."""
    try:
        principal = _principal(emulator, request)
    except AuthFailure as failure:
        if failure.kind == "signature":
            raise gateway_error(401, "APIGW.0301", "Incorrect IAM authentication information: "
                                + str(failure))
        code = "KMS.0303" if failure.kind == "expired" else "KMS.0301"
        raise kms_error(code, str(failure), status=403)
    if principal.method == "token":
        if principal.project_id != project_id:
            raise kms_error("KMS.0321", "the project in the URL does not match the token",
                            status=403)
        return principal
    header_project = request.headers.get("x-project-id")
    if header_project is not None and header_project.strip() != project_id:
        raise kms_error("KMS.0321", "X-Project-Id does not match the project in the URL",
                        status=403)
    with emulator.store.transaction() as db:
        project = db.project_by("project_id", project_id)
    if project is None or project.domain_id != principal.domain_id:
        raise kms_error("KMS.0321", "the access key has no access to this project", status=403)
    return principal._replace(project_id=project_id)


def authenticate_iam(emulator, request):
    """The caller of an IAM query (token of any scope, or AK/SK)."""
    try:
        return _principal(emulator, request)
    except AuthFailure as failure:
        raise iam_error(401, "IAM.0001", "The request you have made requires authentication: "
                        + str(failure))
