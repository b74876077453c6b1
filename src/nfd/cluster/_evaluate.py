"""Evaluating a compatibility spec on every node of a cluster.

Each node's merged features go through the same spec evaluator as
``validate-node`` (:class:`nfd.match.SpecEvaluator`), so a node's verdict here is
the one the Job would print on that node, given the same features. The spec is
compiled once for all nodes, and each rule is evaluated once per distinct
projection of the nodes on what it reads (machine pools share them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nfd.api import CompatSpec
from nfd.cluster._nodefeatures import ClusterFeatures
from nfd.errors import EvaluationError
from nfd.match import SetVerdict, SpecEvaluator


@dataclass(frozen=True)
class SetInfo:
    """A selected compatibility set, as shown in column headers and reports."""

    index: int
    tag: str
    weight: int
    description: str

    @property
    def title(self) -> str:
        """``#1`` or ``#1 tag`` (1-based, like validate-node's table)."""
        return f"#{self.index + 1}" + (f" {self.tag}" if self.tag else "")


@dataclass(frozen=True)
class NodeVerdict:
    """One node: its verdict per selected set and the NodeFeature objects it came from."""

    node: str
    sets: tuple[SetVerdict, ...]
    objects: tuple[str, ...]

    @property
    def compatible(self) -> bool:
        """At least one selected set matches on this node."""
        return any(s.is_match for s in self.sets)


@dataclass(frozen=True)
class ClusterResult:
    """Verdicts for every node, in node-name order."""

    sets: tuple[SetInfo, ...]
    nodes: tuple[NodeVerdict, ...]
    ignored: tuple[str, ...] = ()

    @property
    def compatible_nodes(self) -> list[str]:
        """Names of the nodes where at least one set matches."""
        return [n.node for n in self.nodes if n.compatible]

    @property
    def compatible(self) -> bool:
        """At least one node can run the image."""
        return any(n.compatible for n in self.nodes)


def validate_cluster(spec: CompatSpec, cluster: ClusterFeatures, tags: Sequence[str] = (),
                     evaluator: SpecEvaluator | None = None) -> ClusterResult:
    """Evaluate ``spec`` on every node of ``cluster`` (``tags`` select sets, as validate-node).

    Pass ``evaluator`` (made for ``spec`` and ``tags``) to reuse one already compiled.
    Raises :class:`UsageError` when the tags select no set, and
    :class:`EvaluationError` (naming the node) where NFD's engine errors.
    """
    evaluator = evaluator or SpecEvaluator(spec, tags)
    infos = tuple(SetInfo(i, c.tag, c.weight, c.description) for i, c in evaluator.sets)
    verdicts: list[NodeVerdict] = []
    for node, features in cluster.nodes.items():
        try:
            sets = evaluator.verdicts(features)
        except EvaluationError as exc:
            raise EvaluationError(f"on node {node!r}: {exc.message}", source=exc.source,
                                  path=exc.path) from None
        verdicts.append(NodeVerdict(node, sets, tuple(cluster.objects.get(node, ()))))
    return ClusterResult(infos, tuple(verdicts), tuple(cluster.ignored))
