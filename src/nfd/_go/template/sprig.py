"""The sprig functions nfd-client implements, and the whole function table.

Behaviour follows Masterminds/sprig v3 (what NFD links), including its
argument order (``trimPrefix "x" .s``, ``contains "sub" .s``,
``regexFind REGEX .s``) and its habit of swallowing errors (``atoi "x"`` is
0, ``b64dec`` of bad input returns the error text). Regular expressions are
RE2 (``google-re2``), as Go's regexp. Other sprig names are refused by name.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from typing import Any

import re2

from nfd._go.regexp import RegexpSyntaxError
from nfd._go.strconv import atoi_value
from nfd._go.strconv import quote as go_quote
from nfd._go.strings import is_space, trim_space
from nfd._go.template.budget import Budget
from nfd._go.template.fmt import (
    ANY,
    GoList,
    GoMap,
    Int64,
    fmt_value,
    go_type,
)
from nfd._go.template.funcs import BUILTINS, FuncError, Function
from nfd._go.template.parse import _go_int

A, S, DICT = ANY, "string", "map[string]interface {}"
_NIL_PANIC = "runtime error: invalid memory address or nil pointer dereference"
_KIND = {"string": "string", "bool": "bool", "int": "int", "int64": "int64", "uint8": "uint8",
         "float64": "float64"}


def _kind_name(v: Any) -> str:
    """reflect.Kind's name, as sprig's errors print it."""
    if v is None:
        raise FuncError(_NIL_PANIC)
    t = go_type(v)
    return _KIND.get(t) or ("map" if isinstance(v, dict) else "slice")


def _v(v: Any) -> str:
    return fmt_value(v, "v", _spec(), 0)


def _spec() -> Any:
    from nfd._go.template.fmt import _Spec

    return _Spec()


def strval(v: Any) -> str:
    """sprig's strval: strings as they are, anything else as %v."""
    return v if isinstance(v, str) else _v(v)


def strslice(v: Any) -> list[str]:
    """sprig's strslice: a slice's non-nil elements as strings; a scalar as one string."""
    if isinstance(v, list):
        return [strval(x) for x in v if x is not None]
    return [] if v is None else [strval(v)]


def _int64(v: Any) -> int:
    """cast.ToInt64 with errors ignored (sprig's arithmetic)."""
    if v is None:
        return 0
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if v == v and abs(v) < 2**63 else -(2**63)
    if isinstance(v, str):
        s = v
        if "." in s:  # cast's trimZeroDecimal: "1.00" -> "1"
            head, _, tail = s.partition(".")
            s = head if tail and set(tail) == {"0"} else s
        return _go_int(s) or 0 if _go_int(s) is not None and -2**63 <= (_go_int(s) or 0) < 2**63 \
            else 0
    return 0


def _wrap(n: int) -> Int64:
    return Int64((n + 2**63) % 2**64 - 2**63)


def _div(a: int, b: int, mod: bool) -> Int64:
    if b == 0:
        raise FuncError("runtime error: integer divide by zero")
    q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
    return _wrap(a - q * b if mod else q)


def empty(v: Any) -> bool:
    """sprig's empty: nil, zero numbers, false, and empty strings/lists/maps."""
    if v is None:
        return True
    if isinstance(v, (str, list, dict)):
        return len(v) == 0
    return not v


def _go_upper(s: str) -> str:
    return "".join(c.upper() if len(c.upper()) == 1 else c for c in s)


def _go_lower(s: str) -> str:
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in s)


def _title(s: str) -> str:
    """strings.Title: upper-case the first letter of each word."""
    out, prev_sep = [], True
    for c in s:
        out.append(c.title() if prev_sep and len(c.title()) == 1 else c)
        if c.isascii():
            prev_sep = not (c.isalnum() or c == "_")
        else:
            prev_sep = not (c.isalpha() or c.isdigit()) and is_space(c)
    return "".join(out)


