"""The parser of Go's text/template (Go 1.19 ``parse/parse.go`` behaviour), to a small tree.

Parse errors read like Go's (``template: :LINE: MESSAGE``). Function names
are checked at parse time as Go does, against text/template's builtins and
sprig's TxtFuncMap (what NFD registers); ``define``/``template``/``block``
and sprig functions nfd-client does not implement are refused by name.
Nesting is bounded (``MAX_DEPTH``) so that a hostile spec cannot exhaust
the interpreter's stack.
"""

from __future__ import annotations

import math
import re
from typing import Any

from nfd._go.strconv import quote as go_quote
from nfd._go.template import lex as lx
from nfd._go.template.nodes import (
    Action,
    Bool,
    Branch,
    Break,
    Chain,
    Command,
    Continue,
    Dot,
    Field,
    Identifier,
    Nil,
    Node,
    Number,
    Pipe,
    String,
    Text,
    Variable,
    _Else,
    _End,
    node_str,
)
from nfd.errors import EvaluationError

MAX_DEPTH = 100


class ParseError(Exception):
    """Go's parse error; ``str()`` is Go's message."""


def unquote_char(s: str, i: int, quote: str) -> tuple[str, int]:
    """strconv.UnquoteChar: one character of ``s`` from ``i`` (backslash escapes decoded)."""
    ch = s[i]
    if ch != "\\":
        if ch == quote and quote in "'\"":
            raise ParseError("invalid syntax")
        return ch, i + 1
    if i + 1 >= len(s):
        raise ParseError("invalid syntax")
    c = s[i + 1]
    simple = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
              "\\": "\\"}
    if c in simple:
        return simple[c], i + 2
    if c in "'\"":
        if c != quote:
            raise ParseError("invalid syntax")
        return c, i + 2
    size = {"x": 2, "u": 4, "U": 8}.get(c)
    if size is not None or c in "01234567":
        digits = s[i + 2:i + 2 + size] if size else s[i + 1:i + 4]
        base = 16 if size else 8
        try:
            value = int(digits, base)
        except ValueError:
            raise ParseError("invalid syntax") from None
        if len(digits) != (size or 3) or not digits.isascii() or "_" in digits:
            raise ParseError("invalid syntax")
        if c in "xX01234567" and value > 0x7F:
            raise EvaluationError("varsTemplate: byte escapes above \\x7f (non-UTF-8 strings) "
                                  "are not supported")
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise ParseError("invalid syntax")
        return chr(value), i + 2 + size if size else i + 4
    raise ParseError("invalid syntax")


def unquote(quoted: str) -> str:
    """strconv.Unquote of a lexed string item."""
    if quoted[0] == "`":
        return quoted[1:-1].replace("\r", "")
    body, out, i = quoted[1:-1], [], 0
    while i < len(body):
        ch, i = unquote_char(body, i, '"')
        out.append(ch)
    return "".join(out)


def parse_number(text: str, typ: int, pos: int) -> Number:
    """Go's newNumber: which of int/uint/float a literal can be."""
    n = Number(pos, text)
    if typ == lx.CHARCONST:
        ch, end = unquote_char(text, 1, "'")
        if text[end:] != "'":
            raise ParseError(f"malformed character constant: {text}")
        n.is_int = n.is_uint = n.is_float = True
        n.int_value, n.float_value = ord(ch), float(ord(ch))
        return n
    if typ == lx.COMPLEX or text.endswith("i"):
        raise EvaluationError(f"varsTemplate: complex number {text} is not supported")
    value = _go_int(text)
    if value is not None:
        n.is_int = -(1 << 63) <= value < (1 << 63)
        n.is_uint = 0 <= value < (1 << 64)
        n.int_value = value
    if n.is_int or n.is_uint:
        n.is_float, n.float_value = True, float(value or 0)
        return n
    f = _go_float(text)
    if f is None:
        raise ParseError(f"illegal number syntax: {go_quote(text)}")
    if not any(c in text for c in ".eEpP"):
        raise ParseError(f"integer overflow: {go_quote(text)}")
    n.is_float, n.float_value = True, f
    if math.isfinite(f) and f == int(f):
        n.int_value = int(f)
        n.is_int = -(1 << 63) <= n.int_value < (1 << 63)
        n.is_uint = 0 <= n.int_value < (1 << 64)
    return n


