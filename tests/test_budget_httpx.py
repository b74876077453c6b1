"""The seam of ``nfd/_budget_httpx.py`` on the pinned httpx/httpcore: the operation's
deadline reaches the sockets of an httpx client (the Kubernetes reader's), so a server
that trickles its answer ends at the deadline, not at a per-read timeout."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

from nfd._budget import Budget, BudgetExceeded, BudgetScope
from nfd._budget_httpx import bounded_transport


def _server(answer: bytes, delay: float) -> int:
    sock = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = sock.accept()
        with conn, sock:
            conn.recv(65536)
            try:
                for i in range(len(answer)):
                    conn.sendall(answer[i:i + 1])
                    time.sleep(delay)
            except OSError:
                pass

    threading.Thread(target=serve, daemon=True).start()
    return int(sock.getsockname()[1])


def test_a_trickled_answer_ends_at_the_operation_deadline() -> None:
    port = _server(b"HTTP/1.1 200 OK\r\n" * 100, 0.05)  # each read well within 5 s
    scope = BudgetScope()
    with httpx.Client(transport=bounded_transport(scope), timeout=5) as client, \
            scope.spending(Budget(time.monotonic() + 0.5, 1 << 20)):
        started = time.monotonic()
        with pytest.raises(httpx.TimeoutException):
            client.get(f"http://127.0.0.1:{port}/")
    assert time.monotonic() - started < 1.5


def test_bytes_are_charged_to_the_operation() -> None:
    port = _server(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100000, 0)
    scope = BudgetScope()
    with httpx.Client(transport=bounded_transport(scope), timeout=5) as client, \
            scope.spending(Budget(time.monotonic() + 5, 1000)), \
            pytest.raises(BudgetExceeded):
        client.get(f"http://127.0.0.1:{port}/")
