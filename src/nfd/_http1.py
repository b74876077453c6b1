"""A small HTTP/1.1 client on the socket: every wait and every byte under one budget.

The registry path needs a handful of GETs, HEADs, PUTs and POSTs to a few hosts. A
general client (httpx and its stack: about 80 ms of imports) gives more than that, and
applies its timeouts per socket read, so its deadline had to be patched in underneath.
Here the deadline and byte cap of the *operation* (:class:`nfd._budget.Budget`) are the
client's own: each connect, TLS handshake, send and read gets only the time left, and
every byte read is charged, status line and headers included (RFC 9112 message syntax:
status line, header fields, then a body framed by ``Transfer-Encoding: chunked``,
``Content-Length`` or the connection's close).

Connections are kept alive and reused per origin (``scheme://host:port``). Redirects,
retries and authentication are the caller's (``nfd.oci._http``): this module sends one
request and reads one answer. TLS comes from the caller's ``ssl.SSLContext``, made on
first use, so a plain-HTTP run never imports ``ssl``.
"""

from __future__ import annotations

import select
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlencode, urljoin, urlsplit

from nfd._budget import Budget, DeadlinePassed
from nfd._lazy import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl
    from typing import overload

MAX_HEADER_BYTES = 100 * 1024  # the whole header block, as httpcore (h11) bounds it
MAX_LINE = 8 * 1024  # a chunk-size line
MAX_INTERIM = 8  # 1xx answers before the final one
RECV_SIZE = 64 * 1024
IDEMPOTENT = frozenset({"GET", "HEAD", "DELETE", "PUT", "OPTIONS"})
_UNSAFE = frozenset(chr(c) for c in (*range(0x21), 0x7F))


class HTTPFailure(Exception):
    """A request that got no usable answer."""


class BadURL(HTTPFailure):
    """A URL we will not send a request to."""


class ConnectFailed(HTTPFailure):
    """No connection: refused, unresolvable, or a TLS handshake that failed."""

    def __init__(self, message: str, *, tls: bool = False, certificate: bool = False) -> None:
        super().__init__(message)
        self.tls = tls
        self.certificate = certificate


class BrokenAnswer(HTTPFailure):
    """The connection broke, or what came back is not HTTP/1.x."""


class URL:
    """An absolute ``http``/``https`` URL, checked to be safe to put on the wire."""

    __slots__ = ("host", "port", "scheme", "target")

    def __init__(self, scheme: str, host: str, port: int, target: str) -> None:
        self.scheme, self.host, self.port, self.target = scheme, host, port, target

    @classmethod
    def parse(cls, text: str) -> URL:
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError as exc:
            raise BadURL(f"invalid URL {text[:200]!r}: {exc}") from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise BadURL(f"not an http(s) URL: {text[:200]!r}")
        if parts.username is not None or parts.password is not None:
            raise BadURL("a URL with credentials in it is refused")
        host = _ascii_host(parts.hostname or "", text)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if not target.startswith("/") or any(c in _UNSAFE for c in target):
            raise BadURL(f"invalid URL path {target[:200]!r}")
        return cls(scheme, host, port or (443 if scheme == "https" else 80), target)

    @property
    def default_port(self) -> bool:
        return self.port == (443 if self.scheme == "https" else 80)

    @property
    def netloc(self) -> str:
        """``host`` or ``host:port`` (the ``Host`` header), IPv6 literals bracketed."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.default_port else f"{host}:{self.port}"

    @property
    def origin(self) -> str:
        """``scheme://host:port``, the default port spelled out."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def join(self, reference: str) -> URL:
        """``reference`` (a Location or Link) resolved against this URL (RFC 3986 5.2)."""
        if any(c in reference for c in "\r\n\0"):
            raise BadURL(f"invalid URL {reference[:200]!r}")
        try:
            joined = urljoin(str(self), reference)
        except ValueError as exc:
            raise BadURL(f"invalid URL {reference[:200]!r}: {exc}") from None
        return URL.parse(joined)

    def with_params(self, params: Iterable[tuple[str, str]]) -> URL:
        """This URL with ``params`` appended to its query, form-encoded."""
        query = urlencode(list(params))
        if not query:
            return self
        joiner = "&" if "?" in self.target else "?"
        return URL(self.scheme, self.host, self.port, f"{self.target}{joiner}{query}")

    def __str__(self) -> str:
        return f"{self.scheme}://{self.netloc}{self.target}"

    def __repr__(self) -> str:
        return f"URL({str(self)!r})"


