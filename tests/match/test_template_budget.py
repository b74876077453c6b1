"""A hostile varsTemplate cannot hang or exhaust the node: execution is budgeted."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from tests._cli import assert_one_line_error, nfd

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


# A megabyte string built inside the template (printf's width is bounded by the value size).
BIG = '{{ $big := printf "%1000000s" "x" }}'
LOOPS = "{{ range $.d.f }}{{ range $.d.f }}{{ range $.d.f }}"
ENDS = "{{ end }}{{ end }}{{ end }}"
DATA = {"d": {"f": [{"Name": f"n{i}", "Value": "v"} for i in range(100)]}}


@pytest.mark.parametrize(("template", "message"), [
    # sizes are checked before allocating: these were MemoryError, exit 70
    (BIG + '{{ $r := replace " " $big $big }}', "result of replace exceeds"),
    (BIG + '{{ $r := replace "" "abc" $big }}', "result of replace exceeds"),
    (BIG + '{{ $r := join $big (list "a" "b" "c") }}', "result of join exceeds"),
    (BIG + '{{ $r := list $big $big }}', "result of list exceeds"),
    (BIG + '{{ $r := cat $big $big }}', "result of cat exceeds"),
    (BIG + '{{ $r := printf "%s%s" $big $big }}', "result of printf exceeds"),
    ('{{ $r := printf "%1000000s%1000000s" "x" "y" }}', "printf output exceeds"),
    (BIG + '{{ $r := split "" $big }}', "result of split exceeds"),
    (BIG + '{{ $r := splitList " " $big }}', "result of splitList exceeds"),
    (BIG + '{{ $r := regexReplaceAll "" $big "xx" }}', "result of regexReplaceAll exceeds"),
    # collections are bounded: doubling a list grows exponentially
    ('{{ $l := list "x" }}' + LOOPS + "{{ $l = list $l $l }}" + ENDS, "result of list exceeds"),
    ('{{ $d := dict "k" "v" }}' + LOOPS + '{{ $d = dict "a" $d "b" $d }}' + ENDS,
     "result of dict exceeds"),
    # steps are charged by the bytes processed
    (BIG + LOOPS + "{{ $h := sha256sum $big }}" + ENDS, "steps"),
    (BIG + LOOPS + '{{ $m := regexMatch "y" $big }}' + ENDS, "steps"),
    (BIG + LOOPS + "{{ $u := upper $big }}" + ENDS, "steps"),
    ('{{ $s := printf "%100000s" "x" }}{{ $l := splitList "" $s }}{{ $u := uniq $l }}',
     "steps"),
])
def test_hostile_templates_stop_at_the_budget_quickly(template: str, message: str) -> None:
    start = time.monotonic()
    with pytest.raises(EvaluationError, match=message):
        expand_vars_template(template, DATA)
    assert time.monotonic() - start < 5


def test_regexps_of_a_template_share_one_budget() -> None:
    template = LOOPS + '{{ $m := regexMatch (printf "\\\\pL{400}x%s" .Name) "a" }}' + ENDS
    start = time.monotonic()
    with pytest.raises(EvaluationError, match=r"exceed their budget|steps"):
        expand_vars_template(template, DATA)
    assert time.monotonic() - start < 5


def test_big_but_bounded_work_still_runs() -> None:
    template = ('{{ $s := printf "%100000s" "x" }}{{ $r := replace " " "ab" $s }}'
                '{{ $l := splitList "a" $r }}n={{ len $l }}\nh={{ sha256sum $r | trunc 0 }}')
    with pytest.raises(EvaluationError, match="does not implement"):  # trunc: not ours
        expand_vars_template(template, {})
    ok = ('{{ $s := printf "%100000s" "x" }}{{ $r := replace " " "ab" $s }}'
          '{{ $l := splitList "a" $r }}n={{ len $l }}\n')
    assert expand_vars_template(ok, {}) == {"n": "100000"}


def test_hostile_template_in_a_spec_is_a_located_usage_error(tmp_path: Path) -> None:
    spec = {"version": "v1alpha1", "compatibilities": [{"rules": [{
        "name": "r", "varsTemplate": BIG + '{{ $r := replace " " $big $big }}',
        "matchFeatures": [{"feature": "f.a", "matchExpressions": {"x": {"op": "Exists"}}}]}]}]}
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(spec))
    features = tmp_path / "features.json"
    features.write_text(json.dumps({"attributes": {"f.a": {"elements": {"x": "1"}}}}))
    proc = nfd("compat", "validate-node", "--spec", str(spec_path), "--features", str(features))
    assert_one_line_error(proc, 2, str(spec_path), "compatibilities[0].rules[0]: ",
                          "result of replace exceeds")


def test_the_nodes_own_data_is_not_held_to_the_value_bound() -> None:
    # Matched features larger than a value we would build are still data to read.
    big = {"d": {"f": [{"Name": f"n{i}", "Value": "v" * 1000} for i in range(2000)]}}
    text = ("{{ $all := default . . }}{{ $f := index $all.d \"f\" }}"
            "n={{ len $f }}\nlast={{ (last $f).Name }}\n")
    assert expand_vars_template(text, big) == {"n": "2000", "last": "n1999"}


def test_uniq_of_long_distinct_lists_is_charged_by_what_it_compares() -> None:
    # 300 lists of 1,001 elements that differ only at the end: uniq walks each against
    # every one kept before it.
    lists = " ".join(f'(splitList "," (printf "%s{i}" $s))' for i in range(300))
    template = ('{{ $s := printf "%1000s" "" | replace " " "a," }}'
                f"{{{{ $l := list {lists} }}}}{{{{ $u := uniq $l }}}}")
    start = time.monotonic()
    with pytest.raises(EvaluationError, match="steps"):
        expand_vars_template(template, {})
    assert time.monotonic() - start < 5


def test_printing_big_collections_is_charged_per_element() -> None:
    # a quarter of a million one-character elements, printed again and again
    template = ('{{ $l := splitList "" (printf "%250000s" "") }}' + LOOPS
                + "{{ $x := cat $l }}" + ENDS)
    start = time.monotonic()
    with pytest.raises(EvaluationError, match="steps"):
        expand_vars_template(template, DATA)
    assert time.monotonic() - start < 5
