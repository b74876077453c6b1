"""Evaluating a compatibility spec on every node of a cluster.

Each node's merged features go through the same spec evaluator as
``validate-node`` (:class:`nfd.match.SpecEvaluator`), so a node's verdict here is
the one the Job would print on that node, given the same features. The spec is
compiled once for all nodes, and each rule is evaluated once per distinct
projection of the nodes on what it reads (machine pools share them).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from nfd._record import FrozenRecord, set_field
from nfd.api import CompatSpec, Features
from nfd.cluster._fork import Forked, can_fork
from nfd.cluster._nodefeatures import ClusterFeatures
from nfd.errors import EvaluationError
from nfd.match import SetVerdict, SpecEvaluator

# Fewer nodes than this are not worth a second process.
PARALLEL_NODES = 2000


class SetInfo(FrozenRecord):
    """A selected compatibility set, as shown in column headers and reports."""

    __slots__ = ("description", "index", "tag", "weight")
    index: int
    tag: str
    weight: int
    description: str

    def __init__(self, index: int, tag: str, weight: int, description: str) -> None:
        set_field(self, "index", index)
        set_field(self, "tag", tag)
        set_field(self, "weight", weight)
        set_field(self, "description", description)

    @property
    def number(self) -> int:
        """The set's 1-based position in the spec, as reports number it."""
        return self.index + 1


class NodeVerdict(FrozenRecord):
    """One node: its verdict per selected set and the NodeFeature objects it came from."""

    __slots__ = ("node", "objects", "sets")
    node: str
    sets: tuple[SetVerdict, ...]
    objects: tuple[str, ...]

    def __init__(self, node: str, sets: tuple[SetVerdict, ...], objects: tuple[str, ...]
                 ) -> None:
        set_field(self, "node", node)
        set_field(self, "sets", sets)
        set_field(self, "objects", objects)

    @property
    def compatible(self) -> bool:
        """At least one selected set matches on this node."""
        return any(s.is_match for s in self.sets)


class ClusterResult(FrozenRecord):
    """Verdicts for every node, in node-name order."""

    __slots__ = ("ignored", "nodes", "sets")
    sets: tuple[SetInfo, ...]
    nodes: tuple[NodeVerdict, ...]
    ignored: tuple[str, ...]

    def __init__(self, sets: tuple[SetInfo, ...], nodes: tuple[NodeVerdict, ...],
                 ignored: tuple[str, ...] = ()) -> None:
        set_field(self, "sets", sets)
        set_field(self, "nodes", nodes)
        set_field(self, "ignored", ignored)

    @property
    def compatible_nodes(self) -> list[str]:
        """Names of the nodes where at least one set matches."""
        return [n.node for n in self.nodes if n.compatible]

    @property
    def compatible(self) -> bool:
        """At least one node can run the image."""
        return any(n.compatible for n in self.nodes)


def _verdicts(evaluator: SpecEvaluator, node: str, features: Features
              ) -> tuple[SetVerdict, ...]:
    try:
        return evaluator.verdicts(features)
    except EvaluationError as exc:
        raise EvaluationError(f"on node {node!r}: {exc.message}", source=exc.source,
                              path=exc.path) from None


def validate_cluster(spec: CompatSpec, cluster: ClusterFeatures, tags: Sequence[str] = (),
                     evaluator: SpecEvaluator | None = None, workers: int = 1
                     ) -> ClusterResult:
    """Evaluate ``spec`` on every node of ``cluster`` (``tags`` select sets, as validate-node).

    Pass ``evaluator`` (made for ``spec`` and ``tags``) to reuse one already compiled.
    ``workers=2`` evaluates the second half of a big cluster in a forked process (for
    single-threaded callers such as the CLI).
    Raises :class:`UsageError` when the tags select no set, and
    :class:`EvaluationError` (naming the first node, in order, where it happens) where
    NFD's engine errors.
    """
    evaluator = evaluator or SpecEvaluator(spec, tags)
    infos = tuple(SetInfo(i, c.tag, c.weight, c.description) for i, c in evaluator.sets)
    nodes = list(cluster.nodes.items())
    half = len(nodes) // 2 if can_fork(workers) and len(nodes) >= PARALLEL_NODES else len(nodes)
    with contextlib.ExitStack() as stack:
        child = None
        if half < len(nodes):
            child = stack.enter_context(Forked(
                lambda: [evaluator.verdicts(features) for _, features in nodes[half:]]))
        sets = [_verdicts(evaluator, node, features) for node, features in nodes[:half]]
        later = child.result() if child is not None else None
    # The child's half, or (if it failed, e.g. on an engine error) this process's own.
    sets += later if later is not None else [_verdicts(evaluator, node, features)
                                             for node, features in nodes[half:]]
    verdicts = [NodeVerdict(node, node_sets, tuple(cluster.objects.get(node, ())))
                for (node, _), node_sets in zip(nodes, sets, strict=True)]
    return ClusterResult(infos, tuple(verdicts), tuple(cluster.ignored))
