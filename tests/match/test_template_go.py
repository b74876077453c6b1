"""varsTemplate against Go itself: each case was executed by Go 1.19's text/template
(``missingkey=error``, data typed as NFD's matchedFeatures) in a small program outside this
repository; ``out`` is Go's output, ``err`` Go's error text (ours adds ``varsTemplate: ``).
About half are hand-written probes of each feature, the rest come from the differential fuzzer."""

from __future__ import annotations

from typing import Any

import pytest

from nfd.errors import EvaluationError
from nfd.match._template import execute_template

DATA: list[dict[str, Any]] = [
     {
      "d": {
       "f": [
        {
         "Name": "a",
         "Value": "1"
        },
        {
         "Name": "b",
         "Value": "x y"
        }
       ],
       "g": [
        {
         "Name": "n",
         "Value": "-3"
        }
       ]
      },
      "cpu": {
       "model": [
        {
         "Name": "vendor_id",
         "Value": "Intel"
        },
        {
         "Name": "family",
         "Value": "6"
        }
       ]
      }
     },
     {
      "d": {
       "f": [],
       "g": [
        {
         "Name": "é",
         "Value": "2.5"
        }
       ]
      }
     },
     {},
     {
      "kernel": {
       "config": [
        {
         "Name": "NO_HZ",
         "Value": "y"
        }
       ],
       "version": [
        {
         "Name": "major",
         "Value": "5"
        }
       ]
      },
      "d": {
       "f": [
        {
         "Name": "a",
         "Value": ""
        }
       ]
      }
     }
    ]

