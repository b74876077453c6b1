"""Speed of the core: CLI start-up and validation, and in-process validation at scale.

(a) wall time of ``nfd compat validate-node --spec --features`` on the example,
    against ``python3 -c pass`` in the same run (target: at most 4x), and the
    import time of ``nfd`` itself (target: under 60 ms);
(b) one spec against 1,000 / 5,000 / 10,000 features documents in-process
    (target: 10,000 under 1 s, growing linearly).

Run: ``python benchmarks/bench_validate.py``
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "image-compatibility.yaml"


def _wall(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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
        base = _wall([sys.executable, "-c", "pass"], 15)
        imp = _wall([sys.executable, "-c", "import nfd"], 15)
        imp_cli = _wall([sys.executable, "-c", "import nfd.cli"], 15)
        cli = _wall([sys.executable, "-m", "nfd", "compat", "validate-node", "--spec", str(SPEC),
                     "--features", str(features)], 15)
    print("(a) CLI wall time, median of 15 runs")
    print(f"    python3 -c pass              {base * 1000:7.1f} ms")
    print(f"    import nfd                   {imp * 1000:7.1f} ms  (+{(imp - base) * 1000:.1f} ms)")
    print(f"    import nfd.cli               {imp_cli * 1000:7.1f} ms  "
          f"(+{(imp_cli - base) * 1000:.1f} ms)")
    print(f"    nfd compat validate-node     {cli * 1000:7.1f} ms  = {cli / base:.2f}x python3 -c "
          "pass (target <= 4x)")


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