def _compile(regex: str, budget: Budget) -> Any:
    try:
        return budget.regexp(regex)
    except RegexpSyntaxError as exc:
        raise FuncError(f"regexp: Compile({go_quote(regex)}): {exc}") from None


def _expand(template: str, m: Any) -> str:
    """Go's Regexp.Expand: $1, ${1}, $name, ${name}, $$ (a longest-name rule for $name)."""
    out, i = [], 0
    while i < len(template):
        c = template[i]
        if c != "$" or i + 1 >= len(template):
            out.append(c)
            i += 1
            continue
        if template[i + 1] == "$":
            out.append("$")
            i += 2
            continue
        if template[i + 1] == "{":
            end = template.find("}", i + 2)
            name = template[i + 2:end] if end > 0 else ""
            nxt = end + 1
        else:
            j = i + 1
            while j < len(template) and (template[j].isalnum() or template[j] == "_"):
                j += 1
            name, nxt = template[i + 1:j], j
        if not name or not all(ch.isalnum() or ch == "_" for ch in name):
            out.append(c)
            i += 1
            continue
        try:
            group = m.group(int(name)) if name.isdigit() else m.group(name)
        except (IndexError, re2.error, KeyError, ValueError):
            group = None
        out.append(group or "")
        i = nxt
    return "".join(out)


def _replace_all(a: list[Any], budget: Budget, literal: bool) -> str:
    """Regexp.ReplaceAllString: the result's size is checked as each match is replaced."""
    regex, s, repl = a
    r = _compile(regex, budget)
    budget.scan(r, s)
    size = len(s)  # at most what is kept of s, plus every replacement

    def replacement(m: Any) -> str:
        nonlocal size
        piece = repl if literal else _expand(repl, m)
        size += len(piece)
        budget.check_size(size, "the result of regexReplaceAll")
        budget.charge_bytes(len(repl) + len(piece))
        budget.step()
        return piece

    return str(r.sub(replacement, s))


def _regex_match(a: list[Any], budget: Budget) -> bool:
    regex, s = a
    try:
        r = budget.regexp(regex)
    except RegexpSyntaxError:
        return False  # sprig's regexMatch swallows the error (a budget error stands)
    budget.scan(r, s)
    return r.search(s) is not None


def _regex_find(a: list[Any], budget: Budget) -> str:
    regex, s = a
    r = _compile(regex, budget)
    budget.scan(r, s)
    m = r.search(s)
    return m.group(0) if m else ""


def _b64dec(s: str) -> str:
    try:
        return base64.b64decode(s.replace("\r", "").replace("\n", ""), validate=True).decode(
            "utf-8", "replace")
    except (binascii.Error, ValueError):
        alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        bad = next((i for i, c in enumerate(s) if c not in alphabet), len(s) - len(s) % 4)
        return f"illegal base64 data at input byte {bad}"


def _seq_op(name: str) -> Callable[[list[Any]], Any]:
    def run(a: list[Any]) -> Any:
        if a[0] is None:
            raise FuncError(_NIL_PANIC)
        if not isinstance(a[0], list):
            if name == "slice":
                raise FuncError(f"list should be type of slice or array but {_kind_name(a[0])}")
            raise FuncError(f"Cannot find {name} on type {_kind_name(a[0])}")
        items: list[Any] = a[0]
        if name == "first":
            return items[0] if items else None
        if name == "last":
            return items[-1] if items else None
        if name == "uniq":
            out: list[Any] = []
            for x in items:
                if not any(go_type(x) == go_type(y) and x == y for y in out):
                    out.append(x)
            return GoList(out)
        if not items:
            return None
        start = _int64(a[1]) if len(a) > 1 else 0
        end = _int64(a[2]) if len(a) > 2 else len(items)
        if not 0 <= start <= end <= len(items):
            raise FuncError("reflect: slice index out of range")
        return GoList(items[start:end], go_type(items))
    return run


def _dict(a: list[Any]) -> GoMap:
    out = GoMap()
    for i in range(0, len(a), 2):
        out[strval(a[i])] = a[i + 1] if i + 1 < len(a) else ""
    return out