_INT = re.compile(r"[+-]?(0[xX](_?[0-9a-fA-F])+|0[oO](_?[0-7])+|0[bB](_?[01])+|0(_?[0-7])*"
                  r"|[1-9](_?[0-9])*)")
_DEC_FLOAT = re.compile(r"[+-]?([0-9](_?[0-9])*(\.([0-9](_?[0-9])*)?)?|\.[0-9](_?[0-9])*)"
                        r"([eE][+-]?[0-9](_?[0-9])*)?")
_HEX_FLOAT = re.compile(r"[+-]?0[xX](_?[0-9a-fA-F])*(\.([0-9a-fA-F](_?[0-9a-fA-F])*)?)?"
                        r"[pP][+-]?[0-9](_?[0-9])*")


def _go_int(text: str) -> int | None:
    """strconv.ParseInt/ParseUint with base 0 (a leading 0 means octal)."""
    if not _INT.fullmatch(text):
        return None
    body = text.lstrip("+-").replace("_", "")
    sign = -1 if text.startswith("-") else 1
    if len(body) > 1 and body[0] == "0" and body[1].isdigit():
        return sign * int(body, 8)
    return sign * int(body, 0)


def _go_float(text: str) -> float | None:
    """strconv.ParseFloat (decimal, or hexadecimal with a p exponent)."""
    if _DEC_FLOAT.fullmatch(text):
        return float(text.replace("_", ""))
    if _HEX_FLOAT.fullmatch(text):
        return float.fromhex(text.replace("_", ""))
    return None


