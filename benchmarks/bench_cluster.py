"""validate-cluster over synthetic NodeFeature dumps: end-to-end wall time and scaling.

Runs ``nfd compat validate-cluster --nodefeatures FILE -o json`` in a fresh
process (interpreter start, imports, parsing, merging, evaluation, report) for
1,000 / 2,500 / 5,000 objects, as JSON (``kubectl -o json``) and, for
comparison, YAML (``kubectl -o yaml``). Prints seconds per run (best of
``--repeat``), microseconds per object and the 5,000/1,000 ratio (linear: ~5).

    python benchmarks/bench_cluster.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.cluster._synthetic import synthetic_list  # noqa: E402

SPEC = ROOT / "tests" / "cluster" / "data" / "spec-cpu-kernel.yaml"
SIZES = (1000, 2500, 5000)
BUDGET_SECONDS = 2.0


def _time_cli(path: Path, repeat: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "nfd", "compat", "validate-cluster",
                               "--spec", str(SPEC), "--nodefeatures", str(path), "-o", "json"],
                              capture_output=True, env=env, check=False)
        elapsed = time.perf_counter() - start
        if proc.returncode not in (0, 1):
            raise SystemExit(f"validate-cluster failed: {proc.stderr.decode()}")
        best = min(best, elapsed)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-yaml", action="store_true", help="skip the YAML dumps")
    args = parser.parse_args()
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    results: dict[str, dict[int, float]] = {"json": {}, "yaml": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            doc = synthetic_list(size, seed=size)
            path = Path(tmp) / f"nf-{size}.json"
            path.write_text(json.dumps(doc))
            results["json"][size] = _time_cli(path, args.repeat)
            mib = path.stat().st_size / 2**20
            print(f"json {size:>5} objects {mib:6.1f} MiB  {results['json'][size]:6.3f} s  "
                  f"{results['json'][size] / size * 1e6:6.1f} us/object", flush=True)
            if not args.no_yaml:
                ypath = Path(tmp) / f"nf-{size}.yaml"
                ypath.write_text(yaml.dump(doc, Dumper=dumper))
                results["yaml"][size] = _time_cli(ypath, 1)
                print(f"yaml {size:>5} objects {ypath.stat().st_size / 2**20:6.1f} MiB  "
                      f"{results['yaml'][size]:6.3f} s  "
                      f"{results['yaml'][size] / size * 1e6:6.1f} us/object", flush=True)
    j = results["json"]
    print(f"json scaling 2500/1000 = {j[2500] / j[1000]:.2f} (linear 2.5), "
          f"5000/1000 = {j[5000] / j[1000]:.2f} (linear 5.0)")
    if results["yaml"]:
        print(f"yaml/json at 5000 objects = {results['yaml'][5000] / j[5000]:.1f}x")
    verdict = "within" if j[5000] < BUDGET_SECONDS else "OVER"
    print(f"5000 objects end to end: {j[5000]:.3f} s, {verdict} the {BUDGET_SECONDS:g} s budget")
    return 0 if j[5000] < BUDGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
