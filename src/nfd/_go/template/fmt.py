"""Go values for ``varsTemplate`` execution, and Go's ``fmt`` printing of them.

text/template's semantics depend on Go types (``eq`` compares kinds, ``index``
yields the zero value of the map's element type, error messages name types),
so values carry enough of their Go type: ``str`` is ``string``, ``bool``,
``int`` (``Int64``/``Uint8`` subclasses for sprig's int64 and a string's byte),
``float`` is ``float64``, ``None`` is a nil interface, and :class:`GoList` /
:class:`GoMap` know their Go type name. ``sprint``/``sprintln``/``sprintf``
follow ``fmt`` for the verbs templates use; other verbs raise
:class:`EvaluationError` rather than print something Go would not.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from nfd._go.strconv import is_print
from nfd._go.strconv import quote as go_quote
from nfd.errors import EvaluationError

ANY = "interface {}"
MATCHED_ELEMENT = "nodefeaturerule.MatchedElement"
ELEMENT_LIST = "[]nodefeaturerule.MatchedElement"
DOMAIN = "nodefeaturerule.domainMatchedFeatures"
MATCHED = "nodefeaturerule.matchedFeatures"
# Go type name -> (kind, element type name) for the composite types a template meets.
_COMPOSITES: dict[str, tuple[str, str]] = {
    MATCHED: ("map", DOMAIN),
    DOMAIN: ("map", ELEMENT_LIST),
    ELEMENT_LIST: ("slice", MATCHED_ELEMENT),
    MATCHED_ELEMENT: ("map", "string"),
    "map[string]string": ("map", "string"),
    "map[string]interface {}": ("map", ANY),
    "[]string": ("slice", "string"),
    "[]interface {}": ("slice", ANY),
}


class Int64(int):
    """A Go ``int64`` (sprig's arithmetic results)."""


class Uint8(int):
    """A Go ``uint8`` (``index`` of a string)."""


class GoList(list[Any]):
    """A Go slice of a named type; ``nil`` marks the zero value."""

    def __init__(self, items: Any = (), gotype: str = "[]interface {}", nil: bool = False):
        super().__init__(items)
        self.gotype = gotype
        self.nil = nil
        self.size_memo: int | None = None  # the budget's value_size, once measured


class GoMap(dict[str, Any]):
    """A Go map with string keys of a named type; ``nil`` marks the zero value."""

    def __init__(self, items: Any = (), gotype: str = "map[string]interface {}",
                 nil: bool = False):
        super().__init__(items)
        self.gotype = gotype
        self.nil = nil
        self.size_memo: int | None = None  # the budget's value_size, once measured


def elem_type(gotype: str) -> str:
    """The element type of a composite type."""
    return _COMPOSITES[gotype][1]


def zero(gotype: str) -> Any:
    """Go's zero value of ``gotype`` (what ``index`` gives for a missing key)."""
    if gotype == "string":
        return ""
    if gotype == ANY:
        return None
    kind = _COMPOSITES[gotype][0]
    return GoMap(gotype=gotype, nil=True) if kind == "map" else GoList(gotype=gotype, nil=True)


def wrap_matched(matched: Any) -> GoMap:
    """NFD's matched features (domain -> feature -> elements) as typed Go values."""
    return GoMap(((d, GoMap(((f, GoList((GoMap(e, MATCHED_ELEMENT) for e in elems), ELEMENT_LIST))
                             for f, elems in feats.items()), DOMAIN))
                  for d, feats in matched.items()), MATCHED)


def go_type(v: Any) -> str:
    """The Go type name, as ``%T`` and error messages print it."""
    if isinstance(v, (GoList, GoMap)):
        return v.gotype
    if isinstance(v, str):
        return "string"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, Int64):
        return "int64"
    if isinstance(v, Uint8):
        return "uint8"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, list):
        return "[]interface {}"
    if isinstance(v, dict):
        return "map[string]interface {}"
    return "<nil>"


def kind(v: Any) -> str:
    """reflect.Kind, reduced to what templates distinguish."""
    if v is None:
        return "invalid"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, Uint8):
        return "uint"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, dict):
        return "map"
    return "slice"


def _shortest(f: float) -> tuple[str, int]:
    """The shortest round-trip digits of abs(f) and the decimal point position."""
    t = Decimal(repr(abs(f))).normalize().as_tuple()
    digits = "".join(map(str, t.digits))
    assert isinstance(t.exponent, int)
    return digits, len(digits) + t.exponent


