# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Typed errors of the dew.kms collection and plain-words explanations of KMS error codes.

Private module: the interface may change between releases.
No message built here ever contains a secret, key material, an import token or a wrapped blob:
callers pass only operation names, key ids and what the service said.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import re

from urllib.parse import quote, quote_plus

MASK = '********'


class KmsError(Exception):
    """Any failure the user should see as a clean ``fail_json``.

    ``msg`` is the full sentence for the user: operation, key, explanation, what to do.
    """

    def __init__(self, msg, status=None, error_code=None, error_msg=None, request_id=None):
        super(KmsError, self).__init__(msg)
        self.msg = msg
        self.status = status
        self.error_code = error_code
        self.error_msg = error_msg
        self.request_id = request_id

    def as_fail_kwargs(self):
        """Keyword arguments for ``AnsibleModule.fail_json``: structured keys always present."""
        return {
            'msg': self.msg,
            'status': self.status,
            'error_code': self.error_code,
            'error_msg': self.error_msg,
            'request_id': self.request_id,
        }

    def __str__(self):
        return self.msg


class KmsInputError(KmsError):
    """Bad local input, detected before any API call. ``status`` is None."""


class KmsConfigError(KmsInputError):
    """Missing, conflicting or invalid authentication / endpoint settings."""


class KmsAuthError(KmsError):
    """The service or IAM refused the credentials (HTTP 401/403)."""


class KmsNotFoundError(KmsError):
    """The key does not exist (KMS.0207) or its id is malformed (KMS.0205)."""


class KmsConnectionError(KmsError):
    """No HTTP answer: DNS, refused connection, TLS verification, timeout.

    ``maybe_sent`` is False only when the request certainly never reached the server;
    ``retryable`` is False where trying again cannot help (TLS verification).
    """

    def __init__(self, msg, maybe_sent=True, retryable=True, **kwargs):
        super(KmsConnectionError, self).__init__(msg, **kwargs)
        self.maybe_sent = maybe_sent
        self.retryable = retryable


class KmsMissingLibraryError(KmsError):
    """A required Python library is not installed on the host running the module."""

    def __init__(self, msg, exception=None):
        super(KmsMissingLibraryError, self).__init__(msg)
        self.exception = exception

    def as_fail_kwargs(self):
        kwargs = super(KmsMissingLibraryError, self).as_fail_kwargs()
        if self.exception:
            kwargs['exception'] = self.exception
        return kwargs


def missing_library(library, reason):
    """KmsMissingLibraryError for an absent library; call it inside the ``except ImportError``."""
    import traceback

    try:
        from ansible.module_utils.basic import missing_required_lib
        msg = missing_required_lib(library, reason=reason)
    except ImportError:  # used outside a module (unit helpers)
        msg = 'Failed to import the required Python library (%s) %s.' % (library, reason)
    return KmsMissingLibraryError(msg, exception=traceback.format_exc())


AUTH_HINT = (
    'Check the credentials (auth_token, access_key/secret_key with security_token for temporary '
    'credentials, or username/password/domain_name), that they belong to the project in use '
    '(project_id, project_name or region) and have KMS permissions, and that a token has not expired.'
)

