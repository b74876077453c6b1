"""One registry host over HTTP: TLS, deadlines, retries, redirects and error mapping.

Every call has a deadline (``RegistryOptions.timeout``) covering retries and
the whole body, so a registry that trickles bytes cannot hold us beyond it.
Only idempotent requests are retried (connection failures, truncated bodies,
408/429/5xx), with exponential backoff and ``Retry-After``. Redirects are
followed by hand so that credentials never reach another host. Bodies are
read up to a bound, and every failure becomes a :class:`RegistryError` naming
registry, repository and step.
"""

from __future__ import annotations

import email.utils
import json
import random
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from nfd.errors import AuthError, NotFoundError, RegistryError, TooLargeError, UsageError
from nfd.oci._auth import SCOPE_EXTENSION, RegistryAuth, origin_of
from nfd.oci._credentials import Credential
from nfd.oci._options import RegistryOptions
from nfd.oci._token_cache import TokenCache

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "DELETE"})
MAX_REDIRECTS = 5
MAX_ERROR_BODY = 64 * 1024
BACKOFF_BASE = 0.2
BACKOFF_CAP = 5.0


@dataclass(frozen=True)
class Reply:
    """A finished response: status, headers and the (bounded) body."""

    status: int
    headers: httpx.Headers
    body: bytes
    url: str


def make_http_client(options: RegistryOptions) -> httpx.Client:
    """An ``httpx.Client`` honouring ``--insecure`` and ``--ca-file``; no redirects, no auth."""
    verify: ssl.SSLContext | bool = True
    if options.insecure:
        verify = False
    elif options.ca_file:
        verify = ssl.create_default_context()
        try:
            verify.load_verify_locations(cafile=options.ca_file)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise UsageError(f"`ca_file` {options.ca_file}: cannot load: {reason}",
                             arguments=("ca_file",)) from None
    return httpx.Client(
        verify=verify,
        timeout=httpx.Timeout(options.timeout),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": "nfd-client"},
    )


@dataclass(frozen=True)
class _Call:
    """What stays the same across the attempts and redirects of one :meth:`HostSession.call`."""

    method: str
    repository: str
    what: str
    scopes: tuple[str, ...]
    headers: Mapping[str, str] | None
    content: bytes | None
    limit: int
    deadline: float


