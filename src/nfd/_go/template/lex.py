"""The lexer of Go's text/template (Go 1.19 ``parse/lex.go`` behaviour), delimiters ``{{ }}``.

It yields the same items, positions and error texts as Go's, because the
parser's error messages quote them. Items are produced up to the first
error, which becomes the last item (Go's lexer stops there too).
"""

from __future__ import annotations

import bisect
import unicodedata
from dataclasses import dataclass

from nfd._go.strconv import is_print

TEXT, LEFT, RIGHT, SPACE, IDENT, FIELD, VAR, DOT, BOOL, NIL = range(10)
NUMBER, CHARCONST, COMPLEX, STRING, RAW, PIPE, LPAREN, RPAREN, CHAR = range(10, 19)
ASSIGN, DECLARE, EOF, ERROR = range(19, 23)
# Keywords sort after KEYWORD, as in Go (item.String prints them as <word>).
KEYWORD = 30
BLOCK, BREAK, CONTINUE, DEFINE, ELSE, END, IF, RANGE, TEMPLATE, WITH = range(31, 41)
_KEYWORDS = {"block": BLOCK, "break": BREAK, "continue": CONTINUE, "define": DEFINE,
             "else": ELSE, "end": END, "if": IF, "range": RANGE, "nil": NIL,
             "template": TEMPLATE, "with": WITH}
_SPACE = " \t\r\n"


@dataclass(frozen=True, slots=True)
class Item:
    typ: int
    val: str
    pos: int
    line: int

    def __str__(self) -> str:
        from nfd._go.strconv import quote as go_quote

        if self.typ == EOF:
            return "EOF"
        if self.typ == ERROR:
            return self.val
        if self.typ > KEYWORD or self.typ == NIL:
            return f"<{self.val}>"
        if len(self.val.encode()) > 10:
            return go_quote(self.val[:10]) + "..."
        return go_quote(self.val)


def is_alnum(ch: str) -> bool:
    """Go's ``_`` / unicode.IsLetter / unicode.IsDigit."""
    return ch == "_" or ch.isalpha() or (ch != "" and unicodedata.category(ch) == "Nd")


def sharp_u(ch: str) -> str:
    """``%#U``."""
    return f"U+{ord(ch):04X} '{ch}'" if is_print(ch) else f"U+{ord(ch):04X}"


class _LexError(Exception):
    pass


