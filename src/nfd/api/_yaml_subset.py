"""A fast reader for the YAML that compatibility specs are written in, without PyYAML.

Why: importing PyYAML costs more than the rest of ``nfd compat validate-node --spec``
start-up (the cold-start goal in README's architecture section). Specs use a small part of
YAML: block mappings and sequences by indentation, one-line flow collections, comments,
plain words and quoted strings. This module reads exactly that part and nothing else.

The rule: decline when unsure. :func:`read_subset` either returns the documents that
PyYAML's safe loader (as ``nfd.api._yaml._build`` drives it) would give for the text,
or ``None``, and the caller then reads the text the usual way. That path stays the
authority: it words every error, with line and column, so nothing here raises for odd
input. Declined, among others: tabs, CR, BOM and every non-printable character;
document markers and directives; anchors, aliases, tags; block scalars; ``?`` keys;
merge keys; duplicate keys; scalars or flow collections spanning lines; backslashes in
double quotes; and every plain scalar whose YAML 1.1 resolution is not obvious (all
numbers but plain decimal integers, dates, ``.inf``...). Plain words resolve as
PyYAML's implicit resolvers say: ``yes``/``on``/``true`` are booleans, ``null``/``~``
null, whatever their place (keys too).

Linear time: every line is scanned a bounded number of times, and nesting deeper than
the caller's depth bound (or :data:`MAX_DEPTH`, which keeps recursion shallow) declines.
"""

from __future__ import annotations

import re

from nfd._lazy import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

# Deeper documents are left to the event-driven loader (this reader recurses per level).
MAX_DEPTH = 100
# Bigger texts are machine dumps (cluster-sized): libyaml reads them as fast, and one that
# declined near its end would be read twice.
MAX_TEXT_CHARS = 1 << 20
# PyYAML and libyaml take a key as a key only if it is shorter than 1024 characters.
_MAX_KEY_CHARS = 1000
# Integers beyond this many characters go the usual way (Python caps int() input length).
_MAX_INT_CHARS = 100

# Where a plain scalar ends in block context: ": ", ":" at the end, " #", the line end.
_BLOCK_PLAIN_END = re.compile(r": |:\n| #|\n")
# In a flow collection, at any flow indicator too (":", "#" and "?" there then decline).
_FLOW_PLAIN_END = re.compile(r"[,\[\]{}:#?\n]")