def format_float(f: float, verb: str = "g", prec: int = -1, plus: bool = False) -> str:
    """strconv.FormatFloat(f, verb, prec, 64) with fmt's sign handling."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, f) < 0 else ("+" if plus else "")
    if prec >= 0:
        return sign + format(abs(f), f".{prec}{verb}")
    if f == 0:
        digits, dp = "0", 1
    else:
        digits, dp = _shortest(f)
    exp = dp - 1
    if verb == "e" or (verb == "g" and (exp < -4 or exp >= 6)):
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if dp <= 0:
        body = "0." + "0" * -dp + digits
    elif dp >= len(digits):
        body = digits + "0" * (dp - len(digits))
    else:
        body = digits[:dp] + "." + digits[dp:]
    if verb == "f" and "." not in body:
        return sign + body
    return sign + body


class _Spec:
    __slots__ = ("minus", "plus", "prec", "sharp", "space", "width", "zero")

    def __init__(self) -> None:
        self.minus = self.plus = self.sharp = self.space = self.zero = False
        self.width: int | None = None
        self.prec: int | None = None


def _pad(s: str, spec: _Spec, zero_ok: bool = True) -> str:
    """fmt's padding: spaces, or zeros on the left with the 0 flag (after a sign)."""
    if spec.width is None or len(s) >= spec.width:
        return s
    fill = spec.width - len(s)
    if spec.minus:
        return s + " " * fill
    if spec.zero and zero_ok:
        sign = s[0] if s[:1] in ("+", "-") and len(s) > 1 and s[1].isdigit() else ""
        return sign + "0" * fill + s[len(sign):]
    return " " * fill + s


def _bad(verb: str, v: Any, spec: _Spec | None = None) -> str:
    if v is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({go_type(v)}={fmt_value(v, 'v', spec or _Spec(), 0)})"


def _fmt_int(v: int, verb: str, spec: _Spec) -> str:
    if verb == "c":
        return _pad(chr(v) if 0 <= v <= 0x10FFFF and not 0xD800 <= v <= 0xDFFF else "\ufffd",
                    spec)
    if verb == "q":
        if not 0 <= v <= 0x10FFFF or 0xD800 <= v <= 0xDFFF:
            v = 0xFFFD
        return _pad("'" + go_quote(chr(v))[1:-1].replace("'", "\\'").replace('\\"', '"') + "'",
                    spec)
    if verb == "U":
        return _pad(f"U+{v & (2**64 - 1):04X}", spec, zero_ok=False)
    base = {"d": 10, "v": 10, "x": 16, "X": 16, "o": 8, "b": 2}.get(verb)
    if base is None:
        return _bad(verb, v, spec)
    digits = format(abs(v), {10: "d", 16: "x", 8: "o", 2: "b"}[base])
    if verb == "X":
        digits = digits.upper()
    sign = "-" if v < 0 else "+" if spec.plus else " " if spec.space else ""
    if spec.prec is not None:
        digits = "" if spec.prec == 0 and v == 0 else digits.rjust(spec.prec, "0")
    elif spec.zero and spec.width is not None and not spec.minus:
        digits = digits.rjust(spec.width - len(sign), "0")
    if spec.sharp and base == 16:
        digits = ("0X" if verb == "X" else "0x") + digits
    elif spec.sharp and base == 8 and not digits.startswith("0"):
        digits = "0" + digits
    return _pad(sign + digits, spec, zero_ok=False)


def _fmt_str(s: str, verb: str, spec: _Spec) -> str:
    if verb in "sv":
        return _pad(s if spec.prec is None else s[:spec.prec], spec)
    if verb == "q":
        if spec.prec is not None:
            s = s[:spec.prec]
        if spec.sharp and "`" not in s and all(is_print(c) or c == "\t" for c in s):
            return _pad("`" + s + "`", spec)
        return _pad(go_quote(s, ascii_only=spec.plus), spec)
    if verb in "xX":
        data = s.encode()
        if spec.prec is not None:
            data = data[:spec.prec]
        parts = [format(b, "02x" if verb == "x" else "02X") for b in data]
        if spec.sharp:
            parts = [("0x" if verb == "x" else "0X") + p for p in parts]
            if not spec.space and parts:
                parts = [parts[0]] + [p[2:] for p in parts[1:]]
        return _pad((" " if spec.space else "").join(parts), spec)
    return _bad(verb, s, spec)


