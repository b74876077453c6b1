"""The HTTPS server: ``POST /mutate``, ``GET /healthz``, ``GET /metrics`` (aiohttp).

aiohttp is imported by this module only, and this module only by ``nfd compat
webhook serve``. One event loop answers every request; small cached decisions
never leave it, registry calls go to the resolver's thread pool, and reviews
over :data:`INLINE_BYTES` (or merging many of our terms) are parsed, decided
and encoded in worker processes (:mod:`nfd.webhook._work`), so ``/healthz`` and
other reviews stay prompt. Each review is answered within its deadline:
``--timeout``, or less when the API server's own ``?timeout=`` (sent with every
webhook call) leaves less; one not decided by then gets the failure policy's
answer.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import re
import signal
import ssl
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

from nfd.errors import UsageError
from nfd.webhook._log import Log, Logger
from nfd.webhook._metrics import CONTENT_TYPE, Metrics
from nfd.webhook._resolver import Resolution, Resolver
from nfd.webhook._review import MAX_CONTAINERS, FailurePolicy, merge_weight, response, unchecked
from nfd.webhook._unsatisfiable import UnsatisfiableCheck, denied
from nfd.webhook._work import Decision, decide_body, encode, look, lower_priority

MAX_REVIEW_BYTES = 8 * 1024 * 1024  # a pod is at most ~1.5 MiB in etcd; leave room for oldObject
# Reviews up to this size are parsed and decided on the event loop (tens of microseconds);
# bigger ones, or ones merging many of our terms, go to the resolver's CPU pool.
INLINE_BYTES = 64 * 1024
INLINE_TERMS = 64
MARGIN_SECONDS = 0.25  # for encoding the answer and the network back to the API server
SHUTDOWN_SECONDS = 5.0
_GO_SECONDS = re.compile(r"(\d+(?:\.\d+)?)s")
T = TypeVar("T")


@dataclass(frozen=True)
class ServerSettings:
    """Where to listen, the TLS key pair, and how to decide."""

    host: str
    port: int
    cert_file: str
    key_file: str
    failure_policy: FailurePolicy = "ignore"
    timeout: float = 5.0
    workloads: bool = False
    tls_reload_seconds: float = 30.0
    # Processes parsing, deciding and encoding big reviews (each holds one at a time).
    review_workers: int = 2


def _deadline(settings: ServerSettings, request: web.Request) -> float:
    """Seconds to answer in: ``--timeout``, or the API server's timeout if shorter."""
    match = _GO_SECONDS.fullmatch(request.query.get("timeout", ""))
    budget = settings.timeout
    if match:
        budget = min(budget, float(match.group(1)))
    return budget


