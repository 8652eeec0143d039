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

import datetime
import ipaddress
import json
import math
import os
import random
import time
import traceback

from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

# KmsModule fails with missing_required_lib when HAS_REQUESTS is false, before any client exists
try:
    import requests
    from requests.adapters import HTTPAdapter
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

try:
    from urllib3.exceptions import HTTPError as Urllib3Error, ReadTimeoutError
except ImportError:  # pragma: no cover - requests always brings urllib3
    Urllib3Error = ReadTimeoutError = ()

from ansible_collections.dew.kms.plugins.module_utils._auth import make_authenticator
from ansible_collections.dew.kms.plugins.module_utils._errors import (
    KmsConfigError,
    KmsConnectionError,
    KmsError,
    describe_operation,
    error_from_response,
    scrub,
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
# The largest legal answer is a list-keys page of 1000 keys (about 600 bytes each); an import
# token or an RSA-4096 wrapping key is a few KiB. 1 MiB leaves room and bounds memory per thread.
MAX_ANSWER_BYTES = 1024 * 1024
READ_CHUNK = 64 * 1024
# The only environment variables the HTTP session reads: proxies (upper case first, as curl does
# for everything but http_proxy).
PROXY_ENV_VARS = {'https': ('HTTPS_PROXY', 'https_proxy'), 'http': ('HTTP_PROXY', 'http_proxy')}
NO_PROXY_ENV_VARS = ('NO_PROXY', 'no_proxy')


class Answer:
    """A decoded HTTP answer: status, headers (case-insensitive), parsed JSON, request id."""

    def __init__(self, status, headers, data, request_id):
        self.status = status
        self.headers = headers
        self.data = data
        self.request_id = request_id


class _Request:
    """What one logical request is, across its attempts."""

    def __init__(self, method, url, payload, operation, key_id, idempotent, authenticate, project_id):
        self.method = method
        self.url = url
        self.payload = payload
        self.operation = operation
        self.key_id = key_id
        self.idempotent = idempotent
        self.authenticate = authenticate
        self.project_id = project_id

    @property
    def what(self):
        return describe_operation(self.operation, self.key_id)


class KmsClient:
    """``call(action, body, key_id=..., idempotent=...)`` for KMS; ``iam_request`` for IAM.

    ``env`` (default ``os.environ``) is read for the proxy variables only.
    """

    def __init__(self, config, warn=None, env=None):
        self.config = config
        self._warn = warn or (lambda msg: None)
        self._env = os.environ if env is None else env
        self._auth = make_authenticator(config)
        self.sleep = time.sleep  # tests replace this
        self._clock_offset = 0.0  # KMS's clock minus ours, from the Date of its latest answer
        self._session = self._new_session()
        for warning in getattr(config, 'warnings', ()):
            self._warn(warning)
        if config.validate_certs is False:
            _silence_insecure_request_warning()  # one warning of ours instead of one per request
            self._warn('validate_certs is false: TLS certificates of the KMS and IAM endpoints are '
                       'not verified. Use ca_path for a private CA instead.')
        self._warn_plain_http()

    def _new_session(self):
        session = requests.Session()
        # nothing ambient: no ~/.netrc credentials, no CA or proxy settings the user did not give
        # (proxies are passed per request from the documented variables, see _proxies)
        session.trust_env = False
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_MAXSIZE, max_retries=0)
        session.mount('https://', adapter)
        session.mount('http://', adapter)
        session.headers['User-Agent'] = USER_AGENT
        session.headers['Accept'] = 'application/json'
        # an uncompressed answer is what the size limit measures
        session.headers['Accept-Encoding'] = 'identity'
        return session

    def _warn_plain_http(self):
        for option in ('kms_endpoint', 'iam_endpoint'):
            url = getattr(self.config, option)
            if url and urlsplit(url).scheme == 'http' and not _is_loopback(urlsplit(url).hostname):
                self._warn('%s %s is plain http:// on a host that is not this machine: credentials '
                           'and key material travel in clear. Use https://.' % (option, _host(url)))

    @property
    def _verify(self):
        if self.config.ca_path:
            return self.config.ca_path
        return bool(self.config.validate_certs)

    def _proxies(self, url):
        """The proxy for ``url`` from HTTPS_PROXY / HTTP_PROXY unless NO_PROXY matches its host."""
        parts = urlsplit(url)
        proxy = _first_env(self._env, PROXY_ENV_VARS.get(parts.scheme, ()))
        if not proxy or _no_proxy_matches(parts.hostname, _first_env(self._env, NO_PROXY_ENV_VARS)):
            return {}
        return {parts.scheme: proxy}

    def _secrets(self):
        return list(self.config.secret_values()) + list(self._auth.secret_values())

    @property
    def project_id(self):
        """The project id: configured, from the IAM token scope, or looked up once by name."""
        return self._auth.project_id(self)

    @property
    def auth_mode(self):
        return self.config.auth_mode

    def now(self):
        """Epoch seconds on KMS's clock: the one that expires material, so the one to count days on.

        The Date header of the latest answer (one-second precision, plenty for days); our own
        clock until an answer came, or when the answers carry no Date.
        """
        return time.time() + self._clock_offset

    def _note_server_date(self, headers):
        moment = _http_date(headers['Date']) if headers.get('Date') else None
        if moment is not None:  # no Date, or one we cannot read: keep what we knew
            self._clock_offset = moment - time.time()

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
        With ``key_id``, an answer that names another key fails: nothing acts on it.
        """
        project_id = self.project_id
        url = '%s/v1.0/%s/kms/%s' % (self.config.kms_endpoint, project_id, action)
        operation = 'KMS %s' % action
        answer = self._request(method, url, body=body if method != 'GET' else None,
                               operation=operation, key_id=key_id, idempotent=idempotent,
                               project_id=project_id)
        data = answer.data
        if data is None or data == '':
            return {}
        if not isinstance(data, dict):
            raise KmsError('%s returned an unexpected answer (not a JSON object). Check kms_endpoint.'
                           % describe_operation(operation, key_id),
                           status=answer.status, request_id=answer.request_id)
        if key_id and not _answer_is_about(data, key_id):
            raise KmsError('%s returned an answer about another key; nothing was done with it. Check '
                           'kms_endpoint and any proxy between this host and KMS.'
                           % describe_operation(operation, key_id),
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
        request = _Request(method, url, payload, operation, key_id, idempotent, authenticate, project_id)
        attempts = min(int(self.config.retries) + 1, MAX_ATTEMPTS_CAP)
        for attempt in range(1, attempts + 1):
            try:
                answer = self._attempt(request)
            except KmsConnectionError as error:
                if attempt < attempts and error.retryable and (idempotent or not error.maybe_sent):
                    self._retry_pause(attempt, attempts, error.msg, None)
                    continue
                raise
            if 200 <= answer.status < 300:
                return answer
            if attempt < attempts and _status_is_retryable(answer.status, idempotent):
                self._retry_pause(attempt, attempts, _status_summary(request, answer),
                                  answer.headers.get('Retry-After'))
                continue
            raise self._status_error(request, answer)
        raise AssertionError('unreachable')  # pragma: no cover

    def _headers(self, request):
        headers = {'Content-Type': 'application/json;charset=utf-8' if request.payload
                   else 'application/json'}
        if request.project_id and self.config.auth_mode == 'aksk':
            headers['X-Project-Id'] = request.project_id
        if not request.authenticate:
            return headers
        # authorised per attempt: a signature carries its own timestamp
        return self._auth.headers(self, request.method, request.url, headers, request.payload)

    def _attempt(self, request):
        """Send once and read the whole answer within ``timeout``; KmsConnectionError otherwise."""
        deadline = time.monotonic() + self.config.timeout
        try:
            response = self._session.request(
                request.method, request.url, data=request.payload or None, headers=self._headers(request),
                timeout=self.config.timeout, verify=self._verify, allow_redirects=False,
                proxies=self._proxies(request.url), stream=True)
        except requests.exceptions.RequestException as exc:
            raise self._connection_error(exc, request)
        if response.raw is None:  # an adapter that read the body itself: only the limit applies
            content = response.content or b''
            self._check_size(len(content), request)
        else:
            try:
                content = self._read_bounded(response, request, deadline)
            except (requests.exceptions.RequestException, Urllib3Error) as exc:
                response.close()
                raise self._connection_error(exc, request)
            except KmsError:
                response.close()  # the rest of the answer is not read: the connection is not reused
                raise
            response.raw.release_conn()  # read to the end: the connection goes back to the pool
        # no-op unless DEW_KMS_TRANSCRIPT names a file
        record_exchange(request.method, request.url, request.payload, response.status_code, content)
        self._note_server_date(response.headers)
        return _answer(response, content)

    def _read_bounded(self, response, request, deadline):
        """The answer's bytes: at most MAX_ANSWER_BYTES, all of them before ``deadline``."""
        raw = response.raw
        # read1 returns what has arrived, so a trickling answer is checked against the deadline
        read = raw.read1 if hasattr(raw, 'read1') else raw.read
        chunks, size = [], 0
        while True:
            if time.monotonic() > deadline:
                raise KmsConnectionError(
                    '%s failed: the answer of %s did not arrive completely within %s s (timeout). '
                    'Raise timeout or retry later.' % (request.what, _host(request.url), self.config.timeout))
            chunk = read(READ_CHUNK, decode_content=False)
            if not chunk:
                return b''.join(chunks)
            size += len(chunk)
            self._check_size(size, request)
            chunks.append(chunk)

    @staticmethod
    def _check_size(size, request):
        if size > MAX_ANSWER_BYTES:
            raise KmsConnectionError(
                '%s failed: the answer of %s is larger than %d bytes, more than any KMS or IAM '
                'answer; it was not read. Check the endpoint and any proxy in between.'
                % (request.what, _host(request.url), MAX_ANSWER_BYTES), retryable=False)

    def _status_error(self, request, answer):
        status = answer.status
        if 300 <= status < 400:
            # the Location is not shown: it may carry anything in its query
            return KmsError('%s failed: HTTP %s redirect to %s. Redirects are not followed; check the '
                            'endpoint.' % (request.what, status, _host(answer.headers.get('Location') or '')
                                           if answer.headers.get('Location') else 'nowhere'),
                            status=status, request_id=answer.request_id)
        return error_from_response(request.operation, status, answer.data, answer.request_id,
                                   request.key_id, hint=self._auth.hint if status in (401, 403) else None)

    def _retry_pause(self, attempt, attempts, summary, retry_after):
        """Warn (``summary`` is a sentence saying what failed) and sleep before the next attempt."""
        delay = _retry_after_seconds(retry_after)
        if delay is None:
            ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** (attempt - 1)))
            delay = random.uniform(ceiling / 2, ceiling)  # jitter spreads out parallel workers
        self._warn('%s Retrying in %.1f s (retry %d of %d).' % (summary, delay, attempt, attempts - 1))
        self.sleep(delay)

    def _connection_error(self, exc, request):
        """Map a requests/urllib3 exception to a KmsConnectionError that says what to check.

        The library's text goes through ``scrub``: it may quote header values and URLs.
        """
        what, host, timeout = request.what, _host(request.url), self.config.timeout
        reason = scrub(_reason(exc), self._secrets())
        exceptions = requests.exceptions
        if isinstance(exc, exceptions.SSLError):
            return KmsConnectionError(
                '%s failed: TLS verification of %s failed (%s). Check the endpoint, point ca_path at the '
                'CA bundle that signed its certificate, or, for tests only, set validate_certs=false.'
                % (what, host, reason), maybe_sent=False, retryable=False)
        if isinstance(exc, (exceptions.InvalidHeader, exceptions.InvalidURL, exceptions.InvalidSchema,
                            exceptions.MissingSchema)):
            return KmsConnectionError(
                '%s failed before sending: the request to %s is invalid (%s). Check the endpoint and '
                'that no credential holds a control character.' % (what, host, reason),
                maybe_sent=False, retryable=False)
        if isinstance(exc, exceptions.ConnectTimeout):
            return KmsConnectionError(
                '%s failed: connecting to %s timed out after %s s. Check the endpoint, the network and '
                'proxy settings (HTTPS_PROXY, NO_PROXY), or raise timeout.' % (what, host, timeout),
                maybe_sent=False)
        if isinstance(exc, (exceptions.Timeout, ReadTimeoutError)):
            return KmsConnectionError(
                '%s failed: %s did not answer within %s s. Raise timeout or retry later.'
                % (what, host, timeout), maybe_sent=True)
        if isinstance(exc, exceptions.ConnectionError):
            if _name_not_resolved(exc):
                return KmsConnectionError(
                    '%s failed: cannot connect to %s: its host name does not resolve (%s). Check the '
                    'endpoint (kms_endpoint, iam_endpoint, region) and DNS.' % (what, host, reason),
                    maybe_sent=False, retryable=False)
            return KmsConnectionError(
                '%s failed: cannot connect to %s (%s). Check the endpoint (kms_endpoint, iam_endpoint, '
                'region), DNS, the network and proxy settings (HTTPS_PROXY, NO_PROXY).'
                % (what, host, reason), maybe_sent=not _connection_never_made(exc))
        return KmsConnectionError('%s failed: the answer of %s broke off (%s).' % (what, host, reason),
                                  maybe_sent=True)


