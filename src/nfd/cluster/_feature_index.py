"""The cluster's NodeFeatures in memory, kept current from a list and then watch events.

The admission webhook asks, for every pod, whether any current node can run it; it cannot
list the cluster per request. This index holds each NodeFeature object projected on what the
specs in use read (nothing else of a node can change a verdict), merges each node's objects
as nfd-master does, and counts a generation that changes with every change, so answers can
be remembered until the cluster changes. Staleness is the time since the list or the last
event (a bookmark counts: the server says nothing was missed up to it).

Feeding it is the caller's job (Kubernetes' list-then-watch, with ``resourceVersion`` and
``allowWatchBookmarks``; relist on ``410 Gone``): :meth:`replace` takes a list, :meth:`apply`
one watch event.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from nfd.api import (
    DEFAULT_NFD_NAMESPACE,
    NODE_NAME_LABEL,
    Features,
    merge_node_features,
    merge_order,
    node_feature_from_obj,
)
from nfd.cluster._nfd_affinity import LabelRequirement, is_nfd_label
from nfd.cluster._stream import project_features
from nfd.errors import SpecError
from nfd.match import SpecEvaluator

Reads = Mapping[str, "frozenset[str] | None"]
MAX_OBJECTS = 100_000


class _Pool:
    """One copy of each distinct projected value (a feature's flags, attributes or
    instances): thousands of nodes of a few machine kinds share a handful of them, and the
    index then holds little more than one reference per node and feature."""

    def __init__(self, limit: int = 1_000_000) -> None:
        self._values: dict[Any, Any] = {}
        self._limit = limit

    def _one(self, key: Any, value: Any) -> Any:
        found = self._values.get(key)
        if found is None:
            if len(self._values) >= self._limit:
                return value  # past the bound: kept, just not shared
            found = self._values[key] = value
        return found

    def shared(self, features: Features) -> Features:
        i = sys.intern
        flags = {i(f): None if els is None else self._one(("F", f, frozenset(els)), set(els))
                 for f, els in features.flags.items()}
        attributes = {i(f): None if els is None else self._one(
            ("A", f, frozenset(els.items())), {i(k): i(v) for k, v in els.items()})
            for f, els in features.attributes.items()}
        instances = {i(f): None if insts is None else self._one(
            ("I", f, tuple(frozenset(inst.items()) for inst in insts)),
            [{i(k): i(v) for k, v in inst.items()} for inst in insts])
            for f, insts in features.instances.items()}
        return Features(flags=flags, attributes=attributes, instances=instances)


class WatchGone(Exception):
    """The watch can not go on (``410 Gone`` or an ERROR event): list again."""


class FeatureIndex:
    """Merged, projected features by node, current as of :attr:`resource_version`."""

    def __init__(self, reads: Reads, nfd_namespace: str = DEFAULT_NFD_NAMESPACE,
                 clock: Callable[[], float] = time.monotonic,
                 max_objects: int = MAX_OBJECTS) -> None:
        self.reads: dict[str, frozenset[str] | None] = dict(reads)
        self.nfd_namespace = nfd_namespace
        self.resource_version = ""
        self.generation = 0
        self._clock = clock
        self._max_objects = max_objects
        self._objects: dict[tuple[str, str], Any] = {}  # (namespace, name) -> NodeFeature
        self._by_node: dict[str, set[tuple[str, str]]] = {}
        self._nodes: dict[str, Features] = {}
        self._labels: dict[str, dict[str, str]] = {}
        self._synced: float | None = None
        self._pool = _Pool()
        self._lock = threading.Lock()

    # -- what readers see -------------------------------------------------------------

    @property
    def nodes(self) -> dict[str, Features]:
        """Node name -> merged projected features (a snapshot: safe to iterate)."""
        with self._lock:
            return dict(self._nodes)

    @property
    def labels(self) -> dict[str, dict[str, str]]:
        """Node name -> nfd-worker's labels in NFD's namespaces (a snapshot)."""
        with self._lock:
            return dict(self._labels)

    def staleness(self) -> float | None:
        """Seconds since the index was last known current; None before the first list."""
        return None if self._synced is None else self._clock() - self._synced

    def covers(self, reads: Reads) -> bool:
        """Whether everything ``reads`` names is kept (else a relist must widen the index)."""
        for feature, names in reads.items():
            if feature not in self.reads:
                return False
            kept = self.reads[feature]
            if kept is not None and (names is None or not names <= kept):
                return False
        return True

    def widen(self, reads: Reads) -> None:
        """Keep ``reads`` too from the next :meth:`replace` on."""
        for feature, names in reads.items():
            kept = self.reads.get(feature, frozenset())
            self.reads[feature] = None if kept is None or names is None else kept | names

    # -- feeding -----------------------------------------------------------------------

    def replace(self, items: list[Any], resource_version: str) -> None:
        """A full list: the index becomes exactly these objects."""
        if len(items) > self._max_objects:
            raise SpecError(f"over {self._max_objects} NodeFeature objects", path="items")
        self._pool = _Pool()  # values of objects gone stop being held
        objects = {}
        for index, item in enumerate(items):
            parsed = self._parse(item, f"items[{index}]")
            if parsed is not None:
                objects[(parsed.namespace, parsed.name)] = parsed
        with self._lock:
            self._objects = objects
            self._by_node = {}
            for key, nf in objects.items():
                self._by_node.setdefault(nf.node_name, set()).add(key)
            self._nodes = {}
            self._labels = {}
            for node in self._by_node:
                self._remerge(node)
            self._advance(resource_version)

    def apply(self, event: Any) -> None:
        """One watch event: ADDED, MODIFIED, DELETED, BOOKMARK; ERROR raises WatchGone."""
        if not isinstance(event, dict) or not isinstance(event.get("object"), dict):
            raise WatchGone("a watch event without an object")
        kind, obj = event.get("type"), event["object"]
        version = str((obj.get("metadata") or {}).get("resourceVersion") or "")
        if kind == "ERROR":
            raise WatchGone(str(obj.get("message") or "the watch ended with an error"))
        if kind == "BOOKMARK":
            with self._lock:
                self.resource_version = version or self.resource_version
                self._synced = self._clock()
            return
        if kind not in ("ADDED", "MODIFIED", "DELETED"):
            raise WatchGone(f"unknown watch event type {kind!r}")
        meta = obj.get("metadata") or {}
        key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        parsed = None if kind == "DELETED" else self._parse(obj, "object")
        with self._lock:
            old = self._objects.pop(key, None)
            touched = {old.node_name} if old is not None else set()
            if old is not None:
                self._by_node.get(old.node_name, set()).discard(key)
            if parsed is not None:
                if len(self._objects) >= self._max_objects:
                    raise WatchGone(f"over {self._max_objects} NodeFeature objects")
                self._objects[key] = parsed
                self._by_node.setdefault(parsed.node_name, set()).add(key)
                touched.add(parsed.node_name)
            for node in touched:
                self._remerge(node)
            self._advance(version)

    def confirm(self) -> None:
        """A watch ended cleanly: nothing was missed up to now (staleness starts again)."""
        with self._lock:
            self._synced = self._clock()

    def _parse(self, obj: Any, path: str) -> Any:
        """The object as NFD's master reads it, projected; None without the node label."""
        if isinstance(obj, dict) and "kind" not in obj:
            obj = {**obj, "kind": "NodeFeature"}  # list items and watch objects may omit it
        labels = ((obj.get("metadata") or {}).get("labels") or {}) if isinstance(obj, dict) else {}
        if not isinstance(labels, dict) or not labels.get(NODE_NAME_LABEL):
            return None  # the master does not use it
        nf = node_feature_from_obj(obj, path)
        nf.features = self._pool.shared(project_features(nf.features, self.reads))
        # nfd-worker's labels in NFD's namespaces: what a pod's own affinity may ask for.
        nf.labels = {sys.intern(k): sys.intern(v) for k, v in nf.labels.items()
                     if is_nfd_label(k)}
        return nf

    def _remerge(self, node: str) -> None:
        keys = self._by_node.get(node)
        if not keys:
            self._by_node.pop(node, None)
            self._nodes.pop(node, None)
            self._labels.pop(node, None)
            return
        # The master's order: later objects' labels win (getAndMergeNodeFeatures).
        labels: dict[str, str] = {}
        for nf in merge_order([self._objects[k] for k in keys], self.nfd_namespace):
            labels.update(nf.labels)
        self._labels[node] = labels
        if len(keys) == 1:  # most nodes: one publisher, nothing to merge (nor to copy)
            (key,) = keys
            self._nodes[node] = self._objects[key].features
            return
        merged = merge_node_features([self._objects[k] for k in keys], self.nfd_namespace)
        self._nodes[node] = merged[node]

    def _advance(self, resource_version: str) -> None:
        self.resource_version = resource_version or self.resource_version
        self.generation += 1
        self._synced = self._clock()


