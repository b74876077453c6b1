"""The ``varsTemplate`` forms NFD documents, executed like Go's ``text/template``.

Supported: text; ``{{ .a.b }}`` and ``{{ $v.Name }}`` field chains on the
matched features (``missingkey=error``, as NFD sets it); ``{{ index CHAIN KEY... }}``
(NFD's own tests use it); ``{{ range PIPE }}``
with optional ``$v :=`` or ``$k, $v :=`` and ``{{ else }}``; ``{{ if PIPE }}``
/ ``{{ else }}``; ``{{ end }}``; comments; ``{{-``/``-}}`` trimming. The
output is split into ``key=value`` lines like NFD's ``ExpandMap``. Any other
construct (functions, pipelines, sprig) is reported as unsupported by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from nfd.errors import EvaluationError

MAX_TEMPLATE_BYTES = 64 * 1024
# text/template's trim markers need one of its own four space characters next to them.
_ACTION = re.compile(r"\{\{(-[ \t\r\n])?(.*?)([ \t\r\n]-)?\}\}", re.S)
_TEMPLATE_SPACE = " \t\r\n"
# Go's strings.TrimSpace (unicode.IsSpace); str.strip() would also take U+001C..U+001F.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006" \
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_CHAIN = re.compile(r"(?:\$[A-Za-z0-9_]*|\.)(?:\.[A-Za-z0-9_]+)*|(?:\.[A-Za-z0-9_]+)+")
_INDEX = re.compile(r"index\s+(\S+)((?:\s+(?:\"(?:[^\"\\\\]|\\\\.)*\"|`[^`]*`|-?[0-9]+))+)")
_INDEX_ARG = re.compile(r"\"(?:[^\"\\\\]|\\\\.)*\"|`[^`]*`|-?[0-9]+")
_RANGE_VARS = re.compile(r"(\$[A-Za-z0-9_]+)(?:\s*,\s*(\$[A-Za-z0-9_]+))?\s*:=\s*(.*)", re.S)


@dataclass
class _Node:
    kind: str  # text | print | index | range | if
    arg: str = ""
    body: list[_Node] = field(default_factory=list)
    alt: list[_Node] = field(default_factory=list)
    key_var: str | None = None
    val_var: str | None = None
    args: str = ""  # the keys of an index call, as written


def _unsupported(action: str) -> EvaluationError:
    return EvaluationError(
        f"varsTemplate: unsupported construct {{{{{action}}}}} (supported: .field chains, "
        "range, if, else, end, comments)"
    )


def _tokens(template: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    for m in _ACTION.finditer(template):
        text = template[pos:m.start()]
        if m.group(1):
            text = text.rstrip(_TEMPLATE_SPACE)
        out.append(("text", text))
        out.append(("action", m.group(2).strip()))
        pos = m.end()
        if m.group(3):
            rest = template[pos:]
            pos += len(rest) - len(rest.lstrip(_TEMPLATE_SPACE))
    tail = template[pos:]
    if "{{" in tail:
        raise EvaluationError("varsTemplate: unclosed action")
    out.append(("text", tail))
    return out


def _parse(tokens: list[tuple[str, str]], index: int, closers: tuple[str, ...]
           ) -> tuple[list[_Node], int, str]:
    nodes: list[_Node] = []
    while index < len(tokens):
        kind, value = tokens[index]
        index += 1
        if kind == "text":
            if value:
                nodes.append(_Node("text", value))
            continue
        if value.startswith("/*") and value.endswith("*/"):
            continue
        word = value.split(None, 1)[0] if value else ""
        if word in ("end", "else") and value == word:
            if word not in closers:
                raise EvaluationError(f"varsTemplate: unexpected {{{{{word}}}}}")
            return nodes, index, word
        if word in ("range", "if"):
            node = _Node(word, value[len(word):].strip())
            if word == "range":
                m = _RANGE_VARS.fullmatch(node.arg)
                if m:
                    second = m.group(2)
                    node.key_var, node.val_var = (m.group(1), second) if second else (None,
                                                                                      m.group(1))
                    node.arg = m.group(3).strip()
            node.body, index, closer = _parse(tokens, index, ("end", "else"))
            if closer == "else":
                node.alt, index, closer = _parse(tokens, index, ("end",))
            if closer != "end":
                raise EvaluationError(f"varsTemplate: {{{{{word}}}}} without {{{{end}}}}")
            nodes.append(node)
            continue
        call = _INDEX.fullmatch(value)
        if call and _CHAIN.fullmatch(call.group(1)):
            nodes.append(_Node("index", call.group(1), args=call.group(2)))
            continue
        if not _CHAIN.fullmatch(value):
            raise _unsupported(value)
        nodes.append(_Node("print", value))
    if closers:
        raise EvaluationError(f"varsTemplate: missing {{{{end}}}} (expected one of {closers})")
    return nodes, index, ""


def _resolve(chain: str, dot: Any, variables: dict[str, Any]) -> Any:
    if chain.startswith("$"):
        head, _, rest = chain.partition(".")
        if head not in variables:
            raise EvaluationError(f"varsTemplate: undefined variable {head}")
        value = variables[head]
        fields = rest.split(".") if rest else []
    else:
        value = dot
        fields = [f for f in chain.split(".") if f]
    for name in fields:
        if not isinstance(value, dict):
            raise EvaluationError(
                f"varsTemplate: can't evaluate field {name} in type {_go_type(value)}"
            )
        if name not in value:
            raise EvaluationError(f"varsTemplate: map has no entry for key \"{name}\"")
        value = value[name]
    return value


def _index_key(token: str) -> str | int:
    if token.startswith("`"):
        return token[1:-1]
    if token.startswith('"'):
        import json

        # Go and JSON share the escapes NFD specs use (\\, \", \n, \t, \uXXXX).
        try:
            text: str = json.loads(token)
        except ValueError:
            raise EvaluationError(f"varsTemplate: invalid string {token} in index") from None
        return text
    return int(token)


def _index(value: Any, keys: str) -> Any:
    """text/template's ``index``: a missing map key gives the zero value, not an error."""
    for token in _INDEX_ARG.findall(keys):
        key = _index_key(token)
        if isinstance(value, dict) and isinstance(key, str):
            value = value.get(key, "")
        elif isinstance(value, list) and isinstance(key, int):
            if not 0 <= key < len(value):
                raise EvaluationError(f"varsTemplate: error calling index: index out of range: "
                                      f"{key}")
            value = value[key]
        else:
            raise EvaluationError(f"varsTemplate: error calling index: cannot index "
                                  f"{_go_type(value)} with {token}")
    return value


