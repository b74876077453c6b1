"""NFD's ``varsTemplate``: a Go text/template executed on the matched features.

NFD parses the template with sprig's functions and ``missingkey=error`` and
executes it on ``map[domain]map[feature][]MatchedElement``; the output is
split into ``key=value`` lines (each trimmed like Go's strings.TrimSpace).
This module keeps that contract; the language lives in the ``_template_*``
modules (lexer, parser, executor, fmt, builtins, sprig subset), checked
against Go's own text/template.

Supported: the whole action language except ``define``/``template``/
``block`` (pipelines, parentheses, variables, if/else if, with/else with,
range with break/continue, every builtin) and the sprig functions listed in
``_template_sprig``. Errors carry Go's message behind ``varsTemplate: ``.
Execution is budgeted (steps, output, nesting), so a hostile spec cannot
hang or exhaust the node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nfd.errors import EvaluationError
from nfd.match._template_exec import ExecError, execute
from nfd.match._template_fmt import wrap_matched
from nfd.match._template_parse import MAX_DEPTH, ParseError, parse
from nfd.match._template_sprig import KNOWN, REFUSED

MAX_TEMPLATE_BYTES = 64 * 1024
MAX_OUTPUT_CHARS = 1 << 20
MAX_STEPS = 1_000_000
# Go's strings.TrimSpace (unicode.IsSpace); str.strip() would also take U+001C..U+001F.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006" \
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"

__all__ = ["MAX_DEPTH", "MAX_OUTPUT_CHARS", "MAX_STEPS", "MAX_TEMPLATE_BYTES", "Template",
           "compile_template", "execute_template", "expand_vars_template"]


@dataclass(frozen=True)
class Template:
    """A parsed varsTemplate."""

    text: str
    root: list[Any]


def compile_template(template: str) -> Template:
    """Parse ``template``; raises :class:`EvaluationError` for what is malformed or unsupported."""
    size = len(template.encode())
    if size > MAX_TEMPLATE_BYTES:
        raise EvaluationError(
            f"template exceeds maximum allowed size: {size} bytes > {MAX_TEMPLATE_BYTES} limit")
    try:
        return Template(template, parse(template, KNOWN, REFUSED))
    except ParseError as exc:
        raise EvaluationError(f"varsTemplate: {exc}") from None
    except RecursionError:
        raise EvaluationError("varsTemplate: template nested too deeply") from None


def execute_template(template: Template | str, data: Any) -> str:
    """The raw output of ``template`` on ``data`` (matched features: domain -> feature ->
    list of element dicts), as Go's ``Execute`` would write it."""
    compiled = template if isinstance(template, Template) else compile_template(template)
    try:
        return execute(compiled.text, compiled.root, wrap_matched(data), MAX_STEPS,
                       MAX_OUTPUT_CHARS)
    except ExecError as exc:
        raise EvaluationError(f"varsTemplate: {exc}") from None
    except RecursionError:
        raise EvaluationError("varsTemplate: template nested too deeply") from None


def expand_vars_template(template: str, matched: dict[str, Any]) -> dict[str, str]:
    """Execute ``template`` on the matched features and split the output into ``key=value``."""
    result: dict[str, str] = {}
    for line in execute_template(template, matched).split("\n"):
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
