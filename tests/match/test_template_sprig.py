"""The sprig functions NFD registers, as sprig v3 documents them (argument order included).

Go's sprig cannot run here, so these assert sprig's documented results.
"""

from __future__ import annotations

import pytest

from nfd.errors import EvaluationError
from nfd.match import compile_template, expand_vars_template
from nfd.match._template import execute_template

DATA = {"cpu": {"model": [{"Name": "vendor_id", "Value": "GenuineIntel"},
                          {"Name": "family", "Value": "6"}]}}


@pytest.mark.parametrize(("template", "want"), [
    ('{{ "Hello" | upper }}', "HELLO"),
    ('{{ "HeLLo" | lower }}', "hello"),
    ('{{ "hello world-x_y" | title }}', "Hello World-X_y"),
    ('{{ "  a b \\n" | trim }}', "a b"),
    ('{{ "$a$" | trimAll "$" }}', "a"),
    ('{{ "pre-x" | trimPrefix "pre-" }}', "x"),
    ('{{ "x.tar" | trimSuffix ".tar" }}', "x"),
    ('{{ "a-b-c" | replace "-" "_" }}', "a_b_c"),
    ('{{ "foobar" | contains "oba" }} {{ "foobar" | hasPrefix "foo" }} '
     '{{ "foobar" | hasSuffix "foo" }}', "true true false"),
    ('{{ "" | default "dflt" }} {{ "set" | default "dflt" }} {{ 0 | default 5 }}',
     "dflt set 5"),
    ('{{ empty "" }} {{ empty 0 }} {{ empty (list) }} {{ empty "x" }}', "true true true false"),
    ('{{ quote "a" 1 nil }} {{ squote "b" }}', "\"a\" \"1\" 'b'"),
    ('{{ cat "a" 1 nil "b" }}', "a 1 b"),
    ('{{ list "b" "a" | join "," }} {{ splitList "." "1.2.3" | join "+" }}', "b,a 1+2+3"),
    ('{{ $p := split "/" "a/b" }}{{ $p._0 }}-{{ $p._1 }}', "a-b"),
    ('{{ toString 5 }} {{ int "42" }} {{ int "x" }} {{ atoi "7" }} {{ atoi "7.5" }}',
     "5 42 0 7 0"),
    ('{{ add 1 2 "3" }} {{ sub 5 7 }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ div -7 2 }} '
     '{{ mod -7 3 }} {{ max 1 9 3 }} {{ min 4 2 8 }}', "6 -2 24 3 -3 -1 9 2"),
    ('{{ $d := dict "k" "v" "n" 1 }}{{ get $d "k" }} {{ get $d "zz" }}|{{ hasKey $d "n" }} '
     '{{ keys $d | sortAlpha | join "," }}', "v |true k,n"),
    ('{{ list "b" "a" "b" | uniq | sortAlpha }}', "[a b]"),
    ('{{ list 1 2 3 | first }} {{ list 1 2 3 | last }} {{ slice (list 1 2 3) 1 }}',
     "1 3 [2 3]"),
    ('{{ regexMatch "^[0-9]+$" "123" }} {{ regexFind "[a-z]+" "12abc34" }} '
     '{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}', "true abc -W-xxW-"),
    ('{{ b64enc "hi" }} {{ b64dec "aGk=" }}', "aGk= hi"),
    ('{{ sha256sum "" | trunc }}', None),
])
def test_sprig(template: str, want: str | None) -> None:
    if want is None:
        with pytest.raises(EvaluationError, match="'trunc' is a sprig function nfd-client does "
                                                  "not implement"):
            compile_template(template)
        return
    assert execute_template(template, DATA) == want


def test_sha256sum() -> None:
    assert execute_template('{{ sha256sum "abc" }}', {}) == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


def test_sprig_errors_are_reported_like_go() -> None:
    with pytest.raises(EvaluationError, match="error calling div: runtime error: integer divide "
                                              "by zero"):
        execute_template("{{ div 1 0 }}", {})
    with pytest.raises(EvaluationError, match="error calling first: Cannot find first on type "
                                              "string"):
        execute_template('{{ first "abc" }}', {})
    with pytest.raises(EvaluationError, match=r"wrong type for value; expected string; got int"):
        execute_template("{{ 3 | upper }}", {})


def test_vars_from_sprig_pipeline() -> None:
    template = ("{{ range .cpu.model }}{{ .Name | upper }}={{ .Value | lower | quote }}\n"
                "{{ end }}")
    assert expand_vars_template(template, DATA) == {
        "VENDOR_ID": '"genuineintel"', "FAMILY": '"6"'}


def test_unknown_function_is_a_go_parse_error() -> None:
    with pytest.raises(EvaluationError) as info:
        compile_template("{{ nosuchfunc 1 }}")
    assert str(info.value) == 'varsTemplate: template: :1: function "nosuchfunc" not defined'
