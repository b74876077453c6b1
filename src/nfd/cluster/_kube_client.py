"""The one Kubernetes API client: reading NodeFeature pages and writing NodeFeatureRules.

Every call goes through the bounded transport of :mod:`nfd._budget_httpx`: one deadline
covering connect, TLS, headers and the whole body, and one byte budget, so an API
server that trickles or never stops cannot hold or fill us. The kubeconfig's proxy
(``proxy-url``), CA, client certificate, ``insecure-skip-tls-verify`` and
``tls-server-name`` (the name the certificate is checked against, sent as SNI) apply to
reads and writes alike. Redirects are not followed (client-go follows none for a
credentialed request to another host either). Errors are worded here: a transport
exception's own text can quote what we sent (a header holding a token), so it is never
passed on; server text (a ``Status`` message) is cleaned of every secret we hold.

:meth:`KubeClient.stream_lines` reads an answer as it arrives, one line at a time (a
watch: Kubernetes streams one JSON event per line), with the same transport and
wording, a byte cap per line and in total, and two deadlines: the whole stream's, and one
per line once it has begun (a quiet watch sends nothing for long, so the gap between
lines is bounded by the whole stream's deadline only; a line trickled byte by byte is cut).
"""

from __future__ import annotations

import os
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import httpx

from nfd._budget import Budget, BudgetExceeded, BudgetScope
from nfd._budget_httpx import bounded_transport
from nfd.cluster._kubeconfig import ClusterAccess
from nfd.errors import ClusterError
from nfd.oci import Redactor

MAX_ERROR_BYTES = 64 * 1024
# Headers and the status line of one answer, beyond its body (httpcore caps a header
# block at 100 KiB).
_HEADER_ALLOWANCE = 128 * 1024


class _TooLarge(Exception):
    pass


def ssl_context(access: ClusterAccess) -> ssl.SSLContext | bool:
    """The TLS settings of ``access``: its CA (file or embedded), client certificate,
    or no verification when the kubeconfig says ``insecure-skip-tls-verify``."""
    if access.verify:
        context = ssl.create_default_context(cafile=access.ca_file, cadata=access.ca_pem)
    else:
        if not (access.cert_file or access.cert_pem):
            return False
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if access.cert_file or access.cert_pem:
        _load_client_certificate(context, access)
    return context


def _load_client_certificate(context: ssl.SSLContext, access: ClusterAccess) -> None:
    """``load_cert_chain`` reads files only: embedded PEM goes through private temporary
    files (mode 0600), removed at once."""
    made: list[str] = []
    try:
        cert = access.cert_file or _private_file(access.cert_pem or b"", made)
        key = access.key_file or (_private_file(access.key_pem, made) if access.key_pem
                                  else None)
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or "unreadable"
        raise ClusterError(f"{access.server}: the client certificate or key cannot be "
                           f"used: {reason}") from None
    finally:
        for path in made:
            os.unlink(path)


def _private_file(data: bytes, made: list[str]) -> str:
    fd, path = tempfile.mkstemp(prefix="nfd-kube-")
    made.append(path)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path


