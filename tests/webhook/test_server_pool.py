"""The server's plumbing for big reviews, by counts and ordering (no timing thresholds):
a body is parsed once, by the worker that decides it; ``/healthz`` is answered while
maximal reviews hold every worker and more wait for one.

The server is built in process with thread workers (:func:`thread_starter`: the same
pipe protocol as the worker processes of ``serve``), so the parse can be counted;
``test_server.py`` covers the processes through the real command.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from tests.webhook._webhook import pod, review_for

from nfd.oci import RegistryOptions
from nfd.webhook import AllowList, Resolver, ResolverSettings, _work
from nfd.webhook._log import Logger
from nfd.webhook._pool import ReviewWorkers, thread_starter
from nfd.webhook._server import INLINE_BYTES, MAX_REVIEW_BYTES, ServerSettings, Webhook

WORKERS = 2
IN_FLIGHT = 2 * WORKERS  # every worker busy, as many again waiting for one
WAIT_SECONDS = 60.0  # a bound for the ordering waits, never a measured threshold
JSON = {"Content-Type": "application/json"}


def _review(size: int) -> bytes:
    """A pod review of about ``size`` bytes (padded with annotations, parsed in full)."""
    obj = pod(["ghcr.io/acme/app:v1", "ghcr.io/acme/side:v2"])
    body = json.dumps(review_for(obj)).encode()
    pad = max(size - len(body) - 1024, 0)
    obj["metadata"]["annotations"] = {f"pad-{i}": "x" * 1000 for i in range(pad // 1020)}
    return json.dumps(review_for(obj)).encode()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    # No registry is allowed: every image is answered "skipped" from the loop, at once.
    settings = ResolverSettings(RegistryOptions(), AllowList.parse(["registry.invalid"]),
                                "p.example.com")
    resolver = Resolver(settings)
    server = Webhook(ServerSettings("127.0.0.1", 0, "", "", timeout=WAIT_SECONDS,
                                    review_workers=WORKERS), resolver, Logger("json"))
    yield server
    server._workers.close()
    resolver.close()


def _check(answer: dict[str, Any]) -> None:
    response = answer["response"]
    assert response["allowed"] is True and "patch" not in response
    assert sum("allow-list" in w for w in response["warnings"]) == 2


def test_each_body_is_parsed_once(webhook: Webhook, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[int] = []
    real = _work.prepare

    def counting(body: bytes, workloads: bool) -> _work.Prepared:
        parsed.append(len(body))
        return real(body, workloads)

    monkeypatch.setattr(_work, "prepare", counting)
    small, big = _review(1024), _review(4 * INLINE_BYTES)
    assert len(small) <= INLINE_BYTES < len(big)

    async def run() -> None:
        async with TestClient(TestServer(webhook.app())) as client:
            for body in (small, big, big):
                reply = await client.post("/mutate", data=body, headers=JSON)
                assert reply.status == 200
                _check(await reply.json())

    asyncio.run(run())
    # One parse per review: the small one on the loop, each big one in the worker that
    # then decided it (the decision step carries no body).
    assert parsed == [len(small), len(big), len(big)]


def test_healthz_is_answered_while_maximal_reviews_hold_every_worker(
        webhook: Webhook, monkeypatch: pytest.MonkeyPatch) -> None:
    inside = threading.Semaphore(0)
    release = threading.Event()
    real = _work.decide

    def held(*args: Any) -> Any:
        inside.release()
        release.wait(WAIT_SECONDS)
        return real(*args)

    monkeypatch.setattr(_work, "decide", held)
    body = _review(MAX_REVIEW_BYTES - 64 * 1024)

    async def run() -> None:
        async with TestClient(TestServer(webhook.app())) as client:
            reviews = [asyncio.create_task(client.post("/mutate", data=body, headers=JSON))
                       for _ in range(IN_FLIGHT)]
            loop = asyncio.get_running_loop()
            for _ in range(WORKERS):  # every worker is deciding a maximal review now
                assert await loop.run_in_executor(None, inside.acquire, True, WAIT_SECONDS)
            for _ in range(3):
                reply = await client.get("/healthz")
                assert reply.status == 200 and await reply.text() == "ok\n"
                metrics = await client.get("/metrics")
                assert metrics.status == 200
            assert not any(review.done() for review in reviews)  # all still in flight
            release.set()
            for review in reviews:
                reply = await review
                assert reply.status == 200
                _check(await reply.json())

    try:
        asyncio.run(run())
    finally:
        release.set()


def test_a_worker_that_dies_gets_503_and_is_replaced() -> None:
    started: list[int] = []

    def first_ones_die(far: Connection) -> Callable[[], None]:
        """The first WORKERS workers exit on their first step (as if killed); the
        replacements are real."""
        started.append(1)
        if len(started) > WORKERS:
            return thread_starter(far)

        def die() -> None:
            with contextlib.suppress(EOFError, OSError):
                far.recv()
            far.close()
        threading.Thread(target=die, daemon=True).start()
        return lambda: None

    settings = ResolverSettings(RegistryOptions(), AllowList.parse(["registry.invalid"]),
                                "p.example.com")
    resolver = Resolver(settings)
    workers = ReviewWorkers(WORKERS, first_ones_die)
    webhook = Webhook(ServerSettings("127.0.0.1", 0, "", "", timeout=WAIT_SECONDS),
                      resolver, Logger("json"), workers)
    body = _review(4 * INLINE_BYTES)

    async def run() -> list[int]:
        statuses = []
        async with TestClient(TestServer(webhook.app())) as client:
            for _ in range(WORKERS + 1):  # the dead ones are handed out first (FIFO)
                reply = await client.post("/mutate", data=body, headers=JSON)
                statuses.append(reply.status)
                if reply.status == 200:
                    _check(await reply.json())
                else:
                    assert "review worker exited" in await reply.text()
            metrics = await (await client.get("/metrics")).text()
        assert f'nfd_webhook_reviews_total{{outcome="worker-lost"}} {WORKERS}' in metrics
        return statuses

    try:
        # No uid to answer with: 503, the API server's failurePolicy decides; not retried.
        assert asyncio.run(run()) == [503] * WORKERS + [200]
        assert len(started) > WORKERS  # the third review was decided by a replacement
    finally:
        workers.close()
        resolver.close()
