"""The cluster report: a nodes × sets table for people, a document for ``--output json|yaml``.

In the table a failing cell shows ``FAIL [n]``; note ``[n]`` below gives every
failing expression of every failing rule, one a line. Nodes that fail for the same
reasons share a note (reasons leave instance counts out, so nodes that differ only
in how many devices they have share one), and the table stays readable on
clusters of thousands of nodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nfd._text import printable_line
from nfd.cluster._evaluate import ClusterResult

if TYPE_CHECKING:
    from nfd.match import SetVerdict

_RED, _GREEN, _BOLD, _RESET = "\033[91m", "\033[92m", "\033[1m", "\033[0m"
MATCHED = "matched"


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
        {"index": s.index, "tag": s.tag, "weight": s.weight, "description": s.description}
        for s in result.sets
    ]
    doc["nodes"] = nodes
    doc["ignored"] = list(result.ignored)
    return doc


def _describe(sets: tuple[SetVerdict, ...]) -> tuple[bool, list[dict[str, Any]]]:
    """Whether a node with these verdicts is compatible, and its report entries."""
    return any(v.is_match for v in sets), [
        {"index": v.index, "isMatch": v.is_match,
         **({} if v.is_match else {"reason": v.reason, "reasons": list(v.reasons)})}
        for v in sets]


def _paint(text: str, colour: bool, *codes: str) -> str:
    return "".join(codes) + text + _RESET if colour else text


def render_cluster_table(result: ClusterResult, colour: bool = False) -> str:
    """The table, its notes, and a one-line summary."""
    notes: dict[tuple[str, ...], int] = {}
    header = ["NODE", *[printable_line(f"SET {s.title}") for s in result.sets], "COMPATIBLE"]
    rows: list[list[str]] = []
    for node in result.nodes:
        cells = [printable_line(node.node)]
        for verdict in node.sets:
            if verdict.is_match:
                cells.append(MATCHED)
            else:
                reasons = tuple(printable_line(r) for r in verdict.reasons) or ("did not match",)
                number = notes.setdefault(reasons, len(notes) + 1)
                cells.append(f"FAIL [{number}]")
        cells.append("yes" if node.compatible else "no")
        rows.append(cells)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str], paint: bool) -> str:
        out = []
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            padded = cell.ljust(width) if i < len(cells) - 1 else cell
            if paint and i > 0:
                good = cell in (MATCHED, "yes")
                padded = _paint(padded, colour, _GREEN if good else _RED)
            out.append(padded)
        return "  ".join(out).rstrip()

    lines = [_paint(line(header, False), colour, _BOLD)]
    lines += [line(r, True) for r in rows]
    if notes:
        lines.append("")
        for reasons, n in notes.items():
            mark = f"[{n}] "
            lines += [(mark if i == 0 else " " * len(mark)) + why for i, why in enumerate(reasons)]
    if result.ignored:
        lines.append("")
        lines += [f"ignored: {printable_line(item)}" for item in result.ignored]
    lines.append("")
    count = len(result.compatible_nodes)
    if not result.nodes:
        summary = _paint("NOT COMPATIBLE: the cluster has no NodeFeature objects (is NFD "
                         "deployed?)", colour, _RED, _BOLD)
    elif count:
        summary = _paint(f"COMPATIBLE: {count} of {len(result.nodes)} nodes can run the image.",
                         colour, _GREEN, _BOLD)
    else:
        summary = _paint(f"NOT COMPATIBLE: none of the {len(result.nodes)} nodes matches a "
                         "compatibility set.", colour, _RED, _BOLD)
    lines.append(summary)
    return "\n".join(lines) + "\n"