def _ascii_host(host: str, text: str) -> str:
    if not host:
        raise BadURL(f"URL without a host: {text[:200]!r}")
    if not host.isascii():
        try:  # Python's own IDNA codec (RFC 3490), only for the rare non-ASCII name
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise BadURL(f"invalid host name in {text[:200]!r}") from None
    if any(c in _UNSAFE or c in "/?#@" for c in host):
        raise BadURL(f"invalid host name in {text[:200]!r}")
    return host.lower()


class Headers:
    """Response header fields, looked up case-insensitively; repeated ones joined by
    ``", "`` (RFC 9110 5.3)."""

    __slots__ = ("_fields",)

    def __init__(self, fields: list[tuple[str, str]] | None = None) -> None:
        self._fields: dict[str, str] = {}
        for name, value in fields or ():
            key = name.lower()
            self._fields[key] = f"{self._fields[key]}, {value}" if key in self._fields else value

    if TYPE_CHECKING:
        @overload
        def get(self, name: str) -> str | None: ...

        @overload
        def get(self, name: str, default: str) -> str: ...

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._fields.get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._fields

    def __getitem__(self, name: str) -> str:
        return self._fields[name.lower()]

    def __repr__(self) -> str:
        return f"Headers({sorted(self._fields)!r})"


class Request:
    """One request to send: ``limit`` bounds the body kept of a successful (2xx) answer;
    other answers keep ``error_limit`` bytes (the start of an error page is enough)."""

    __slots__ = ("content", "error_limit", "headers", "limit", "method", "url")

    def __init__(self, method: str, url: URL, headers: dict[str, str] | None = None,
                 content: bytes | None = None, *, limit: int = 0,
                 error_limit: int = 64 * 1024) -> None:
        self.method, self.url, self.content = method, url, content
        self.headers = dict(headers or {})
        self.limit, self.error_limit = limit, error_limit


class Response:
    """A finished answer. ``over_limit``: the body went past the request's bound and was
    cut there (``body`` holds what was kept; nothing more is read)."""

    __slots__ = ("body", "declared_size", "headers", "over_limit", "status", "url")

    def __init__(self, status: int, headers: Headers, body: bytes, url: URL, *,
                 over_limit: bool = False, declared_size: int | None = None) -> None:
        self.status, self.headers, self.body, self.url = status, headers, body, url
        self.over_limit, self.declared_size = over_limit, declared_size

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300