def _f(name: str, params: tuple[str, ...], variadic: str | None,
       impl: Callable[[list[Any]], Any]) -> Function:
    return Function(name, params, variadic, impl)


def _unmetered(args: list[Any]) -> Any:
    raise AssertionError("a metered function is called with its budget")


def _metered(name: str, params: tuple[str, ...],
             impl: Callable[[list[Any], Budget], Any]) -> Function:
    return Function(name, params, None, _unmetered, metered=impl)


SPRIG = [
    _f("upper", (S,), None, lambda a: _go_upper(a[0])),
    _f("lower", (S,), None, lambda a: _go_lower(a[0])),
    _f("title", (S,), None, lambda a: _title(a[0])),
    _f("trim", (S,), None, lambda a: trim_space(a[0])),
    _f("trimAll", (S, S), None, lambda a: a[1].strip(a[0]) if a[0] else a[1]),
    _f("trimall", (S, S), None, lambda a: a[1].strip(a[0]) if a[0] else a[1]),
    _f("trimPrefix", (S, S), None, lambda a: a[1].removeprefix(a[0])),
    _f("trimSuffix", (S, S), None, lambda a: a[1].removesuffix(a[0])),
    _f("replace", (S, S, S), None, lambda a: a[2].replace(a[0], a[1])),
    _f("contains", (S, S), None, lambda a: a[0] in a[1]),
    _f("hasPrefix", (S, S), None, lambda a: a[1].startswith(a[0])),
    _f("hasSuffix", (S, S), None, lambda a: a[1].endswith(a[0])),
    _f("quote", (), A, lambda a: " ".join(go_quote(strval(x)) for x in a if x is not None)),
    _f("squote", (), A, lambda a: " ".join(f"'{_v(x)}'" for x in a if x is not None)),
    _f("cat", (), A, lambda a: " ".join(_v(x) for x in a if x is not None)),
    _f("toString", (A,), None, lambda a: strval(a[0])),
    _f("join", (S, A), None, lambda a: a[0].join(strslice(a[1]))),
    _f("split", (S, S), None, lambda a: GoMap(
        {f"_{i}": part for i, part in enumerate(a[1].split(a[0]) if a[0] else list(a[1]))},
        "map[string]string")),
    _f("splitList", (S, S), None, lambda a: GoList(
        a[1].split(a[0]) if a[0] else list(a[1]), "[]string")),
    _f("default", (A,), A, lambda a: a[0] if len(a) < 2 or empty(a[1]) else a[1]),
    _f("empty", (A,), None, lambda a: empty(a[0])),
    _f("int", (A,), None, lambda a: _int64(a[0])),
    _f("int64", (A,), None, lambda a: Int64(_int64(a[0]))),
    _f("atoi", (S,), None, lambda a: atoi_value(a[0])),
    _f("add", (), A, lambda a: _wrap(sum(_int64(x) for x in a))),
    _f("add1", (A,), None, lambda a: _wrap(_int64(a[0]) + 1)),
    _f("sub", (A, A), None, lambda a: _wrap(_int64(a[0]) - _int64(a[1]))),
    _f("mul", (A,), A, lambda a: _wrap(_product([_int64(x) for x in a]))),
    _f("div", (A, A), None, lambda a: _div(_int64(a[0]), _int64(a[1]), False)),
    _f("mod", (A, A), None, lambda a: _div(_int64(a[0]), _int64(a[1]), True)),
    _f("max", (A,), A, lambda a: Int64(max(_int64(x) for x in a))),
    _f("biggest", (A,), A, lambda a: Int64(max(_int64(x) for x in a))),
    _f("min", (A,), A, lambda a: Int64(min(_int64(x) for x in a))),
    _f("list", (), A, lambda a: GoList(a)),
    _f("tuple", (), A, lambda a: GoList(a)),
    _f("dict", (), A, _dict),
    _f("get", (DICT, S), None, lambda a: a[0].get(a[1], "")),
    _f("hasKey", (DICT, S), None, lambda a: a[1] in a[0]),
    _f("keys", (), DICT, lambda a: GoList([k for d in a for k in d], "[]string")),
    _f("sortAlpha", (A,), None, lambda a: GoList(
        sorted(strslice(a[0])) if isinstance(a[0], list) else [strval(a[0])], "[]string")),
    _f("uniq", (A,), None, _seq_op("uniq")),
    _f("first", (A,), None, _seq_op("first")),
    _f("last", (A,), None, _seq_op("last")),
    _f("slice", (A,), A, _seq_op("slice")),
    _metered("regexMatch", (S, S), _regex_match),
    _metered("regexFind", (S, S), _regex_find),
    _metered("regexReplaceAll", (S, S, S), lambda a, b: _replace_all(a, b, False)),
    _metered("regexReplaceAllLiteral", (S, S, S), lambda a, b: _replace_all(a, b, True)),
    _f("b64enc", (S,), None, lambda a: base64.b64encode(a[0].encode()).decode()),
    _f("b64dec", (S,), None, lambda a: _b64dec(a[0])),
    _f("sha256sum", (S,), None, lambda a: hashlib.sha256(a[0].encode()).hexdigest()),
]


