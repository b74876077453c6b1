"""varsTemplate limits and refusals: what nfd-client will not run, and why it says so."""

from __future__ import annotations

import pytest

from nfd.errors import EvaluationError
from nfd.match import compile_template, expand_vars_template
from nfd.match._template import MAX_DEPTH, execute_template


def test_define_and_template_are_refused_by_name() -> None:
    for text in ('{{define "x"}}a{{end}}', '{{template "x"}}', '{{block "x" .}}a{{end}}'):
        with pytest.raises(EvaluationError, match="is not supported by nfd-client"):
            compile_template(text)


def test_else_with_chains_as_in_current_go() -> None:
    # Go 1.23+ (NFD builds with 1.26) accepts {{else with}}.
    text = "{{with index . \"a\"}}a{{else with .d}}{{len .f}}{{else}}none{{end}}"
    assert execute_template(text, {"d": {"f": [{"Name": "x"}]}}) == "1"
    assert execute_template(text, {"d": {}}) == "none"


def test_nesting_is_bounded() -> None:
    deep = "{{if 1}}" * (MAX_DEPTH + 1) + "{{end}}" * (MAX_DEPTH + 1)
    with pytest.raises(EvaluationError, match="nesting deeper than"):
        compile_template(deep)
    parens = "{{" + "(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1) + "}}"
    with pytest.raises(EvaluationError, match="nesting deeper than"):
        compile_template(parens)
    ok = "{{if 1}}" * 50 + "k=v" + "{{end}}" * 50
    assert expand_vars_template(ok, {}) == {"k": "v"}


def test_printf_width_is_bounded() -> None:
    with pytest.raises(EvaluationError, match="width or precision"):
        execute_template('{{ printf "%999999999d" 1 }}', {})


def test_doubling_strings_stop_at_the_value_bound() -> None:
    text = ('{{ $s := "xxxxxxxxxxxxxxxx" }}{{ range $.d.f }}{{ range $.d.f }}'
            '{{ $s = printf "%s%s" $s $s }}{{ end }}{{ end }}')
    data = {"d": {"f": [{"Name": str(i)} for i in range(10)]}}
    with pytest.raises(EvaluationError, match="exceeds"):
        execute_template(text, data)


def test_errors_are_one_line_and_prefixed() -> None:
    with pytest.raises(EvaluationError) as info:
        expand_vars_template("{{range .d.f}}\n{{.Nope}}=1{{end}}",
                             {"d": {"f": [{"Name": "a"}]}})
    assert str(info.value) == ('varsTemplate: template: :2:2: executing "" at <.Nope>: '
                               'map has no entry for key "Nope"')
