"""From image references to specs, fast when cached and bounded when not.

Per image: its registry must be on the allow-list (else it is never
contacted); the tag is resolved to a digest (short-lived cache); the spec
attached to that digest is fetched (cache with a TTL and a size bound; images
without a spec are remembered too, for a shorter time). With ``--create-rules``
the image's NodeFeatureRule is then written once per spec.

Network steps run in a bounded thread pool, and concurrent requests for the
same step share one call (single flight), so a burst of pods of one image costs
one fetch. A step still running at the request's deadline goes on in the
background and fills the cache for the next request; the request itself is
answered at once (the failure policy decides).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from nfd.api import CompatSpec
from nfd.cluster import NfdSupport
from nfd.errors import NfdError, SpecError, UsageError, VerificationError, format_location
from nfd.oci import Reference, RegistryOptions
from nfd.trust import Verifier
from nfd.webhook._allow import AllowList
from nfd.webhook._cache import TTLCache
from nfd.webhook._log import Log, Logger
from nfd.webhook._plan import ImagePlan, RuleConflict, plan_image
from nfd.webhook._source import ImageSpec, fetch_spec, resolve_digest

T = TypeVar("T")
Status = Literal["spec", "none", "skipped", "failed"]
RuleWriter = Callable[[dict[str, Any]], str]
# Distinct images checked per review: a pod naming thousands must not queue thousands of fetches.
MAX_IMAGES_PER_REVIEW = 64
# Names tried for an image's rule (its own, then alternatives) when others' rules hold them.
MAX_RULE_NAMES = 4


@dataclass(frozen=True)
class ResolverSettings:
    """Registry access, allow-list, cache lifetimes and sizes."""

    registry: RegistryOptions
    allow: AllowList
    label_prefix: str
    spec_ttl: float = 300.0
    negative_ttl: float = 60.0
    tag_ttl: float = 30.0
    max_entries: int = 1024
    workers: int = 16
    # Calls at once per registry: a hung one holds a few workers, never the whole pool.
    per_registry: int = 4
    cpu_workers: int = 2
    # What the cluster's NFD accepts in a NodeFeatureRule (None: the spec's ops as written).
    nfd: NfdSupport | None = None
    # (registry pattern, verifier): images of a matching registry need a trusted signature
    # on their artifact; the first matching pattern wins (patterns as in AllowList).
    verifiers: tuple[tuple[str, Verifier], ...] = ()

    def verifier_for(self, ref: Reference) -> Verifier | None:
        for pattern, verifier in self.verifiers:
            if AllowList.parse([pattern]).allows(ref):
                return verifier
        return None


@dataclass(frozen=True)
class Resolution:
    """What became of one image: a spec (and its plan), none attached, skipped, or failed."""

    image: str
    status: Status
    message: str = ""
    digest: str | None = None
    artifact_digest: str | None = None
    plan: ImagePlan | None = None


@dataclass(frozen=True)
class _SpecEntry:
    """A cached answer for one image digest: a spec, no spec, or an invalid spec."""

    spec: ImageSpec | None
    error: str | None = None


@dataclass
class ResolverCounters:
    """Registry calls made and failed, and rules written, for /metrics."""

    fetches: dict[str, int] = field(default_factory=lambda: {"tag": 0, "spec": 0, "rule": 0})
    failures: dict[str, int] = field(default_factory=lambda: {"tag": 0, "spec": 0, "rule": 0})
    conflicts: int = 0  # rule names found taken by a rule not provably the image's


class Resolver:
    """Resolves the images of admission requests; one per server, used on its event loop."""

    def __init__(self, settings: ResolverSettings, rule_writer: RuleWriter | None = None,
                 clock: Callable[[], float] = time.monotonic, log: Log | None = None) -> None:
        self.settings = settings
        self._log: Log = log or Logger()
        self._rule_writer = rule_writer
        self.tags: TTLCache[str, str] = TTLCache(settings.max_entries, settings.tag_ttl, clock)
        self.specs: TTLCache[str, _SpecEntry] = TTLCache(settings.max_entries,
                                                         settings.spec_ttl, clock)
        self.plans: TTLCache[tuple[str, str], ImagePlan] = TTLCache(
            settings.max_entries, settings.spec_ttl, clock)
        self.rules_written: TTLCache[tuple[str, str], bool] = TTLCache(
            settings.max_entries, settings.spec_ttl, clock)
        self.counters = ResolverCounters()
        self._pool = ThreadPoolExecutor(settings.workers, thread_name_prefix="nfd-webhook")
        # CPU-heavy steps (planning a spec, parsing and deciding a big review) leave the
        # event loop for these few threads, so /healthz and cached reviews stay prompt.
        self.cpu_pool = ThreadPoolExecutor(settings.cpu_workers,
                                           thread_name_prefix="nfd-webhook-cpu")
        self._flights: dict[tuple[str, ...], asyncio.Future[Any]] = {}
        self._slots: dict[str, tuple[asyncio.Semaphore, list[int]]] = {}
        self._background: set[asyncio.Task[Resolution]] = set()

    def close(self) -> None:
        """Stop the worker threads (calls under way finish within their own timeout)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.cpu_pool.shutdown(wait=False, cancel_futures=True)

    async def resolve_all(self, images: Sequence[str], timeout: float, *,
                          write_rules: bool = True,
                          budget: float | None = None) -> list[Resolution]:
        """One resolution per image, in order, all within ``timeout`` seconds (what is left
        of the review's ``budget``, which messages name)."""
        if len(images) > MAX_IMAGES_PER_REVIEW:
            head = await self.resolve_all(images[:MAX_IMAGES_PER_REVIEW], timeout,
                                          write_rules=write_rules, budget=budget)
            return head + [Resolution(image, "failed", f"image {image}: not checked, the pod "
                                      f"has over {MAX_IMAGES_PER_REVIEW} distinct images")
                           for image in images[MAX_IMAGES_PER_REVIEW:]]
        known = [self._from_cache(image, write_rules) for image in images]
        if all(r is not None for r in known):  # the steady state: no task, no thread
            return [r for r in known if r is not None]
        tasks = {image: asyncio.create_task(self.resolve(image, write_rules=write_rules))
                 for image, r in zip(images, known, strict=True) if r is None}
        done, pending = await asyncio.wait(tasks.values(), timeout=timeout)
        for waiting in pending:  # keep it alive: it fills the caches for later requests
            self._background.add(waiting)
            waiting.add_done_callback(self._background.discard)
        out = []
        for image, resolution in zip(images, known, strict=True):
            if resolution is None:
                task = tasks[image]
                resolution = task.result() if task in done else self._timed_out(
                    image, budget or timeout)
            out.append(resolution)
        return out

    def _from_cache(self, image: str, write_rules: bool) -> Resolution | None:
        """The resolution when every step of it is cached already, else ``None``."""
        try:
            ref = Reference.parse(image)
        except UsageError:
            return None
        if not self.settings.allow.allows(ref):
            return None
        digest = ref.digest or self.tags.get(str(ref))
        entry = self.specs.get(str(ref.with_digest(digest))) if digest else None
        if entry is None or entry.error is not None:
            return None
        if entry.spec is None:
            return Resolution(image, "none", digest=digest)
        plan = self.plans.get((image, entry.spec.artifact_digest))
        if plan is None or (write_rules and self._rule_writer is not None and not
                            self.rules_written.get((plan.rule_name,
                                                    entry.spec.artifact_digest))):
            return None
        return Resolution(image, "spec", digest=digest,
                          artifact_digest=entry.spec.artifact_digest, plan=plan)

    def spec_of(self, resolution: Resolution) -> CompatSpec | None:
        """The spec a resolution was made from, while the spec cache holds it."""
        try:
            ref = Reference.parse(resolution.image)
        except UsageError:
            return None
        if not resolution.digest:
            return None
        entry = self.specs.get(str(ref.with_digest(resolution.digest)))
        if entry is None or entry.spec is None or \
                entry.spec.artifact_digest != resolution.artifact_digest:
            return None
        return entry.spec.spec

    def _timed_out(self, image: str, timeout: float) -> Resolution:
        registry = image.split("/", 1)[0] if "/" in image else "docker.io"
        return Resolution(image, "failed", f"image {image}: no answer from its registry "
                          f"({registry}) within {timeout:g} s (slow or down)")

    async def resolve(self, image: str, *, write_rules: bool = True) -> Resolution:
        """The spec of one image (never raises: failures are resolutions too)."""
        try:
            return await self._resolve(image, write_rules)
        except NfdError as exc:
            return Resolution(image, "failed", f"image {image}: {exc}")
        except Exception as exc:  # a bug of ours must not take the answer down with it
            return Resolution(image, "failed", f"image {image}: internal error: "
                              f"{type(exc).__name__}: {exc}")

    async def _resolve(self, image: str, write_rules: bool) -> Resolution:
        try:
            ref = Reference.parse(image)
        except UsageError as exc:  # no registry to ask: the kubelet cannot pull it either
            return Resolution(image, "skipped", f"{exc}; not checked")
        if not self.settings.allow.allows(ref):
            return Resolution(image, "skipped", f"image {image}: registry {ref.registry} is not "
                              "on the webhook's allow-list; its spec was not checked")
        digest = await self._digest(ref)
        entry = await self._spec(ref, digest)
        if entry.error is not None:
            return Resolution(image, "failed", entry.error, digest)
        if entry.spec is None:
            return Resolution(image, "none", digest=digest)
        try:
            plan = await self._plan(image, entry.spec)
        except SpecError as exc:  # a spec the cluster's NFD cannot take (its CRD's ops)
            # The reason first, then where: warnings are cut at 256 characters (KEP-1693),
            # and the spec's location (image digest, artifact digest, JSON path) is long.
            where = format_location(exc.source, exc.path)
            return Resolution(image, "failed", f"image {image}: {exc.message} (at {where})",
                              digest)
        if write_rules and self._rule_writer is not None:
            try:
                plan = await self._write_rule(image, plan, entry.spec)
            except NfdError as exc:
                # The API server's message names the rule: not repeated (warnings are cut at
                # 256 characters, KEP-1693).
                return Resolution(image, "failed", f"image {image}: its NodeFeatureRule: {exc}",
                                  digest)
        return Resolution(image, "spec", digest=digest,
                          artifact_digest=entry.spec.artifact_digest, plan=plan)

    async def _digest(self, ref: Reference) -> str:
        if ref.digest:
            return ref.digest
        key = str(ref)
        cached = self.tags.get(key)
        if cached is not None:
            return cached
        digest: str = await self._flight(("tag", key), ref.registry, resolve_digest, ref,
                                         self.settings.registry)
        self.tags.put(key, digest)
        return digest

    async def _spec(self, ref: Reference, digest: str) -> _SpecEntry:
        key = str(ref.with_digest(digest))
        cached = self.specs.get(key)
        if cached is not None:
            return cached
        try:
            found: ImageSpec | None = await self._flight(
                ("spec", key), ref.registry, fetch_spec, ref, digest, self.settings.registry,
                self.settings.verifier_for(ref))
        except SpecError as exc:  # an invalid spec stays invalid: remember it for a while
            entry = _SpecEntry(None, f"image {ref.with_digest(digest)}: invalid compatibility "
                               f"spec: {exc}")
            self.specs.put(key, entry, self.settings.negative_ttl)
            return entry
        except VerificationError as exc:  # as invalid, until a signature may have come
            # The reason first: warnings are cut at 256 characters (KEP-1693).
            entry = _SpecEntry(None, f"image {ref}: compatibility spec not trusted: "
                               f"{exc.reason}: artifact {exc.artifact}: {exc.detail}")
            self.specs.put(key, entry, self.settings.negative_ttl)
            return entry
        entry = _SpecEntry(found)
        self.specs.put(key, entry, None if found else self.settings.negative_ttl)
        return entry

    async def _plan(self, image: str, spec: ImageSpec, attempt: int = 0) -> ImagePlan:
        key = (image, spec.artifact_digest)
        plan = self.plans.get(key) if attempt == 0 else None
        if plan is None:  # a spec of up to 1 MiB: planned off the event loop
            plan = await asyncio.get_running_loop().run_in_executor(
                self.cpu_pool, functools.partial(
                    plan_image, image, spec.spec, self.settings.label_prefix,
                    self.settings.nfd, spec_digest=spec.artifact_digest, attempt=attempt))
            if spec.warnings:
                plan = dataclasses.replace(plan, warnings=(
                    *plan.warnings, *(f"image {image}: {w}" for w in spec.warnings)))
            self.plans.put(key, plan)
        return plan

    async def _write_rule(self, image: str, plan: ImagePlan, spec: ImageSpec) -> ImagePlan:
        """Write ``plan``'s rule; when its name is another rule's, the image's next
        alternative name (labels included) instead. Returns the plan whose rule was written."""
        assert self._rule_writer is not None
        taken: list[str] = []
        for attempt in range(MAX_RULE_NAMES):
            if attempt:
                plan = await self._plan(image, spec, attempt)
            key = (plan.rule_name, spec.artifact_digest)
            if self.rules_written.get(key):
                return plan
            try:
                await self._flight(("rule", *key), "", self._rule_writer, plan.rule)
            except RuleConflict as exc:
                self.counters.conflicts += 1
                self._log("NodeFeatureRule name taken", level="warning", image=image,
                          rule=plan.rule_name, reason=str(exc))
                taken.append(plan.rule_name)
                continue
            self.rules_written.put(key, True)
            if taken:
                plan = dataclasses.replace(plan, warnings=(*plan.warnings, (
                    f"image {image}: NodeFeatureRule {', '.join(taken)} belongs to another "
                    f"image or was not made by this webhook; left alone, this image's rule "
                    f"and labels are {plan.rule_name}")))
                self.plans.put((image, spec.artifact_digest), plan)
            return plan
        raise RuleConflict(f"the image's {MAX_RULE_NAMES} rule names ({', '.join(taken)}) "
                           "are all taken by rules that are not provably its own; left alone")

    async def _flight(self, key: tuple[str, ...], slot: str, fn: Callable[..., T],
                      *args: Any) -> T:
        """Run ``fn(*args)`` in the pool, sharing one call among concurrent callers, at most
        ``per_registry`` at once for the same ``slot`` (a registry host; "" for the API)."""
        future = self._flights.get(key)
        if future is None:
            self.counters.fetches[key[0]] += 1
            future = asyncio.ensure_future(self._in_slot(slot, fn, *args))
            self._flights[key] = future
            future.add_done_callback(lambda done: self._finished(key, done))
        result: T = await asyncio.shield(future)
        return result

    async def _in_slot(self, slot: str, fn: Callable[..., T], *args: Any) -> T:
        semaphore, users = self._slots.setdefault(
            slot, (asyncio.Semaphore(self.settings.per_registry), [0]))
        users[0] += 1
        try:
            async with semaphore:
                return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        finally:
            users[0] -= 1
            if not users[0]:  # nobody holds or waits: forget it (hosts are unbounded)
                del self._slots[slot]

    def _finished(self, key: tuple[str, ...], future: asyncio.Future[Any]) -> None:
        self._flights.pop(key, None)
        if future.cancelled():
            return
        error = future.exception()
        if error is not None and not isinstance(error, (SpecError, RuleConflict)):
            self.counters.failures[key[0]] += 1