# Plain words for well-known codes. Clients match on error_code, never on error_msg.
_EXPLANATIONS = {
    # generic / request
    'KMS.0100': 'the KMS service reported an internal error; retry later',
    'KMS.0101': 'the KMS service reported an internal error; retry later',
    'KMS.0102': 'the KMS service reported an internal I/O error; retry later',
    'KMS.0103': 'the KMS service reported an internal error; retry later',
    'KMS.0104': 'the KMS service is temporarily unavailable; retry later',
    'KMS.0105': 'the KMS service reported a system exception',
    'KMS.0106': 'this is a read-only replica of the service: only read operations are allowed',
    'KMS.0201': 'the request URL is invalid: check kms_endpoint and project_id',
    'KMS.0202': 'the request body is not valid JSON',
    'KMS.0204': 'a mandatory parameter is missing from the request',
    'KMS.0205': 'the key ID is malformed: a key ID looks like 0d0466b0-e727-4d9c-b35d-f84bb474a37f',
    'KMS.0206': 'the request sequence number is invalid',
    'KMS.0207': 'the key was not found in this project and region (check key_id, region and project)',
    'KMS.0208': 'the encryption context is invalid',
    'KMS.0209': 'the key is disabled: enable it first',
    'KMS.0210': 'the key is pending deletion and cannot be used: cancel the deletion first',
    'KMS.0211': 'this operation is not allowed on a Default Master Key',
    'KMS.0215': 'the HTTP method is not supported for this request',
    # auth / permission
    'KMS.0301': 'the authentication token is missing or invalid',
    'KMS.0302': 'the authentication token is invalid',
    'KMS.0303': 'the authentication token has expired',
    'KMS.0305': 'the project name of the token is invalid',
    'KMS.0306': 'the user lacks permission for this KMS operation (needs e.g. KMS CMKFullAccess)',
    'KMS.0307': 'the user lacks permission for this KMS operation (needs e.g. KMS CMKFullAccess)',
    'KMS.0326': 'the user lacks permission for this KMS operation (needs e.g. KMS CMKFullAccess)',
    'KMS.0330': 'the user lacks permission for this KMS operation (needs e.g. KMS CMKFullAccess)',
    'KMS.0314': 'the account needs real-name authentication before using KMS',
    'KMS.0321': 'the project in the request does not match the project of the token '
                '(check project_id against the token scope)',
    'KMS.0322': 'the user has no permission on this partition',
    'KMS.0327': 'KMS could not obtain the user permissions',
    'KMS.0328': 'KMS is frozen for this account (billing)',
    # key type / algorithm / BYOK
    'KMS.0308': 'a request parameter is invalid',
    'KMS.0309': 'the key is not an external key: key material can only be imported into a key '
                'created with origin external',
    'KMS.0310': 'key is not waiting for import: its material is already imported',
    'KMS.0311': 'KMS could not unwrap the key material: it was not wrapped with the public key '
                'and wrapping algorithm of this import token',
    'KMS.0312': 'keys with imported material cannot be rotated',
    'KMS.0320': 'the resource is frozen',
    'KMS.0325': 'this operation is not supported for asymmetric keys',
    'KMS.0331': 'this operation is not supported for symmetric keys (it needs an RSA or EC key)',
    'KMS.0332': 'the key does not support this signing algorithm',
    'KMS.0334': 'the key is an ENCRYPT_DECRYPT key and cannot sign or verify',
    'KMS.0335': 'the key is a SIGN_VERIFY key and cannot encrypt or decrypt',
    'KMS.1101': 'the key alias is invalid (allowed: letters, digits, ":", "/", "_", "-", 1 to 255 characters)',
    'KMS.1103': 'the key description is invalid (at most 255 characters)',
    'KMS.1104': 'a key with this alias already exists',
    'KMS.1105': 'the project has reached its quota of customer keys (100 keys per project unless '
                'raised; keys pending deletion count until they are deleted), so no key can be '
                'created: schedule deletion of keys that are no longer used, or ask the cloud '
                'provider for a higher key quota',
    'KMS.1110': 'the key algorithm (key_spec) is invalid or not supported in this region',
    'KMS.1114': 'EC keys cannot encrypt or decrypt',
    'KMS.1115': 'symmetric keys cannot sign or verify',
    'KMS.1201': 'the key is not disabled, so it cannot be enabled',
    'KMS.1301': 'the key is not enabled, so it cannot be disabled',
    'KMS.1401': 'pending_days must be between 7 and 1096',
    'KMS.1402': 'the key is already scheduled for deletion',
    'KMS.1404': 'key material can only be imported in the region where the key was created',
    'KMS.1501': 'the key is not pending deletion, so there is no deletion to cancel',
    'KMS.2601': 'the import token has expired: fetch new import parameters and wrap the material again',
    'KMS.2602': 'the key material expiration time must be in the future',
    'KMS.2603': 'the import token belongs to a different key',
    'KMS.2604': 'the key material must be exactly 32 bytes (256 bits)',
    'KMS.2605': 'the import token is invalid or damaged',
    'KMS.2606': 'a key that had material before accepts only the same material again',
    'KMS.2608': 'the wrapped private key (encrypted_privatekey) is missing: asymmetric keys need it',
    'KMS.2609': 'the wrapped private key (encrypted_privatekey) is invalid or does not match the key',
    'KMS.2610': 'the temporary wrapping key must be 16 or 32 bytes',
    'KMS.2701': 'imported key material can only be deleted while the key is enabled or disabled',
    'KMS.2702': 'imported private key material cannot be deleted: schedule deletion of the key instead',
    # API gateway
    'APIGW.0101': 'the API was not found: check kms_endpoint',
    'APIGW.0201': 'the API gateway rejected the request as malformed',
    'APIGW.0301': 'IAM authentication failed (bad token, AK/SK signature or clock skew)',
    'APIGW.0302': 'the IAM user is not authorized to call this API',
    'APIGW.0305': 'the authentication information is incorrect',
    'APIGW.0306': 'access to the API is denied',
    'APIGW.0307': 'the authentication token must be renewed',
    'APIGW.0308': 'the request rate limit was reached (throttled)',
    'APIGW.0310': 'the project is unavailable',
    'APIGW.0401': 'the client IP address is unknown to the gateway',
    'APIGW.0402': 'the client IP address is not allowed',
    'APIGW.0601': 'the API gateway reported an internal error',
    'APIGW.0613': 'IAM is temporarily unavailable',
}


def explain(error_code):
    """Plain words for a well-known KMS / API-gateway error code, or None."""
    if not error_code:
        return None
    code = str(error_code).strip()
    text = _EXPLANATIONS.get(code)
    if text is None and code.startswith('APIG.'):
        # the OTC dedicated gateway documents the same numbering under the APIG. prefix
        text = _EXPLANATIONS.get('APIGW.' + code[len('APIG.'):])
    return text


