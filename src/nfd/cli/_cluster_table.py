"""validate-cluster's table: nodes × sets, then the notes that say why cells failed.

A failing cell shows ``FAIL [n]``; note ``[n]`` below gives every failing expression
of every failing rule, one a line, with the expression's ``type``. Nodes that fail for
the same reasons share a note (reasons leave instance counts out, so nodes that differ
only in how many devices they have share one), and the table stays readable on
clusters of thousands of nodes. Sets are numbered ``SET #1`` as in validate-node's
table and as ``number`` in the JSON report. Colour marks results only; on a terminal
the notes wrap at spaces to its width.
"""

from __future__ import annotations

from nfd._lazy import TYPE_CHECKING
from nfd._text import printable_line
from nfd.cli._table import BOLD, GREEN, RED, Paint, wrap_words

if TYPE_CHECKING:
    from nfd.cluster import ClusterResult

MATCHED = "matched"


def render_cluster_table(result: ClusterResult, colour: bool = False,
                         max_width: int | None = None) -> str:
    """The table, its notes, and a one-line summary."""
    paint = Paint(colour)
    notes: dict[tuple[str, ...], int] = {}
    header = ["NODE", *[printable_line(f"SET #{s.number}" + (f" {s.tag}" if s.tag else ""))
                        for s in result.sets], "COMPATIBLE"]
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

    def line(cells: list[str], result_cells: bool) -> str:
        out = []
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            padded = cell.ljust(width) if i < len(cells) - 1 else cell
            if result_cells and i > 0:
                padded = paint(padded, GREEN if cell in (MATCHED, "yes") else RED)
            out.append(padded)
        return "  ".join(out).rstrip()

    lines = [paint(line(header, False), BOLD)]
    lines += [line(r, True) for r in rows]
    if notes:
        lines.append("")
        for reasons, n in notes.items():
            mark = f"[{n}] "
            for i, why in enumerate(reasons):
                lead = mark if i == 0 else " " * len(mark)
                lines += _indented(lead, why, max_width)
    if result.ignored:
        lines.append("")
        lines += [f"ignored: {printable_line(item)}" for item in result.ignored]
    lines.append("")
    lines.append(_summary(result, paint))
    return "\n".join(lines) + "\n"


def _indented(lead: str, text: str, max_width: int | None) -> list[str]:
    if max_width is None:
        return [lead + text]
    pieces = wrap_words(text, max(max_width - len(lead), 20))
    return [(lead if i == 0 else " " * len(lead)) + piece for i, piece in enumerate(pieces)]


def _summary(result: ClusterResult, paint: Paint) -> str:
    count = len(result.compatible_nodes)
    if not result.nodes:
        return paint("NOT COMPATIBLE: the cluster has no NodeFeature objects (is NFD "
                     "deployed?)", RED, BOLD)
    if count:
        return paint(f"COMPATIBLE: {count} of {len(result.nodes)} nodes can run the image.",
                     GREEN, BOLD)
    return paint(f"NOT COMPATIBLE: none of the {len(result.nodes)} nodes matches a "
                 "compatibility set.", RED, BOLD)
