# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one HTTP client of the collection: KMS v1.0 and the IAM calls, on ``requests``.

One ``requests.Session`` per client (connection reuse across the calls of a task), TLS
verification on by default, bounded jittered retries, typed errors. Safe to share between
threads: the session's pool is sized for the role's batch engine and credentials are resolved
once under a lock. Private module: the interface may change between releases.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import random
import time
import traceback

from urllib.parse import urlsplit

try:
    import requests
    from requests.adapters import HTTPAdapter
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.dew.kms.plugins.module_utils._auth import make_authenticator
from ansible_collections.dew.kms.plugins.module_utils._errors import (
    KmsConfigError,
    KmsConnectionError,
    KmsError,
    describe_operation,
    error_from_response,
)
from ansible_collections.dew.kms.plugins.module_utils._signer import encode_query
from ansible_collections.dew.kms.plugins.module_utils._transcript import record as record_exchange

USER_AGENT = 'ansible-collection-dew.kms'
POOL_MAXSIZE = 32            # >= the role's thread pool, so threads never wait for a socket
RETRY_STATUSES = frozenset((500, 502, 503, 504))
BACKOFF_BASE = 1.0           # seconds before the first retry, doubled each time
BACKOFF_CAP = 20.0
RETRY_AFTER_CAP = 60.0       # never sleep longer than this, whatever Retry-After says
MAX_ATTEMPTS_CAP = 21


class Answer:
    """A decoded HTTP answer: status, headers (case-insensitive), parsed JSON, request id."""

    def __init__(self, status, headers, data, request_id):
        self.status = status
        self.headers = headers
        self.data = data
        self.request_id = request_id