def _product(values: list[int]) -> int:
    out = 1
    for v in values:
        out = (out * v + 2**63) % 2**64 - 2**63
    return out


# Every name in sprig v3.3.0's TxtFuncMap except env, expandenv, getHostByName (NFD drops them).
SPRIG_NAMES = frozenset(str.split("""
hello ago date date_in_zone date_modify dateInZone dateModify duration durationRound htmlDate
htmlDateInZone must_date_modify mustDateModify mustToDate now toDate unixEpoch abbrev abbrevboth
trunc trim upper lower title untitle substr repeat trimall trimAll trimSuffix trimPrefix nospace
initials randAlphaNum randAlpha randAscii randNumeric randSeededNumeric swapcase shuffle
snakecase camelcase kebabcase wrap wrapWith contains hasPrefix hasSuffix quote squote cat
indent nindent replace
plural sha1sum sha256sum sha512sum adler32sum toString atoi int64 int float64 seq toDecimal split
splitList splitn toStrings until untilStep add1 add sub div mod mul randInt add1f addf subf divf
mulf biggest max min maxf minf ceil floor round join sortAlpha default empty coalesce all any
compact mustCompact fromJson toJson toPrettyJson toRawJson mustFromJson mustToJson
mustToPrettyJson mustToRawJson ternary deepCopy mustDeepCopy typeOf typeIs typeIsLike kindOf
kindIs deepEqual base dir clean ext isAbs osBase osClean osDir osExt osIsAbs b64enc b64dec
b32enc b32dec tuple list dict get set unset hasKey pluck keys pick omit merge mergeOverwrite
mustMerge mustMergeOverwrite values append push mustAppend mustPush prepend mustPrepend first
mustFirst rest mustRest last mustLast initial mustInitial reverse mustReverse uniq mustUniq
without mustWithout has mustHas slice mustSlice concat dig chunk mustChunk bcrypt htpasswd
genPrivateKey derivePassword buildCustomCert genCA genCAWithKey genSelfSignedCert
genSelfSignedCertWithKey genSignedCert genSignedCertWithKey encryptAES decryptAES randBytes
uuidv4 semver semverCompare fail regexMatch mustRegexMatch regexFindAll mustRegexFindAll
regexFind mustRegexFind regexReplaceAll mustRegexReplaceAll regexReplaceAllLiteral
mustRegexReplaceAllLiteral regexSplit mustRegexSplit regexQuoteMeta urlParse urlJoin
"""))

FUNCS: dict[str, Function] = {f.name: f for f in BUILTINS}
FUNCS.update({f.name: f for f in SPRIG})  # Go looks up the added FuncMap first
KNOWN = frozenset(FUNCS) | SPRIG_NAMES
REFUSED = {name: "is a sprig function nfd-client does not implement"
           for name in SPRIG_NAMES - set(FUNCS)}
