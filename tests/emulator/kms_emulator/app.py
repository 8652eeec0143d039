"""Routing and the steps every request goes through, independent of the HTTP server."""

import collections
import re
import time
import urllib.parse

from . import admin, iam
from .actions import ACTIONS, action_method, run_action
from .auth import authenticate_kms
from .errors import ApiError, gateway_error, kms_error
from .messages import Response

MAX_BODY_BYTES = 64 * 1024
KMS_PATH = re.compile(r"^/v1\.0/([^/]*)/kms/([^/]+)$")
# key tags: (path, {method: action}); the groups are project id, key id[, tag key]
TAG_PATHS = (
    (re.compile(r"^/v1\.0/([^/]*)/kms/([^/]+)/tags$"),
     {"GET": "show-kms-tags", "POST": "create-kms-tag"}),
    (re.compile(r"^/v1\.0/([^/]*)/kms/([^/]+)/tags/action$"), {"POST": "batch-create-kms-tags"}),
    (re.compile(r"^/v1\.0/([^/]*)/kms/([^/]+)/tags/([^/]+)$"), {"DELETE": "delete-kms-tag"}),
)
# query key instances by tag (SDK ListKmsByTags); the group is the project id
INSTANCES_PATH = re.compile(r"^/v1\.0/([^/]*)/kms/resource_instances/action$")
INSTANCES_ACTION = "list-kms-by-tags"
# actions reached by their own paths only, never as .../kms/<action>
PATH_ONLY_ACTIONS = frozenset(
    [INSTANCES_ACTION] + [name for _pattern, actions in TAG_PATHS for name in actions.values()])
PROJECT_ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")

Route = collections.namedtuple("Route", "name kind methods handler")
Outcome = collections.namedtuple("Outcome", "response name error_code")

IAM_ROUTES = {
    "/v3/auth/tokens": Route("iam:tokens", "iam", ("POST",), iam.issue_token),
    "/v3/projects": Route("iam:projects", "iam", ("GET",), iam.list_projects),
    "/v3/auth/projects": Route("iam:auth-projects", "iam", ("GET",), iam.list_auth_projects),
    "/v3.0/OS-CREDENTIAL/securitytokens": Route("iam:securitytokens", "iam", ("POST",),
                                                iam.issue_security_token),
}


def _version(emulator):
    return {"id": "v1.0", "links": [{"href": emulator.endpoint + "/v1.0/", "rel": "self"}],
            "min_version": "", "status": "CURRENT", "version": "",
            "updated": "2018-09-05T08:18:05Z"}


def versions(emulator, request):
    return Response(200, {"versions": [_version(emulator)]})


def version(emulator, request):
    return Response(200, {"version": _version(emulator)})


def _kms_route(action, project_id):
    def handler(emulator, request):
        if not PROJECT_ID_PATTERN.match(project_id):
            raise kms_error("KMS.0201", "the project ID in the URL is invalid")
        authenticate_kms(emulator, request, project_id)
        return run_action(emulator, action, request, project_id)
    return Route(action, "kms", (action_method(action),), handler)


def _tag_route(actions, method, project_id, path_args):
    """One tag path; its action depends on the method (any other method gets the 405)."""
    action = actions.get(method) or next(iter(actions.values()))

    def handler(emulator, request):
        if not PROJECT_ID_PATTERN.match(project_id):
            raise kms_error("KMS.0201", "the project ID in the URL is invalid")
        authenticate_kms(emulator, request, project_id)
        return run_action(emulator, action, request, project_id, path_args)
    return Route(action, "kms", tuple(actions), handler)


def find_route(raw_path, method=None):
    path = raw_path.rstrip("/") or "/"
    if path == "/":
        return Route("versions", "version", ("GET",), versions)
    if path == "/v1.0":
        return Route("version", "version", ("GET",), version)
    if path in IAM_ROUTES:
        return IAM_ROUTES[path]
    if path in admin.ROUTES:
        methods, handler = admin.ROUTES[path]
        return Route(path, "admin", methods, handler)
    match = KMS_PATH.match(path)
    if match and match.group(2) in ACTIONS and match.group(2) not in PATH_ONLY_ACTIONS:
        return _kms_route(match.group(2), match.group(1))
    match = INSTANCES_PATH.match(path)
    if match:
        return _kms_route(INSTANCES_ACTION, match.group(1))
    for pattern, actions in TAG_PATHS:
        match = pattern.match(path)
        if match:
            path_args = tuple(urllib.parse.unquote(part) for part in match.groups()[1:])
            return _tag_route(actions, method, match.group(1), path_args)
    return None


def _inject_faults(emulator):
    fate = emulator.faults.draw()
    if fate is None:
        return
    emulator.stats.count_fault(fate)
    if fate == "throttle":
        raise gateway_error(429, "APIGW.0308", "The throttling threshold has been reached:"
                            " policy user over ratelimit,limit:1,time:1 second",
                            headers={"Retry-After": str(emulator.faults.retry_after)})
    status, code = emulator.faults.fail_kind()
    raise kms_error(code, "System exception (injected fault).", status=status)


def _handle(emulator, route, request, body_too_large):
    if route is None:
        raise gateway_error(404, "APIGW.0101", "The API does not exist or has not been published"
                            " in the environment.")
    if route.kind != "admin":
        emulator.stats.count_request(route.name)
        if emulator.faults.latency_ms:
            emulator.stats.count_fault("latency")  # counted: tests need not time requests
            time.sleep(emulator.faults.latency_ms / 1000.0)
    if route.kind == "kms":
        _inject_faults(emulator)
    if request.method not in route.methods:
        raise kms_error("KMS.0215", "The HTTP method is not supported.", status=405)
    if body_too_large:
        raise kms_error("KMS.0203", "The request body is longer than %d bytes." % MAX_BODY_BYTES)
    return route.handler(emulator, request)


def dispatch(emulator, request, body_too_large=False):
    """Answer one request; client-caused problems become error responses, never exceptions."""
    route = find_route(request.raw_path, request.method)
    error_code = None
    try:
        response = _handle(emulator, route, request, body_too_large)
    except ApiError as error:
        response = Response(error.status, error.body(request.request_id), dict(error.headers))
        error_code = error.code
    if route is None or route.kind != "admin":
        emulator.stats.count_status(response.status)
    return Outcome(response, route.name if route else None, error_code)