# (template, data index, Go output or None, Go error or None)
CASES: list[tuple[str, int, str | None, str | None]] = [
    ('{{range .d.f}}{{.Name}}={{.Value}}\n{{end}}', 0, 'a=1\nb=x y\n', None),
    ('{{.d.f | len}}', 0, '2', None),
    ('{{ (index .d.f 0).Name }}', 0, 'a', None),
    ('{{ $x := .d.f }}{{ len $x }}', 0, '2', None),
    ('{{ $x := 1 }}{{ $x = 2 }}{{ $x }}', 0, '2', None),
    ('{{with .d.g}}{{len .}}{{else}}none{{end}}', 0, '1', None),
    (
        '{{with .nope}}x{{end}}',
        0,
        None,
        'template: :1:7: executing "" at <.nope>: map has no entry for key "nope"',
    ),
    (
        '{{with $.d.zz}}x{{else}}empty{{end}}',
        0,
        None,
        'template: :1:8: executing "" at <$.d.zz>: map has no entry for key "zz"',
    ),
    (
        '{{if eq .d "a"}}y{{end}}',
        0,
        None,
        'template: :1:5: executing "" at <eq .d "a">: error calling eq: incom'
        'patible types for comparison',
    ),
    ('{{if lt 1 2}}a{{else if gt 1 2}}b{{else}}c{{end}}', 0, 'a', None),
    ('{{if gt 1 2}}a{{else if gt 3 2}}b{{else}}c{{end}}', 0, 'b', None),
    ('{{range $k, $v := .}}{{$k}}:{{len $v}};{{end}}', 0, 'cpu:1;d:2;', None),
    ('{{range $i, $e := .d.f}}{{$i}}={{$e.Name}}\n{{end}}', 0, '0=a\n1=b\n', None),
    ('{{range .d.f}}{{if eq .Name "b"}}{{break}}{{end}}{{.Name}}{{end}}', 0, 'a', None),
    ('{{range .d.f}}{{if eq .Name "a"}}{{continue}}{{end}}{{.Name}}{{end}}', 0, 'b', None),
    (
        '{{range .d.zz}}x{{else}}none{{end}}',
        0,
        None,
        'template: :1:10: executing "" at <.d.zz>: map has no entry for key "zz"',
    ),
    (
        '{{range 3}}x{{end}}',
        0,
        None,
        'template: :1:8: executing "" at <3>: range can\'t iterate over 3',
    ),
    (
        '{{range "ab"}}x{{end}}',
        0,
        None,
        'template: :1:8: executing "" at <"ab">: range can\'t iterate over ab',
    ),
    ('{{printf "%s-%d-%v-%q" "a" 3 true "q"}}', 0, 'a-3-true-"q"', None),
    (
        '{{printf "%5s|%-5s|%05d|%x|%X|%o|%b" "a" "b" 42 255 255 8 5}}',
        0,
        '    a|b    |00042|ff|FF|10|101',
        None,
    ),
    (
        '{{printf "%.2f %e %g %v" 3.14159 1234.5 0.000012 1e21}}',
        0,
        '3.14 1.234500e+03 1.2e-05 1e+21',
        None,
    ),
    ('{{printf "%d" "x"}}', 0, '%!d(string=x)', None),
    ('{{printf "%d %d" 1}}', 0, '1 %!d(MISSING)', None),
    ('{{printf "%d" 1 2}}', 0, '1%!(EXTRA int=2)', None),
    ('{{printf "%t %v %s" true nil nil}}', 0, 'true <nil> %!s(<nil>)', None),
    (
        '{{printf "%q" .d.f}}',
        0,
        '[map["Name":"a" "Value":"1"] map["Name":"b" "Value":"x y"]]',
        None,
    ),
    (
        '{{printf "%v" .}}',
        0,
        'map[cpu:map[model:[map[Name:vendor_id Value:Intel] map[Name:family V'
        'alue:6]]] d:map[f:[map[Name:a Value:1] map[Name:b Value:x y]] g:[map'
        '[Name:n Value:-3]]]]',
        None,
    ),
    (
        '{{printf "%T %T %T %T" 1 1.5 "s" .d}}',
        0,
        'int float64 string nodefeaturerule.domainMatchedFeatures',
        None,
    ),
    ('{{print 1 2 "a" 3 "b" "c" nil}}', 0, '1 2a3bc<nil>', None),
    ('{{println 1 "a" 2}}', 0, '1 a 2\n', None),
    ('{{print}}', 0, '', None),
    ('{{print 1.5 2e10 1e-7 100000.0 1000000.0}}', 0, '1.5 2e+10 1e-07 100000 1e+06', None),
    ('{{eq 1 2 3 1}}', 0, 'true', None),
    ('{{eq "a" "b" "a"}}', 0, 'true', None),
    (
        '{{eq 1 "a"}}',
        0,
        None,
        'template: :1:2: executing "" at <eq 1 "a">: error calling eq: incomp'
        'atible types for comparison',
    ),
    (
        '{{eq .d.f .d.f}}',
        0,
        None,
        'template: :1:2: executing "" at <eq .d.f .d.f>: error calling eq: no'
        'n-comparable type [map[Name:a Value:1] map[Name:b Value:x y]]: []nod'
        'efeaturerule.MatchedElement',
    ),
    ('{{eq nil nil}}', 0, 'true', None),
    ('{{eq nil 1}}', 0, 'false', None),
    ('{{ne 1 2}}', 0, 'true', None),
    ('{{lt "a" "b"}}', 0, 'true', None),
    ('{{lt 1.5 2.5}}', 0, 'true', None),
    (
        '{{lt 1 1.5}}',
        0,
        None,
        'template: :1:2: executing "" at <lt 1 1.5>: error calling lt: incomp'
        'atible types for comparison',
    ),
    ('{{le 2 2}}', 0, 'true', None),
    ('{{ge "b" "a"}}', 0, 'true', None),
    (
        '{{lt true false}}',
        0,
        None,
        'template: :1:2: executing "" at <lt true false>: error calling lt: i'
        'nvalid type for comparison',
    ),
    (
        '{{lt .d 1}}',
        0,
        None,
        'template: :1:2: executing "" at <lt .d 1>: error calling lt: invalid type for comparison',
    ),
    ('{{and 1 0 2}}', 0, '0', None),
    ('{{and 1 2}}', 0, '2', None),
    ('{{or 0 "" "x"}}', 0, 'x', None),
    ('{{or 0 ""}}', 0, '', None),
    ('{{not 0}}', 0, 'true', None),
    ('{{not .d.f}}', 0, 'false', None),
    ('{{and 0 .nope}}', 0, '0', None),
    ('{{or 1 .nope}}', 0, '1', None),
    ('{{len "é"}}', 0, '2', None),
    ('{{index "abc" 1}}', 0, '98', None),
    (
        '{{index .d.f 5}}',
        0,
        None,
        'template: :1:2: executing "" at <index .d.f 5>: error calling index:'
        ' index out of range: 5',
    ),
    ('{{index .d.f 0 "Name"}}', 0, 'a', None),
    ('{{index .d.f 0 "Nope"}}', 0, '', None),
    ('{{index . "zz"}}', 0, 'map[]', None),
    ('{{index . "zz" "f"}}', 0, '[]', None),
    (
        '{{index .d.f -1}}',
        0,
        None,
        'template: :1:2: executing "" at <index .d.f -1>: error calling index'
        ': index out of range: -1',
    ),
    (
        '{{index .d.f "a"}}',
        0,
        None,
        'template: :1:2: executing "" at <index .d.f "a">: error calling inde'
        'x: cannot index slice/array with type string',
    ),
    (
        '{{index 1 1}}',
        0,
        None,
        'template: :1:2: executing "" at <index 1 1>: error calling index: ca'
        "n't index item of type int",
    ),
    (
        '{{index nil 1}}',
        0,
        None,
        'template: :1:2: executing "" at <index nil 1>: error calling index: index of untyped nil',
    ),
    (
        '{{index .d.f 2}}',
        0,
        None,
        'template: :1:2: executing "" at <index .d.f 2>: error calling index:'
        ' reflect: slice index out of range',
    ),
    (
        '{{len 3}}',
        0,
        None,
        'template: :1:2: executing "" at <len 3>: error calling len: len of type int',
    ),
    (
        '{{len nil}}',
        0,
        None,
        'template: :1:2: executing "" at <len nil>: error calling len: reflec'
        't: call of reflect.Value.Type on zero Value',
    ),
    ('{{html "<a href=\'x\'>&</a>"}}', 0, '&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;', None),
    ('{{js "a\'b\\"c<>=&\\n"}}', 0, 'a\\\'b\\"c\\u003C\\u003E\\u003D\\u0026\\u000A', None),
    ('{{urlquery "a b&c=d/é"}}', 0, 'a+b%26c%3Dd%2F%C3%A9', None),
    ('{{html 1 2 "x"}}', 0, '1 2x', None),
    (
        '{{.nope}}',
        0,
        None,
        'template: :1:2: executing "" at <.nope>: map has no entry for key "nope"',
    ),
    (
        '{{.d.nope}}',
        0,
        None,
        'template: :1:4: executing "" at <.d.nope>: map has no entry for key "nope"',
    ),
    (
        '{{.d.f.Name}}',
        0,
        None,
        'template: :1:4: executing "" at <.d.f.Name>: can\'t evaluate field N'
        'ame in type []nodefeaturerule.MatchedElement',
    ),
    (
        '{{$.d.f.x}}',
        0,
        None,
        'template: :1:3: executing "" at <$.d.f.x>: can\'t evaluate field x i'
        'n type []nodefeaturerule.MatchedElement',
    ),
    (
        '{{ $x := "s" }}{{ $x.y }}',
        0,
        None,
        'template: :1:20: executing "" at <$x.y>: can\'t evaluate field y in type string',
    ),
    ('{{undefined}}', 0, None, 'template: :1: function "undefined" not defined'),
    ('{{$u}}', 0, None, 'template: :1: undefined variable "$u"'),
    ('{{if}}{{end}}', 0, None, 'template: :1: missing value for if'),
    ('{{range .d.f}}', 0, None, 'template: :1: unexpected EOF'),
    ('{{end}}', 0, None, 'template: :1: unexpected {{end}}'),
    ('{{else}}', 0, None, 'template: :1: unexpected {{else}}'),
    ('{{break}}', 0, None, 'template: :1: {{break}} outside {{range}}'),
    ('{{ .d | 1 }}', 0, None, 'template: :1: non executable command in pipeline stage 2'),
    ('{{ (1 }}', 0, None, 'template: :1: unclosed left paren'),
    ('{{ "unterminated }}', 0, None, 'template: :1: unterminated quoted string'),
    (
        '{{ 1 2 }}',
        0,
        None,
        'template: :1:3: executing "" at <1>: can\'t give argument to non-function 1',
    ),
    (
        '{{ .d.f 1 }}',
        0,
        None,
        'template: :1:5: executing "" at <.d.f>: f is not a method but has arguments',
    ),
    ('{{ nil }}', 0, None, 'template: :1:3: executing "" at <nil>: nil is not a command'),
    ("{{ 'ab' }}", 0, None, "template: :1: malformed character constant: 'ab'"),
    ('{{ 08 }}', 0, None, 'template: :1: integer overflow: "08"'),
    (
        '{{ 99999999999999999999 }}',
        0,
        None,
        'template: :1: integer overflow: "99999999999999999999"',
    ),
    (
        "{{ 0x10 }} {{ 1e3 }} {{ 'a' }} {{ 1_000 }} {{ -0 }} {{ .5 }}",
        0,
        '16 1000 97 1000 0 0.5',
        None,
    ),
    ('a  {{- 1 -}}  b', 0, 'a1b', None),
    ('{{/* c */}}x{{- /* c2 */ -}}  y', 0, 'xy', None),
    ('{{ "a" | printf "%s-%s" "b" }}', 0, 'b-a', None),
    ('{{ 1 | printf "%d %d" 2 }}', 0, '2 1', None),
    ('{{ .d.f | index }}', 0, '[map[Name:a Value:1] map[Name:b Value:x y]]', None),
    ('{{ "x" | len | printf "%03d" }}', 0, '001', None),
    ('{{ $a := 1 }}{{ if true }}{{ $a = 2 }}{{ $b := 3 }}{{ end }}{{ $a }}', 0, '2', None),
    (
        '{{ if true }}{{ $b := 3 }}{{ end }}{{ $b }}',
        0,
        None,
        'template: :1: undefined variable "$b"',
    ),
    (
        '{{ range $i, $e := .d.f }}{{ end }}{{ $i }}',
        0,
        None,
        'template: :1: undefined variable "$i"',
    ),
    (
        '{{ call .d }}',
        0,
        None,
        'template: :1:3: executing "" at <call .d>: error calling call: non-f'
        'unction of type nodefeaturerule.domainMatchedFeatures',
    ),
    (
        '{{ call nil }}',
        0,
        None,
        'template: :1:3: executing "" at <call nil>: error calling call: call of nil',
    ),
    (
        '{{ printf }}',
        0,
        None,
        'template: :1:3: executing "" at <printf>: wrong number of args for p'
        'rintf: want at least 1 got 0',
    ),
    (
        '{{ eq 1 }}',
        0,
        None,
        'template: :1:3: executing "" at <eq 1>: error calling eq: missing ar'
        'gument for comparison',
    ),
    (
        '{{ not 1 2 }}',
        0,
        None,
        'template: :1:3: executing "" at <not>: wrong number of args for not: want 1 got 2',
    ),
    (
        '{{ and }}',
        0,
        None,
        'template: :1:3: executing "" at <and>: wrong number of args for and:'
        ' want at least 1 got 0',
    ),
    ('{{ printf 3 }}', 0, None, 'template: :1:10: executing "" at <3>: expected string; found 3'),
    (
        '{{ printf .d.f }}',
        0,
        None,
        'template: :1:12: executing "" at <.d.f>: wrong type for value; expec'
        'ted string; got []nodefeaturerule.MatchedElement',
    ),
    (
        '{{ "a" "b" }}',
        0,
        None,
        'template: :1:3: executing "" at <"a">: can\'t give argument to non-function "a"',
    ),
    (
        '{{ $ }}',
        0,
        'map[cpu:map[model:[map[Name:vendor_id Value:Intel] map[Name:family V'
        'alue:6]]] d:map[f:[map[Name:a Value:1] map[Name:b Value:x y]] g:[map'
        '[Name:n Value:-3]]]]',
        None,
    ),
    (
        '{{ . }}',
        0,
        'map[cpu:map[model:[map[Name:vendor_id Value:Intel] map[Name:family V'
        'alue:6]]] d:map[f:[map[Name:a Value:1] map[Name:b Value:x y]] g:[map'
        '[Name:n Value:-3]]]]',
        None,
    ),
    (
        '{{ range $i, $e := .d.f }}{{ $i }}{{ $e }}{{ end }}',
        0,
        '0map[Name:a Value:1]1map[Name:b Value:x y]',
        None,
    ),
    ('{{ with $x := .d.f }}{{ $x | len }}{{ end }}', 0, '2', None),
    (
        '{{ printf "%6.2f|%-8.3s|%+d|% d|%x|% x|%#x" 3.14159 "abcdef" 5 7 "hi" "hi" 255 }}',
        0,
        '  3.14|abc     |+5| 7|6869|68 69|0xff',
        None,
    ),
    ('{{ printf "%c%c %U" 72 233 65 }}', 0, 'Hé U+0041', None),
    (
        '{{ printf "%v %d" .d.f .d.f }}',
        0,
        '[map[Name:a Value:1] map[Name:b Value:x y]] [map[%!d(string=Name):%!'
        'd(string=a) %!d(string=Value):%!d(string=1)] map[%!d(string=Name):%!'
        'd(string=b) %!d(string=Value):%!d(string=x y)]]',
        None,
    ),
    ('{{ printf "%s" 1.5 }}', 0, '%!s(float64=1.5)', None),
    ('{{ printf "%!" }}', 0, '%!!(MISSING)', None),
    ('{{ printf "%" }}', 0, '%!(NOVERB)', None),
    ('{{ printf "%z" 1 }}', 0, '%!z(int=1)', None),
    (
        '{{"a\\"b"}}{{ne .cpu.model | js | or 0}}',
        0,
        None,
        'template: :1:12: executing "" at <ne>: wrong number of args for ne: want 2 got 1',
    ),
    (
        '{{print "f" 2}}{{range eq | printf "%v"}} x k{{end}}',
        0,
        None,
        'template: :1:23: executing "" at <eq>: wrong number of args for eq: '
        'want at least 1 got 0',
    ),
    ('  a=v=1\n', 1, '  a=v=1\n', None),
    ('{{end}}{{$v1 := 2}}=', 1, None, 'template: :1: unexpected {{end}}'),
    (
        '{{and (and .cpu.model .Name "a\\"b") .Name}}{{le}}',
        2,
        None,
        'template: :1:15: executing "" at <.cpu.model>: map has no entry for key "cpu"',
    ),
    (
        '{{not "Name" nil 1e3}}  ',
        1,
        None,
        'template: :1:2: executing "" at <not>: wrong number of args for not: want 1 got 3',
    ),
    (
        '{{with lt 1e3 (ne)}}{{else}} x {{gt .d.f.x}}{{end}}{{gt .d.f.x}}\n',
        3,
        None,
        'template: :1:15: executing "" at <ne>: wrong number of args for ne: want 2 got 0',
    ),
    ('{{0 | js}}k{{end}}', 3, None, 'template: :1: unexpected {{end}}'),
    ('\n', 0, '\n', None),
    ('{{2 -}}', 0, '2', None),
    ('{{- -0 }}v=1\n\n', 1, '0v=1\n\n', None),
    (
        '{{$v0 := index .x}}a=',
        2,
        None,
        'template: :1:15: executing "" at <.x>: map has no entry for key "x"',
    ),
    ('{{and "é\\n"}}\n=', 1, 'é\n\n=', None),
    (' x ={{"1"}}', 2, ' x =1', None),
    (
        '  {{- println (print 2) .Value}}',
        2,
        None,
        'template: :1:24: executing "" at <.Value>: map has no entry for key "Value"',
    ),
    (
        '{{range .Value}}{{continue}}{{end}}k',
        1,
        None,
        'template: :1:8: executing "" at <.Value>: map has no entry for key "Value"',
    ),
    ('{{html "%d"}}', 2, '%d', None),
    ('a=v=1\n{{true}}', 3, 'a=v=1\ntrue', None),
    (
        '{{js "%d" .d.zz .}}{{"Name"}}',
        3,
        None,
        'template: :1:12: executing "" at <.d.zz>: map has no entry for key "zz"',
    ),
    (
        '{{lt | urlquery}}',
        1,
        None,
        'template: :1:2: executing "" at <lt>: wrong number of args for lt: want 2 got 0',
    ),
    (' x ', 2, ' x ', None),
    ('{{with ""}}{{urlquery 10 | len -}}{{end}}', 2, '', None),
    ('{{ | }} x ', 3, None, 'template: :1: unexpected "|" in command'),
    (
        '{{range $k, $v := .d.g}}{{"x y"}}{{end}}',
        2,
        None,
        'template: :1:20: executing "" at <.d.g>: map has no entry for key "d"',
    ),
    (
        '={{ eq}}',
        1,
        None,
        'template: :1:4: executing "" at <eq>: wrong number of args for eq: want at least 1 got 0',
    ),
    (
        '{{printf "%#x-%+d-%x  " .cpu.model (urlquery "é\\n" "f") "%d"}}',
        3,
        None,
        'template: :1:28: executing "" at <.cpu.model>: map has no entry for key "cpu"',
    ),
    ('v=1\n', 3, 'v=1\n', None),
    ('=v=1\nv=1\n', 3, '=v=1\nv=1\n', None),
    (
        '{{-\njs (html "f" "\\t") .d.zz}}{{{{ \'ab\' }}',
        3,
        None,
        'template: :2: unexpected "{" in command',
    ),
    ('{{ | }}', 0, None, 'template: :1: unexpected "|" in command'),
    (
        '{{with println 1.0}}{{ nil }}{{end}}{{ 1 2 }}',
        1,
        None,
        'template: :1:23: executing "" at <nil>: nil is not a command',
    ),
    ('{{urlquery "x y" | len}} x ', 1, '3 x ', None),
    (
        '={{range $i, $e := .Value}}{{$i}}{{- $v1 := "Name" | or 0}}{{end}}',
        0,
        None,
        'template: :1:19: executing "" at <.Value>: map has no entry for key "Value"',
    ),
    ('{{.d}}', 2, None, 'template: :1:2: executing "" at <.d>: map has no entry for key "d"'),
    ('k=', 3, 'k=', None),
    (
        '{{range $e := .Name}}{{"%d"}}{{$v1 := 1.0 | urlquery}}{{end}}',
        0,
        None,
        'template: :1:14: executing "" at <.Name>: map has no entry for key "Name"',
    ),
    (
        '={{eq .5 (printf "%x -%X")}}\n',
        3,
        None,
        'template: :1:3: executing "" at <eq .5 (printf "%x -%X")>: error cal'
        'ling eq: incompatible types for comparison',
    ),
    (
        '{{.Value | printf "%v" }}{{ 1) }}{{false }}',
        3,
        None,
        'template: :1: unexpected ")" in command',
    ),
    ('{{`raw`}}', 3, 'raw', None),
    ('=v=1\n{{false}}', 2, '=v=1\nfalse', None),
    ('k', 2, 'k', None),
    ('}}', 2, '}}', None),
    ('{{if urlquery}}{{js "x y" $ 10 -}}{{else}}v=1\n{{end}}', 2, 'v=1\n', None),
    (
        '{{range $e := .x}}{{-\nlt (eq .cpu.model | println) $e}}{{end}}  ',
        2,
        None,
        'template: :1:14: executing "" at <.x>: map has no entry for key "x"',
    ),
    ('  ', 2, '  ', None),
    ('a={{-\n010}}{{.d.g | html | html | not}}', 0, 'a=8false', None),
    ("{{ 1) }}a={{ 'ab' }}", 2, None, 'template: :1: unexpected ")" in command'),
    (
        '{{println .Name | js}}',
        3,
        None,
        'template: :1:10: executing "" at <.Name>: map has no entry for key "Name"',
    ),
    (
        '{{if printf "%e-%f-%5s" . 1e3 .d.zz}}\na=a={{end}}',
        2,
        None,
        'template: :1:32: executing "" at <.d.zz>: map has no entry for key "d"',
    ),
    ('\n{{range $i, $e := .d}}\n{{end}}{{- /* c */ -}}', 3, '\n\n', None),
    ('  k', 2, '  k', None),
    ('{{-\nnot false | js}}\nv=1\n', 3, 'true\nv=1\n', None),
    (
        '{{"a"}}{{lt 1}}{{if "a"}}{{false | index | index}}{{else}}  {{end}}',
        1,
        None,
        'template: :1:9: executing "" at <lt>: wrong number of args for lt: want 2 got 1',
    ),
    (
        '{{range .Value}}{{$v2 := .d.f}}={{end}}{{"%d"}}',
        1,
        None,
        'template: :1:8: executing "" at <.Value>: map has no entry for key "Value"',
    ),
    (
        '{{ (1 }}\n{{len 10 (print `raw` (0x1F | and 1))}}',
        2,
        None,
        'template: :1: unclosed left paren',
    ),
    (
        '{{range $i, $e := .kernel}}{{len "d"}}a={{break}}{{end}}',
        2,
        None,
        'template: :1:18: executing "" at <.kernel>: map has no entry for key "kernel"',
    ),
    ('\n x ', 2, '\n x ', None),
    (
        '{{$v1 := gt .Name (and .d.zz) (print nil .Name)}}',
        3,
        None,
        'template: :1:9: executing "" at <gt>: wrong number of args for gt: want 2 got 3',
    ),
    (
        '{{if ne "" .5}}{{with $}}{{index .cpu.model | print | or 0}}\n{{end}}\n{{end}}',
        2,
        None,
        'template: :1:5: executing "" at <ne "" .5>: error calling ne: incomp'
        'atible types for comparison',
    ),
    (
        '{{- println .x 0x1F}}{{not .x (or 99999999999 false "1")}}',
        1,
        None,
        'template: :1:12: executing "" at <.x>: map has no entry for key "x"',
    ),
    (
        '{{range .Name}}{{index .x "Name" 1}}{{else}}{{lt "a\\"b" "<&>" | eq '
        '1 | not}}{{end}}v=1\nk',
        2,
        None,
        'template: :1:8: executing "" at <.Name>: map has no entry for key "Name"',
    ),
    ('{{ 1) }}v=1\n', 3, None, 'template: :1: unexpected ")" in command'),
    ('=', 2, '=', None),
    ('a=  ', 1, 'a=  ', None),
    (
        '{{ .d | 1 }}{{html (ge .Value -0 0x1F) "<&>" (index $ 0 "Name")}}',
        0,
        None,
        'template: :1: non executable command in pipeline stage 2',
    ),
    (
        '{{ urlquery}}{{print (and 99999999999 (println "1" | not | and 1) | not) -}}{{ \'ab\' }}',
        3,
        None,
        "template: :1: malformed character constant: 'ab'",
    ),
    ('{{', 2, None, 'template: :1: unclosed action'),
    ('{{99999999999}}', 3, '99999999999', None),
    (
        '{{with eq}}={{lt}} x {{end}}{{"Name"}}',
        1,
        None,
        'template: :1:7: executing "" at <eq>: wrong number of args for eq: want at least 1 got 0',
    ),
    (
        'a={{range $e := .Name}}{{eq "é\\n" (nil) | printf "%v"}}  {{end}}k',
        3,
        None,
        'template: :1:16: executing "" at <.Name>: map has no entry for key "Name"',
    ),
    ('{{$v2 := true -}}', 0, '', None),
    (
        "{{with js (.x)}}{{'a'}}{{$v2 := println (println (ge) 1e3)}}{{end}}k",
        3,
        None,
        'template: :1:11: executing "" at <.x>: map has no entry for key "x"',
    ),
    (
        '{{ 0x }}{{with .x}}{{print | html | print}}{{ (1 }}{{end}}',
        1,
        None,
        'template: :1: illegal number syntax: "0x"',
    ),
    ("{{ :x }}{{$v0 := 'a'}}", 3, None, 'template: :1: expected :='),
    ('a=', 3, 'a=', None),
    (
        '{{- or}}{{lt true -}}{{or $}}',
        2,
        None,
        'template: :1:4: executing "" at <or>: wrong number of args for or: want at least 1 got 0',
    ),
    ('=v=1\n', 0, '=v=1\n', None),
    ('{{or true true}}', 3, 'true', None),
    (
        '{{with .cpu.model | js}}{{$v1 := and .kernel}}v=1\n{{end}}',
        2,
        None,
        'template: :1:11: executing "" at <.cpu.model>: map has no entry for key "cpu"',
    ),
    (
        '{{with ne $.d false}}{{ index $.d nil "f"}}{{gt (println 1e6 | html) 0x1F 10 }}k{{end}}',
        3,
        None,
        'template: :1:7: executing "" at <ne $.d false>: error calling ne: in'
        'compatible types for comparison',
    ),
    ('{{html "d"}}', 1, 'd', None),
]


@pytest.mark.parametrize(("template", "data", "out", "err"), CASES,
                         ids=[f"go{i:03d}" for i in range(len(CASES))])
def test_same_as_go(template: str, data: int, out: str | None, err: str | None) -> None:
    if err is None:
        assert execute_template(template, DATA[data]) == out
    else:
        with pytest.raises(EvaluationError) as info:
            execute_template(template, DATA[data])
        assert str(info.value) == "varsTemplate: " + err
