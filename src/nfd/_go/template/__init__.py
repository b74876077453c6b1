"""Go's ``text/template`` with the sprig functions NFD links, under an execution budget.

Supported: the whole action language except ``define``/``template``/``block``
(pipelines, parentheses, variables, if/else if, with/else with, range with
break/continue, every builtin) and the sprig functions listed in
:mod:`nfd._go.template.sprig`; checked against Go's own text/template. The
modules follow Go's split: ``lex``, ``parse`` (into ``nodes``), ``execute``,
``fmt`` (Go values and their printing), ``funcs`` (builtins) and ``sprig``.

Errors carry Go's message behind ``varsTemplate: `` (NFD's only use of
templates). Execution is budgeted (:mod:`nfd._go.template.budget`: steps
charged by the bytes processed, sizes checked before allocating, nesting), so a
hostile template cannot hang or exhaust the node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nfd._go.template.budget import MAX_STEPS, MAX_VALUE_SIZE
from nfd._go.template.execute import ExecError, execute
from nfd._go.template.fmt import wrap_matched
from nfd._go.template.parse import MAX_DEPTH, ParseError, parse
from nfd._go.template.sprig import KNOWN, REFUSED
from nfd.errors import EvaluationError

MAX_TEMPLATE_BYTES = 64 * 1024
MAX_OUTPUT_CHARS = 1 << 20

__all__ = ["MAX_DEPTH", "MAX_OUTPUT_CHARS", "MAX_STEPS", "MAX_TEMPLATE_BYTES", "MAX_VALUE_SIZE",
           "Template", "compile_template", "execute_template"]


@dataclass(frozen=True)
class Template:
    """A parsed template."""

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