def describe_http_error(exc: httpx.HTTPError) -> str:
    """Our words for a transport failure: the exception's own text is never used (it may
    quote a header we sent); the operating system's reason is, when there is one."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS: the server's certificate is not trusted ({cause.verify_message})"
        if isinstance(cause, ssl.SSLError):
            return f"TLS: {cause.reason or 'handshake failed'}"
        if isinstance(cause, OSError) and cause.strerror:
            return f"cannot reach the API server: {cause.strerror}"
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.ProxyError):
        return "the proxy refused the connection"
    if isinstance(exc, httpx.LocalProtocolError):
        return "a request header is not valid HTTP (a credential with a control character?)"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.DecodingError)):
        return "the API server's answer is not valid HTTP"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "the server URL's scheme is not http or https"
    return f"cannot reach the API server ({type(exc).__name__})"


class KubeClient:
    """Calls to one API server; thread-safe (one httpx client, credentials behind a lock).

    ``load`` gives the access (kubeconfig or service account); with ``reload_on_401``
    a 401 loads it again once, as service account tokens are rotated on disk. The
    credentials are taught to ``redactor`` (the caller's, e.g. the command line's).
    """

    def __init__(self, load: Callable[[], ClusterAccess], timeout: float, *,
                 reload_on_401: bool = False, redactor: Redactor | None = None) -> None:
        self._load = load
        self.timeout = timeout
        self._reload_on_401 = reload_on_401
        self._lock = threading.Lock()
        self._scope = BudgetScope()
        self._redactor = redactor or Redactor()
        self.access = load()
        self._http = self._client(self.access)

    @property
    def server(self) -> str:
        return self.access.server

    def redact(self, text: str) -> str:
        """``text`` without any secret this client holds, in any spelling."""
        return self._redactor.clean(text)

    def _client(self, access: ClusterAccess) -> httpx.Client:
        for secret in access.secrets:
            self._redactor.add(secret)
        transport = bounded_transport(self._scope, ssl_context(access), access.proxy)
        return httpx.Client(transport=transport, timeout=httpx.Timeout(self.timeout),
                            trust_env=False, follow_redirects=False,
                            headers={"Accept": "application/json", **access.headers})

    def close(self) -> None:
        self._http.close()

    def _reload(self, stale: httpx.Client) -> None:
        with self._lock:
            if self._http is stale:  # another thread may have reloaded already
                self.access = self._load()
                self._http = self._client(self.access)
                stale.close()

    def call(self, method: str, path: str, *, what: str, max_bytes: int,
             params: Mapping[str, str | int] | None = None, content: bytes | None = None,
             answer: str = "an answer", timeout: float | None = None) -> tuple[int, bytes]:
        """``(status, body)`` of one request; a success body over ``max_bytes`` is an
        error, an error body is kept up to 64 KiB. ``what`` names the call in errors,
        ``answer`` what it gets back; ``timeout`` replaces the client's deadline for this
        call (a watch the server ends after ``timeoutSeconds`` needs a little more)."""
        for attempt in (1, 2):
            http = self._http
            status, body = self._once(http, method, path, (what, answer), max_bytes, params,
                                      content, self.timeout if timeout is None else timeout)
            if status == 401 and attempt == 1 and self._reload_on_401:
                self._reload(http)
                continue
            return status, body
        return status, body

    def _once(self, http: httpx.Client, method: str, path: str, names: tuple[str, str],
              max_bytes: int,
              params: Mapping[str, str | int] | None,
              content: bytes | None, timeout: float) -> tuple[int, bytes]:
        budget = Budget(time.monotonic() + timeout,
                        max(max_bytes, MAX_ERROR_BYTES) + _HEADER_ALLOWANCE)
        request = self._request(http, method, path, params, content, budget)
        try:
            with self._scope.spending(budget):
                response = http.send(request, stream=True)
                try:
                    return response.status_code, _read_body(response, max_bytes)
                finally:
                    response.close()
        except (BudgetExceeded, _TooLarge):
            raise ClusterError(f"{names[0]}: {names[1]} over {max_bytes} bytes") from None
        except httpx.TimeoutException:
            raise ClusterError(f"{names[0]}: timed out after {timeout:g}s") from None
        except httpx.HTTPError as exc:
            raise ClusterError(f"{self.server}: {describe_http_error(exc)}") from None

    def _request(self, http: httpx.Client, method: str, path: str,
                 params: Mapping[str, str | int] | None, content: bytes | None,
                 budget: Budget) -> httpx.Request:
        headers = {"Content-Type": "application/json"} if content is not None else None
        # kubeconfig's tls-server-name: the name the certificate is checked against.
        sni = {"sni_hostname": self.access.tls_server_name} if self.access.tls_server_name \
            else {}
        return http.build_request(method, self.server + path, params=params, content=content,
                                  headers=headers,
                                  timeout=httpx.Timeout(budget.seconds_left()),
                                  extensions=sni)

    @contextmanager
    def stream_lines(self, method: str, path: str, *, what: str, max_line_bytes: int,
                     max_bytes: int, idle_timeout: float, timeout: float,
                     params: Mapping[str, str | int] | None = None,
                     answer: str = "a stream") -> Iterator[LineStream]:
        """``with client.stream_lines(...) as stream:`` the answer's status, then its lines
        as they arrive (``for line in stream``, without the newline). Bounds: ``max_bytes``
        in all and ``max_line_bytes`` per line, ``timeout`` for the whole call, and
        ``idle_timeout`` for a line from its first byte to its end. An error answer's body
        is :meth:`LineStream.error_body` (up to 64 KiB). A 401 reloads the credentials once,
        as :meth:`call` does."""
        names = (what, answer)
        for attempt in (1, 2):
            http = self._http
            stream = LineStream(self._scope, names, (max_line_bytes, max_bytes),
                                (idle_timeout, timeout))
            stream.open(http, self._request(http, method, path, params, None, stream.budget),
                        self.server)
            if stream.status == 401 and attempt == 1 and self._reload_on_401:
                stream.close()
                self._reload(http)
                continue
            break
        try:
            yield stream
        finally:
            stream.close()


class LineStream:
    """One streamed answer of :meth:`KubeClient.stream_lines`.

    The byte budget and deadline are spent at the socket (:mod:`nfd._budget_httpx`) only
    while this stream reads, so the caller's work between lines (applying an event) is
    not charged to the line deadline, and other calls of the thread keep their own."""

    def __init__(self, scope: BudgetScope, names: tuple[str, str],
                 caps: tuple[int, int], deadlines: tuple[float, float]) -> None:
        self._scope = scope
        self._server = ""
        self._names = names
        self.max_line_bytes, self.max_bytes = caps
        self.idle_timeout, self.timeout = deadlines
        self._end = time.monotonic() + self.timeout
        self.budget = Budget(self._end, max(self.max_bytes, MAX_ERROR_BYTES)
                             + _HEADER_ALLOWANCE)
        self._response: httpx.Response | None = None
        self.status = 0

    def open(self, http: httpx.Client, request: httpx.Request, server: str) -> None:
        self._server = server
        with self._guard(), self._scope.spending(self.budget):
            self._response = http.send(request, stream=True)
        self.status = self._response.status_code

    def close(self) -> None:
        if self._response is not None:
            self._response.close()

    def error_body(self) -> bytes:
        """The start of an error answer (64 KiB at most)."""
        assert self._response is not None
        with self._guard():
            return _read_body(self._response, self.max_bytes)

    def __iter__(self) -> Iterator[bytes]:
        assert self._response is not None
        chunks = self._response.iter_bytes()
        pending = bytearray()
        started = 0.0  # when the line in ``pending`` began
        total = 0
        while True:
            # A line under way has until its own deadline; between lines, the stream's.
            self.budget.deadline = min(self._end, started + self.idle_timeout) if pending \
                else self._end
            chunk = self._next(chunks)
            if chunk is None:
                break
            total += len(chunk)
            if total > self.max_bytes:
                raise ClusterError(f"{self._names[0]}: {self._names[1]} over "
                                   f"{self.max_bytes} bytes")
            start, began = 0, not pending
            while (newline := chunk.find(b"\n", start)) >= 0:
                pending += chunk[start:newline]
                self._check_line(len(pending))
                line = bytes(pending)
                pending.clear()
                start, began = newline + 1, True
                yield line
            pending += chunk[start:]
            self._check_line(len(pending))
            if pending and began:
                started = time.monotonic()
        if pending:  # the last line, unended: the caller finds it cut short
            yield bytes(pending)

    def _check_line(self, size: int) -> None:
        if size > self.max_line_bytes:
            raise ClusterError(f"{self._names[0]}: a line over {self.max_line_bytes} bytes")

    def _next(self, chunks: Iterator[bytes]) -> bytes | None:
        with self._guard(), self._scope.spending(self.budget):
            return next(chunks, None)

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Our words for what went wrong (never a transport exception's own text)."""
        what = self._names[0]
        try:
            yield
        except (BudgetExceeded, _TooLarge):
            raise ClusterError(f"{what}: {self._names[1]} over {self.max_bytes} bytes") \
                from None
        except httpx.TimeoutException:
            if self.budget.deadline < self._end:
                raise ClusterError(f"{what}: a line not ended within "
                                   f"{self.idle_timeout:g}s") from None
            raise ClusterError(f"{what}: timed out after {self.timeout:g}s") from None
        except httpx.HTTPError as exc:
            raise ClusterError(f"{self._server}: {describe_http_error(exc)}") from None


def _read_body(response: httpx.Response, max_bytes: int) -> bytes:
    ok = 200 <= response.status_code < 300
    limit = max_bytes if ok else MAX_ERROR_BYTES
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            if not ok:
                break  # an error body: its start is enough
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)
