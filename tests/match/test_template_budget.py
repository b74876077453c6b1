"""A hostile varsTemplate cannot hang or exhaust the node: execution is budgeted."""

from __future__ import annotations

import time

import pytest

from nfd.errors import EvaluationError
from nfd.match import expand_vars_template


def test_nested_ranges_stop_at_the_budget() -> None:
    matched = {"d": {"f": [{"Name": f"n{i}", "Value": "v"} for i in range(100)]}}
    template = "{{range $.d.f}}" * 6 + "x=1\n" + "{{end}}" * 6  # 100**6 iterations
    start = time.monotonic()
    with pytest.raises(EvaluationError, match=r"range iterations|output exceeds"):
        expand_vars_template(template, matched)
    assert time.monotonic() - start < 30


def test_ordinary_templates_are_untouched() -> None:
    matched = {"d": {"f": [{"Name": "a", "Value": "1"}, {"Name": "b", "Value": "2"}]}}
    assert expand_vars_template("{{range .d.f}}{{.Name}}={{.Value}}\n{{end}}", matched) == {
        "a": "1", "b": "2"}
