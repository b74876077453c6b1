"""text/template's builtin functions, and the ``Function`` record every callable uses.

This module holds the builtins (``nfd._go.template.sprig`` the sprig subset and the
whole table). Parameter types mirror the Go signatures, because
text/template converts and checks arguments by them (``reflect.Value``
parameters take anything, untyped constants becoming int/float64).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nfd._go.strconv import is_print
from nfd._go.template.budget import MAX_VALUE_SIZE
from nfd._go.template.fmt import (
    ANY,
    GoList,
    GoMap,
    Uint8,
    elem_type,
    fmt_value,
    go_type,
    kind,
    sprint,
    sprintf,
    sprintln,
    zero,
)

if TYPE_CHECKING:
    from nfd._go.template.budget import Budget

V, A, S = "reflect.Value", ANY, "string"


class FuncError(Exception):
    """A function failed; text/template reports ``error calling NAME: MESSAGE``."""


@dataclass(frozen=True)
class Function:
    """A callable: Go parameter types, and ``impl`` on the evaluated arguments (or
    ``metered`` on the arguments and the run's budget, for what scans or compiles)."""

    name: str
    params: tuple[str, ...]
    variadic: str | None
    impl: Callable[[list[Any]], Any]
    builtin: bool = False
    metered: Callable[[list[Any], Budget], Any] | None = None

    def param(self, i: int) -> str:
        return self.params[i] if i < len(self.params) else (self.variadic or ANY)


def truth(v: Any) -> bool:
    """text/template's isTrue (the zero value of any type is false)."""
    if v is None:
        return False
    if isinstance(v, (str, list, dict)):
        return len(v) > 0
    return bool(v)


def _is_nil(v: Any) -> bool:
    return v is None or (isinstance(v, (GoList, GoMap)) and v.nil)


_BASIC_KINDS = frozenset(("bool", "uint", "int", "float", "string"))


def _basic(v: Any) -> str:
    """Go's ``basicKind`` for comparisons: the kind of a scalar, "" for anything else."""
    k = kind(v)
    return k if k in _BASIC_KINDS else ""


def _eq(args: list[Any]) -> bool:
    a, rest = args[0], args[1:]
    if not rest:
        raise FuncError("missing argument for comparison")
    k1 = _basic(a)
    for b in rest:
        k2 = _basic(b)
        if k1 != k2:
            if {k1, k2} == {"int", "uint"}:
                equal = a == b
            elif a is not None and b is not None:
                raise FuncError("incompatible types for comparison")
            else:
                equal = False
        elif k1:
            equal = a == b
        else:
            if a is not None and b is not None and isinstance(a, dict) != isinstance(b, dict):
                raise FuncError(f"non-comparable types {fmt_value(a, 's', _spec(), 0)}: "
                                f"{go_type(a)}, {go_type(b)}: {fmt_value(b, 'v', _spec(), 0)}")
            if _is_nil(a) or _is_nil(b):
                equal = _is_nil(a) == _is_nil(b)
            else:
                raise FuncError(f"non-comparable type {fmt_value(b, 's', _spec(), 0)}: "
                                f"{go_type(b)}")
        if equal:
            return True
    return False


def _lt(args: list[Any]) -> bool:
    a, b = args
    k1, k2 = _basic(a), _basic(b)
    if not k1 or not k2:
        raise FuncError("invalid type for comparison")
    if k1 != k2:
        if {k1, k2} == {"int", "uint"}:
            return bool(a < b)
        raise FuncError("incompatible types for comparison")
    if k1 == "bool":
        raise FuncError("invalid type for comparison")
    return bool(a < b)


def _le(args: list[Any]) -> bool:
    return _lt(args) or _eq(args)


def _spec() -> Any:
    from nfd._go.template.fmt import _Spec

    return _Spec()


def _index_arg(i: Any, cap: int) -> int:
    if i is None:
        raise FuncError("cannot index slice/array with nil")
    if isinstance(i, bool) or not isinstance(i, int):
        raise FuncError(f"cannot index slice/array with type {go_type(i)}")
    if i < 0 or i > cap:
        raise FuncError(f"index out of range: {i}")
    return i


def _index(args: list[Any]) -> Any:
    item = args[0]
    if item is None:
        raise FuncError("index of untyped nil")
    for i in args[1:]:
        if isinstance(item, (list, str)):
            x = _index_arg(i, len(item.encode()) if isinstance(item, str) else len(item))
            if isinstance(item, str):
                data = item.encode()
                if x >= len(data):
                    raise FuncError("reflect: string index out of range")
                item = Uint8(data[x])
            else:
                if x >= len(item):
                    raise FuncError("reflect: slice index out of range")
                item = item[x]
        elif isinstance(item, dict):
            if i is None:
                raise FuncError("value is nil; should be of type string")
            if not isinstance(i, str):
                raise FuncError(f"value has type {go_type(i)}; should be string")
            item = item[i] if i in item else zero(elem_type(go_type(item)))
        else:
            raise FuncError(f"can't index item of type {go_type(item)}")
    return item


def _len(args: list[Any]) -> int:
    v = args[0]
    if v is None:
        raise FuncError("reflect: call of reflect.Value.Type on zero Value")
    if isinstance(v, str):
        return len(v.encode())
    if isinstance(v, (list, dict)):
        return len(v)
    raise FuncError(f"len of type {go_type(v)}")


def _call(args: list[Any]) -> Any:
    if args[0] is None:
        raise FuncError("call of nil")
    raise FuncError(f"non-function of type {go_type(args[0])}")


def _eval_args(args: list[Any]) -> str:
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(["<no value>" if a is None else a for a in args])


def _html(args: list[Any]) -> str:
    s = _eval_args(args)
    for ch, rep in (("&", "&amp;"), ("\0", "\ufffd"), ('"', "&#34;"), ("'", "&#39;"),
                    ("<", "&lt;"), (">", "&gt;")):
        s = s.replace(ch, rep)
    return s


_JS = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026",
       "=": "\\u003D"}


