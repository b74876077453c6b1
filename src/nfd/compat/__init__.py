"""Use cases: validating a node or features against a spec, linting, reports."""

from __future__ import annotations

from nfd.compat._explain import explain_expression, node_text
from nfd.compat._lint import ERROR, WARNING, Finding, check_spec, lint_spec, lint_spec_bytes
from nfd.compat._report import first_failure, nfd_report, rich_report
from nfd.compat._spec_source import load_compat_spec
from nfd.compat._validate import (
    RULE_MATCHED,
    CompatibilityStatus,
    ValidationResult,
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
