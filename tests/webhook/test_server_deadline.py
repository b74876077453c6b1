"""The server in process: a slow decision never stalls /healthz, and never overruns its deadline.

The decision is made slow on purpose (a CPU-bound loop, holding the GIL as a
huge merge would): what is tested is where the server runs it and when it
gives up, not how fast the merge is (``test_review_cost.py`` covers that).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from tests.webhook._webhook import pod, review_for

from nfd.oci import RegistryOptions
from nfd.webhook import AllowList, Resolver, ResolverSettings
from nfd.webhook import _work as server_module
from nfd.webhook._log import Logger
from nfd.webhook._review import FailurePolicy
from nfd.webhook._server import INLINE_BYTES, ServerSettings, Webhook

SLOW_SECONDS = 2.0


def _busy_decide(*args: Any) -> Any:
    """``decide``, after burning CPU for SLOW_SECONDS (as a pathological merge would)."""
    until = time.perf_counter() + SLOW_SECONDS
    while time.perf_counter() < until:
        sum(range(1000))
    return _REAL_DECIDE(*args)


_REAL_DECIDE = server_module.decide


def _big_review() -> bytes:
    """A pod big enough to be decided off the event loop."""
    obj = pod(["ghcr.io/acme/app:v1"], annotations={"pad": "x" * (2 * INLINE_BYTES)})
    return json.dumps(review_for(obj)).encode()


async def _run(policy: FailurePolicy, stream: Any
               ) -> tuple[dict[str, Any], float, list[float]]:
    settings = ResolverSettings(RegistryOptions(), AllowList.parse(["registry.invalid"]),
                                "p.example.com")
    resolver = Resolver(settings)
    webhook = Webhook(ServerSettings("127.0.0.1", 0, "", "", failure_policy=policy,
                                     timeout=1.0), resolver, Logger("json", stream))
    async with TestClient(TestServer(webhook.app())) as client:
        started = time.perf_counter()
        review = asyncio.create_task(client.post("/mutate", data=_big_review(),
                                                 headers={"Content-Type": "application/json"}))
        health: list[float] = []
        while not review.done():
            reply = await client.get("/healthz")
            assert reply.status == 200
            if not review.done():
                health.append(time.perf_counter() - started)
            await asyncio.sleep(0.02)
        answer = await (await review).json()
        elapsed = time.perf_counter() - started
    resolver.close()
    return answer, elapsed, health


@pytest.mark.parametrize("policy", ["ignore", "fail"])
def test_a_review_past_its_deadline_gets_the_failure_policy_in_time(
        policy: FailurePolicy, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr(server_module, "decide", _busy_decide)
    stream = io.StringIO()
    answer, elapsed, health = asyncio.run(_run(policy, stream))
    response = answer["response"]
    assert response["allowed"] is (policy == "ignore")
    assert elapsed < 1.0  # the review's own budget (--timeout 1), not the 2 s of work
    assert any("not decided within 1 s" in w for w in response["warnings"])
    # /healthz kept answering while the decision burned CPU in its worker.
    assert len(health) >= 3
    record = json.loads(stream.getvalue().splitlines()[-1])
    assert record["msg"] == "review" and record["level"] == "warning"
    assert record["outcome"] == ("failed-open" if policy == "ignore" else "denied")