class Lexer:
    """Turns a template into items; ``items`` ends with EOF or ERROR."""

    def __init__(self, text: str):
        self.text = text
        self.newlines = [i for i, c in enumerate(text) if c == "\n"]
        self.items: list[Item] = []
        self.pos = 0
        self.start = 0
        try:
            self._run()
        except _LexError as exc:
            self.items.append(Item(ERROR, str(exc), self.start, self.line(self.start)))

    def line(self, pos: int) -> int:
        return bisect.bisect_left(self.newlines, pos) + 1

    def _emit(self, typ: int) -> None:
        self.items.append(Item(typ, self.text[self.start:self.pos], self.start,
                               self.line(self.start)))
        self.start = self.pos

    def _peek(self, k: int = 0) -> str:
        i = self.pos + k
        return self.text[i] if i < len(self.text) else ""

    def _at_right_delim(self) -> tuple[bool, bool]:
        t, p = self.text, self.pos
        if p + 1 < len(t) and t[p] in _SPACE and t[p + 1] == "-" and t.startswith("}}", p + 2):
            return True, True
        return t.startswith("}}", p), False

    def _skip_space(self) -> None:
        while self._peek() and self._peek() in _SPACE:
            self.pos += 1
        self.start = self.pos

    def _run(self) -> None:
        t = self.text
        while True:
            x = t.find("{{", self.pos)
            if x < 0:
                self.pos = len(t)
                if self.pos > self.start:
                    self._emit(TEXT)
                self._emit(EOF)
                return
            trim = len(t) > x + 3 and t[x + 2] == "-" and t[x + 3] in _SPACE
            self.pos = self.start + len(t[self.start:x].rstrip(_SPACE)) if trim else x
            if self.pos > self.start:
                self._emit(TEXT)
            self.pos = self.start = x
            self.pos += 2
            after = 2 if trim else 0
            if t.startswith("/*", self.pos + after):
                self._comment(after)
                continue
            self._emit(LEFT)
            self.pos += after
            self.start = self.pos
            self._action()

    def _comment(self, after: int) -> None:
        self.pos += after
        self.start = self.pos
        end = self.text.find("*/", self.pos + 2)
        if end < 0:
            raise _LexError("unclosed comment")
        self.pos = end + 2
        delim, trim = self._at_right_delim()
        if not delim:
            raise _LexError("comment ends before closing delimiter")
        self.pos += 4 if trim else 2
        if trim:
            self._skip_space()
        self.start = self.pos

    def _action(self) -> None:
        depth = 0
        while True:
            delim, trim = self._at_right_delim()
            if delim:
                if depth:
                    raise _LexError("unclosed left paren")
                if trim:
                    self.pos += 2
                    self.start = self.pos
                self.pos += 2
                self._emit(RIGHT)
                if trim:
                    self._skip_space()
                return
            ch = self._peek()
            self.pos += 1
            if ch == "":
                raise _LexError("unclosed action")
            if ch in _SPACE:
                self._space()
            elif ch == "=":
                self._emit(ASSIGN)
            elif ch == ":":
                if self._peek() != "=":
                    raise _LexError("expected :=")
                self.pos += 1
                self._emit(DECLARE)
            elif ch == "|":
                self._emit(PIPE)
            elif ch == '"':
                self._quoted('"', "unterminated quoted string", STRING)
            elif ch == "`":
                end = self.text.find("`", self.pos)
                if end < 0:
                    raise _LexError("unterminated raw quoted string")
                self.pos = end + 1
                self._emit(RAW)
            elif ch == "$":
                self._field_or_var(VAR)
            elif ch == "'":
                self._quoted("'", "unterminated character constant", CHARCONST)
            elif ch == "." and self._peek() != "" and not "0" <= self._peek() <= "9":
                self._field_or_var(FIELD)
            elif ch in "+-." or "0" <= ch <= "9":
                self.pos -= 1
                self._number()
            elif is_alnum(ch):
                self._identifier()
            elif ch == "(":
                depth += 1
                self._emit(LPAREN)
            elif ch == ")":
                depth -= 1
                self._emit(RPAREN)
                if depth < 0:
                    raise _LexError(f"unexpected right paren {sharp_u(ch)}")
            elif ch <= "\x7f" and is_print(ch):
                self._emit(CHAR)
            else:
                raise _LexError(f"unrecognized character in action: {sharp_u(ch)}")

    def _space(self) -> None:
        count = 1
        while self._peek() and self._peek() in _SPACE:
            self.pos += 1
            count += 1
        if self.text.startswith("-}}", self.pos):
            self.pos -= 1
            if count == 1:
                return
        self._emit(SPACE)

    def _at_terminator(self) -> bool:
        ch = self._peek()
        return ch == "" or ch in _SPACE or ch in ".,|:()" or self.text.startswith("}}", self.pos)

    def _identifier(self) -> None:
        while is_alnum(self._peek()):
            self.pos += 1
        word = self.text[self.start:self.pos]
        if not self._at_terminator():
            raise _LexError(f"bad character {sharp_u(self._peek())}")
        if word in _KEYWORDS:
            self._emit(_KEYWORDS[word])
        elif word in ("true", "false"):
            self._emit(BOOL)
        else:
            self._emit(IDENT)

    def _field_or_var(self, typ: int) -> None:
        if self._at_terminator():
            self._emit(VAR if typ == VAR else DOT)
            return
        while is_alnum(self._peek()):
            self.pos += 1
        if not self._at_terminator():
            raise _LexError(f"bad character {sharp_u(self._peek())}")
        self._emit(typ)

    def _quoted(self, quote: str, message: str, typ: int) -> None:
        while True:
            ch = self._peek()
            self.pos += 1
            if ch == "\\":
                ch = self._peek()
                self.pos += 1
                if ch not in ("", "\n"):
                    continue
            if ch in ("", "\n"):
                raise _LexError(message)
            if ch == quote:
                break
        self._emit(typ)

    def _accept(self, chars: str) -> bool:
        if self._peek() != "" and self._peek() in chars:
            self.pos += 1
            return True
        return False

    def _run_of(self, chars: str) -> None:
        while self._accept(chars):
            pass

    def _scan_number(self) -> bool:
        self._accept("+-")
        digits = "0123456789_"
        if self._accept("0"):
            if self._accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self._accept("oO"):
                digits = "01234567_"
            elif self._accept("bB"):
                digits = "01_"
        self._run_of(digits)
        if self._accept("."):
            self._run_of(digits)
        if len(digits) == 11 and self._accept("eE"):
            self._accept("+-")
            self._run_of("0123456789_")
        if len(digits) == 23 and self._accept("pP"):
            self._accept("+-")
            self._run_of("0123456789_")
        self._accept("i")
        if is_alnum(self._peek()):
            self.pos += 1
            return False
        return True

    def _number(self) -> None:
        from nfd._go.strconv import quote as go_quote

        if not self._scan_number():
            raise _LexError(f"bad number syntax: {go_quote(self.text[self.start:self.pos])}")
        if self._peek() in ("+", "-"):
            if not self._scan_number() or self.text[self.pos - 1] != "i":
                raise _LexError(f"bad number syntax: {go_quote(self.text[self.start:self.pos])}")
            self._emit(COMPLEX)
        else:
            self._emit(NUMBER)