def kms_now(client):
    """Epoch seconds on KMS's clock once ``client`` has talked to it; ours without a client.

    The offline wrap phase creates no client, and has no KMS clock to ask.
    """
    return time.time() if client is None else client.now()


def _answer(response, content):
    data = None
    if content:
        try:
            data = json.loads(content.decode('utf-8'))
        except ValueError:  # UnicodeDecodeError is a ValueError
            data = content.decode('utf-8', 'replace')
    return Answer(response.status_code, response.headers, data, response.headers.get('X-Request-Id'))


def _status_is_retryable(status, idempotent):
    return status == 429 or (idempotent and status in RETRY_STATUSES)


def _status_summary(request, answer):
    code = error_from_response(request.operation, answer.status, answer.data).error_code
    return '%s: HTTP %s%s.' % (request.what, answer.status, ' ' + code if code else '')


def _answer_is_about(data, key_ref):
    """False when the answer names a key other than ``key_ref`` (a key id or ``alias/<name>``)."""
    info = data.get('key_info') if isinstance(data.get('key_info'), dict) else {}
    if key_ref.startswith('alias/'):
        alias = info.get('key_alias')
        return alias in (None, '', key_ref[len('alias/'):])
    named = [value for value in (data.get('key_id'), info.get('key_id')) if value not in (None, '')]
    return all(str(value).lower() == key_ref.lower() for value in named)


