"""The report table of ``validate-node``: NFD's layout, plus what the node has on failures.

One table per rule, titled ``RULE: NAME - OK|FAIL``, with the feature, the
expression, the matcher type and the status, like NFD's go-pretty table; a
``ON THE NODE`` column explains each failing line. Unlike NFD's, rows keep the
spec's order, version comparisons show their ``type``, and the table fits the
terminal: the widest text columns wrap inside their cells.
"""

from __future__ import annotations

from nfd._lazy import TYPE_CHECKING
from nfd._text import printable_line
from nfd.api import CompatSpec, GroupRule
from nfd.match import (
    MATCH_NAME,
    NO_SINGLE_INSTANCE,
    CompatibilityStatus,
    ExpressionStatus,
    RuleStatus,
    ValidationResult,
    hides_instance_failure,
    node_text,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import TextIO

# Columns that may wrap when the terminal is narrow (feature, expression, node has), and
# the narrowest each may become. The number, the matcher type and the status are fixed:
# "MatchExpression" is one word, and a word is never cut.
_WRAPPABLE = (1, 2, 5)
_MIN_WRAP_WIDTH = 8
_STATUSES = ("OK", "FAIL")

# The one palette of the CLI's reports: colour marks a result, nothing else.
# Headings are bold, never coloured.
RED, GREEN, BOLD, RESET = "\033[91m", "\033[92m", "\033[1m", "\033[0m"


class Paint:
    """ANSI colour when enabled (a terminal without NO_COLOR), else the text as is."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, *codes: str) -> str:
        if not self.enabled or not codes:
            return text
        return "".join(codes) + text + RESET


def wrap_words(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width``, broken at spaces only: a word longer than
    the width gets a line of its own rather than being cut."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    return [*lines, current]


def _fit(widths: list[int], max_width: int | None) -> list[int]:
    """Column widths whose table is at most ``max_width`` wide: the widest wrappable column
    gives way first, none below its minimum (a table too wide even then stays so)."""
    fitted = list(widths)
    if max_width is None:
        return fitted
    while sum(fitted) + 3 * len(fitted) + 1 > max_width:
        col = max(_WRAPPABLE, key=lambda i: fitted[i])
        if fitted[col] <= _MIN_WRAP_WIDTH:
            break
        fitted[col] -= 1
    return fitted


def _wrap(cell: str, width: int) -> list[str]:
    """``cell`` in lines of at most ``width``, broken at a space or after a ``.``/``,`` where
    one falls within the width (feature names wrap at their dots), else mid-word."""
    lines = []
    while len(cell) > width:
        cut = max(cell.rfind(" ", 1, width + 1), max(cell.rfind(c, 0, width) for c in ".,") + 1)
        if cut <= 0:
            cut = width
        lines.append(cell[:cut].rstrip())
        cell = cell[cut:].lstrip()
    return [*lines, cell]


def _box(title: str, header: Sequence[str], rows: list[list[str] | None],
         paint: Paint, status_col: int, max_width: int | None = None) -> list[str]:
    """A light box-drawing table; ``None`` rows are separators."""
    # Cells come from the spec and the node: no terminal controls get through.
    title = printable_line(title)
    rows = [None if row is None else [printable_line(cell) for cell in row] for row in rows]
    widths = [len(h) for h in header]
    for row in rows:
        for i, cell in enumerate(row or ()):
            widths[i] = max(widths[i], len(cell))
    widths = _fit(widths, max_width)
    inner = sum(widths) + 3 * len(widths) - 1
    wanted = len(title) + 2 if max_width is None else min(len(title) + 2, max_width - 2)
    if wanted > inner:
        widths[-1] += wanted - inner
        inner = wanted

    def line(cells: Sequence[str]) -> list[str]:
        wrapped = [_wrap(cell, width) for cell, width in zip(cells, widths, strict=True)]
        out = []
        for k in range(max(len(w) for w in wrapped)):
            parts = []
            for i, (pieces, width) in enumerate(zip(wrapped, widths, strict=True)):
                text = pieces[k] if k < len(pieces) else ""
                padded = text.ljust(width)
                if i == status_col and text in _STATUSES:  # not the STATUS heading
                    padded = paint(padded, GREEN if text == "OK" else RED)
                parts.append(f" {padded} ")
            out.append("│" + "│".join(parts) + "│")
        return out

    def rule(left: str, mid: str, right: str) -> str:
        return left + mid.join("─" * (w + 2) for w in widths) + right

    lines = ["┌" + "─" * inner + "┐"]
    lines += ["│ " + piece.ljust(inner - 1) + "│" for piece in _wrap(title, inner - 2)]
    lines += [rule("├", "┬", "┤"), *line(header), rule("├", "┼", "┤")]
    for row in rows:
        if row is None:
            lines.append(rule("├", "┼", "┤"))
        else:
            lines.extend(line(row))
    lines.append(rule("└", "┴", "┘"))
    return lines


def _spec_order(rule: GroupRule | None, items: tuple[ExpressionStatus, ...],
                terms_from: int = 0) -> tuple[ExpressionStatus, ...]:
    """``items`` (NFD sorts them by feature and name) back in the order the spec wrote them."""
    if rule is None:
        return items
    terms = rule.match_features if terms_from < 0 else rule.match_any[terms_from].match_features
    positions: dict[tuple[str, str, str], int] = {}
    for t, term in enumerate(terms):
        if term.match_name is not None:
            positions.setdefault((term.feature, MATCH_NAME, str(term.match_name)), t * 10_000)
        for n, (name, expr) in enumerate((term.match_expressions or {}).items(), 1):
            positions.setdefault((term.feature, name, str(expr)), t * 10_000 + n)

    def key(e: ExpressionStatus) -> int:
        name = MATCH_NAME if e.matcher_type == MATCH_NAME else e.name
        return positions.get((e.feature, name, str(e.expression)), 1 << 30)

    return tuple(sorted(items, key=key))


def _on_the_node(e: ExpressionStatus, unread: Mapping[str, str]) -> str:
    """What the node has; for a feature whose file could not be read, which and why
    (not on this node and not read are different answers)."""
    if e.is_match:
        return ""
    # Absent, or an instance feature with no instance (NFD publishes pci.device and
    # usb.device empty when their listing fails): a failed read of its source says why.
    empty = not e.node.available or e.node.instances == 0
    why = unread.get(e.feature) if not e.node.available else None
    why = why or (unread.get(e.feature.split(".", 1)[0]) if empty else None)
    if why:
        return f"could not be read: {why}"
    return node_text(e)


def _rows(items: tuple[ExpressionStatus, ...], start: int, matched: bool,
          unread: Mapping[str, str]) -> list[list[str] | None]:
    rows: list[list[str] | None] = []
    for n, e in enumerate(items, start):
        feature = f"{e.feature}.{e.name}" if e.name else e.feature
        status = "OK" if e.is_match else "FAIL"
        rows.append([str(n), feature, e.expression.text_with_type(), e.matcher_type, status,
                     _on_the_node(e, unread)])
    if hides_instance_failure(items, matched):
        rows.append(["", "(all of the above)", "", "", "FAIL", NO_SINGLE_INSTANCE])
    return rows


def _rule_table(rule: RuleStatus, spec_rule: GroupRule | None, paint: Paint,
                max_width: int | None, unread: Mapping[str, str]) -> list[str]:
    plain_verdict = "OK" if rule.is_match else "FAIL"
    verdict = paint(plain_verdict, GREEN if rule.is_match else RED, BOLD)
    features = _spec_order(spec_rule, rule.match_features.expressions, -1)
    rows = _rows(features, 1, rule.match_features.is_match, unread)
    count = len(features)
    for a, alternative in enumerate(rule.match_any):
        if rows:
            rows.append(None)
        # Labelled as validate-cluster's notes name them ("matchAny alternative 1").
        rows.append(["", f"matchAny alternative {a + 1}", "", "", _STATUSES[
            not alternative.is_match], ""])
        rows.extend(_rows(_spec_order(spec_rule, alternative.expressions, a), count + 1,
                          alternative.is_match, unread))
        count += len(alternative.expressions)
    title = f"RULE: {rule.name.upper()} - {plain_verdict}"
    lines = _box(title, ["", "FEATURE", "EXPRESSION", "MATCHER TYPE", "STATUS", "ON THE NODE"],
                 rows, paint, status_col=4, max_width=max_width)
    lines[1] = lines[1].replace(f"- {plain_verdict}", f"- {verdict}", 1)
    return lines


def _spec_rule(spec: CompatSpec | None, status: CompatibilityStatus, r: int) -> GroupRule | None:
    if spec is None or status.index >= len(spec.compatibilities):
        return None
    rules = spec.compatibilities[status.index].rules
    return rules[r] if r < len(rules) else None


def render_report(result: ValidationResult, stream: TextIO, colour: bool,
                  spec: CompatSpec | None = None, max_width: int | None = None, *,
                  unread: Mapping[str, str] | None = None) -> None:
    """Write the whole table report, then a one-line verdict.

    With ``spec``, rows follow the spec's order; ``max_width`` is the terminal's width;
    ``unread``: features discovery could not read, with where and why; a key without a
    dot is a source, for what that source could not read (``Discovery.failed_reads``).
    """
    paint = Paint(colour)
    for status in result.statuses:
        # Numbered by position in the spec, as everywhere, whatever --tags selects.
        stream.write(_heading(status.number, status, paint))
        for r, rule in enumerate(status.rules):
            lines = _rule_table(rule, _spec_rule(spec, status, r), paint, max_width,
                                unread or {})
            stream.write("\n".join(lines) + "\n")
        stream.write("\n")
    if not result.statuses:
        stream.write("No compatibility set selected (check --tags).\n")
    matched = [s for s in result.statuses if s.is_match]
    if matched:
        which = ", ".join(f"#{s.number}" + (f" ({printable_line(s.tag)})" if s.tag else "")
                          for s in matched)
        stream.write(paint(f"COMPATIBLE: set {which} matches this node.", GREEN, BOLD) + "\n")
    else:
        stream.write(paint("NOT COMPATIBLE: no compatibility set matches this node.", RED,
                           BOLD) + "\n")


def _heading(number: int, status: CompatibilityStatus, paint: Paint) -> str:
    head = paint(f"COMPATIBILITY SET #{number} ", BOLD)
    tail = f"Weight: {status.weight}" + (f"; Tag: {printable_line(status.tag)}"
                                         if status.tag else "")
    return f"{head}{tail}\nDescription: {printable_line(status.description)}\n"
