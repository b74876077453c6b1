""""No node can run this", answered at admission (``--unsatisfiable warn|deny``).

Without it, a pod whose images need what no node has is admitted and then sits Pending with
"didn't match Pod's node affinity/selector", and nothing says which requirement nobody
meets. Here, once the pod's images are resolved, the specs of all of them are evaluated
together on a :class:`~nfd.cluster.FeatureIndex` of the cluster's NodeFeatures, kept current
by an :class:`~nfd.cluster.IndexFeed` (list, then bounded watches; relist on 410 Gone). A pod
no current node satisfies gets a warning naming the closest nodes and what each lacks, or
is denied.

What is checked: the images' specs, ANDed with the NFD-backed part of the pod's own
``nodeSelector`` and required node affinity (:func:`nfd.cluster.nfd_label_requirement`:
keys in NFD's label namespaces that nfd-worker publishes, judged on the labels the
NodeFeatures carry).
That is sound for deny: the affinity the webhook adds ANDs every image's requirements, and
the pod's own requirements stand beside them, so a pod no node satisfies on those alone can
never be scheduled; whatever this check cannot judge is taken as satisfied. Images whose
spec could not be resolved are left out, which can only make the set easier to satisfy.
Deny relies on the index being current: when it has not been confirmed within
``max_staleness`` seconds, deny becomes a warning, and before the first list nothing is
checked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, Literal

from nfd.cluster import (
    FeatureIndex,
    IndexFeed,
    LabelRequirement,
    SatisfiabilityCheck,
    Unsatisfied,
    reads_of,
)
from nfd.match import SharedOutcomes, SpecEvaluator
from nfd.webhook._resolver import Resolution, Resolver
from nfd.webhook._review import response

Mode = Literal["off", "warn", "deny"]
MODES: tuple[Mode, ...] = ("off", "warn", "deny")
# Compiled specs kept (by artifact digest); past the bound they are compiled again.
MAX_EVALUATORS = 4096
# A cold check evaluates every node: off the event loop above this many nodes.
INLINE_NODES = 64


class Verdict:
    """What the check says of one review: deny (with a message), warn, or nothing."""

    __slots__ = ("deny", "warning")

    def __init__(self, deny: str | None = None, warning: str | None = None) -> None:
        self.deny = deny
        self.warning = warning


class UnsatisfiableCheck:
    """The admission side of the index: compiled specs, the remembered answers, the feed."""

    def __init__(self, mode: Mode, feed: IndexFeed, resolver: Resolver,
                 max_staleness: float) -> None:
        self.mode = mode
        self.feed = feed
        self.index: FeatureIndex = feed.index
        self._resolver = resolver
        self._max_staleness = max_staleness
        self._check = SatisfiabilityCheck(self.index)
        self._evaluators: dict[str, SpecEvaluator] = {}
        self._shared = SharedOutcomes()
        self.counts = {"satisfiable": 0, "unsatisfiable": 0, "unchecked": 0}

    def _evaluator(self, resolution: Resolution) -> SpecEvaluator | None:
        key = resolution.artifact_digest or ""
        found = self._evaluators.get(key)
        if found is not None:
            return found
        spec = self._resolver.spec_of(resolution)
        if spec is None:
            return None
        if len(self._evaluators) >= MAX_EVALUATORS:
            self._evaluators.clear()
            self._shared = SharedOutcomes()
        found = self._evaluators[key] = SpecEvaluator(spec, shared=self._shared)
        return found

    def evaluators(self, resolutions: Sequence[Resolution]) -> list[SpecEvaluator]:
        found = (self._evaluator(r) for r in resolutions
                 if r.status == "spec" and r.artifact_digest)
        return list({id(e): e for e in found if e is not None}.values())

    async def verdict(self, resolutions: Sequence[Resolution], what: str, deadline: float,
                      requirement: LabelRequirement | None = None) -> Verdict:
        """Whether any current node satisfies all the resolved images' specs and the pod's
        own ``requirement`` on NFD labels (never raises: a fault of ours is a warning, and
        the review goes on)."""
        try:
            return await self._verdict(resolutions, what, deadline, requirement)
        except Exception as exc:  # a bug of ours must not fail the admission
            self.counts["unchecked"] += 1
            return Verdict(warning=f"{what}: not checked for a node that can run it "
                           f"(internal error: {type(exc).__name__})")

    async def _verdict(self, resolutions: Sequence[Resolution], what: str, deadline: float,
                       requirement: LabelRequirement | None) -> Verdict:
        evaluators = self.evaluators(resolutions)
        if not evaluators and requirement is None:
            return Verdict()
        staleness = self.index.staleness()
        reads = reads_of(evaluators)
        if staleness is None or not self.index.covers(reads):
            if staleness is not None:
                self.feed.widen(reads)
            self.counts["unchecked"] += 1
            return Verdict(warning=f"{what}: not checked for a node that can run it yet (the "
                           "NodeFeature index is being " +
                           ("listed)" if staleness is None else "widened to what its images "
                            "read)"))
        try:
            answer = await self._answer(evaluators, requirement, deadline)
        except TimeoutError:  # the check goes on and is remembered for the next review
            self.counts["unchecked"] += 1
            return Verdict(warning=f"{what}: not checked for a node that can run it within "
                           "the review's deadline")
        if answer is None:
            self.counts["satisfiable"] += 1
            return Verdict()
        self.counts["unsatisfiable"] += 1
        message = f"{what}: no node can run it: {answer.message()}"
        if self.mode == "deny" and staleness <= self._max_staleness:
            return Verdict(deny=message)
        if self.mode == "deny":
            message += (f" (not denied: the NodeFeature index was last confirmed "
                        f"{staleness:.0f} s ago)")
        return Verdict(warning=message)

    async def _answer(self, evaluators: list[SpecEvaluator],
                      requirement: LabelRequirement | None, deadline: float
                      ) -> Unsatisfied | None:
        found, answer = self._check.remembered(evaluators, requirement)
        if found:
            return answer
        if len(self.index.nodes) <= INLINE_NODES:
            return self._check.check(evaluators, requirement)
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._resolver.cpu_pool, self._check.check, evaluators,
                                      requirement)
        return await asyncio.wait_for(future, max(deadline - time.perf_counter(), 0.01))

    def metrics(self) -> list[str]:
        """Prometheus lines: the index's staleness, nodes and generation, and the checks."""
        staleness = self.index.staleness()
        lines = [
            "# HELP nfd_webhook_index_staleness_seconds Seconds since the NodeFeature index "
            "was last known current (-1: not listed yet).",
            "# TYPE nfd_webhook_index_staleness_seconds gauge",
            f"nfd_webhook_index_staleness_seconds {-1 if staleness is None else staleness:.3f}",
            "# HELP nfd_webhook_index_nodes Nodes in the NodeFeature index.",
            "# TYPE nfd_webhook_index_nodes gauge",
            f"nfd_webhook_index_nodes {len(self.index.nodes)}",
            "# HELP nfd_webhook_index_generation Changes applied to the NodeFeature index.",
            "# TYPE nfd_webhook_index_generation counter",
            f"nfd_webhook_index_generation {self.index.generation}",
            "# HELP nfd_webhook_index_lists_total Full lists of the NodeFeatures.",
            "# TYPE nfd_webhook_index_lists_total counter",
            f"nfd_webhook_index_lists_total {self.feed.lists}",
            "# HELP nfd_webhook_index_errors_total Failed lists or watches (retried).",
            "# TYPE nfd_webhook_index_errors_total counter",
            f"nfd_webhook_index_errors_total {self.feed.errors}",
            "# HELP nfd_webhook_satisfiability_checks_total Reviews checked for a node that "
            "can run them, by result.",
            "# TYPE nfd_webhook_satisfiability_checks_total counter",
        ]
        lines += [f'nfd_webhook_satisfiability_checks_total{{result="{name}"}} {count}'
                  for name, count in sorted(self.counts.items())]
        return lines


def denied(uid: str, message: str, warnings: Sequence[str] = ()) -> dict[str, Any]:
    """The answer refusing a pod no node can run (403 Forbidden: the request is valid, the
    cluster cannot run it)."""
    answer = response(uid, allowed=False, message=message, warnings=warnings)
    answer["response"]["status"].update(code=403, reason="Forbidden")
    return answer