def _js(args: list[Any]) -> str:
    out = []
    for ch in _eval_args(args):
        if ch in _JS:
            out.append(_JS[ch])
        elif ch < " ":
            out.append(f"\\u00{ord(ch):02X}")
        elif ch >= "\x80" and not is_print(ch):
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def _builtin(name: str, params: tuple[str, ...], variadic: str | None,
             impl: Callable[[list[Any]], Any]) -> Function:
    return Function(name, params, variadic, impl, builtin=True)


BUILTINS = [
    _builtin("and", (V,), V, lambda a: None),  # short-circuits in the executor
    _builtin("or", (V,), V, lambda a: None),
    _builtin("not", (V,), None, lambda a: not truth(a[0])),
    _builtin("len", (V,), None, _len),
    _builtin("index", (V,), V, _index),
    _builtin("print", (), A, sprint),
    _builtin("println", (), A, sprintln),
    _builtin("printf", (S,), A, lambda a: sprintf(a[0], a[1:], MAX_VALUE_SIZE)),
    _builtin("eq", (V,), V, _eq),
    _builtin("ne", (V, V), None, lambda a: not _eq(a)),
    _builtin("lt", (V, V), None, _lt),
    _builtin("le", (V, V), None, _le),
    _builtin("gt", (V, V), None, lambda a: not _le(a)),
    _builtin("ge", (V, V), None, lambda a: not _lt(a)),
    _builtin("html", (), A, _html),
    _builtin("js", (), A, _js),
    _builtin("urlquery", (), A, lambda a: urllib.parse.quote_plus(_eval_args(a), safe="")),
    _builtin("call", (V,), V, _call),
]

__all__ = ["BUILTINS", "FuncError", "Function", "truth"]
