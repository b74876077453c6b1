"""What the socket-level deadline and byte budget cost (``nfd/_budget.py``).

Fetches the same blob from the in-memory test registry on 127.0.0.1, many times,
with nfd's RegistryClient (its own HTTP/1.1 client, ``nfd/_http1.py``: every read
charged to the operation's budget, its timeout cut to the deadline, the blob
digest-verified), with an ``httpx.Client`` on the bounded transport the Kubernetes
reader uses (``nfd/_budget_httpx.py``) and with a plain ``httpx.Client`` (per-read
timeouts only), and prints the ratios of the medians to the plain one.
Run: ``python benchmarks/bench_budget.py [rounds]``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from tests.oci._fake_registry import FakeRegistry

from nfd._budget import Budget, BudgetScope
from nfd._budget_httpx import bounded_transport
from nfd.oci import Descriptor, Reference, RegistryClient, RegistryOptions


def _median_ms(fn: Callable[[], None], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _plain_get(client: httpx.Client, url: str) -> None:
    client.get(url).read()


def _bounded_get(client: httpx.Client, scope: BudgetScope, url: str) -> None:
    with scope.spending(Budget(time.monotonic() + 30, 64 * 1024 * 1024)):
        client.get(url).read()


def _nfd_get(client: RegistryClient, ref: Reference, descriptor: Descriptor) -> None:
    client.get_blob(ref, descriptor, limit=descriptor.size)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    server = FakeRegistry(referrers_api=False)
    scope = BudgetScope()
    try:
        for size in (64 * 1024, 1024 * 1024, 4 * 1024 * 1024):
            data = bytes(range(256)) * (size // 256)
            digest = server.put_blob("bench", data)
            ref = Reference.parse(f"{server.host}/bench:v1")
            descriptor = Descriptor("application/octet-stream", digest, len(data))
            options = RegistryOptions(plain_http=True, use_auth_files=False)
            url = f"http://{server.host}/v2/bench/blobs/{digest}"
            with RegistryClient(options) as nfd_client, httpx.Client() as plain, \
                    httpx.Client(transport=bounded_transport(scope)) as bounded:
                base = _median_ms(partial(_plain_get, plain, url), rounds)
                budgeted = _median_ms(partial(_bounded_get, bounded, scope, url), rounds)
                full = _median_ms(partial(_nfd_get, nfd_client, ref, descriptor), rounds)
            print(f"blob {size // 1024:>5} KiB: plain httpx {base:6.2f} ms; bounded transport "
                  f"{budgeted:6.2f} ms (ratio {budgeted / base:.2f}); nfd get_blob, bounded "
                  f"and digest-verified {full:6.2f} ms (ratio {full / base:.2f})")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
