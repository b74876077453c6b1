"""The execution budget of one template run: steps, value sizes and regexps.

A template is a small program written by whoever wrote the spec, run on a node.
Counting actions alone does not bound it: one call may process a megabyte
(``sha256sum``), build a huge string (``replace "" $big $big``) or double a list
(``$l = list $l $l``). So:

- every call is charged one step, plus one per :data:`BYTES_PER_STEP` of the
  strings it reads and returns (one per character where it loops in Python), and
  one per element of the collections it walks, against :data:`MAX_STEPS`;
- every value has an expanded *size* (about the length of its ``%v`` text: a
  collection counts its elements' sizes, memoised, so shared structure costs
  nothing to measure), and no value may be larger than :data:`MAX_VALUE_SIZE`;
- a call whose result can be much larger than its arguments (concatenations,
  ``replace``, ``join``, ``split``) has that size worked out *before* it runs;
  ``printf`` and ``regexReplaceAll`` check as they build;
- regexps are compiled once per run within :mod:`nfd._go.regexp`'s budget, and a
  search is charged by the bytes it scans times the program's size; ``uniq`` is
  charged by the list's length times its size.

Exceeding any of these is an :class:`~nfd.errors.EvaluationError`: the spec is
refused, as exit 2, never a hang or a MemoryError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nfd._go.regexp import RegexpLimits, Regexps
from nfd._go.template.fmt import GoList, GoMap
from nfd.errors import EvaluationError

MAX_STEPS = 1_000_000
MAX_VALUE_SIZE = 1 << 20
BYTES_PER_STEP = 16
_SIZE_PER_ELEMENT_STEP = 2
_SCALAR_SIZE = 24  # the longest %v of a number (float64), "false" and "<nil>" are shorter
_INSTRUCTIONS_PER_BYTE_STEP = 256  # a DFA scan costs about the same whatever the program
# Functions that look at a collection argument without walking it.
_SHALLOW = frozenset(("and", "or", "not", "len", "index", "first", "last", "default", "empty",
                      "hasKey", "get", "list", "tuple", "dict", "call", "slice"))
# Functions whose result is an argument or a part of one (``slice`` copies the references):
# no new bytes, and the node's own data may be larger than a value we build.
_PART_OF_ARGUMENT = frozenset(("and", "or", "index", "first", "last", "get", "default",
                               "slice"))
# Functions that loop over a string's characters in Python: a step per character.
_PER_CHARACTER = frozenset(("upper", "lower", "title", "js", "quote", "urlquery"))
# Functions whose result is (about) all their arguments put together.
_CONCATENATING = frozenset(("print", "println", "printf", "cat", "quote", "squote", "html",
                            "js", "urlquery", "list", "tuple", "dict", "toString"))


def value_size(value: Any) -> int:
    """The expanded size of ``value``: about the length of its ``%v`` text."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, (GoList, GoMap)):
        if value.size_memo is None:  # values are not changed once made
            value.size_memo = _collection_size(value)
        return value.size_memo
    if isinstance(value, (list, dict)):
        return _collection_size(value)
    return _SCALAR_SIZE


def _collection_size(value: list[Any] | dict[str, Any]) -> int:
    if isinstance(value, dict):
        return 5 + sum(len(k) + 2 + value_size(v) for k, v in value.items())
    return 2 + sum(value_size(v) + 1 for v in value)


def _replace_size(args: list[Any]) -> int:
    old, new, s = args
    count = len(s) + 1 if old == "" else s.count(old)
    return len(s) + count * max(0, len(new) - len(old))


def _join_size(args: list[Any]) -> int:
    sep, items = args
    if not isinstance(items, list):
        return value_size(items)
    return sum(value_size(x) for x in items) + len(sep) * len(items)


def _split_list_size(args: list[Any]) -> int:
    sep, s = args
    parts = len(s) if sep == "" else s.count(sep) + 1
    return len(s) + parts + 2  # value_size of the list, worked out before splitting


def _split_size(args: list[Any]) -> int:
    sep, s = args
    parts = len(s) if sep == "" else s.count(sep) + 1
    return len(s) + parts * (4 + len(str(parts))) + 5  # the keys are "_0", "_1", ...


_RESULT_SIZE: dict[str, Callable[[list[Any]], int]] = {
    "replace": _replace_size,
    "join": _join_size,
    "split": _split_size,
    "splitList": _split_list_size,
}


class Budget:
    """What one execution may still spend."""

    def __init__(self, max_steps: int = MAX_STEPS, max_value: int = MAX_VALUE_SIZE,
                 regexp_limits: RegexpLimits | None = None) -> None:
        self.max_steps = max_steps
        self.max_value = max_value
        self.steps = 0
        self.regexps = Regexps(regexp_limits)

    def step(self, count: int = 1) -> None:
        self.steps += count
        if self.steps > self.max_steps:
            raise EvaluationError(f"varsTemplate: more than {self.max_steps} steps (range "
                                  "iterations, actions, calls and the bytes they process): "
                                  "execution stopped")

    def charge_bytes(self, size: int) -> None:
        self.step(size // BYTES_PER_STEP)

    def check_size(self, size: int, what: str) -> None:
        if size > self.max_value:
            raise EvaluationError(f"varsTemplate: {what} exceeds the {self.max_value}-character "
                                  f"limit (it would be {size})")

    def before_call(self, name: str, args: list[Any]) -> None:
        """Charge what a call reads, and refuse it if its result would be too large."""
        text = sum(len(a) for a in args if isinstance(a, str))
        self.step(1 + (text if name in _PER_CHARACTER else text // BYTES_PER_STEP))
        if name not in _SHALLOW:
            # A collection is walked element by element in Python (printing, strslice,
            # comparing): a step per two units of its size, about one per element.
            self.step(sum(value_size(a) for a in args if isinstance(a, (list, dict)))
                      // _SIZE_PER_ELEMENT_STEP)
        estimate = _RESULT_SIZE.get(name)
        if estimate is not None:
            self.check_size(estimate(args), f"the result of {name}")
        elif name in _CONCATENATING:
            self.check_size(sum(value_size(a) + 1 for a in args), f"the result of {name}")
        if name == "uniq" and args and isinstance(args[0], list):
            # each element is compared with every one kept so far: at most n times the list
            self.charge_bytes(len(args[0]) * value_size(args[0]))

    def after_call(self, name: str, result: Any) -> Any:
        """Charge what a call produced, and bound it."""
        if name in _PART_OF_ARGUMENT:
            return result
        size = value_size(result)
        self.check_size(size, f"the result of {name}")
        self.charge_bytes(size)
        return result

    def regexp(self, pattern: str) -> Any:
        """``pattern`` compiled within the run's RE2 budget (one step per instruction, once);
        raises :class:`nfd._go.regexp.RegexpSyntaxError`."""
        before = self.regexps.program_size
        compiled = self.regexps.compile(pattern)
        self.step(self.regexps.program_size - before)
        return compiled

    def scan(self, compiled: Any, text: str) -> None:
        """Charge a search of ``text`` by ``compiled``."""
        factor = 1 + max(compiled.programsize, 0) // _INSTRUCTIONS_PER_BYTE_STEP
        self.charge_bytes(len(text) * factor)