class _Connection:
    """One socket and what has been read from it but not yet consumed."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.received_any = False
        self.reusable = True

    def close(self) -> None:
        self.reusable = False
        try:  # noqa: SIM105 (contextlib would be this command's only importer of it)
            self.sock.close()
        except OSError:
            pass

    def stale(self) -> bool:
        """An idle connection the peer closed (or wrote to unasked) is not reused."""
        if self.buffer:
            return True
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def fill(self, budget: Budget) -> bool:
        """Read what the socket has (waiting at most the time left); False at its end."""
        self.sock.settimeout(budget.timeout(None))
        try:
            data = self.sock.recv(RECV_SIZE)
        except TimeoutError:
            raise DeadlinePassed("the operation's deadline passed while reading") from None
        except OSError as exc:
            raise BrokenAnswer(f"connection broken: {_reason(exc)}") from None
        budget.charge(len(data))
        if not data:
            return False
        self.received_any = True
        self.buffer += data
        return True

    def read_line(self, budget: Budget, limit: int) -> bytes:
        """One CRLF- (or LF-) terminated line without its ending, at most ``limit`` long."""
        start = 0
        while True:
            end = self.buffer.find(b"\n", start)
            if end >= 0:
                line = bytes(self.buffer[:end])
                del self.buffer[:end + 1]
                return line.removesuffix(b"\r")
            if len(self.buffer) > limit:
                raise BrokenAnswer(f"a line over {limit} bytes")
            start = len(self.buffer)
            if not self.fill(budget):
                raise BrokenAnswer("connection closed mid-answer")

    def read_up_to(self, budget: Budget, size: int) -> bytes:
        """Up to ``size`` bytes (fewer only at the connection's end), received straight
        into one buffer of that size: a 4 MiB manifest is not copied chunk by chunk."""
        out = bytearray(size)
        got = min(size, len(self.buffer))
        out[:got] = self.buffer[:got]
        del self.buffer[:got]
        view = memoryview(out)
        while got < size:
            self.sock.settimeout(budget.timeout(None))
            try:
                count = self.sock.recv_into(view[got:], min(size - got, 1 << 20))
            except TimeoutError:
                raise DeadlinePassed("the operation's deadline passed while reading") from None
            except OSError as exc:
                raise BrokenAnswer(f"connection broken: {_reason(exc)}") from None
            budget.charge(count)
            if count == 0:
                break
            self.received_any = True
            got += count
        view.release()
        del out[got:]
        return bytes(out)


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())[:300]


class Pool:
    """Keep-alive connections per origin; ``tls`` makes the TLS context on first use."""

    def __init__(self, tls: Callable[[], ssl.SSLContext], *,
                 user_agent: str = "nfd-client") -> None:
        self._make_tls = tls
        self._tls: ssl.SSLContext | None = None
        self._idle: dict[str, list[_Connection]] = {}
        self._user_agent = user_agent
        self.sent = 0

    def close(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    def send(self, request: Request, budget: Budget) -> Response:
        """Send ``request`` and read its answer, all within ``budget``."""
        connection, reused = self._connection(request.url, budget)
        try:
            return self._exchange(connection, request, budget)
        except BrokenAnswer:
            # A kept-alive connection the server closed meanwhile: once more on a new one,
            # when nothing came back and repeating the request is harmless (RFC 9110 9.2.2).
            if not reused or connection.received_any or request.method not in IDEMPOTENT:
                raise
        connection = self._connect(request.url, budget)
        return self._exchange(connection, request, budget)

    def _connection(self, url: URL, budget: Budget) -> tuple[_Connection, bool]:
        idle = self._idle.get(url.origin, [])
        while idle:
            connection = idle.pop()
            if not connection.stale():
                connection.received_any = False
                return connection, True
            connection.close()
        return self._connect(url, budget), False

    def _connect(self, url: URL, budget: Budget) -> _Connection:
        try:
            # An ASCII name as bytes: getaddrinfo then skips the IDNA codec.
            sock = socket.create_connection(
                (url.host.encode("ascii"), url.port),  # type: ignore[arg-type]
                timeout=budget.timeout(None))
        except TimeoutError:
            raise DeadlinePassed("the operation's deadline passed while connecting") from None
        except OSError as exc:
            raise ConnectFailed(_reason(exc)) from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if url.scheme == "https":
                sock = self._start_tls(sock, url.host, budget)
        except BaseException:
            sock.close()
            raise
        return _Connection(sock)

    def _start_tls(self, sock: socket.socket, host: str, budget: Budget) -> socket.socket:
        import ssl

        if self._tls is None:
            self._tls = self._make_tls()
        sock.settimeout(budget.timeout(None))
        try:
            # As bytes: ssl would send a str through the idna codec (encodings.idna,
            # stringprep and unicodedata: a millisecond of a cold start); the host is
            # ASCII already (_ascii_host did the IDNA step for a non-ASCII name).
            return self._tls.wrap_socket(sock, server_hostname=host.encode("ascii"))
        except TimeoutError:
            raise DeadlinePassed("the operation's deadline passed in the TLS handshake") from None
        except ssl.SSLCertVerificationError as exc:
            raise ConnectFailed(f"TLS certificate not trusted: {_reason(exc)}", tls=True,
                                certificate=True) from None
        except (ssl.SSLError, ssl.CertificateError) as exc:
            raise ConnectFailed(f"TLS handshake failed: {_reason(exc)}", tls=True) from None
        except OSError as exc:
            raise ConnectFailed(f"TLS handshake failed: {_reason(exc)}", tls=True) from None

    def _exchange(self, connection: _Connection, request: Request, budget: Budget) -> Response:
        try:
            self._write(connection, request, budget)
            response = self._read(connection, request, budget)
        except BaseException:
            connection.close()
            raise
        if connection.reusable:
            self._idle.setdefault(request.url.origin, []).append(connection)
        else:
            connection.close()
        return response

    def _write(self, connection: _Connection, request: Request, budget: Budget) -> None:
        url = request.url
        fields = {"Host": url.netloc, "User-Agent": self._user_agent,
                  "Accept-Encoding": "identity", **request.headers}
        if request.content is not None or request.method in ("POST", "PUT", "PATCH"):
            fields["Content-Length"] = str(len(request.content or b""))
        lines = [f"{request.method} {url.target} HTTP/1.1"]
        for name, value in fields.items():
            if any(c in _UNSAFE and c != " " and c != "\t" for c in value) or \
                    not name.isascii() or any(c in _UNSAFE or c == ":" for c in name):
                raise BadURL(f"header {name[:50]!r} has characters HTTP does not allow")
            lines.append(f"{name}: {value}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "strict")
        connection.sock.settimeout(budget.timeout(None))
        self.sent += 1
        try:
            connection.sock.sendall(head + (request.content or b""))
        except TimeoutError:
            raise DeadlinePassed("the operation's deadline passed while sending") from None
        except OSError as exc:
            raise BrokenAnswer(f"connection broken while sending: {_reason(exc)}") from None

    def _read(self, connection: _Connection, request: Request, budget: Budget) -> Response:
        for _ in range(MAX_INTERIM + 1):
            status, headers, keep_alive = _read_head(connection, budget)
            if not 100 <= status < 200 or status == 101:
                break
        else:
            raise BrokenAnswer(f"more than {MAX_INTERIM} interim (1xx) answers")
        connection.reusable = keep_alive
        limit = request.limit if 200 <= status < 300 else request.error_limit
        if request.method == "HEAD" or status in (101, 204, 304):
            return Response(status, headers, b"", request.url)
        body, over, declared = _read_body(connection, headers, budget, limit)
        if over:
            connection.reusable = False
        return Response(status, headers, body, request.url, over_limit=over,
                        declared_size=declared)


def _read_head(connection: _Connection, budget: Budget) -> tuple[int, Headers, bool]:
    """Status line and header fields (RFC 9112 4, 5), the block bounded as a whole."""
    while True:
        end, cut = _head_end(connection.buffer)
        if end >= 0:
            break
        if len(connection.buffer) > MAX_HEADER_BYTES:
            raise BrokenAnswer(f"a header block over {MAX_HEADER_BYTES} bytes")
        if not connection.fill(budget):
            raise BrokenAnswer("connection closed before an answer" if not connection.buffer
                               else "connection closed mid-answer")
    if end > MAX_HEADER_BYTES:
        raise BrokenAnswer(f"a header block over {MAX_HEADER_BYTES} bytes")
    block = bytes(connection.buffer[:end]).decode("latin-1")
    del connection.buffer[:end + cut]
    status_line, *lines = block.replace("\r\n", "\n").split("\n")
    version, _, rest = status_line.partition(" ")
    code = rest[:3]
    if version not in ("HTTP/1.1", "HTTP/1.0") or len(code) != 3 or not code.isdigit() \
            or not code.isascii():
        raise BrokenAnswer(f"not an HTTP/1.x answer: {status_line[:80]!r}")
    fields = []
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or line[:1] in (" ", "\t"):
            raise BrokenAnswer(f"malformed header line {line[:80]!r}")
        fields.append((name, value.strip(" \t")))
    headers = Headers(fields)
    tokens = {t.strip().lower() for t in (headers.get("Connection") or "").split(",")}
    keep_alive = "close" not in tokens if version == "HTTP/1.1" else "keep-alive" in tokens
    return int(code), headers, keep_alive


def _head_end(buffer: bytearray) -> tuple[int, int]:
    """Where the header block ends (the first empty line, CRLF or bare LF) and the length
    of that ending; (-1, 0) while it has not arrived."""
    crlf, lf = buffer.find(b"\r\n\r\n"), buffer.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf < lf):
        return crlf, 4
    return (lf, 2) if lf >= 0 else (-1, 0)


def _read_body(connection: _Connection, headers: Headers, budget: Budget, limit: int
               ) -> tuple[bytes, bool, int | None]:
    """The body (at most ``limit`` bytes kept), whether it went past ``limit``, and its
    declared ``Content-Length``."""
    encoding = (headers.get("Transfer-Encoding") or "").strip().lower()
    if encoding:
        if encoding != "chunked":
            raise BrokenAnswer(f"unsupported Transfer-Encoding {encoding[:40]!r}")
        if "Content-Length" in headers:
            connection.reusable = False  # both framings: RFC 9112 6.3 wants it closed after
        body, over = _read_chunked(connection, budget, limit)
        return body, over, None
    length = headers.get("Content-Length")
    if length is None:
        connection.reusable = False  # framed by the connection's close
        while len(connection.buffer) <= limit and connection.fill(budget):
            pass
        body = bytes(connection.buffer[:limit + 1])
        return body[:limit], len(body) > limit, None
    values = {v.strip() for v in length.split(",")}
    if len(values) != 1 or not next(iter(values)).isdigit() or not length.isascii() \
            or len(next(iter(values))) > 18:
        raise BrokenAnswer(f"invalid Content-Length {length[:40]!r}")
    declared = int(next(iter(values)))
    if declared > limit:
        return b"", True, declared
    body = connection.read_up_to(budget, declared)
    if len(body) < declared:
        raise BrokenAnswer(f"connection closed after {len(body)} of {declared} bytes")
    return body, False, declared


def _read_chunked(connection: _Connection, budget: Budget, limit: int) -> tuple[bytes, bool]:
    """A chunked body (RFC 9112 7.1); trailer fields are read and dropped."""
    body = bytearray()
    while True:
        line = connection.read_line(budget, MAX_LINE)
        size_text = line.split(b";", 1)[0].strip()
        if not size_text or len(size_text) > 16 or \
                any(c not in b"0123456789abcdefABCDEF" for c in size_text):
            raise BrokenAnswer(f"invalid chunk size {line[:40]!r}")
        size = int(size_text, 16)
        if size == 0:
            break
        if len(body) + size > limit:
            body += connection.read_up_to(budget, limit - len(body))
            return bytes(body), True
        chunk = connection.read_up_to(budget, size)
        if len(chunk) < size or connection.read_line(budget, 2) != b"":
            raise BrokenAnswer("connection closed mid-chunk")
        body += chunk
    trailer = 0
    while line := connection.read_line(budget, MAX_LINE):
        trailer += len(line)
        if trailer > MAX_HEADER_BYTES:
            raise BrokenAnswer(f"trailer fields over {MAX_HEADER_BYTES} bytes")
    return bytes(body), False