class HostSession:
    """Requests to one registry host, sharing an ``httpx.Client`` and a token cache."""

    def __init__(
        self,
        host: str,
        scheme: str,
        options: RegistryOptions,
        http: httpx.Client,
        tokens: TokenCache,
        credential: Callable[[str], Credential],
        *,
        fallback_to_http: bool = False,
    ) -> None:
        self.host = host
        self.scheme = scheme
        self._options = options
        self._http = http
        self._tokens = tokens
        self._credential = credential
        self._fallback_to_http = fallback_to_http
        self._rng = random.Random()
        self._auth = self._make_auth()

    def _make_auth(self) -> RegistryAuth:
        def lookup(request: httpx.Request) -> Credential:
            return self._credential(str(request.extensions.get("nfd.repository", "")))

        return RegistryAuth(origin_of(f"{self.scheme}://{self.host}"), lookup, self._tokens)

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def call(
        self,
        method: str,
        path: str,
        *,
        repository: str,
        what: str,
        scopes: tuple[str, ...] = (),
        ok: frozenset[int] = frozenset({200}),
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        limit: int = 0,
        idempotent: bool | None = None,
    ) -> Reply:
        """Send ``method path`` (or an absolute URL), retrying and following redirects.

        Statuses outside ``ok`` raise; the body is read up to ``limit`` bytes
        (over it: :class:`TooLargeError`).
        """
        retry = method in IDEMPOTENT if idempotent is None else idempotent
        deadline = self._options.call_deadline()
        call = _Call(method, repository, what, scopes, headers, content, limit, deadline)
        attempt = 0
        while True:
            attempt += 1
            url = path if "://" in path else f"{self.base_url}{path}"
            try:
                reply = self._send_following(call, url)
            except _Retryable as exc:
                failure: RegistryError = exc.error
                retry_after: float | None = None
            else:
                if reply.status in ok:
                    return reply
                failure = self._status_error(reply, what, repository)
                if reply.status not in RETRY_STATUSES:
                    raise failure
                retry_after = _retry_after(reply.headers.get("Retry-After"))
            if not retry or attempt > self._options.retries:
                if attempt > 1:
                    failure.message += f" (after {attempt} attempts)"
                    failure.args = (str(failure),)
                raise failure
            backoff = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
            delay = retry_after if retry_after is not None else backoff * self._rng.uniform(0.5, 1)
            if time.monotonic() + delay >= deadline:
                failure.message += " (no time left to retry within the timeout)"
                failure.args = (str(failure),)
                raise failure
            time.sleep(delay)

    def _send_following(self, call: _Call, url: str) -> Reply:
        for _ in range(MAX_REDIRECTS + 1):
            reply = self._send_once(call, url)
            location = reply.headers.get("Location")
            if reply.status not in (301, 302, 303, 307, 308) or not location \
                    or call.method not in ("GET", "HEAD"):
                return reply
            url = str(httpx.URL(url).join(location))
        raise RegistryError(f"{call.what}: more than {MAX_REDIRECTS} redirects",
                            registry=self.host, repository=call.repository)

    def _send_once(self, call: _Call, url: str) -> Reply:
        method, repository, what = call.method, call.repository, call.what
        deadline = call.deadline
        left = deadline - time.monotonic()
        if left <= 0:
            raise self._error(RegistryError, f"{what}: timed out after {self._options.timeout:g}s",
                              repository)
        request = self._http.build_request(
            method, url, headers=dict(call.headers or {}), content=call.content,
            timeout=httpx.Timeout(left),
            extensions={SCOPE_EXTENSION: call.scopes, "nfd.repository": repository},
        )
        same_host = origin_of(url) == origin_of(self.base_url)
        try:
            response = self._http.send(request, auth=self._auth if same_host else None,
                                       stream=True)
            try:
                cap = call.limit if 200 <= response.status_code < 300 else MAX_ERROR_BODY
                body = b"" if method == "HEAD" else self._read_body(
                    response, cap, deadline, what, repository)
            finally:
                response.close()
        except httpx.TimeoutException:
            raise _Retryable(self._error(
                RegistryError, f"{what}: timed out after {self._options.timeout:g}s", repository
            )) from None
        except httpx.ConnectError as exc:
            if _is_tls_error(exc):
                if self._fallback_to_http and self.scheme == "https" and not _is_cert_error(exc):
                    # Docker's rule for local registries: no TLS spoken there, use plain HTTP.
                    self.scheme = "http"
                    self._auth = self._make_auth()
                    return self._send_once(call, url.replace("https://", "http://", 1))
                raise self._error(RegistryError, f"{what}: TLS failure: {_short(exc)}",
                                  repository) from None
            raise _Retryable(self._error(
                RegistryError, f"{what}: cannot connect: {_short(exc)}", repository)) from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise _Retryable(self._error(
                RegistryError, f"{what}: connection broken mid-answer: {_short(exc)}", repository
            )) from None
        except httpx.HTTPError as exc:
            raise self._error(RegistryError, f"{what}: {_short(exc)}", repository) from None
        return Reply(response.status_code, response.headers, body, str(response.url))

    def _read_body(
        self, response: httpx.Response, limit: int, deadline: float, what: str, repository: str
    ) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit and response.is_success:
            raise self._error(TooLargeError,
                              f"{what}: {declared} bytes, over the {limit}-byte limit", repository)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                if not response.is_success:
                    break  # an error page: its start is enough
                raise self._error(TooLargeError, f"{what}: over the {limit}-byte limit",
                                  repository)
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("deadline passed while reading the body")
        return b"".join(chunks)

    def _status_error(self, reply: Reply, what: str, repository: str) -> RegistryError:
        detail = _error_detail(reply.body)
        status = reply.status
        if status == 401:
            return self._error(AuthError, f"{what}: unauthorized (401){detail}", repository,
                               status)
        if status == 403:
            return self._error(AuthError, f"{what}: access denied (403){detail}", repository,
                               status)
        if status == 404:
            return self._error(NotFoundError, f"{what}: not found (404){detail}", repository,
                               status)
        if status == 429:
            return self._error(RegistryError, f"{what}: too many requests (429){detail}",
                               repository, status)
        if status >= 500:
            return self._error(RegistryError, f"{what}: server error ({status}){detail}",
                               repository, status)
        return self._error(RegistryError, f"{what}: unexpected status {status}{detail}",
                           repository, status)

    def _error(
        self, kind: type[RegistryError], message: str, repository: str, status: int | None = None
    ) -> RegistryError:
        return kind(message, registry=self.host, repository=repository or None, status=status)


class _Retryable(Exception):
    """A failure worth another attempt, carrying the error to raise if none is left."""

    def __init__(self, error: RegistryError) -> None:
        super().__init__(str(error))
        self.error = error


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _error_detail(body: bytes) -> str:
    """The registry's error codes (distribution spec "Error Codes"), one line, bounded."""
    try:
        errors = json.loads(body).get("errors")
        parts = [f"{e.get('code', '')}: {e.get('message', '')}".strip(": ")
                 for e in errors if isinstance(e, dict)]
    except (ValueError, AttributeError, TypeError):
        return ""
    text = "; ".join(p for p in parts if p)
    return f": {' '.join(text.split())[:200]}" if text else ""


def _is_tls_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "SSL" in str(seen) or "TLS" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _is_cert_error(exc: BaseException) -> bool:
    return "CERTIFICATE" in str(exc).upper() or "hostname" in str(exc)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
