"""The report table of ``validate-node``: NFD's layout, plus what the node has on failures.

One table per rule, titled ``RULE: NAME - OK|FAIL``, with the feature, the
expression, the matcher type and the status, like NFD's go-pretty table; a
``NODE HAS`` column explains each failing line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from nfd._text import printable_line
from nfd.compat import CompatibilityStatus, ValidationResult, node_text
from nfd.compat._explain import NO_SINGLE_INSTANCE, hides_instance_failure
from nfd.match import ExpressionStatus, RuleStatus

_RED, _GREEN, _CYAN, _BOLD, _RESET = "\033[91m", "\033[92m", "\033[36m", "\033[1m", "\033[0m"


class _Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, *codes: str) -> str:
        if not self.enabled or not codes:
            return text
        return "".join(codes) + text + _RESET


def _box(title: str, header: Sequence[str], rows: list[list[str] | None],
         paint: _Paint, status_col: int) -> list[str]:
    """A light box-drawing table; ``None`` rows are separators."""
    # Cells come from the spec and the node: no terminal controls get through.
    title = printable_line(title)
    rows = [None if row is None else [printable_line(cell) for cell in row] for row in rows]
    widths = [len(h) for h in header]
    for row in rows:
        for i, cell in enumerate(row or ()):
            widths[i] = max(widths[i], len(cell))
    inner = sum(widths) + 3 * len(widths) - 1
    title_width = max(inner, len(title) + 2)
    if title_width > inner:
        widths[-1] += title_width - inner
        inner = title_width

    def line(cells: Sequence[str]) -> str:
        out = []
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            padded = cell.ljust(width)
            if i == status_col:
                padded = paint(padded, _GREEN if cell == "OK" else _RED)
            out.append(f" {padded} ")
        return "│" + "│".join(out) + "│"

    def rule(left: str, mid: str, right: str) -> str:
        return left + mid.join("─" * (w + 2) for w in widths) + right

    lines = ["┌" + "─" * inner + "┐", "│ " + title.ljust(inner - 1) + "│",
             rule("├", "┬", "┤"), line(header), rule("├", "┼", "┤")]
    for row in rows:
        lines.append(rule("├", "┼", "┤") if row is None else line(row))
    lines.append(rule("└", "┴", "┘"))
    return lines


def _rows(items: list[ExpressionStatus], start: int, matched: bool
          ) -> list[list[str] | None]:
    rows: list[list[str] | None] = []
    for n, e in enumerate(items, start):
        feature = f"{e.feature}.{e.name}" if e.name else e.feature
        status = "OK" if e.is_match else "FAIL"
        rows.append([str(n), feature, str(e.expression), e.matcher_type, status,
                     "" if e.is_match else node_text(e)])
    if hides_instance_failure(items, matched):
        rows.append(["", "(all of the above)", "", "", "FAIL", NO_SINGLE_INSTANCE])
    return rows


def _rule_table(rule: RuleStatus, paint: _Paint) -> list[str]:
    plain_verdict = "OK" if rule.is_match else "FAIL"
    verdict = paint(plain_verdict, _GREEN if rule.is_match else _RED, _BOLD)
    rows = _rows(rule.matched_expressions, 1, rule.features_match)
    count = len(rule.matched_expressions)
    for alternative, matched in zip(rule.matched_any, rule.any_matches, strict=True):
        if rows:
            rows.append(None)
        rows.extend(_rows(alternative, count + 1, matched))
        count += len(alternative)
    title = f"RULE: {rule.name.upper()} - {plain_verdict}"
    lines = _box(title, ["", "FEATURE", "EXPRESSION", "MATCHER TYPE", "STATUS", "NODE HAS"],
                 rows, paint, status_col=4)
    lines[1] = lines[1].replace(f"- {plain_verdict}", f"- {verdict}", 1)
    return lines


def render_report(result: ValidationResult, stream: TextIO, colour: bool) -> None:
    """Write the whole table report, then a one-line verdict."""
    paint = _Paint(colour)
    for number, status in enumerate(result.statuses, 1):
        stream.write(_heading(number, status, paint))
        for rule in status.rules:
            stream.write("\n".join(_rule_table(rule, paint)) + "\n")
        stream.write("\n")
    if not result.statuses:
        stream.write("No compatibility set selected (check --tags).\n")
    matched = [s for s in result.statuses if s.is_match]
    if matched:
        which = ", ".join(f"#{s.index + 1}" for s in matched)
        stream.write(paint(f"COMPATIBLE: set {which} matches this node.", _GREEN, _BOLD) + "\n")
    else:
        stream.write(paint("NOT COMPATIBLE: no compatibility set matches this node.", _RED,
                           _BOLD) + "\n")


def _heading(number: int, status: CompatibilityStatus, paint: _Paint) -> str:
    head = paint(f"COMPATIBILITY SET #{number} ", _CYAN, _BOLD)
    tail = f"Weight: {status.weight}" + (f"; Tag: {printable_line(status.tag)}"
                                         if status.tag else "")
    return f"{head}{paint(tail, _CYAN)}\nDescription: {printable_line(status.description)}\n"
