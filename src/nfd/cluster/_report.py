"""The cluster report document of ``--output json|yaml`` (the table is the CLI's:
``nfd.cli._cluster_table``).

Sets are numbered as everywhere: ``number`` is 1-based (``SET #1`` in tables), ``index``
the 0-based position in the spec's ``compatibilities``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nfd.cluster._evaluate import ClusterResult

if TYPE_CHECKING:
    from nfd.match import SetVerdict



def cluster_report(result: ClusterResult, context: dict[str, Any] | None = None, *,
                   shared: bool = False) -> dict[str, Any]:
    """The ``--output json|yaml`` document: verdict, where things came from, every node.

    With ``shared``, nodes with equal verdicts share the objects that describe them: for
    a caller that only writes the document out (a big cluster's nodes fall into a few
    kinds, and the document is then built in a fraction of the time)."""
    described: dict[tuple[SetVerdict, ...], tuple[bool, list[dict[str, Any]]]] = {}
    nodes: list[dict[str, Any]] = []
    compatible = 0
    for node in result.nodes:
        known = described.get(node.sets) if shared else None
        if known is None:
            known = _describe(node.sets)
            if shared:
                described[node.sets] = known
        compatible += known[0]
        nodes.append({"name": node.node, "compatible": known[0],
                      "nodeFeatures": list(node.objects), "compatibilities": known[1]})
    doc: dict[str, Any] = {"compatible": compatible > 0}
    doc.update(context or {})
    doc["summary"] = {"nodes": len(result.nodes), "compatibleNodes": compatible}
    doc["compatibilities"] = [
        {"index": s.index, "number": s.index + 1, "tag": s.tag, "weight": s.weight,
         "description": s.description}
        for s in result.sets
    ]
    doc["nodes"] = nodes
    doc["ignored"] = list(result.ignored)
    return doc


def _describe(sets: tuple[SetVerdict, ...]) -> tuple[bool, list[dict[str, Any]]]:
    """Whether a node with these verdicts is compatible, and its report entries."""
    return any(v.is_match for v in sets), [
        {"index": v.index, "number": v.index + 1, "isMatch": v.is_match,
         **({} if v.is_match else {"reason": v.reason, "reasons": list(v.reasons)})}
        for v in sets]