def _go_type(value: Any) -> str:
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]nodefeaturerule.MatchedElement"
    return "map"


def _go_print(value: Any) -> str:
    """``fmt`` ``%v`` of strings, string maps (sorted keys) and slices."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_print(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_print(v) for v in value) + "]"
    return str(value)


MAX_OUTPUT_CHARS = 1 << 20
MAX_STEPS = 1_000_000


class _Output(list[str]):
    """Template output with a budget: nested ranges over matched features can multiply
    without end, and a spec must not be able to hang or exhaust the node."""

    def __init__(self) -> None:
        super().__init__()
        self.chars = 0
        self.steps = 0

    def append(self, text: str) -> None:
        self.chars += len(text)
        if self.chars > MAX_OUTPUT_CHARS:
            raise EvaluationError(
                f"varsTemplate: output exceeds {MAX_OUTPUT_CHARS} characters")
        super().append(text)

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise EvaluationError(f"varsTemplate: more than {MAX_STEPS} range iterations")


def _truthy(value: Any) -> bool:
    return bool(value)


def _execute(nodes: list[_Node], dot: Any, variables: dict[str, Any], out: _Output) -> None:
    for node in nodes:
        if node.kind == "text":
            out.append(node.arg)
        elif node.kind == "print":
            out.append(_go_print(_resolve(node.arg, dot, variables)))
        elif node.kind == "index":
            out.append(_go_print(_index(_resolve(node.arg, dot, variables), node.args)))
        elif node.kind == "if":
            _check_pipeline(node.arg)
            branch = node.body if _truthy(_resolve(node.arg, dot, variables)) else node.alt
            _execute(branch, dot, variables, out)
        else:
            _check_pipeline(node.arg)
            _range(node, dot, variables, out)


def _check_pipeline(arg: str) -> None:
    if not _CHAIN.fullmatch(arg):
        raise _unsupported(arg)


def _range(node: _Node, dot: Any, variables: dict[str, Any], out: _Output) -> None:
    target = _resolve(node.arg, dot, variables)
    if isinstance(target, dict):
        items: list[tuple[Any, Any]] = sorted(target.items())
    elif isinstance(target, list):
        items = list(enumerate(target))
    elif isinstance(target, str):
        raise EvaluationError(f"varsTemplate: range can't iterate over {target}")
    else:
        items = []
    if not items:
        _execute(node.alt, dot, variables, out)
        return
    for key, item in items:
        out.step()
        scope = dict(variables)
        if node.key_var:
            scope[node.key_var] = key if isinstance(key, str) else str(key)
        if node.val_var:
            scope[node.val_var] = item
        _execute(node.body, item, scope, out)


def compile_template(template: str) -> list[Any]:
    """Parse ``template``; raises :class:`EvaluationError` for what is not supported."""
    if len(template.encode()) > MAX_TEMPLATE_BYTES:
        raise EvaluationError(
            f"template exceeds maximum allowed size: {len(template.encode())} bytes > "
            f"{MAX_TEMPLATE_BYTES} limit"
        )
    nodes, _, _ = _parse(_tokens(template), 0, ())
    return nodes


def expand_vars_template(template: str, matched: dict[str, Any]) -> dict[str, str]:
    """Execute ``template`` on the matched features and split the output into ``key=value``."""
    nodes = compile_template(template)
    out = _Output()
    _execute(nodes, matched, {"$": matched}, out)
    result: dict[str, str] = {}
    for line in "".join(out).split("\n"):
        line = line.strip(_GO_SPACE)
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise EvaluationError(
                f"missing value in expanded template line \"{line}\", (format must be "
                "'<key>=<value>')"
            )
        result[key] = value
    return result
