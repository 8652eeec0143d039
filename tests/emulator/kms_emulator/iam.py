"""The IAM calls the collection and the official SDK use (spec section 6)."""

import datetime
import hmac
import secrets
from urllib.parse import parse_qs

from .auth import authenticate_iam, secret_hash
from .core import random_access_key
from .errors import iam_error
from .messages import Response

TOKEN_LIFETIME = 24 * 3600
MIN_STS_DURATION, MAX_STS_DURATION, DEFAULT_STS_DURATION = 900, 86400, 900


def iso_time(epoch_seconds):
    moment = datetime.datetime.fromtimestamp(epoch_seconds, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _bad_request(message):
    return iam_error(400, "IAM.0002", message)


def _unauthorized(message):
    return iam_error(401, "IAM.0003", message)


def _dict(parent, name, required=True):
    value = parent.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        raise _bad_request("'%s' must be an object" % name)
    return value


def _find_user(db, user):
    """The project row of the user named in a password identity (one user per project)."""
    if isinstance(user.get("id"), str):
        return db.project_by("user_id", user["id"])
    name = user.get("name")
    domain = user.get("domain")
    if not isinstance(name, str) or not isinstance(domain, dict):
        raise _bad_request("the user needs 'id', or 'name' and 'domain'")
    for project in db.projects("username = ?", (name,)):
        if domain.get("name") == project.domain_name or domain.get("id") == project.domain_id:
            return project
    return None


def _resolve_scope(db, scope, user):
    """(project or None, scoped domain or None) for a token request's ``scope``."""
    if not scope:
        return None, None
    project_scope = scope.get("project")
    if isinstance(project_scope, dict):
        if "id" in project_scope:
            project = db.project_by("project_id", project_scope["id"])
        else:
            found = db.projects("project_name = ? AND domain_id = ?",
                                (project_scope.get("name"), user.domain_id))
            project = found[0] if found else None
        if project is None or project.domain_id != user.domain_id:
            raise _unauthorized("the user has no access to the requested project")
        return project, None
    domain_scope = scope.get("domain")
    if isinstance(domain_scope, dict):
        if domain_scope.get("id") not in (None, user.domain_id) or \
                domain_scope.get("name") not in (None, user.domain_name):
            raise _unauthorized("the user has no access to the requested domain")
        return None, user
    raise _bad_request("'scope' must name a project or a domain")


def _catalog(emulator, project):
    iam_url = emulator.endpoint + "/v3"
    catalog = [{"type": "identity", "id": "identity", "name": "iam", "endpoints": [
        {"id": "iam-public", "interface": "public", "region": "*", "region_id": "*",
         "url": iam_url}]}]
    if project is not None:
        catalog.append({"type": "kms", "id": "kms", "name": "kms", "endpoints": [
            {"id": "kms-public", "interface": "public", "region": emulator.region,
             "region_id": emulator.region,
             "url": "%s/v1.0/%s" % (emulator.endpoint, project.project_id)}]})
    return catalog


def issue_token(emulator, request):
    """POST /v3/auth/tokens (password method) -> 201 with X-Subject-Token."""
    body = request.json_object(_bad_request)
    auth = _dict(body, "auth")
    identity = _dict(auth, "identity")
    methods = identity.get("methods")
    if not isinstance(methods, list) or "password" not in methods:
        raise _bad_request("only the 'password' identity method is supported")
    password_user = _dict(_dict(identity, "password"), "user")
    password = password_user.get("password")
    if not isinstance(password, str):
        raise _bad_request("the user needs a 'password'")
    with emulator.store.transaction() as db:
        user = _find_user(db, password_user)
        if user is None or not hmac.compare_digest(user.password.encode("utf-8"),
                                                   password.encode("utf-8")):
            raise _unauthorized("The username or password is wrong.")
        project, domain_scope = _resolve_scope(db, _dict(auth, "scope", required=False), user)
        token = "MIIemu" + secrets.token_urlsafe(96)
        issued_at = emulator.clock.now()
        expires_at = issued_at + TOKEN_LIFETIME
        db.add_token(secret_hash(token), user.user_id, user.domain_id,
                     project.project_id if project else None, issued_at, expires_at)
    emulator.stats.count_token_issued()
    domain = {"id": user.domain_id, "name": user.domain_name}
    info = {"methods": ["password"], "issued_at": iso_time(issued_at),
            "expires_at": iso_time(expires_at),
            "user": {"id": user.user_id, "name": user.username, "domain": domain,
                     "password_expires_at": ""},
            "roles": [{"id": "0" * 31 + "1", "name": "te_admin"}]}
    if project is not None:
        info["project"] = {"id": project.project_id, "name": project.project_name,
                           "domain": domain}
    if domain_scope is not None:
        info["domain"] = domain
    if not _query(request).get("nocatalog"):
        info["catalog"] = _catalog(emulator, project)
    return Response(201, {"token": info}, {"X-Subject-Token": token})


def _project_view(emulator, project):
    return {"id": project.project_id, "name": project.project_name,
            "domain_id": project.domain_id, "parent_id": project.domain_id, "enabled": True,
            "is_domain": False, "description": "",
            "links": {"self": "%s/v3/projects/%s" % (emulator.endpoint, project.project_id)}}


def _domain_projects(emulator, principal):
    with emulator.store.transaction() as db:
        return db.projects("domain_id = ?", (principal.domain_id,))


def _query(request):
    return {name: values[0] for name, values in parse_qs(request.raw_query).items()}


def list_projects(emulator, request):
    """GET /v3/projects[?name=&domain_id=&enabled=] (token or AK/SK)."""
    principal = authenticate_iam(emulator, request)
    query = _query(request)
    projects = [
        project for project in _domain_projects(emulator, principal)
        if query.get("name", project.project_name) == project.project_name
        and query.get("domain_id", project.domain_id) == project.domain_id
        and query.get("enabled", "true").lower() == "true"]
    self_link = "%s/v3/projects%s" % (emulator.endpoint,
                                      "?" + request.raw_query if request.raw_query else "")
    return Response(200, {"projects": [_project_view(emulator, p) for p in projects],
                          "links": {"self": self_link, "previous": None, "next": None}})


def list_auth_projects(emulator, request):
    """GET /v3/auth/projects: the projects the caller's user can access."""
    principal = authenticate_iam(emulator, request)
    projects = _domain_projects(emulator, principal)
    return Response(200, {"projects": [_project_view(emulator, p) for p in projects],
                          "links": {"self": emulator.endpoint + "/v3/auth/projects",
                                    "previous": None, "next": None}})


def _sts_duration(token_method):
    duration = token_method.get("duration_seconds", DEFAULT_STS_DURATION)
    if isinstance(duration, str) and duration.isdigit():
        duration = int(duration)
    if isinstance(duration, bool) or not isinstance(duration, int) or \
            not MIN_STS_DURATION <= duration <= MAX_STS_DURATION:
        raise _bad_request("duration_seconds must be an integer from 900 to 86400")
    return duration


def issue_security_token(emulator, request):
    """POST /v3.0/OS-CREDENTIAL/securitytokens: temporary AK/SK for the token's user."""
    principal = authenticate_iam(emulator, request)
    if principal.method != "token":
        raise _unauthorized("temporary credentials are issued for an X-Auth-Token only")
    identity = _dict(_dict(request.json_object(_bad_request), "auth"), "identity")
    if identity.get("methods") != ["token"]:
        raise _bad_request("only the 'token' identity method is supported")
    duration = _sts_duration(identity.get("token") or {})
    access = random_access_key()
    secret = secrets.token_urlsafe(30)
    security_token = "emu-sts-" + secrets.token_urlsafe(192)
    expires_at = emulator.clock.now() + duration
    with emulator.store.transaction() as db:
        db.add_temp_credential(access, secret, secret_hash(security_token), principal.user_id,
                               expires_at)
    return Response(201, {"credential": {"access": access, "secret": secret,
                                         "securitytoken": security_token,
                                         "expires_at": iso_time(expires_at)}})