def _key(evaluators: list[SpecEvaluator], requirement: LabelRequirement | None
         ) -> tuple[object, ...]:
    return (*sorted(id(e) for e in evaluators), requirement)


class Unsatisfied:
    """No current node runs the pod: the closest nodes and what each lacks."""

    __slots__ = ("closest", "nodes")

    def __init__(self, nodes: int, closest: list[tuple[str, tuple[str, ...]]]) -> None:
        self.nodes = nodes
        self.closest = closest

    def message(self, limit: int = 3) -> str:
        if not self.nodes:
            return "no node of the cluster has NodeFeatures"
        parts = [f"{node} lacks {'; '.join(reasons[:2])}" + (" …" if len(reasons) > 2 else "")
                 for node, reasons in self.closest[:limit]]
        return f"none of {self.nodes} node(s) satisfies it; closest: " + " | ".join(parts)


class SatisfiabilityCheck:
    """Whether any current node satisfies every one of a pod's specs, remembered per set of
    specs until the index changes (its generation), so a warm answer costs a lookup."""

    def __init__(self, index: FeatureIndex, closest: int = 3, remember: int = 4096) -> None:
        self.index = index
        self._closest = closest
        self._remember = remember
        self._answers: dict[tuple[object, ...], Unsatisfied | None] = {}
        self._generation = -1
        self._lock = threading.Lock()

    def remembered(self, evaluators: list[SpecEvaluator],
                   requirement: LabelRequirement | None = None
                   ) -> tuple[bool, Unsatisfied | None]:
        """``(True, answer)`` when the answer for the current index is remembered (a
        lookup), else ``(False, None)``: :meth:`check` would evaluate every node."""
        key = _key(evaluators, requirement)
        with self._lock:
            if self._generation != self.index.generation:
                self._answers.clear()
                self._generation = self.index.generation
            if key in self._answers:
                return True, self._answers[key]
        return False, None

    def check(self, evaluators: list[SpecEvaluator],
              requirement: LabelRequirement | None = None) -> Unsatisfied | None:
        """None when some node satisfies all ``evaluators`` and the pod's own NFD label
        ``requirement``, else why not."""
        key = _key(evaluators, requirement)
        found, remembered = self.remembered(evaluators, requirement)
        if found:
            return remembered
        generation = self.index.generation
        answer = self._evaluate(evaluators, requirement)
        with self._lock:  # an answer about an index changed meanwhile is not remembered
            if self._generation == generation and len(self._answers) < self._remember:
                self._answers[key] = answer
        return answer

    def _evaluate(self, evaluators: list[SpecEvaluator],
                  requirement: LabelRequirement | None) -> Unsatisfied | None:
        nodes = self.index.nodes
        labels = self.index.labels if requirement is not None else {}
        # Keys no NodeFeature publishes may be set on nodes by others: they hold.
        published = {k for node_labels in labels.values() for k in node_labels}
        ranked: list[tuple[int, str, tuple[str, ...]]] = []
        for node, features in nodes.items():
            reasons: list[str] = []
            if requirement is not None:
                reasons.extend(requirement.failures(labels.get(node, {}), published))
            for evaluator in evaluators:
                verdicts = evaluator.verdicts(features)
                if not any(v.is_match for v in verdicts):
                    fewest = min(verdicts, key=lambda v: len(v.reasons), default=None)
                    reasons.extend(fewest.reasons if fewest else ())
            if not reasons:
                return None
            ranked.append((len(reasons), node, tuple(reasons)))
        ranked.sort()
        return Unsatisfied(len(nodes), [(node, reasons) for _, node, reasons
                                        in ranked[:self._closest]])