# PyYAML's bool and null resolvers, and the values its safe constructor gives them.
_WORDS: dict[str, Any] = {
    **dict.fromkeys(("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
    **dict.fromkeys(("~", "null", "Null", "NULL"), None),
}
_WORD_FIRST = frozenset("yYnNtTfFoO~")  # first characters the bool and null resolvers see
_NUMBER_FIRST = frozenset("-+0123456789")
# Indicators (a plain scalar cannot start with them) and the first characters of
# floats, merge keys and value keys that are not simple integers.
_DECLINED_FIRST = frozenset("?:,[]{}#&*!|>'\"%@`.<= \n")


class _Decline(Exception):
    """The text is outside the subset (the caller reads it the usual way)."""


def read_subset(text: str, max_depth: int) -> list[Any] | None:
    """The documents in ``text`` as PyYAML's safe loader reads them, or ``None`` when
    ``text`` is outside the subset (or nests deeper than ``max_depth``)."""
    if len(text) > MAX_TEXT_CHARS:
        return None
    try:
        return _Reader(text, min(max_depth, MAX_DEPTH)).documents()
    except (_Decline, RecursionError):
        return None


def _is_entry(line: str, col: int) -> bool:
    """A block sequence entry (``-`` then a space or the line end) starts at ``col``."""
    return line[col] == "-" and line[col + 1] in " \n"


def _skip_spaces(line: str, pos: int) -> int:
    while line[pos] == " ":  # short runs: a loop beats slicing and lstrip
        pos += 1
    return pos


def _end_of_line(line: str, pos: int) -> None:
    """Only spaces, then maybe a comment (after at least one space), remain from ``pos``."""
    rest = _skip_spaces(line, pos)
    if line[rest] != "\n" and (line[rest] != "#" or rest == pos):
        raise _Decline


def _plain(text: str) -> Any:
    """The value of a plain scalar, as PyYAML's implicit resolvers and safe constructor
    make it; declines whenever that is not a string, a boolean, null or a plain integer."""
    first = text[0]
    if first in _WORD_FIRST:
        return _WORDS.get(text, text)
    if first in _NUMBER_FIRST:
        digits = text[1:] if first in "+-" else text
        if len(digits) > _MAX_INT_CHARS or not digits.isascii() or not digits.isdigit() \
                or (digits[0] == "0" and digits != "0"):
            raise _Decline  # floats, octal, hex, dates, 1:30, 1_000... or a word
        return int(text)
    if first in _DECLINED_FIRST:
        raise _Decline
    return text


def _quoted(line: str, pos: int) -> tuple[str, int]:
    """A one-line quoted scalar at ``pos`` and the position after its closing quote."""
    quote = line[pos]
    if quote == '"':
        close = line.find('"', pos + 1)
        if close < 0 or "\\" in line[pos + 1:close]:
            raise _Decline  # spans lines, or has escapes
        return line[pos + 1:close], close + 1
    parts = []
    start = pos + 1
    while True:
        close = line.find("'", start)
        if close < 0:
            raise _Decline
        parts.append(line[start:close])
        if line[close + 1] != "'":
            return "".join(parts), close + 1
        parts.append("'")
        start = close + 2


def _scalar(line: str, pos: int, plain_end: re.Pattern[str] = _BLOCK_PLAIN_END
            ) -> tuple[Any, int]:
    """A scalar (in block context, or in a flow one with ``_FLOW_PLAIN_END``): its value
    and where it ends."""
    if line[pos] in "'\"":
        return _quoted(line, pos)
    match = plain_end.search(line, pos)
    end = match.start() if match else len(line) - 1
    text = line[pos:end].rstrip(" ")
    if not text:
        raise _Decline
    return _plain(text), pos + len(text)


def _after_flow_item(line: str, pos: int, close: str) -> tuple[bool, int]:
    """After an item of a flow collection: whether ``close`` ends it, and the position
    past it or of the next item (a trailing comma declines)."""
    pos = _skip_spaces(line, pos)
    if line[pos] == close:
        return True, pos + 1
    if line[pos] != ",":
        raise _Decline
    pos = _skip_spaces(line, pos + 1)
    if line[pos] == close:
        raise _Decline  # a trailing comma
    return False, pos


def _key_colon(line: str, end: int) -> int:
    """Where the ``:`` after a key ending at ``end`` is, or -1 when none follows."""
    colon = _skip_spaces(line, end)
    if line[colon] == ":" and line[colon + 1] in " \n":
        return colon
    return -1


class _Reader:
    """One text as lines that hold something (comments and blank lines dropped)."""

    __slots__ = ("indents", "lines", "max_depth")

    def __init__(self, text: str, max_depth: int) -> None:
        self.max_depth = max_depth
        self.lines: list[str] = []
        self.indents: list[int] = []
        for line in text.split("\n"):
            if not line.isprintable():
                # Tabs, CR, NEL, LS, PS, BOM, controls, surrogates, and to be safe, other
                # spaces and format characters (zero-width space...): decline them all.
                raise _Decline
            content = line.lstrip(" ")
            if not content or content[0] == "#":
                continue
            if line.startswith(("---", "...")):
                raise _Decline  # document markers: one bare document only
            self.lines.append(line + "\n")  # the sentinel: every scan stops at "\n"
            self.indents.append(len(line) - len(content))

    def documents(self) -> list[Any]:
        if not self.lines:
            return []
        value, end = self.node(0, self.indents[0], 1)
        if end != len(self.lines) or (type(value) is not dict and type(value) is not list):
            raise _Decline  # lines left over, or a bare scalar document
        return [value]

    def node(self, i: int, col: int, depth: int) -> tuple[Any, int]:
        """The node whose text starts at column ``col`` of line ``i``, and the next line."""
        line = self.lines[i]
        if _is_entry(line, col):
            return self.sequence(i, col, depth)
        if line[col] in "[{":
            value, end = self.flow(line, col, depth)
            _end_of_line(line, end)
            return value, i + 1
        value, end = _scalar(line, col)
        colon = _key_colon(line, end)
        if colon >= 0:
            return self.mapping(i, col, depth, value, colon)
        _end_of_line(line, end)
        return value, i + 1

    def nested(self, i: int, indent: int, depth: int, in_mapping: bool) -> tuple[Any, int]:
        """The value of a key or ``-`` with nothing after it on line ``i - 1``: the block
        below (more indented, or a ``-`` list at the key's own indent), or null."""
        if i < len(self.lines):
            below = self.indents[i]
            if below > indent:
                return self.node(i, below, depth)
            if in_mapping and below == indent and _is_entry(self.lines[i], indent):
                return self.sequence(i, indent, depth)
        return None, i

    def mapping(self, i: int, indent: int, depth: int, key: Any,
                colon: int) -> tuple[dict[Any, Any], int]:
        """A block mapping whose keys stand at column ``indent``, the first (``key``, its
        ``:`` at ``colon``) on line ``i``."""
        if depth > self.max_depth:
            raise _Decline
        out: dict[Any, Any] = {}
        lines, count = self.lines, len(self.lines)
        line = lines[i]
        while True:
            if colon - indent > _MAX_KEY_CHARS or key in out:
                raise _Decline  # too long for a key, or a duplicate
            pos = _skip_spaces(line, colon + 1)
            if line[pos] in "#\n":
                value, i = self.nested(i + 1, indent, depth + 1, True)
            else:
                value = self.inline(line, pos, depth + 1)
                i += 1
            out[key] = value
            if i >= count or self.indents[i] < indent:
                return out, i
            if self.indents[i] > indent:
                raise _Decline  # a continuation line, or a stray indent
            line = lines[i]
            if _is_entry(line, indent):
                return out, i
            key, end = _scalar(line, indent)
            colon = _key_colon(line, end)
            if colon < 0:
                raise _Decline  # not a key

    def sequence(self, i: int, indent: int, depth: int) -> tuple[list[Any], int]:
        """A block sequence whose ``-`` stand at column ``indent`` (the first on line ``i``)."""
        if depth > self.max_depth:
            raise _Decline
        out: list[Any] = []
        lines, count = self.lines, len(self.lines)
        while True:
            line = lines[i]
            pos = _skip_spaces(line, indent + 1)
            if line[pos] in "#\n":
                value, i = self.nested(i + 1, indent, depth + 1, False)
            else:
                value, i = self.node(i, pos, depth + 1)
            out.append(value)
            if i >= count or self.indents[i] < indent:
                return out, i
            if self.indents[i] > indent:
                raise _Decline
            if not _is_entry(lines[i], indent):
                return out, i

    def inline(self, line: str, pos: int, depth: int) -> Any:
        """A value on its key's line: a scalar or a flow collection, then the line end."""
        if line[pos] in "[{":
            value, end = self.flow(line, pos, depth)
        elif _is_entry(line, pos):
            raise _Decline  # "key: - x" is an error to YAML
        else:
            value, end = _scalar(line, pos)
        _end_of_line(line, end)
        return value

    def flow(self, line: str, pos: int, depth: int) -> tuple[Any, int]:
        """A flow collection that opens and closes on this line, and where it ends."""
        if depth > self.max_depth:
            raise _Decline
        if line[pos] == "[":
            return self.flow_sequence(line, pos, depth)
        return self.flow_mapping(line, pos, depth)

    def flow_item(self, line: str, pos: int, depth: int) -> tuple[Any, int]:
        if line[pos] in "[{":
            return self.flow(line, pos, depth)
        return _scalar(line, pos, _FLOW_PLAIN_END)

    def flow_sequence(self, line: str, pos: int, depth: int) -> tuple[list[Any], int]:
        out: list[Any] = []
        pos = _skip_spaces(line, pos + 1)
        if line[pos] == "]":
            return out, pos + 1
        while True:
            value, pos = self.flow_item(line, pos, depth + 1)
            out.append(value)
            closed, pos = _after_flow_item(line, pos, "]")
            if closed:
                return out, pos

    def flow_mapping(self, line: str, pos: int, depth: int) -> tuple[dict[Any, Any], int]:
        out: dict[Any, Any] = {}
        pos = _skip_spaces(line, pos + 1)
        if line[pos] == "}":
            return out, pos + 1
        while True:
            if line[pos] in "[{":
                raise _Decline  # a collection as a key
            key, end = _scalar(line, pos, _FLOW_PLAIN_END)
            colon = _skip_spaces(line, end)
            if line[colon] != ":" or line[colon + 1] != " " or colon - pos > _MAX_KEY_CHARS \
                    or key in out:
                raise _Decline
            value, pos = self.flow_item(line, _skip_spaces(line, colon + 1), depth + 1)
            out[key] = value
            closed, pos = _after_flow_item(line, pos, "}")
            if closed:
                return out, pos
