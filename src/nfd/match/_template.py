"""NFD's ``varsTemplate``: a Go text/template executed on the matched features.

NFD parses the template with sprig's functions and ``missingkey=error`` and
executes it on ``map[domain]map[feature][]MatchedElement``; the output is
split into ``key=value`` lines (each trimmed like Go's strings.TrimSpace).
This module keeps that contract; the language itself is
:mod:`nfd._go.template`, outside the matching engine.
"""

from __future__ import annotations

from typing import Any

from nfd._go.strings import trim_space
from nfd._go.template import (
    MAX_DEPTH,
    MAX_OUTPUT_CHARS,
    MAX_STEPS,
    MAX_TEMPLATE_BYTES,
    Template,
    compile_template,
    execute_template,
)
from nfd.errors import EvaluationError

__all__ = ["MAX_DEPTH", "MAX_OUTPUT_CHARS", "MAX_STEPS", "MAX_TEMPLATE_BYTES", "Template",
           "compile_template", "execute_template", "expand_vars_template"]


def expand_vars_template(template: str, matched: dict[str, Any]) -> dict[str, str]:
    """Execute ``template`` on the matched features and split the output into ``key=value``."""
    result: dict[str, str] = {}
    for line in execute_template(template, matched).split("\n"):
        line = trim_space(line)
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