def fmt_value(v: Any, verb: str, spec: _Spec, depth: int) -> str:
    """One operand under one verb (fmt's printArg/printValue)."""
    if verb == "T":
        return _pad(go_type(v), spec)
    if v is None:
        return _pad("<nil>", spec) if verb == "v" or depth > 0 else _bad(verb, v, spec)
    if isinstance(v, bool):
        return _pad("true" if v else "false", spec) if verb in "tv" else _bad(verb, v, spec)
    if isinstance(v, int):
        return _fmt_int(v, verb, spec)
    if isinstance(v, float):
        if verb in "xXb":
            raise EvaluationError(f"varsTemplate: printf verb %{verb} on a float is not "
                                  "supported")
        if verb not in "vgeEfF":
            return _bad(verb, v, spec)
        if verb == "v":
            verb = "g"
        prec = spec.prec if spec.prec is not None else 6 if verb in "eEfF" else -1
        text = format_float(v, verb.lower(), prec, spec.plus)
        if spec.space and text[0] not in "+-":
            text = " " + text
        text = text.upper() if verb in "EF" and verb != "F" else text
        return _pad(text, spec, zero_ok=not math.isinf(v) and not math.isnan(v))
    if isinstance(v, str):
        return _fmt_str(v, verb, spec)
    if isinstance(v, dict):
        items = " ".join(f"{fmt_value(k, verb, spec, depth + 1)}:"
                         f"{fmt_value(x, verb, spec, depth + 1)}" for k, x in sorted(v.items()))
        return "map[" + items + "]"
    return "[" + " ".join(fmt_value(x, verb, spec, depth + 1) for x in v) + "]"


def sprint(args: list[Any]) -> str:
    """fmt.Sprint: a space between operands when neither is a string."""
    out: list[str] = []
    for i, arg in enumerate(args):
        if i > 0 and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(fmt_value(arg, "v", _Spec(), 0))
    return "".join(out)


def sprintln(args: list[Any]) -> str:
    """fmt.Sprintln: spaces between all operands, then a newline."""
    return " ".join(fmt_value(a, "v", _Spec(), 0) for a in args) + "\n"


def _number(fmt: str, i: int) -> tuple[int | None, int]:
    start = i
    while i < len(fmt) and fmt[i].isdigit() and fmt[i].isascii():
        i += 1
    if i == start:
        return None, i
    return int(fmt[start:i]), i


def sprintf(fmt: str, args: list[Any], limit: int) -> str:
    """fmt.Sprintf: flags ``+-# 0``, width, precision, verbs v s d q x X o b c U t e f g T %."""
    out: list[str] = []
    total = len(fmt)  # the literal text, and each formatted operand as it comes
    argi = 0
    i = 0
    while i < len(fmt):
        j = fmt.find("%", i)
        if j < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:j])
        i = j + 1
        spec = _Spec()
        while i < len(fmt) and fmt[i] in "+-# 0":
            flag = fmt[i]
            spec.plus |= flag == "+"
            spec.minus |= flag == "-"
            spec.sharp |= flag == "#"
            spec.space |= flag == " "
            spec.zero |= flag == "0"
            i += 1
        spec.width, i = _number(fmt, i)
        if i < len(fmt) and fmt[i] == ".":
            prec, i = _number(fmt, i + 1)
            spec.prec = prec or 0
        if i < len(fmt) and fmt[i] in "*[":
            raise EvaluationError(f"varsTemplate: printf format {fmt!r}: '*' and explicit "
                                  "argument indexes are not supported")
        if max(spec.width or 0, spec.prec or 0) > limit:
            raise EvaluationError(f"varsTemplate: printf width or precision over {limit}")
        if i >= len(fmt):
            out.append("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if verb == "%":
            out.append("%")
            continue
        if verb in "EGp" or (spec.sharp and verb == "v"):
            raise EvaluationError(f"varsTemplate: printf verb %{'#' if spec.sharp else ''}{verb}"
                                  " not supported")
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        if spec.minus:
            spec.zero = False
        piece = fmt_value(args[argi], verb, spec, 0)
        out.append(piece)
        total += len(piece)
        if total > limit:
            raise EvaluationError(f"varsTemplate: printf output exceeds {limit} characters")
        argi += 1
    if argi < len(args):
        extra = ", ".join("<nil>" if a is None else f"{go_type(a)}={fmt_value(a, 'v', _Spec(), 0)}"
                          for a in args[argi:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)