class Parser:
    """Parses one template; ``root`` is the top-level node list."""

    def __init__(self, text: str, functions: frozenset[str], refused: dict[str, str]):
        self.text = text
        self.lexer = lx.Lexer(text)
        self.items = self.lexer.items
        self.i = 0
        self.furthest = 0
        self.functions = functions
        self.refused = refused
        self.vars = ["$"]
        self.range_depth = 0
        self.depth = 0
        self.action_line = 0
        self.root = self._top()

    # -- item access (Go's next/backup/peek; errors name the furthest item's line) --
    def _next(self) -> lx.Item:
        item = self.items[self.i]
        self.i += 1
        self.furthest = max(self.furthest, self.i - 1)
        return item

    def _peek(self) -> lx.Item:
        self.furthest = max(self.furthest, self.i)
        return self.items[self.i]

    def _next_non_space(self) -> lx.Item:
        item = self._next()
        while item.typ == lx.SPACE:
            item = self._next()
        return item

    def _peek_non_space(self) -> lx.Item:
        item = self._next_non_space()
        self.i -= 1
        return item

    def error(self, message: str) -> ParseError:
        return ParseError(f"template: :{self.items[self.furthest].line}: {message}")

    def _unexpected(self, item: lx.Item, context: str) -> ParseError:
        if item.typ == lx.ERROR:
            extra = ""
            if self.action_line and self.action_line != item.line:
                extra = f" in action started at :{self.action_line}"
                if item.val.endswith(" action"):
                    extra = extra[len(" in action"):]
            return self.error(f"{item}{extra}")
        return self.error(f"unexpected {item} in {context}")

    def _deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise EvaluationError(f"varsTemplate: nesting deeper than {MAX_DEPTH} levels")

    # -- structure --
    def _top(self) -> list[Node]:
        nodes: list[Node] = []
        while self._peek().typ != lx.EOF:
            n = self._text_or_action()
            if isinstance(n, (_End, _Else)):
                raise self.error(f"unexpected {node_str(n)}")
            if n is not None:
                nodes.append(n)
        return nodes

    def _item_list(self) -> tuple[list[Node], Node]:
        nodes: list[Node] = []
        while self._peek_non_space().typ != lx.EOF:
            n = self._text_or_action()
            if isinstance(n, (_End, _Else)):
                return nodes, n
            if n is not None:
                nodes.append(n)
        raise self.error("unexpected EOF")

    def _text_or_action(self) -> Node | None:
        item = self._next_non_space()
        if item.typ == lx.TEXT:
            return Text(item.pos, item.val)
        if item.typ == lx.LEFT:
            self.action_line = item.line
            try:
                return self._action()
            finally:
                self.action_line = 0
        raise self._unexpected(item, "input")

    def _action(self) -> Node:
        item = self._next_non_space()
        if item.typ in (lx.DEFINE, lx.TEMPLATE, lx.BLOCK):
            raise EvaluationError(f"varsTemplate: {{{{{item.val}}}}} is not supported by "
                                  "nfd-client (write the template inline)")
        if item.typ in (lx.BREAK, lx.CONTINUE):
            nxt = self._next_non_space()
            if nxt.typ != lx.RIGHT:
                raise self._unexpected(nxt, f"{{{{{item.val}}}}}")
            if not self.range_depth:
                raise self.error(f"{{{{{item.val}}}}} outside {{{{range}}}}")
            return Break(item.pos) if item.typ == lx.BREAK else Continue(item.pos)
        if item.typ == lx.ELSE:
            peek = self._peek_non_space()
            if peek.typ in (lx.IF, lx.WITH):
                return _Else(peek.pos, peek.typ == lx.IF, peek.typ == lx.WITH)
            tok = self._next_non_space()
            if tok.typ != lx.RIGHT:
                raise self._unexpected(tok, "else")
            return _Else(tok.pos)
        if item.typ == lx.END:
            tok = self._next_non_space()
            if tok.typ != lx.RIGHT:
                raise self._unexpected(tok, "end")
            return _End(tok.pos)
        if item.typ in (lx.IF, lx.RANGE, lx.WITH):
            return self._control(item.val)
        self.i -= 1
        tok = self._peek()
        return Action(tok.pos, self._pipeline("command", lx.RIGHT))

    def _control(self, kind: str) -> Branch:
        self._deeper()
        mark = len(self.vars)
        pipe = self._pipeline(kind, lx.RIGHT)
        if kind == "range":
            self.range_depth += 1
        body, nxt = self._item_list()
        if kind == "range":
            self.range_depth -= 1
        alt: list[Node] | None = None
        if isinstance(nxt, _Else):
            # else if (Go 1.19) and else with (Go 1.23, as NFD is built with) chain.
            if (nxt.is_if and kind == "if") or (nxt.is_with and kind == "with"):
                self._next_non_space()
                alt = [self._control(kind)]
            elif nxt.is_if or nxt.is_with:
                raise self._unexpected(self._peek_non_space(), "input")
            else:
                alt, end = self._item_list()
                if not isinstance(end, _End):
                    raise self.error(f"expected end; found {node_str(end)}")
        del self.vars[mark:]
        self.depth -= 1
        return Branch(pipe.pos, kind, pipe, body, alt)

    def _pipeline(self, context: str, end: int) -> Pipe:
        tok = self._peek_non_space()
        pipe = Pipe(tok.pos)
        while True:
            v = self._peek_non_space()
            if v.typ != lx.VAR:
                break
            self._next_non_space()
            at_var = self.i - 1
            nxt = self._peek_non_space()
            if nxt.typ in (lx.ASSIGN, lx.DECLARE):
                pipe.is_assign = nxt.typ == lx.ASSIGN
                self._next_non_space()
                pipe.decl.append(Variable(v.pos, v.val.split(".")))
                self.vars.append(v.val)
            elif nxt.typ == lx.CHAR and nxt.val == ",":
                self._next_non_space()
                pipe.decl.append(Variable(v.pos, v.val.split(".")))
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self._peek_non_space().typ in (lx.VAR, lx.RIGHT, lx.RPAREN):
                        continue
                    raise self.error("range can only initialize variables")
                raise self.error(f"too many declarations in {context}")
            else:
                self.i = at_var  # not a declaration: the variable starts a command
            break
        while True:
            tok = self._next_non_space()
            if tok.typ == end:
                self._check_pipeline(pipe, context)
                return pipe
            if tok.typ in (lx.BOOL, lx.CHARCONST, lx.COMPLEX, lx.DOT, lx.FIELD, lx.IDENT,
                           lx.NUMBER, lx.NIL, lx.RAW, lx.STRING, lx.VAR, lx.LPAREN):
                self.i -= 1
                pipe.cmds.append(self._command())
            else:
                raise self._unexpected(tok, context)

    def _check_pipeline(self, pipe: Pipe, context: str) -> None:
        if not pipe.cmds:
            raise self.error(f"missing value for {context}")
        for i, c in enumerate(pipe.cmds[1:]):
            if isinstance(c.args[0], (Bool, Dot, Nil, Number, String)):
                raise self.error(f"non executable command in pipeline stage {i + 2}")

    def _command(self) -> Command:
        cmd = Command(self._peek_non_space().pos)
        while True:
            self._peek_non_space()
            operand = self._operand()
            if operand is not None:
                cmd.args.append(operand)
            tok = self._next()
            if tok.typ == lx.SPACE:
                continue
            if tok.typ in (lx.RIGHT, lx.RPAREN):
                self.i -= 1
            elif tok.typ != lx.PIPE:
                raise self._unexpected(tok, "operand")
            break
        if not cmd.args:
            raise self.error("empty command")
        return cmd

    def _operand(self) -> Node | None:
        node = self._term()
        if node is None or self._peek().typ != lx.FIELD:
            return node
        chain = Chain(self._peek().pos, node)
        while self._peek().typ == lx.FIELD:
            chain.fields.append(self._next().val[1:])
        if isinstance(node, Field):
            return Field(chain.pos, node.idents + chain.fields)
        if isinstance(node, Variable):
            return Variable(chain.pos, node.idents + chain.fields)
        if isinstance(node, (Bool, String, Number, Nil, Dot)):
            raise self.error(f"unexpected . after term {go_quote(node_str(node))}")
        return chain

    def _term(self) -> Node | None:
        tok = self._next_non_space()
        t = tok.typ
        if t == lx.IDENT:
            if tok.val not in self.functions:
                raise self.error(f"function {go_quote(tok.val)} not defined")
            if tok.val in self.refused:
                raise EvaluationError(f"varsTemplate: function {tok.val!r} "
                                      f"{self.refused[tok.val]}")
            return Identifier(tok.pos, tok.val)
        if t == lx.DOT:
            return Dot(tok.pos)
        if t == lx.NIL:
            return Nil(tok.pos)
        if t == lx.VAR:
            name = tok.val.split(".")[0]
            if name not in self.vars:
                raise self.error(f"undefined variable {go_quote(name)}")
            return Variable(tok.pos, tok.val.split("."))
        if t == lx.FIELD:
            return Field(tok.pos, tok.val[1:].split("."))
        if t == lx.BOOL:
            return Bool(tok.pos, tok.val == "true")
        if t in (lx.CHARCONST, lx.COMPLEX, lx.NUMBER):
            try:
                return parse_number(tok.val, t, tok.pos)
            except ParseError as exc:
                raise self.error(str(exc)) from None
        if t == lx.LPAREN:
            self._deeper()
            pipe = self._pipeline("parenthesized pipeline", lx.RPAREN)
            self.depth -= 1
            return pipe
        if t in (lx.STRING, lx.RAW):
            try:
                return String(tok.pos, tok.val, unquote(tok.val))
            except ParseError as exc:
                raise self.error(str(exc)) from None
        self.i -= 1
        return None


def parse(text: str, functions: frozenset[str], refused: dict[str, str]) -> list[Any]:
    """The node list of ``text``; raises :class:`ParseError` with Go's message."""
    return Parser(text, functions, refused).root
