"""The HTTPS server: ``POST /mutate``, ``GET /healthz``, ``GET /metrics`` (aiohttp).

aiohttp is imported by this module only, and this module only by ``nfd compat
webhook serve``. One event loop answers every request; small cached decisions
never leave it, registry calls go to the resolver's thread pool, and reviews
over :data:`INLINE_BYTES` are parsed, decided and encoded in worker processes
(:mod:`nfd.webhook._pool`), the body parsed once, by the worker that decides
it; the event loop only moves bytes (the body, read once; a big answer, in
slices), so ``/healthz`` and other reviews stay prompt. Each review is answered
within its deadline: ``--timeout``, or less when the API server's own
``?timeout=`` (sent with every webhook call) leaves less; one not decided by
then gets the failure policy's answer.
"""

from __future__ import annotations

import asyncio
import re
import signal
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web

from nfd.errors import UsageError
from nfd.webhook._log import Log, Logger
from nfd.webhook._metrics import CONTENT_TYPE, Metrics
from nfd.webhook._pool import ReviewSession, ReviewWorkers, WorkerLost, thread_starter
from nfd.webhook._resolver import Resolution, Resolver
from nfd.webhook._review import MAX_CONTAINERS, FailurePolicy, merge_weight, response, unchecked
from nfd.webhook._unsatisfiable import UnsatisfiableCheck, denied
from nfd.webhook._work import Decision, Look, Prepared, decide_prepared, encode, examine

MAX_REVIEW_BYTES = 8 * 1024 * 1024  # a pod is at most ~1.5 MiB in etcd; leave room for oldObject
# Reviews up to this size are parsed and decided on the event loop (tens of microseconds);
# bigger ones are parsed and decided in a review worker, and so are small ones merging
# many of our terms.
INLINE_BYTES = 64 * 1024
INLINE_TERMS = 64
# Answers bigger than this are written in slices of it (see _send_json).
ANSWER_SLICE = 256 * 1024
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
                 log: Log | None = None, workers: ReviewWorkers | None = None,
                 unsatisfiable: UnsatisfiableCheck | None = None) -> None:
        self.settings = settings
        self.resolver = resolver
        self.unsatisfiable = unsatisfiable
        self.metrics = Metrics()
        self._log: Log = log or Logger()
        # Big reviews are parsed, decided and encoded here: serve() gives processes; a
        # server built in process (tests) gets threads, same protocol.
        self._workers = workers or ReviewWorkers(settings.review_workers, thread_starter)

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

    async def mutate(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        budget = _deadline(self.settings, request)
        deadline = started + budget - MARGIN_SECONDS
        try:
            body = await _read_body(request)
        except web.HTTPRequestEntityTooLarge:
            self.metrics.observe("bad-request", time.perf_counter() - started)
            return web.Response(status=413, text=f"review over {MAX_REVIEW_BYTES} bytes\n")
        if len(body) <= INLINE_BYTES:  # parsed here, once: tens of microseconds
            prepared, looked = examine(body, self.settings.workloads)
            return await self._answer(request, started, budget, looked, prepared, None)
        try:
            async with self._workers.session(deadline) as session:
                looked = await session.look(body, self.settings.workloads)
                del body  # the worker holds the review now; the loop keeps no copy
                return await self._answer(request, started, budget, looked, None, session)
        except (TimeoutError, WorkerLost) as exc:  # no uid to answer with: the API server's
            # failurePolicy decides. Not retried: a body that killed one worker could kill
            # the next.
            outcome = "timeout" if isinstance(exc, TimeoutError) else "worker-lost"
            self.metrics.observe(outcome, time.perf_counter() - started)
            reason = (f"not parsed within {budget:g} s (the server is overloaded)"
                      if isinstance(exc, TimeoutError) else f"not parsed: {exc}")
            self._log("review", level="warning", outcome=outcome, reason=reason)
            return web.Response(status=503, text=f"review {reason}\n")

    async def _answer(self, request: web.Request, started: float, budget: float,
                      looked: Look | str, prepared: Prepared | None,
                      session: ReviewSession | None) -> web.StreamResponse:
        """Resolve a parsed review's images, decide (where it was parsed, or in a worker
        when the merge is big), log and answer."""
        deadline = started + budget - MARGIN_SECONDS
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
        policy = self.settings.failure_policy
        decision: Decision | str | None
        if session is None and merge_weight(resolutions) <= INLINE_TERMS:
            assert prepared is not None
            decision = decide_prepared(prepared, resolutions, policy)
        else:
            decision = await self._decide_in_worker(session, deadline, resolutions, prepared,
                                                    _accepts_gzip(request))
        if decision is None:
            decision = f"{review.kind} {review.where}: not decided within {budget:g} s"
        if isinstance(decision, str):
            answer, outcome = unchecked(review, policy, decision)
            decision = Decision(outcome, encode(answer), tuple(answer["response"]["warnings"]))
        if decision.outcome in ("denied", "failed-open", "invalid"):
            self._log("review", level="warning", outcome=decision.outcome, kind=review.kind,
                      object=review.where, uid=review.uid, warnings=" | ".join(decision.warnings))
        self.metrics.observe(decision.outcome, time.perf_counter() - started)
        return await _send_json(request, decision.body, decision.encoding)

    async def _decide_in_worker(self, session: ReviewSession | None, deadline: float,
                                resolutions: list[Resolution],
                                prepared: Prepared | None,
                                gzip_ok: bool) -> Decision | str | None:
        """The decision from the review's worker (or any worker, for a small review with a
        big merge: the parsed review goes along); ``None`` when it did not come in time."""
        policy = self.settings.failure_policy
        try:
            if session is not None:
                return await session.decide(resolutions, policy, gzip_ok=gzip_ok)
            async with self._workers.session(deadline) as own:
                return await own.decide(resolutions, policy, prepared, gzip_ok)
        except TimeoutError:
            return None
        except WorkerLost as exc:
            return f"internal error: {exc}"


async def _read_body(request: web.Request) -> bytes:
    """The request body, refused past :data:`MAX_REVIEW_BYTES` (declared or sent); one
    copy of it (the chunks joined once)."""
    declared = request.content_length
    if declared is not None and declared > MAX_REVIEW_BYTES:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_REVIEW_BYTES, actual_size=declared)
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.readany():
        size += len(chunk)
        if size > MAX_REVIEW_BYTES:
            raise web.HTTPRequestEntityTooLarge(max_size=MAX_REVIEW_BYTES, actual_size=size)
        chunks.append(chunk)
    return b"".join(chunks)