def _first_env(env, names):
    for name in names:
        value = (env.get(name) or '').strip()
        if value:
            return value
    return None


def _no_proxy_matches(host, no_proxy):
    """NO_PROXY as curl reads it: ``*``, or host names / domain suffixes, ports ignored."""
    if not no_proxy or not host:
        return False
    host = host.lower().rstrip('.')
    for entry in no_proxy.split(','):
        entry = entry.strip().lower()
        if entry.startswith('[') and ']' in entry:
            entry = entry[1:entry.index(']')]
        elif entry.count(':') == 1:
            entry = entry.split(':', 1)[0]
        entry = entry.lstrip('.').rstrip('.')
        if entry == '*' or (entry and (host == entry or host.endswith('.' + entry))):
            return True
    return False


def _is_loopback(host):
    if not host:
        return False
    if host.lower() == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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


def _name_not_resolved(exc):
    """True when the host name does not resolve: retrying cannot help."""
    inner = exc.args[0] if exc.args else None
    reason = getattr(inner, 'reason', inner)
    try:
        from urllib3.exceptions import NameResolutionError
    except ImportError:  # pragma: no cover - urllib3 1.x
        NameResolutionError = ()
    if NameResolutionError and isinstance(reason, NameResolutionError):
        return True
    return 'Name or service not known' in str(reason) or 'nodename nor servname' in str(reason)


def _http_date(value):
    """Epoch seconds of an HTTP date (a Date or Retry-After header), or None."""
    try:
        moment = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:  # "-0000": UTC by RFC 5322
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def _retry_after_seconds(value):
    """Seconds to wait from a Retry-After header (delta seconds or HTTP date), capped; or None."""
    if value is None:
        return None
    value = str(value).strip()
    try:
        seconds = float(value)
    except ValueError:
        moment = _http_date(value)
        if moment is None:
            return None
        seconds = moment - time.time()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, min(seconds, RETRY_AFTER_CAP))
