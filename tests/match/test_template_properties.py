"""Property test: any pipeline of the functions we implement, on any arguments (megabyte
strings and nested lists included), gives output or an EvaluationError, quickly.

Never another exception (MemoryError, TypeError, RecursionError: exit 70 in the CLI).
"""

from __future__ import annotations

import contextlib
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nfd._go.template.sprig import FUNCS
from nfd.errors import EvaluationError
from nfd.match._template import execute_template

SETUP = ('{{ $big := printf "%1000000s" "x" }}{{ $mid := printf "%300000s" "y" }}'
         '{{ $l := list $mid "a" 1 }}{{ $d := dict "k" $mid "n" nil }}')
ATOMS = st.sampled_from(['"a"', '""', '" "', "$big", "$mid", "$l", "$d", "1", "-3", "0",
                         "nil", "true", '"(a*)*"', '"\\\\pL{50}"', '"$1$1$1$1"', ".", "$",
                         "(list $big $mid)", "(list $l $l $l)"])
NAMES = st.sampled_from(sorted(FUNCS))


@st.composite
def calls(draw: st.DrawFn, depth: int = 0) -> str:
    """A call with the function's own arity (mostly), so that most calls really run."""
    name = draw(NAMES)
    function = FUNCS[name]
    count = len(function.params) + (draw(st.integers(0, 2)) if function.variadic else 0)
    if draw(st.integers(0, 9)) == 0:
        count = draw(st.integers(0, 3))
    args = []
    for _ in range(count):
        nested = depth < 2 and draw(st.booleans())
        args.append(f"({draw(calls(depth + 1))})" if nested else draw(ATOMS))
    return " ".join([name, *args])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(calls(), min_size=1, max_size=3), st.booleans())
def test_any_pipeline_ends_in_output_or_an_evaluation_error(pipes: list[str], loop: bool) -> None:
    body = "".join(f"{{{{ $r := {pipe} }}}}{{{{ $r }}}}" for pipe in pipes)
    if loop:
        body = "{{ range $.d.f }}{{ range $.d.f }}" + body + "{{ end }}{{ end }}"
    data = {"d": {"f": [{"Name": str(i)} for i in range(30)]}}
    start = time.monotonic()
    with contextlib.suppress(EvaluationError):
        execute_template(SETUP + body, data)
    assert time.monotonic() - start < 10
