"""Go's ``regexp`` through RE2 (``google-re2``), under one memory budget per spec.

RE2 runs in linear time, but compiling is not free: a legal 12-byte pattern such
as ``\\pL{400}`` becomes half a million instructions (0.3 s, tens of MB), and each
compiled pattern may grow a DFA cache up to its ``max_mem``. So the patterns
compiled through one :class:`Regexps` (one spec, or one template execution) share
a budget: a total program size, and a total memory, where each pattern is given
(and charged) a ``max_mem`` sized to its program. Exceeding it is
:class:`RegexpBudgetError`; an invalid pattern is :class:`RegexpSyntaxError`.
Results are unaffected by the budget: a DFA that runs out of memory falls back
to RE2's other engines.

Go's syntax is RE2's with one difference we enforce: ``\\C`` (any byte) is an
invalid escape in Go.
"""

from __future__ import annotations

import re

from nfd._lazy import TYPE_CHECKING
from nfd._record import FrozenRecord, set_field
from nfd.errors import EvaluationError

if TYPE_CHECKING:
    from typing import Any

REGEX_MAX_MEM = 8 << 20  # RE2's own default per pattern
MAX_PROGRAM_SIZE = 1 << 20  # instructions, all patterns of one budget together
MAX_REGEX_MEMORY = 128 << 20  # bytes: the max_mem given to all patterns together
_MIN_MEM = 64 << 10  # enough for a few thousand instructions and a small DFA
_MEM_PER_INST = 32  # an instruction is 16 bytes; as much again for the DFA's states
_ANY_BYTE = re.compile(r"(?<!\\)(?:\\\\)*\\C")
_TOO_LARGE = "pattern too large"


class RegexpLimits(FrozenRecord):
    """The budget shared by the patterns of one spec (or one template execution)."""

    __slots__ = ("max_mem_per_pattern", "max_memory", "max_program_size")
    max_mem_per_pattern: int
    max_program_size: int
    max_memory: int

    def __init__(self, max_mem_per_pattern: int = REGEX_MAX_MEM,
                 max_program_size: int = MAX_PROGRAM_SIZE,
                 max_memory: int = MAX_REGEX_MEMORY) -> None:
        set_field(self, "max_mem_per_pattern", max_mem_per_pattern)
        set_field(self, "max_program_size", max_program_size)
        set_field(self, "max_memory", max_memory)


class RegexpSyntaxError(ValueError):
    """RE2 (Go's syntax) rejects the pattern; ``str()`` is RE2's reason."""


class RegexpBudgetError(EvaluationError):
    """The patterns of one spec need more RE2 program or memory than the budget."""

    def __init__(self, message: str, pattern: str) -> None:
        super().__init__(message)
        self.pattern = pattern


class _Failure(FrozenRecord):
    """A remembered compile failure."""

    __slots__ = ("budget", "message", "pattern")
    budget: bool
    message: str
    pattern: str

    def __init__(self, budget: bool, message: str, pattern: str) -> None:
        set_field(self, "budget", budget)
        set_field(self, "message", message)
        set_field(self, "pattern", pattern)

    def error(self) -> Exception:
        if self.budget:
            return RegexpBudgetError(self.message, self.pattern)
        return RegexpSyntaxError(self.message)


def _re2_compile(pattern: str, max_mem: int) -> Any:
    """``re2.compile`` without google-re2's process-wide LRU of 128 compiled patterns,
    which would keep patterns (and their DFA caches) alive beyond any one budget."""
    import re2  # loaded on first use: most specs have no regexp

    options = re2.Options()
    options.log_errors = False  # RE2 would print parse errors to stderr itself
    options.max_mem = max_mem
    uncached = getattr(re2, "_Regexp", None)
    return re2.compile(pattern, options) if uncached is None else uncached(pattern, options)


class Regexps:
    """Compiled patterns (each compiled once), all charged to one budget."""

    def __init__(self, limits: RegexpLimits | None = None) -> None:
        self.limits = limits or RegexpLimits()
        self.program_size = 0
        self.memory = 0
        self.exhausted = False
        self._compiled: dict[str, Any] = {}

    def compile(self, pattern: str) -> Any:
        """The compiled pattern; raises :class:`RegexpSyntaxError` or
        :class:`RegexpBudgetError` (each pattern's outcome is remembered, and a fresh
        error raised each time)."""
        try:
            known = self._compiled[pattern]
        except KeyError:
            known = self._compiled[pattern] = self._compile_new(pattern)
        if isinstance(known, _Failure):
            raise known.error()
        return known

    def _compile_new(self, pattern: str) -> Any:
        if _ANY_BYTE.search(pattern):
            return _Failure(False, "invalid escape sequence: `\\C`", pattern)
        if self.exhausted:  # no more compile attempts once the budget is spent
            return self._over(pattern)
        limits = self.limits
        room = min(limits.max_mem_per_pattern, limits.max_memory - self.memory,
                   max(_MIN_MEM, _MEM_PER_INST * (limits.max_program_size - self.program_size)))
        if room < _MIN_MEM:
            return self._over(pattern)
        import re2

        try:
            compiled = _re2_compile(pattern, room)
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) \
                else str(exc)
            return self._over(pattern) if _TOO_LARGE in reason else _Failure(False, reason,
                                                                              pattern)
        except (ValueError, TypeError) as exc:  # odd input such as lone surrogates
            return _Failure(False, str(exc), pattern)
        size = max(compiled.programsize, 0)
        if self.program_size + size > limits.max_program_size:
            return self._over(pattern)
        mem = max(_MIN_MEM, _MEM_PER_INST * size)
        if mem < room:
            compiled = _re2_compile(pattern, mem)  # cheap: the program is small
        else:
            mem = room
        self.program_size += size
        self.memory += mem
        return compiled

    def _over(self, pattern: str) -> _Failure:
        self.exhausted = True
        limits = self.limits
        message = (f"regular expressions exceed their budget (RE2 program size "
                   f"{limits.max_program_size} instructions, memory {limits.max_memory >> 20} MiB,"
                   f" at most {limits.max_mem_per_pattern >> 20} MiB per pattern; "
                   f"{self.program_size} instructions used before this one)")
        return _Failure(True, message, pattern)
