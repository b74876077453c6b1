"""Use cases: validating a node or features against a spec, linting, reports.

Evaluation itself is :mod:`nfd.match`'s spec evaluator; its results are
re-exported here for the use cases' callers.
"""

from __future__ import annotations

from nfd.compat._lint import ERROR, WARNING, Finding, check_spec, lint_spec, lint_spec_bytes
from nfd.compat._report import nfd_report, rich_report
from nfd.compat._spec_source import load_compat_spec
from nfd.match import (
    RULE_MATCHED,
    CompatibilityStatus,
    ValidationResult,
    explain_expression,
    first_failure,
    node_text,
    validate_features,
)

__all__ = [
    "ERROR",
    "RULE_MATCHED",
    "WARNING",
    "CompatibilityStatus",
    "Finding",
    "ValidationResult",
    "check_spec",
    "explain_expression",
    "first_failure",
    "lint_spec",
    "lint_spec_bytes",
    "load_compat_spec",
    "nfd_report",
    "node_text",
    "rich_report",
    "validate_features",
]