class KmsClient:
    """``call(action, body, key_id=..., idempotent=...)`` for KMS; ``iam_request`` for IAM."""

    def __init__(self, config, warn=None):
        if not HAS_REQUESTS:
            raise KmsError('The Python library requests is required on the host running the module.')
        self.config = config
        self._warn = warn or (lambda msg: None)
        self._auth = make_authenticator(config)
        self.sleep = time.sleep  # tests replace this
        self._session = self._new_session()
        if config.validate_certs is False:
            _silence_insecure_request_warning()  # one warning of ours instead of one per request
            self._warn('validate_certs is false: TLS certificates of the KMS and IAM endpoints are '
                       'not verified. Use ca_path for a private CA instead.')

    def _new_session(self):
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_MAXSIZE, max_retries=0)
        session.mount('https://', adapter)
        session.mount('http://', adapter)
        session.headers['User-Agent'] = USER_AGENT
        session.headers['Accept'] = 'application/json'
        # proxies come from the environment (HTTPS_PROXY, NO_PROXY): trust_env stays on
        return session

    @property
    def _verify(self):
        # passed per request: a session-level False would be overridden by REQUESTS_CA_BUNDLE
        if self.config.ca_path:
            return self.config.ca_path
        return bool(self.config.validate_certs)

    @property
    def project_id(self):
        """The project id: configured, from the IAM token scope, or looked up once by name."""
        return self._auth.project_id(self)

    @property
    def auth_mode(self):
        return self.config.auth_mode

    def warn(self, msg):
        """Show ``msg`` to the user as a warning of the task (for callers without a module)."""
        self._warn(msg)

    def close(self):
        self._session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # -----------------------------------------------------------------------------------------
    # public calls

    def call(self, action, body=None, *, key_id=None, idempotent=True, method='POST'):
        """Run one KMS action and return its JSON object (``{}`` for an empty body).

        ``idempotent=False`` marks a state-changing request: it is retried only where it
        certainly changed nothing (429 from the gateway, a connection that was never made).
        """
        project_id = self.project_id
        url = '%s/v1.0/%s/kms/%s' % (self.config.kms_endpoint, project_id, action)
        answer = self._request(method, url, body=body if method != 'GET' else None,
                               operation='KMS %s' % action, key_id=key_id, idempotent=idempotent,
                               project_id=project_id)
        data = answer.data
        if data is None or data == '':
            return {}
        if not isinstance(data, dict):
            raise KmsError('%s returned an unexpected answer (not a JSON object). Check kms_endpoint.'
                           % describe_operation('KMS %s' % action, key_id),
                           status=answer.status, request_id=answer.request_id)
        return data

    def iam_request(self, method, path, *, query=None, body=None, operation, authenticate=True):
        """Call IAM (``{iam_endpoint}{path}``); returns an ``Answer``."""
        if not self.config.iam_endpoint:
            raise KmsConfigError('%s needs the IAM endpoint: set iam_endpoint (env HW_IAM_ENDPOINT or '
                                 'OS_AUTH_URL) or region (env HW_REGION_NAME or OS_REGION_NAME).'
                                 % operation)
        url = self.config.iam_endpoint + path
        if query:
            url += '?' + encode_query(query)
        return self._request(method, url, body=body, operation=operation, idempotent=True,
                             authenticate=authenticate)

    # -----------------------------------------------------------------------------------------
    # transport

    def _request(self, method, url, *, body=None, operation, key_id=None, idempotent=True,
                 authenticate=True, project_id=None):
        payload = b'' if body is None else json.dumps(body).encode('utf-8')
        base_headers = {'Content-Type': 'application/json;charset=utf-8' if payload
                        else 'application/json'}
        if project_id and self.config.auth_mode == 'aksk':
            base_headers['X-Project-Id'] = project_id

        attempts = min(int(self.config.retries) + 1, MAX_ATTEMPTS_CAP)
        for attempt in range(1, attempts + 1):
            # authorise per attempt: a signature carries its own timestamp
            headers = (self._auth.headers(self, method, url, base_headers, payload)
                       if authenticate else dict(base_headers))
            try:
                response = self._session.request(
                    method, url, data=payload or None, headers=headers,
                    timeout=self.config.timeout, verify=self._verify, allow_redirects=False)
            except requests.exceptions.RequestException as exc:
                error = self._connection_error(exc, url, operation, key_id)
                if attempt < attempts and error.retryable and (idempotent or not error.maybe_sent):
                    self._retry_pause(attempt, attempts, error.msg, None)
                    continue
                raise error

            status = response.status_code
            record_exchange(method, url, payload, status, response.content)  # no-op unless DEW_KMS_TRANSCRIPT
            if 200 <= status < 300:
                return self._answer(response)
            answer = self._answer(response)
            retryable = status == 429 or (idempotent and status in RETRY_STATUSES)
            if retryable and attempt < attempts:
                code = error_from_response(operation, status, answer.data).error_code
                summary = '%s: HTTP %s%s.' % (describe_operation(operation, key_id), status,
                                              ' ' + code if code else '')
                self._retry_pause(attempt, attempts, summary, response.headers.get('Retry-After'))
                continue
            if 300 <= status < 400:
                raise KmsError('%s failed: HTTP %s redirect to %s. Redirects are not followed; '
                               'check the endpoint.' % (describe_operation(operation, key_id), status,
                                                        response.headers.get('Location') or 'nowhere'),
                               status=status, request_id=answer.request_id)
            raise error_from_response(operation, status, answer.data, answer.request_id, key_id,
                                      hint=self._auth.hint if status in (401, 403) else None)
        raise AssertionError('unreachable')  # pragma: no cover

    @staticmethod
    def _answer(response):
        data = None
        if response.content:
            try:
                data = response.json()
            except ValueError:
                data = response.text
        return Answer(response.status_code, response.headers, data,
                      response.headers.get('X-Request-Id'))

    def _retry_pause(self, attempt, attempts, summary, retry_after):
        """Warn (``summary`` is a sentence saying what failed) and sleep before the next attempt."""
        delay = _retry_after_seconds(retry_after)
        if delay is None:
            ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** (attempt - 1)))
            delay = random.uniform(ceiling / 2, ceiling)  # jitter spreads out parallel workers
        self._warn('%s Retrying in %.1f s (retry %d of %d).' % (summary, delay, attempt, attempts - 1))
        self.sleep(delay)

    def _connection_error(self, exc, url, operation, key_id):
        """Map a requests exception to a KmsConnectionError that says what to check."""
        what = describe_operation(operation, key_id)
        host = _host(url)
        exceptions = requests.exceptions
        if isinstance(exc, exceptions.SSLError):
            return KmsConnectionError(
                '%s failed: TLS verification of %s failed (%s). Check the endpoint, point ca_path at the '
                'CA bundle that signed its certificate, or, for tests only, set validate_certs=false.'
                % (what, host, _reason(exc)), maybe_sent=False, retryable=False)
        if isinstance(exc, exceptions.ConnectTimeout):
            return KmsConnectionError(
                '%s failed: connecting to %s timed out after %s s. Check the endpoint, the network and '
                'proxy settings (HTTPS_PROXY, NO_PROXY), or raise timeout.'
                % (what, host, self.config.timeout), maybe_sent=False)
        if isinstance(exc, exceptions.Timeout):
            return KmsConnectionError(
                '%s failed: %s did not answer within %s s. Raise timeout or retry later.'
                % (what, host, self.config.timeout), maybe_sent=True)
        if isinstance(exc, exceptions.ConnectionError):
            never_sent = _connection_never_made(exc)
            return KmsConnectionError(
                '%s failed: cannot connect to %s (%s). Check the endpoint (kms_endpoint, iam_endpoint, '
                'region), DNS, the network and proxy settings (HTTPS_PROXY, NO_PROXY).'
                % (what, host, _reason(exc)), maybe_sent=not never_sent)
        return KmsConnectionError('%s failed: %s' % (what, _reason(exc)), maybe_sent=True)


def _silence_insecure_request_warning():
    try:
        from urllib3 import disable_warnings
        from urllib3.exceptions import InsecureRequestWarning
    except ImportError:  # pragma: no cover
        return
    disable_warnings(InsecureRequestWarning)


def _host(url):
    parts = urlsplit(url)
    return '%s://%s' % (parts.scheme, parts.netloc)


def _reason(exc):
    """The innermost useful reason of a requests/urllib3 exception, without URLs or headers."""
    inner = exc.args[0] if exc.args else exc
    inner = getattr(inner, 'reason', None) or inner
    text = str(inner)
    # urllib3 wraps as "<urllib3.connection.HTTPSConnection object at 0x..>: Failed to ..."
    if '>: ' in text:
        text = text.split('>: ', 1)[1]
    return ' '.join(text.split())[:300]


def _connection_never_made(exc):
    """True when urllib3 failed before sending a byte (DNS, refused, connect timeout)."""
    try:
        from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
    except ImportError:  # pragma: no cover
        return False
    inner = exc.args[0] if exc.args else None
    reason = getattr(inner, 'reason', inner)
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _retry_after_seconds(value):
    """Seconds to wait from a Retry-After header (delta seconds or HTTP date), capped; or None."""
    if value is None:
        return None
    value = str(value).strip()
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime
        import datetime
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment is None:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        seconds = (moment - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, min(seconds, RETRY_AFTER_CAP))
