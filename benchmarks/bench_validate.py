"""Speed of the core: CLI start-up and validation, and in-process validation at scale.

(a) wall time of ``nfd compat validate-node --spec --features`` on the example (a
    YAML spec, a JSON features file), started as the ``nfd`` console script starts it,
    against ``python3 -c pass`` in the same run, interleaved (target: at most 3x), and
    the import time of ``nfd`` itself (target: under 60 ms);
(b) one spec against 1,000 / 5,000 / 10,000 features documents in-process
    (target: 10,000 under 1 s, growing linearly).

Run: ``python benchmarks/bench_validate.py``
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "image-compatibility.yaml"


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def _interleaved(commands: list[list[str]], runs: int) -> list[float]:
    """Median wall time of each command, run in turn (a busy machine slows all alike)."""
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for cmd, out in zip(commands, times, strict=True):
            start = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           check=False, env=_env())
            out.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def _features_doc(rng: random.Random) -> dict[str, object]:
    vendors = ["8086", "10de", "0eee", "0fff", "1af4", "15b3"]
    return {
        "flags": {"kernel.loadedmodule": {"elements": {m: {} for m in rng.sample(
            ["vfio-pci", "nvidia", "ixgbe", "mlx5_core", "kvm", "overlay"], 3)}}},
        "attributes": {"cpu.model": {"elements": {"vendor_id": rng.choice(["Intel", "AMD"]),
                                                  "family": "6"}}},
        "instances": {"pci.device": {"elements": [
            {"attributes": {"vendor": rng.choice(vendors), "class": rng.choice(["0200", "0302"]),
                            "device": f"{rng.randrange(0x10000):04x}"}}
            for _ in range(rng.randrange(2, 12))]}},
    }


def bench_cli() -> None:
    features = ROOT / "examples" / "features-h100.json"
    with tempfile.TemporaryDirectory() as tmp:
        if not features.exists():
            features = Path(tmp) / "features.json"
            features.write_text(json.dumps(_features_doc(random.Random(1))))
        # What the console script runs (python -m would add runpy's own imports).
        script = "import sys; from nfd.cli import main; sys.exit(main())"
        base, imp, imp_cli, cli = _interleaved([
            [sys.executable, "-c", "pass"], [sys.executable, "-c", "import nfd"],
            [sys.executable, "-c", "import nfd.cli"],
            [sys.executable, "-c", script, "compat", "validate-node", "--spec", str(SPEC),
             "--features", str(features)]], 15)
    print("(a) CLI wall time, median of 15 runs")
    print(f"    python3 -c pass              {base * 1000:7.1f} ms")
    print(f"    import nfd                   {imp * 1000:7.1f} ms  (+{(imp - base) * 1000:.1f} ms)")
    print(f"    import nfd.cli               {imp_cli * 1000:7.1f} ms  "
          f"(+{(imp_cli - base) * 1000:.1f} ms)")
    print(f"    nfd compat validate-node     {cli * 1000:7.1f} ms  = {cli / base:.2f}x python3 -c "
          "pass (target <= 3x)")


def bench_in_process() -> None:
    from nfd.api import features_from_obj, load_spec
    from nfd.compat import validate_features
    from nfd.match import RegexCache

    spec = load_spec(SPEC)
    rng = random.Random(7)
    pool = [features_from_obj(_features_doc(rng)) for _ in range(10_000)]
    print("(b) one spec against N features documents, in-process (parsed beforehand)")
    results = {}
    for n in (1_000, 5_000, 10_000):
        regexes = RegexCache()
        start = time.perf_counter()
        compatible = sum(validate_features(spec, f, regexes=regexes).compatible for f in pool[:n])
        elapsed = time.perf_counter() - start
        results[n] = elapsed
        print(f"    N={n:>6}: {elapsed * 1000:8.1f} ms  ({elapsed / n * 1e6:6.1f} us/doc, "
              f"{compatible} compatible)")
    print(f"    linearity: t(10k)/t(1k) = {results[10_000] / results[1_000]:.2f} (10.0 = linear)")
    docs = [_features_doc(rng) for _ in range(10_000)]
    start = time.perf_counter()
    for doc in docs:
        validate_features(spec, features_from_obj(doc))
    elapsed = time.perf_counter() - start
    print(f"    N= 10000 including parsing each document: {elapsed * 1000:.1f} ms")


if __name__ == "__main__":
    bench_cli()
    bench_in_process()
