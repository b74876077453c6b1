"""What reading specs without PyYAML saves (``nfd/api/_yaml_subset.py``: the cold start).

Three figures, each subset path against the PyYAML path (the subset reader switched off):

- reading the example and the fleet spec in-process (median of many reads);
- a fresh interpreter that reads the example spec, and the whole ``nfd compat
  validate-node --spec --features`` command, against ``python -c pass``;
- what importing each reader costs (``-X importtime``).

Start-up figures mean something only from an install with compiled ``.pyc`` files (a venv:
``python3 -m venv /tmp/v && /tmp/v/bin/pip install .``, then run this with
``/tmp/v/bin/python``); an editable install under PYTHONDONTWRITEBYTECODE compiles every
module on every start. Run: ``python benchmarks/bench_yaml_subset.py [rounds]``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "image-compatibility.yaml"
FLEET_SPEC = ROOT / "benchmarks" / "fleet" / "bench-spec.yaml"
FEATURES = ROOT / "examples" / "features-h100.json"
# Prepended to a child's code: the loader then takes the PyYAML path for every text.
NO_SUBSET = "import nfd.api._yaml as y; y.read_subset = lambda text, depth: None; "


def _median_us(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def _children_ms(codes: list[str], rounds: int) -> list[float]:
    """Median wall time of a fresh interpreter running each of ``codes``; the codes take
    turns within each round, so that drift on a shared machine hits all of them alike."""
    times: list[list[float]] = [[] for _ in codes]
    for _ in range(rounds):
        for code, spent in zip(codes, times, strict=True):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=False, capture_output=True)
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) * 1000 for spent in times]


def _import_us(code: str, module: str, rounds: int) -> float:
    """The median cumulative import time of ``module`` when a child runs ``code``."""
    found = []
    for _ in range(rounds):
        err = subprocess.run([sys.executable, "-X", "importtime", "-c", code], check=False,
                             capture_output=True, text=True).stderr
        for line in err.splitlines():
            parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
            if len(parts) == 3 and parts[2] == module:
                found.append(int(parts[1]))
    return statistics.median(found) if found else 0.0


def _reads(rounds: int) -> None:
    from nfd.api._yaml import DEFAULT_LIMITS, _parse_yaml
    from nfd.api._yaml_subset import read_subset

    for path in (EXAMPLE, FLEET_SPEC):
        text = path.read_text()
        assert read_subset(text, DEFAULT_LIMITS.max_depth) == _parse_yaml(text, DEFAULT_LIMITS)
        subset = _median_us(partial(read_subset, text, DEFAULT_LIMITS.max_depth), rounds)
        full = _median_us(partial(_parse_yaml, text, DEFAULT_LIMITS), rounds)
        print(f"read {path.name} ({len(text)} chars): subset {subset:6.1f} us, PyYAML/libyaml "
              f"{full:6.1f} us (ratio {full / subset:.2f})")


def _start_up(rounds: int) -> None:
    load = f"from nfd.api import load_spec; load_spec({str(EXAMPLE)!r})"
    command = ("import sys; from nfd.cli import main; "
               f"main(['compat', 'validate-node', '--spec', {str(EXAMPLE)!r}, "
               f"'--features', {str(FEATURES)!r}, '--output-json'])")
    cases = (("load_spec(example)", load), ("validate-node --spec --features", command))
    medians = _children_ms(["pass"] + [c for _, code in cases for c in (code, NO_SUBSET + code)],
                           rounds)
    base = medians[0]
    print(f"python -c pass: {base:5.1f} ms")
    for (name, _), subset, full in zip(cases, medians[1::2], medians[2::2], strict=True):
        print(f"{name}: subset {subset:5.1f} ms ({subset / base:.2f}x pass), PyYAML path "
              f"{full:5.1f} ms ({full / base:.2f}x pass); PyYAML path / subset "
              f"{full / subset:.2f}")
    subset_import = _import_us(load, "nfd.api._yaml_subset", rounds)
    yaml_import = _import_us(NO_SUBSET + load, "yaml", rounds)
    print(f"import: nfd.api._yaml_subset {subset_import:.0f} us, yaml (on the PyYAML path) "
          f"{yaml_import:.0f} us (ratio {yaml_import / max(subset_import, 1):.1f})")


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    _reads(rounds * 50)
    _start_up(rounds)


if __name__ == "__main__":
    main()
