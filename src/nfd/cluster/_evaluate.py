"""Evaluating a compatibility spec on every node of a cluster.

Each node's merged features go through the same engine as ``validate-node``
(:func:`nfd.compat.validate_features`), so a node's verdict here is the one
the Job would print on that node, given the same features. One regular
expression cache is shared by all nodes: the spec is the same for each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nfd.api import CompatSpec
from nfd.cluster._nodefeatures import ClusterFeatures
from nfd.cluster._rule import select_sets
from nfd.compat import first_failure, validate_features
from nfd.errors import EvaluationError
from nfd.match import spec_regexes


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
class SetVerdict:
    """One set on one node: matched, or the first failing rule and why."""

    index: int
    is_match: bool
    reason: str | None


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


def validate_cluster(spec: CompatSpec, cluster: ClusterFeatures, tags: Sequence[str] = ()
                     ) -> ClusterResult:
    """Evaluate ``spec`` on every node of ``cluster`` (``tags`` select sets, as validate-node).

    Raises :class:`UsageError` when the tags select no set, and
    :class:`EvaluationError` (naming the node) where NFD's engine errors.
    """
    chosen = select_sets(spec, tags)
    infos = tuple(SetInfo(i, c.tag, c.weight, c.description) for i, c in chosen)
    regexes = spec_regexes(spec)  # the spec's RE2 budget, checked up front
    verdicts: list[NodeVerdict] = []
    for node, features in cluster.nodes.items():
        try:
            result = validate_features(spec, features, tags, regexes)
        except EvaluationError as exc:
            raise EvaluationError(f"on node {node!r}: {exc.message}", source=exc.source,
                                  path=exc.path) from None
        sets = tuple(SetVerdict(s.index, s.is_match, None if s.is_match else first_failure(s))
                     for s in result.statuses)
        verdicts.append(NodeVerdict(node, sets, tuple(cluster.objects.get(node, ()))))
    return ClusterResult(infos, tuple(verdicts), tuple(cluster.ignored))
