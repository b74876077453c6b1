"""One registry host over HTTP: TLS, deadlines, retries, redirects and error mapping.

Every :meth:`HostSession.send` is one operation with one deadline
(``RegistryOptions.timeout``) and one byte budget, enforced at the socket by our
HTTP/1.1 client (:mod:`nfd._http1`, :mod:`nfd._budget`): retries, redirects, auth
round trips, headers and bodies all spend the same clock, so a registry that
trickles bytes cannot hold us beyond it, and one that never stops sending cannot
fill memory. Only
idempotent requests are retried (connection failures, truncated bodies,
408/429/5xx), with exponential backoff and ``Retry-After``. Redirects are
followed by hand so that credentials never reach another host. Every failure
becomes a :class:`RegistryError` naming registry, repository and step, its
server-supplied text redacted of every secret we hold.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping

from nfd import _http1
from nfd._budget import Budget, BudgetExceeded, Clock, DeadlinePassed
from nfd._http1 import URL, BadURL, Headers
from nfd._lazy import TYPE_CHECKING
from nfd._record import FrozenRecord, set_field
from nfd._redact import Redactor
from nfd.errors import AuthError, NotFoundError, RegistryError, TooLargeError, UsageError
from nfd.oci._auth import AuthFlow, RegistryAuth, TokenHosts
from nfd.oci._credentials import Credential
from nfd.oci._options import MAX_TOKEN_BYTES, RegistryOptions
from nfd.oci._token_cache import TokenCache

if TYPE_CHECKING:
    import ssl

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "DELETE"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
MAX_ERROR_BODY = 64 * 1024
# What one attempt may receive beyond its body: headers of redirects and auth round
# trips, 401 bodies and a token reply.
EXCHANGE_OVERHEAD = MAX_TOKEN_BYTES + 8 * MAX_ERROR_BODY
BACKOFF_BASE = 0.2
BACKOFF_CAP = 5.0

Sleep = Callable[[float], None]


class Reply(FrozenRecord):
    """A finished response: status, headers and the (bounded) body."""

    __slots__ = ("body", "headers", "status", "url")
    status: int
    headers: Headers
    body: bytes
    url: str

    def __init__(self, status: int, headers: Headers, body: bytes, url: str) -> None:
        set_field(self, "status", status)
        set_field(self, "headers", headers)
        set_field(self, "body", body)
        set_field(self, "url", url)


class Request(FrozenRecord):
    """One registry operation: what to send, what counts as success, how much to read.

    ``path`` is a path on the session's host or an absolute URL (a Link or
    Location the registry gave). ``limit`` bounds a successful body; over it
    :class:`TooLargeError` is raised.
    """

    __slots__ = (
        "content", "headers", "idempotent", "limit", "method", "ok", "path", "repository",
        "scopes", "what",
    )
    method: str
    path: str
    repository: str
    what: str
    scopes: tuple[str, ...]
    ok: frozenset[int]
    headers: Mapping[str, str] | None
    content: bytes | None
    limit: int
    idempotent: bool | None

    def __init__(
        self,
        method: str,
        path: str,
        repository: str,
        what: str,
        scopes: tuple[str, ...] = (),
        ok: frozenset[int] = frozenset({200}),
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        limit: int = 0,
        idempotent: bool | None = None,
    ) -> None:
        set_field(self, "method", method)
        set_field(self, "path", path)
        set_field(self, "repository", repository)
        set_field(self, "what", what)
        set_field(self, "scopes", scopes)
        set_field(self, "ok", ok)
        set_field(self, "headers", headers)
        set_field(self, "content", content)
        set_field(self, "limit", limit)
        set_field(self, "idempotent", idempotent)

    @property
    def retryable(self) -> bool:
        return self.method in IDEMPOTENT if self.idempotent is None else self.idempotent


def make_http_client(options: RegistryOptions) -> _http1.Pool:
    """The connection pool, its TLS honouring ``--insecure`` and ``--ca-file`` (the
    system's CAs, plus the file's); no redirects, no auth, no proxy variables. The CA
    file is checked now; TLS itself is set up on the first HTTPS connection."""
    if options.ca_file and not options.insecure:
        try:
            with open(options.ca_file, "rb"):
                pass
        except OSError as exc:
            raise UsageError(f"`ca_file` {options.ca_file}: cannot load: "
                             f"{exc.strerror or exc}", arguments=("ca_file",)) from None
    return _http1.Pool(lambda: tls_context(options))


def tls_context(options: RegistryOptions) -> ssl.SSLContext:
    """Verification against the system's CAs (and ``ca_file``'s), or none with
    ``insecure``."""
    import ssl

    context = ssl.create_default_context()
    if options.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif options.ca_file:
        try:
            context.load_verify_locations(cafile=options.ca_file)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise UsageError(f"`ca_file` {options.ca_file}: cannot load: {reason}",
                             arguments=("ca_file",)) from None
    return context


class _Failure(FrozenRecord):
    """An error not yet raised: raised once, whole, when the last attempt has failed."""

    __slots__ = ("credentials_sent", "kind", "message", "status")
    kind: type[RegistryError]
    message: str
    status: int | None
    credentials_sent: bool | None

    def __init__(
        self,
        kind: type[RegistryError],
        message: str,
        status: int | None = None,
        credentials_sent: bool | None = None,
    ) -> None:
        set_field(self, "kind", kind)
        set_field(self, "message", message)
        set_field(self, "status", status)
        set_field(self, "credentials_sent", credentials_sent)


class _Retryable(Exception):
    """A failure worth another attempt."""

    def __init__(self, failure: _Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


class _NoTLSHere(Exception):
    """The loopback host does not speak TLS: fall back to plain HTTP (Docker's rule)."""


class SessionContext(FrozenRecord):
    """What a session shares with its client: connection pool, budgets, tokens, secrets,
    and the clock and sleep (injectable, so retry tests need not really wait)."""

    __slots__ = ("clock", "http", "redactor", "sleep", "token_hosts", "tokens")
    http: _http1.Pool
    tokens: TokenCache
    redactor: Redactor
    token_hosts: TokenHosts
    clock: Clock
    sleep: Sleep

    def __init__(
        self,
        http: _http1.Pool,
        tokens: TokenCache,
        redactor: Redactor,
        token_hosts: TokenHosts,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        set_field(self, "http", http)
        set_field(self, "tokens", tokens)
        set_field(self, "redactor", redactor)
        set_field(self, "token_hosts", token_hosts)
        set_field(self, "clock", clock)
        set_field(self, "sleep", sleep)


class HostSession:
    """Requests to one registry host, sharing the client's :class:`SessionContext`."""

    def __init__(
        self,
        host: str,
        scheme: str,
        options: RegistryOptions,
        context: SessionContext,
        credential: Callable[[str], Credential],
        *,
        fallback_to_http: bool = False,
    ) -> None:
        self.host = host
        self.scheme = scheme
        self._options = options
        self._context = context
        self._credential = credential
        self._fallback_to_http = fallback_to_http
        self._auth = self._make_auth()

    def _make_auth(self) -> RegistryAuth:
        return RegistryAuth(URL.parse(self.base_url).origin, self._credential,
                            self._context.tokens, redactor=self._context.redactor,
                            token_hosts=self._context.token_hosts)

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def _use_plain_http(self) -> None:
        self.scheme = "http"
        self._fallback_to_http = False
        self._auth = self._make_auth()

    def send(self, request: Request) -> Reply:
        """Send ``request``, retrying and following redirects, all within one deadline.

        Statuses outside ``request.ok`` raise; the body is read up to ``request.limit``.
        """
        deadline = self._options.call_deadline(self._context.clock())
        attempt = 0
        while True:
            attempt += 1
            try:
                reply = self._send_following(request, deadline)
            except _Retryable as exc:
                failure = exc.failure
                retry_after: float | None = None
            else:
                if reply.status in request.ok:
                    return reply
                failure = self._status_failure(reply, request)
                if reply.status not in RETRY_STATUSES:
                    raise self._error(failure, request)
                retry_after = _retry_after(reply.headers.get("Retry-After"))
            if not request.retryable or attempt > self._options.retries:
                raise self._error(failure, request,
                                  f" (after {attempt} attempts)" if attempt > 1 else "")
            delay = retry_after if retry_after is not None else self._backoff(attempt)
            if self._context.clock() + delay >= deadline:
                raise self._error(failure, request,
                                  " (no time left to retry within the timeout)")
            self._context.sleep(delay)

    def _backoff(self, attempt: int) -> float:
        import random  # only when a request is retried

        ceiling: float = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** (attempt - 1))
        return ceiling * random.uniform(0.5, 1)

    def _send_following(self, request: Request, deadline: float) -> Reply:
        url = request.path if "://" in request.path else f"{self.base_url}{request.path}"
        cap = request.limit + EXCHANGE_OVERHEAD
        for _ in range(MAX_REDIRECTS + 1):
            budget = Budget(deadline, cap, self._context.clock)
            try:
                reply = self._send_once(request, url, budget)
            except _NoTLSHere:
                self._use_plain_http()
                url = "http://" + url.removeprefix("https://")
                reply = self._send_once(request, url, Budget(deadline, cap, self._context.clock))
            location = reply.headers.get("Location")
            if reply.status not in REDIRECTS or not location \
                    or request.method not in ("GET", "HEAD"):
                return reply
            url = self._join(reply.url, location, request)
        raise self._error(_Failure(RegistryError, f"{request.what}: more than {MAX_REDIRECTS} "
                                   "redirects"), request)

    def _join(self, base: str, location: str, request: Request) -> str:
        """``location`` resolved against the URL that answered (after a fallback: http)."""
        scheme = location.partition(":")[0].lower() if ":" in location.split("/")[0] else ""
        if scheme and scheme not in ("http", "https"):
            raise self._error(_Failure(RegistryError, f"{request.what}: redirect to a "
                                       f"{scheme[:20]!r} URL"), request)
        try:
            return str(URL.parse(base).join(location))
        except BadURL:
            raise self._error(_Failure(RegistryError, f"{request.what}: redirect to an invalid "
                                       f"URL {location[:200]!r}"), request) from None

    def _send_once(self, request: Request, url: str, budget: Budget) -> Reply:
        what = request.what
        if budget.seconds_left() <= 0:
            raise _Retryable(self._timed_out(what))
        try:
            wire = _http1.Request(request.method, URL.parse(url), dict(request.headers or {}),
                                  request.content, limit=request.limit,
                                  error_limit=MAX_ERROR_BODY)
            same_host = wire.url.origin == URL.parse(self.base_url).origin
            response = self._exchange(wire, request, budget, same_host)
        except BudgetExceeded as exc:
            raise self._error(_Failure(TooLargeError, f"{what}: the registry sent more "
                                       f"than {exc.limit} bytes"), request) from None
        except DeadlinePassed:
            raise _Retryable(self._timed_out(what)) from None
        except _http1.ConnectFailed as exc:
            raise self._connect_failure(exc, request, same_host) from None
        except _http1.BrokenAnswer as exc:
            raise _Retryable(_Failure(RegistryError, f"{what}: connection broken "
                                      f"mid-answer: {_short(exc)}")) from None
        except BadURL as exc:
            raise self._error(_Failure(RegistryError, f"{what}: invalid URL: "
                                       f"{_short(exc)}"), request) from None
        if response.over_limit and response.is_success:
            declared = response.declared_size
            size = f"{declared} bytes, over" if declared is not None else "over"
            raise self._error(_Failure(TooLargeError, f"{what}: {size} the "
                                       f"{request.limit}-byte limit"), request)
        return Reply(response.status, response.headers, response.body, str(response.url))

    def _exchange(self, wire: _http1.Request, request: Request, budget: Budget,
                  same_host: bool) -> _http1.Response:
        """Send ``wire``, answering the registry's auth challenges on its own host."""
        flow = self._auth.auth_flow(wire, request.scopes, request.repository) if same_host \
            else _as_sent(wire)
        outgoing = next(flow)
        while True:
            response = self._context.http.send(outgoing, budget)
            try:
                outgoing = flow.send(response)
            except StopIteration:
                return response

    def _connect_failure(self, exc: _http1.ConnectFailed, request: Request,
                         same_host: bool) -> Exception:
        if not exc.tls:
            return _Retryable(_Failure(RegistryError, f"{request.what}: cannot connect: "
                                       f"{_short(exc)}"))
        # Docker's rule, for this (loopback) registry only, never for a host it redirects to.
        if same_host and self._fallback_to_http and self.scheme == "https" \
                and not exc.certificate:
            return _NoTLSHere()
        return self._error(_Failure(RegistryError, f"{request.what}: TLS failure: "
                                    f"{_short(exc)}"), request)

    def _timed_out(self, what: str) -> _Failure:
        return _Failure(RegistryError, f"{what}: timed out after {self._options.timeout:g}s")

    def _status_failure(self, reply: Reply, request: Request) -> _Failure:
        what, status = request.what, reply.status
        detail = _error_detail(reply.body)
        if status == 401:
            return self._unauthorized(reply, request, detail)
        if status == 403:
            return _Failure(AuthError, f"{what}: access denied (403){detail}", status)
        if status == 404:
            return _Failure(NotFoundError, f"{what}: not found (404){detail}", status)
        if status == 429:
            return _Failure(RegistryError, f"{what}: too many requests (429){detail}", status)
        if status >= 500:
            return _Failure(RegistryError, f"{what}: server error ({status}){detail}", status)
        return _Failure(RegistryError, f"{what}: unexpected status {status}{detail}", status)

    def _unauthorized(self, reply: Reply, request: Request, detail: str) -> _Failure:
        """A 401 that says whether credentials were refused or none were there to send."""
        credential = self._credential(request.repository)
        sent = credential.has_basic or bool(credential.access_token or credential.refresh_token)
        if sent:
            who = f"user {credential.username}" if credential.username else "the token"
            told = f"{who} ({credential.origin}) was refused"
        else:
            told = "no credentials were given"
        return _Failure(AuthError, f"{request.what}: unauthorized (401): {told}{detail}", 401,
                        credentials_sent=sent)

    def _error(self, failure: _Failure, request: Request, suffix: str = "") -> RegistryError:
        """The error to raise, its server-supplied text redacted of our secrets."""
        message = self._context.redactor.clean(failure.message + suffix)
        repository = request.repository or None
        if failure.kind is AuthError:
            return AuthError(message, registry=self.host, repository=repository,
                             status=failure.status, credentials_sent=failure.credentials_sent)
        return failure.kind(message, registry=self.host, repository=repository,
                            status=failure.status)


def _as_sent(request: _http1.Request) -> AuthFlow:
    """The flow of a request to another host: sent as it is, no credentials added."""
    request.headers.pop("Authorization", None)
    yield request


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value) if len(value) < 10 else float("inf")
    import email.utils  # only for a date (registries mostly send seconds)

    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


def _error_detail(body: bytes) -> str:
    """The registry's error codes (distribution spec "Error Codes"), one line, bounded."""
    try:
        errors = json.loads(body).get("errors")
        parts = [f"{e.get('code', '')}: {e.get('message', '')}".strip(": ")
                 for e in errors if isinstance(e, dict)]
    except (ValueError, AttributeError, TypeError, RecursionError):
        return ""
    text = "; ".join(p for p in parts if p)
    return f": {' '.join(text.split())[:200]}" if text else ""


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
