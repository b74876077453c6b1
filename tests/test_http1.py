"""The registry's HTTP/1.1 client (``nfd/_http1.py``) against raw loopback servers that
answer as written here, well or badly: framing, keep-alive, bounds and deadlines.

The registry-level guarantees (retries, redirects, auth, the same attacks through the
whole client) are tested in ``tests/oci/``; here the wire itself.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from nfd._budget import Budget, BudgetExceeded, DeadlinePassed
from nfd._http1 import URL, BadURL, BrokenAnswer, ConnectFailed, Pool, Request

Answer = Callable[[socket.socket, int], None]


class RawServer:
    """Accepts connections on 127.0.0.1; ``answer(conn, n)`` writes the reply to the n-th
    request (counted over all connections) after its head has been read."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.accepted = 0
        self.requests: list[bytes] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def url(self, path: str = "/x") -> URL:
        return URL.parse(f"http://127.0.0.1:{self.port}{path}")

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while True:
                while b"\r\n\r\n" not in data:
                    try:
                        chunk = conn.recv(65536)
                    except OSError:
                        return
                    if not chunk:
                        return
                    data += chunk
                head, _, data = data.partition(b"\r\n\r\n")
                self.requests.append(head)
                try:
                    self.answer(conn, len(self.requests))
                except OSError:
                    return

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Answer], RawServer]]:
    servers: list[RawServer] = []

    def start(answer: Answer) -> RawServer:
        servers.append(RawServer(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _pool() -> Pool:
    def no_tls() -> object:
        raise AssertionError("plain HTTP needs no TLS context")

    return Pool(no_tls)  # type: ignore[arg-type]


def _budget(seconds: float = 5, max_bytes: int = 1 << 20) -> Budget:
    return Budget(time.monotonic() + seconds, max_bytes)


def _ok(body: bytes, extra: str = "") -> bytes:
    return (f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n").encode() + body


def test_requests_share_one_kept_alive_connection(serve: Callable[[Answer], RawServer]) -> None:
    server = serve(lambda conn, n: conn.sendall(_ok(b"answer %d" % n)))
    pool = _pool()
    bodies = [pool.send(Request("GET", server.url(), limit=100), _budget()).body
              for _ in range(3)]
    assert bodies == [b"answer 1", b"answer 2", b"answer 3"]
    assert server.accepted == 1 and pool.sent == 3
    assert server.requests[0].startswith(b"GET /x HTTP/1.1\r\nHost: 127.0.0.1:")


def test_a_connection_the_server_closed_is_replaced(serve: Callable[[Answer], RawServer]
                                                    ) -> None:
    def answer_then_close(conn: socket.socket, n: int) -> None:
        conn.sendall(_ok(b"one"))
        conn.shutdown(socket.SHUT_RDWR)  # no "Connection: close": the client finds out

    server = serve(answer_then_close)
    pool = _pool()
    for _ in range(2):
        assert pool.send(Request("GET", server.url(), limit=10), _budget()).body == b"one"
    assert server.accepted == 2


def test_chunked_body_is_joined_and_cut_at_the_limit(serve: Callable[[Answer], RawServer]
                                                     ) -> None:
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n")
    server = serve(lambda conn, n: conn.sendall(chunked))
    pool = _pool()
    whole = pool.send(Request("GET", server.url(), limit=100), _budget())
    assert (whole.body, whole.over_limit) == (b"hello world", False)
    cut = pool.send(Request("GET", server.url(), limit=7), _budget())
    assert (cut.body, cut.over_limit) == (b"hello w", True)


def test_declared_size_over_the_limit_is_not_read(serve: Callable[[Answer], RawServer]) -> None:
    server = serve(lambda conn, n: conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 999999"
                                                b"\r\n\r\n" + b"x" * 10))
    reply = _pool().send(Request("GET", server.url(), limit=100), _budget())
    assert (reply.over_limit, reply.declared_size, reply.body) == (True, 999999, b"")


def test_error_pages_keep_only_their_start(serve: Callable[[Answer], RawServer]) -> None:
    page = b"e" * 5000
    server = serve(lambda conn, n: conn.sendall(
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 5000\r\n\r\n" + page))
    reply = _pool().send(Request("GET", server.url(), limit=1 << 20, error_limit=64),
                         _budget())
    assert (reply.status, reply.over_limit, reply.body) == (404, True, b"")


def test_trickled_status_line_ends_at_the_deadline(serve: Callable[[Answer], RawServer]) -> None:
    def trickle(conn: socket.socket, n: int) -> None:
        for byte in b"HTTP/1.1 200 OK\r\n" * 20:
            conn.sendall(bytes([byte]))
            time.sleep(0.05)

    server = serve(trickle)
    started = time.monotonic()
    with pytest.raises(DeadlinePassed):
        _pool().send(Request("GET", server.url(), limit=10), _budget(0.5))
    assert time.monotonic() - started < 1.5


def test_every_byte_is_charged_to_the_operation(serve: Callable[[Answer], RawServer]) -> None:
    endless = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

    def answer(conn: socket.socket, n: int) -> None:
        conn.sendall(endless)
        for _ in range(200):
            conn.sendall(b"10000\r\n" + b"x" * 0x10000 + b"\r\n")

    server = serve(answer)
    with pytest.raises(BudgetExceeded):
        _pool().send(Request("GET", server.url(), limit=1 << 30), _budget(max_bytes=300_000))


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\n" + b"X-Big: " + b"a" * 200_000 + b"\r\n\r\n",
    b"SSH-2.0-OpenSSH\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
], ids=["huge-headers", "not-http", "two-lengths", "truncated", "unknown-coding", "bad-chunk"])
def test_malformed_answers_are_broken_answers(serve: Callable[[Answer], RawServer],
                                              answer: bytes) -> None:
    def reply(conn: socket.socket, n: int) -> None:
        conn.sendall(answer)
        conn.shutdown(socket.SHUT_WR)

    server = serve(reply)
    with pytest.raises(BrokenAnswer):
        _pool().send(Request("GET", server.url(), limit=100), _budget())


def test_interim_answers_are_skipped(serve: Callable[[Answer], RawServer]) -> None:
    server = serve(lambda conn, n: conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n" + _ok(b"ok")))
    assert _pool().send(Request("PUT", server.url(), content=b"x", limit=10),
                        _budget()).body == b"ok"
    assert b"Content-Length: 1" in server.requests[0]


def test_refused_connection_is_a_connect_failure() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ConnectFailed):
        _pool().send(Request("GET", URL.parse(f"http://127.0.0.1:{port}/")), _budget())


@pytest.mark.parametrize("text", ["ftp://host/x", "http://user:pw@host/x", "http:///x",
                                  "http://host/a b", "http://host/a\r\nX: y", "http://[::1/x"])
def test_urls_we_do_not_send_to(text: str) -> None:
    with pytest.raises(BadURL):
        URL.parse(text)


def test_urls_join_and_carry_parameters() -> None:
    base = URL.parse("https://Registry.Example:443/v2/app/blobs/uploads/")
    assert str(base) == "https://registry.example/v2/app/blobs/uploads/"
    assert base.origin == "https://registry.example:443"
    joined = base.join("/v2/app/blobs/uploads/u1?state=a").with_params([("digest", "sha256:1")])
    assert str(joined) == ("https://registry.example/v2/app/blobs/uploads/u1?state=a&"
                           "digest=sha256%3A1")
    assert URL.parse("http://[::1]:5000/v2/").netloc == "[::1]:5000"
    with pytest.raises(BadURL):
        base.join("http://[::1/x")


def test_header_values_cannot_inject_lines(serve: Callable[[Answer], RawServer]) -> None:
    server = serve(lambda conn, n: conn.sendall(_ok(b"")))
    with pytest.raises(BadURL):
        _pool().send(Request("GET", server.url(), {"Authorization": "Bearer a\r\nX: y"}),
                     _budget())
    assert server.requests == []


def test_bare_line_feeds_end_the_head_where_they_first_do(serve: Callable[[Answer], RawServer]
                                                          ) -> None:
    body = b"a\r\n\r\nb"
    server = serve(lambda conn, n: conn.sendall(b"HTTP/1.1 200 OK\nContent-Length: 6\n\n" + body))
    reply = _pool().send(Request("GET", server.url(), limit=100), _budget())
    assert (reply.status, reply.body) == (200, body)