_CODE_KEYS = (('error_code', 'error_msg'), ('errorCode', 'errorMsg'), ('code', 'message'))


def parse_error_body(body):
    """Return ``(error_code, error_msg, request_id)`` from an error body, leniently.

    Understands the nested KMS shape ``{"error": {"error_code", "error_msg"}}``, the flat API
    gateway shape ``{"error_code", "error_msg", "request_id"}``, camelCase and ``code``/``message``
    variants (IAM), searching one level of nested objects. Missing parts are None.
    """
    if not isinstance(body, dict):
        return None, None, None
    request_id = body.get('request_id')
    candidates = [body] + [v for v in body.values() if isinstance(v, dict)]
    for candidate in candidates:
        for code_key, msg_key in _CODE_KEYS:
            if code_key in candidate or msg_key in candidate:
                code = candidate.get(code_key)
                msg = candidate.get(msg_key)
                request_id = request_id or candidate.get('request_id')
                return (_text_or_none(code), _text_or_none(msg), _text_or_none(request_id))
    return None, None, _text_or_none(request_id)


def _text_or_none(value):
    if value is None or value == '':
        return None
    return str(value)


def describe_operation(operation, key_id=None):
    """'KMS import-key-material for key 0d04...' style prefix shared by every message."""
    if key_id:
        return '%s for key %s' % (operation, key_id)
    return operation


def unexpected_answer(operation, key_id=None, detail='not a JSON object', hint='Check the endpoint.',
                      status=None, request_id=None):
    """KmsError for a successful answer of an unexpected shape (wrong endpoint, gateway, broken service)."""
    return KmsError('%s returned an unexpected answer (%s). %s'
                    % (describe_operation(operation, key_id), detail, hint),
                    status=status, request_id=request_id)


def expect_object(value, operation, key_id=None, what=None, **kwargs):
    """``value`` if it is a JSON object (dict), else the ``unexpected_answer`` KmsError.

    ``what`` names the part of the answer that was read (e.g. ``key_info``); ``kwargs`` go to
    ``unexpected_answer`` (hint, status, request_id).
    """
    if isinstance(value, dict):
        return value
    detail = '%s is not a JSON object' % what if what else 'not a JSON object'
    raise unexpected_answer(operation, key_id, detail, **kwargs)


def error_from_response(operation, status, body, request_id=None, key_id=None, hint=None):
    """Build the typed KmsError for a non-2xx HTTP answer.

    ``body`` is the parsed JSON (or None / raw text when not JSON); ``request_id`` the
    ``X-Request-Id`` header if any (it wins over a request id inside the body).
    """
    code, service_msg, body_request_id = parse_error_body(body)
    request_id = request_id or body_request_id
    explanation = explain(code)

    parts = ['%s failed: HTTP %s' % (describe_operation(operation, key_id), status)]
    if code:
        parts[0] += ' %s' % code
    if explanation:
        parts.append(explanation[0].upper() + explanation[1:] + '.')
    if service_msg:
        parts.append('Service message: %s' % _sentence(service_msg))
    elif code is None and isinstance(body, str) and body.strip():
        parts.append('Response: %s' % _sentence(body))

    cls = KmsError
    if status in (401, 403):
        cls = KmsAuthError
        parts.append(hint or AUTH_HINT)
    elif code in ('KMS.0207', 'KMS.0205') or (status == 404 and code is None):
        cls = KmsNotFoundError
    elif hint:
        parts.append(hint)
    if request_id:
        parts.append('Request ID: %s.' % request_id)
    msg = parts[0] + '. ' + ' '.join(parts[1:]) if len(parts) > 1 else parts[0] + '.'
    return cls(msg, status=status, error_code=code, error_msg=service_msg, request_id=request_id)


def _sentence(text):
    text = _shorten(text.strip(), 500)
    return text if text.endswith(('.', '!', '?')) else text + '.'


def _shorten(text, limit=200):
    text = ' '.join(text.split())
    return text if len(text) <= limit else text[:limit] + '...'


# a query string may carry anything (signatures, names the user typed): never shown
_QUERY_RE = re.compile(r'\?[^\s\'"()<>]*')


def _secret_forms(secret):
    """Every spelling of ``secret`` a library may print: raw, escaped, URL-encoded, base64."""
    raw = secret.encode('utf-8')
    forms = {
        secret,
        repr(secret)[1:-1],
        ascii(secret)[1:-1],
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(raw)[2:-1],
        quote(secret, safe=''),
        quote(secret),
        quote_plus(secret),
        base64.b64encode(raw).decode('ascii').rstrip('='),
        base64.urlsafe_b64encode(raw).decode('ascii').rstrip('='),
    }
    # longest first, so that a form containing a shorter one is replaced whole
    return sorted((form for form in forms if form), key=len, reverse=True)


def scrub(text, secrets=()):
    """``text`` (from a library's exception) without query strings and without any form of ``secrets``."""
    text = _QUERY_RE.sub('?...', str(text))
    for secret in secrets:
        if secret:
            for form in _secret_forms(str(secret)):
                text = text.replace(form, MASK)
    return text
