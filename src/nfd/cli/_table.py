"""The report table of ``validate-node``: NFD's layout, plus what the node has on failures.

One table per rule, titled ``RULE: NAME - OK|FAIL``, with the feature, the
expression, the matcher type and the status, like NFD's go-pretty table; a
``NODE HAS`` column explains each failing line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from nfd.match import (
    NO_SINGLE_INSTANCE,
    CompatibilityStatus,
    ExpressionStatus,
    RuleStatus,
    ValidationResult,
    hides_instance_failure,
    node_text,
)

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


def _rows(items: tuple[ExpressionStatus, ...], start: int, matched: bool
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
    features = rule.match_features
    rows = _rows(features.expressions, 1, features.is_match)
    count = len(features.expressions)
    for alternative in rule.match_any:
        if rows:
            rows.append(None)
        rows.extend(_rows(alternative.expressions, count + 1, alternative.is_match))
        count += len(alternative.expressions)
    title = f"RULE: {rule.name.upper()} - {plain_verdict}"
    lines = _box(title, ["", "FEATURE", "EXPRESSION", "MATCHER TYPE", "STATUS", "NODE HAS"],
                 rows, paint, status_col=4)
    lines[1] = lines[1].replace(f"- {plain_verdict}", f"- {verdict}", 1)
    return lines


def render_report(result: ValidationResult, stream: TextIO, colour: bool) -> None:
    """Write the whole table report, then a one-line verdict."""
    paint = _Paint(colour)
    for status in result.statuses:
        stream.write(_heading(status, paint))
        for rule in status.rules:
            stream.write("\n".join(_rule_table(rule, paint)) + "\n")
        stream.write("\n")
    if not result.statuses:
        stream.write("No compatibility set selected (check --tags).\n")
    matched = [s for s in result.statuses if s.is_match]
    if matched:
        which = ", ".join(f"#{s.number}" + (f" ({s.tag})" if s.tag else "") for s in matched)
        stream.write(paint(f"COMPATIBLE: set {which} matches this node.", _GREEN, _BOLD) + "\n")
    else:
        stream.write(paint("NOT COMPATIBLE: no compatibility set matches this node.", _RED,
                           _BOLD) + "\n")


def _heading(status: CompatibilityStatus, paint: _Paint) -> str:
    # Numbered by position in the spec, as everywhere, whatever --tags selects.
    head = paint(f"COMPATIBILITY SET #{status.number} ", _CYAN, _BOLD)
    tail = f"Weight: {status.weight}" + (f"; Tag: {status.tag}" if status.tag else "")
    return f"{head}{paint(tail, _CYAN)}\nDescription: {status.description}\n"