def _accepts_gzip(request: web.Request) -> bool:
    """Whether the client takes a gzip-encoded answer (RFC 9110 Accept-Encoding; a
    ``q=0`` refuses it)."""
    for coding in request.headers.get("Accept-Encoding", "").split(","):
        name, _, params = coding.partition(";")
        if name.strip().lower() == "gzip":
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


async def _send_json(request: web.Request, body: bytes,
                     encoding: str | None = None) -> web.StreamResponse:
    """The answer; a big one in slices, so TLS encrypts (on the event loop) a slice at a
    time and ``/healthz`` and small reviews get their turn in between."""
    headers = {"Content-Type": "application/json"}
    if encoding is not None:
        headers["Content-Encoding"] = encoding
    if len(body) <= ANSWER_SLICE:
        return web.Response(body=body, headers=headers)
    reply = web.StreamResponse(headers=headers)
    reply.content_length = len(body)
    await reply.prepare(request)
    view = memoryview(body)
    for at in range(0, len(body), ANSWER_SLICE):
        await reply.write(view[at:at + ANSWER_SLICE])
    await reply.write_eof()
    return reply


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
    workers = ReviewWorkers(settings.review_workers)
    webhook = Webhook(settings, resolver, log, workers, unsatisfiable)
    runner = web.AppRunner(webhook.app(), access_log=None, handle_signals=False,
                           shutdown_timeout=SHUTDOWN_SECONDS)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, ssl_context=context,
                       reuse_address=True)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
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
    workers.start()  # in the background, not on the first big review
    try:
        await stop.wait()
    finally:
        reloader.cancel()
        await runner.cleanup()
        if unsatisfiable is not None:
            unsatisfiable.feed.stop()
        resolver.close()
        workers.close()