class Webhook:
    """The request handlers, over one resolver and one set of metrics."""

    def __init__(self, settings: ServerSettings, resolver: Resolver,
                 log: Log | None = None, review_pool: Executor | None = None,
                 unsatisfiable: UnsatisfiableCheck | None = None) -> None:
        self.settings = settings
        self.resolver = resolver
        self.unsatisfiable = unsatisfiable
        self.metrics = Metrics()
        self._log: Log = log or Logger()
        # Big reviews are parsed, decided and encoded here; serve() gives a process pool.
        self._review_pool = review_pool or resolver.cpu_pool

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REVIEW_BYTES)
        app.router.add_post("/mutate", self.mutate)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics_page)
        return app

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def metrics_page(self, request: web.Request) -> web.Response:
        text = self.metrics.render(self.resolver)
        if self.unsatisfiable is not None:
            text += "\n".join(self.unsatisfiable.metrics()) + "\n"
        return web.Response(body=text.encode(),
                            headers={"Content-Type": CONTENT_TYPE})

    async def _compute(self, heavy: bool, deadline: float, fn: Callable[..., T],
                       *args: Any) -> T:
        """``fn(*args)``: inline when light, else in the review pool, due by ``deadline``
        (``TimeoutError`` then; a call not yet started is cancelled)."""
        if not heavy:
            return fn(*args)
        left = deadline - time.perf_counter()
        if left <= 0:
            raise TimeoutError
        future = self._review_pool.submit(fn, *args)
        return await asyncio.wait_for(asyncio.wrap_future(future), left)

    async def mutate(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        budget = _deadline(self.settings, request)
        deadline = started + budget - MARGIN_SECONDS
        try:
            body = await request.read()
            heavy = len(body) > INLINE_BYTES
            looked = await self._compute(heavy, deadline, look, body, self.settings.workloads)
        except web.HTTPRequestEntityTooLarge:
            self.metrics.observe("bad-request", time.perf_counter() - started)
            return web.Response(status=413, text=f"review over {MAX_REVIEW_BYTES} bytes\n")
        except TimeoutError:  # no uid to answer with: the API server's failurePolicy decides
            self.metrics.observe("timeout", time.perf_counter() - started)
            self._log("review", level="warning", outcome="timeout",
                      reason=f"not parsed within {budget:g} s (the server is overloaded)")
            return web.Response(status=503, text=f"review not parsed within {budget:g} s\n")
        if isinstance(looked, str):
            self.metrics.observe("bad-request", time.perf_counter() - started)
            return web.Response(status=400, text=f"not an AdmissionReview: {looked}\n")
        review, images = looked.review, looked.images
        if images is None:
            outcome = "opted-out" if looked.opted_out else "ignored"
            self.metrics.observe(outcome, time.perf_counter() - started)
            return web.json_response(response(review.uid))
        resolutions = await self.resolver.resolve_all(
            images.images, max(deadline - time.perf_counter(), 0.01), budget=budget,
            write_rules=not review.dry_run)
        if images.unchecked_containers:
            resolutions.append(Resolution("", "failed", f"{images.unchecked_containers} "
                                          f"container(s) beyond the first {MAX_CONTAINERS} not "
                                          "checked"))
        if self.unsatisfiable is not None:
            verdict = await self.unsatisfiable.verdict(
                resolutions, f"{review.kind} {review.where}".strip(), deadline,
                looked.requirement)
            if verdict.deny is not None:
                self.metrics.observe("unsatisfiable", time.perf_counter() - started)
                self._log("review", level="warning", outcome="unsatisfiable",
                          kind=review.kind, object=review.where, uid=review.uid,
                          reason=verdict.deny)
                return web.json_response(denied(review.uid, verdict.deny))
            if verdict.warning is not None:  # shown with the review's other warnings
                resolutions.append(Resolution("", "skipped", verdict.warning))
        heavy = heavy or merge_weight(resolutions) > INLINE_TERMS
        try:
            decision = await self._compute(heavy, deadline, decide_body, body,
                                           self.settings.workloads, resolutions,
                                           self.settings.failure_policy)
        except TimeoutError:
            decision = f"{review.kind} {review.where}: not decided within {budget:g} s"
        if isinstance(decision, str):
            answer, outcome = unchecked(review, self.settings.failure_policy, decision)
            decision = Decision(outcome, encode(answer), tuple(answer["response"]["warnings"]))
        if decision.outcome in ("denied", "failed-open", "invalid"):
            self._log("review", level="warning", outcome=decision.outcome, kind=review.kind,
                      object=review.where, uid=review.uid, warnings=" | ".join(decision.warnings))
        self.metrics.observe(decision.outcome, time.perf_counter() - started)
        return web.Response(body=decision.body, content_type="application/json")


def tls_context(cert_file: str, key_file: str) -> ssl.SSLContext:
    """A server context (TLS 1.2 at least) with the key pair; unreadable files are usage errors."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_file, key_file)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"TLS key pair {cert_file}, {key_file}: "
                         f"{getattr(exc, 'strerror', None) or exc}") from None
    return context


async def _reload_tls(context: ssl.SSLContext, settings: ServerSettings, log: Log) -> None:
    """Load the key pair again when its files change (cert-manager renews them in place)."""
    def stamp() -> tuple[float, float]:
        from os import stat
        return stat(settings.cert_file).st_mtime, stat(settings.key_file).st_mtime

    last = stamp()
    while True:
        await asyncio.sleep(settings.tls_reload_seconds)
        try:
            now = stamp()
            if now != last:
                context.load_cert_chain(settings.cert_file, settings.key_file)
                last = now
                log("TLS key pair reloaded")
        except (OSError, ssl.SSLError) as exc:
            log("TLS key pair not reloaded (keeping the old one)", level="warning",
                reason=str(exc))


async def serve(settings: ServerSettings, resolver: Resolver, log: Log | None = None,
                ready: Callable[[str], None] | None = None,
                unsatisfiable: UnsatisfiableCheck | None = None) -> None:
    """Serve until SIGTERM or SIGINT, then finish the requests under way."""
    context = tls_context(settings.cert_file, settings.key_file)
    # forkserver: workers start from a clean process, not a fork of this threaded one.
    processes = multiprocessing.get_context("forkserver")
    processes.set_forkserver_preload(["nfd.webhook._work"])
    pool = ProcessPoolExecutor(settings.review_workers, mp_context=processes,
                               initializer=lower_priority)
    webhook = Webhook(settings, resolver, log, pool, unsatisfiable)
    runner = web.AppRunner(webhook.app(), access_log=None, handle_signals=False,
                           shutdown_timeout=SHUTDOWN_SECONDS)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, ssl_context=context,
                       reuse_address=True)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        pool.shutdown(wait=False)
        raise UsageError(f"cannot listen on {settings.host}:{settings.port}: "
                         f"{exc.strerror or exc}") from None
    addresses = runner.addresses
    host, port = addresses[0][:2] if addresses else (settings.host, settings.port)
    url = f"https://{host}:{port}"
    if ready is not None:
        ready(url)
    else:
        webhook._log(f"listening on {url}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    reloader = asyncio.create_task(_reload_tls(context, settings, webhook._log))
    if unsatisfiable is not None:
        unsatisfiable.feed.start()
    # Start the review processes now, in the background, not on the first big review.
    warming = loop.run_in_executor(None, lambda: pool.submit(int).result())
    try:
        await stop.wait()
    finally:
        reloader.cancel()
        warming.cancel()
        await runner.cleanup()
        if unsatisfiable is not None:
            unsatisfiable.feed.stop()
        resolver.close()
        pool.shutdown(wait=False, cancel_futures=True)
