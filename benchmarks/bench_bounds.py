"""What the spec-side bounds cost, and how fast hostile input is refused.

(a) the shared loader on a 5,000-object ``kubectl get nodefeatures -o json`` dump:
    with its checks (depth bound, duplicate keys at every size: a Python walk of
    the parsed tree and a count) against a bare ``json.loads`` of the same text;
(b) seconds to refuse each hostile input, against validating the bundled example
    spec on the bundled features in-process: billion laughs under a 1 GiB byte
    limit, 300 large RE2 patterns, and varsTemplate budget attacks.

Run: ``python benchmarks/bench_bounds.py``
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.cluster._synthetic import synthetic_list  # noqa: E402

from nfd.api import (  # noqa: E402
    LoadLimits,
    load_features_document,
    load_file,
    load_spec,
    loads,
    loads_spec,
)
from nfd.compat import validate_features  # noqa: E402
from nfd.errors import SpecError  # noqa: E402
from nfd.match import expand_vars_template  # noqa: E402


def _best(fn: Callable[[], object], runs: int = 5) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _refused(fn: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            fn()
        except SpecError:  # EvaluationError included
            return
        raise SystemExit("a hostile input was accepted")
    return run


def _loader() -> None:
    text = json.dumps(synthetic_list(5000, seed=5000))
    limits = LoadLimits(max_bytes=1 << 30)
    checked = _best(lambda: loads(text, limits=limits))
    bare = _best(lambda: json.loads(text))
    print(f"(a) 5,000-object JSON dump ({len(text) / 2**20:.1f} MiB): checked {checked:.3f} s, "
          f"bare json.loads {bare:.3f} s, ratio {checked / bare:.2f}")


def _attacks() -> dict[str, Callable[[], object]]:
    laughs = "\n".join(["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"] + [
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)])
    exprs = {f"k{i}": {"op": "InRegexp", "value": [f"\\pL{{400}}x{i}"]} for i in range(300)}
    regex_spec = json.dumps({"version": "v1alpha1", "compatibilities": [{"rules": [
        {"name": "r", "matchFeatures": [{"feature": "f.a", "matchExpressions": exprs}]}]}]})
    features = load_features_document({"attributes": {"f.a": {"elements": {"x": "a"}}}})
    big = '{{ $big := printf "%1000000s" "x" }}'
    loops = "{{ range $.d.f }}{{ range $.d.f }}{{ range $.d.f }}"
    ends = "{{ end }}{{ end }}{{ end }}"
    data = {"d": {"f": [{"Name": f"n{i}"} for i in range(100)]}}
    return {
        "billion laughs (1 GiB limit)": lambda: loads(laughs, limits=LoadLimits(1 << 30)),
        "300 x \\pL{400} regexps": lambda: validate_features(loads_spec(regex_spec), features),
        "replace on 1 MB": lambda: expand_vars_template(
            big + '{{ $r := replace " " $big $big }}', data),
        "list doubling": lambda: expand_vars_template(
            '{{ $l := list "x" }}' + loops + "{{ $l = list $l $l }}" + ends, data),
        "sha256sum of 1 MB in loops": lambda: expand_vars_template(
            big + loops + "{{ $h := sha256sum $big }}" + ends, data),
        "regexReplaceAll on 1 MB": lambda: expand_vars_template(
            big + '{{ $r := regexReplaceAll "" $big "xx" }}', data),
    }


def main() -> int:
    _loader()
    spec = load_spec(ROOT / "examples" / "image-compatibility.yaml")
    features = load_features_document(load_file(ROOT / "examples" / "features-h100.json",
                                                limits=LoadLimits(max_bytes=64 << 20)))
    legit = _best(lambda: validate_features(spec, features), runs=20)
    print(f"(b) validating the example spec in-process: {legit * 1000:.2f} ms")
    for name, attack in _attacks().items():
        seconds = _best(_refused(attack), runs=3)
        print(f"    refused {name}: {seconds * 1000:.1f} ms ({seconds / legit:.0f}x the example)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
