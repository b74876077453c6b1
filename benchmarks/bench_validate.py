"""Speed of the core: CLI start-up and validation, and in-process validation at scale.

(a) cold start on a regular install: a venv made once in the git-ignored
    ``benchmarks/.data/`` (``pip install`` of this tree, redone whenever a file under
    ``src/`` or ``pyproject.toml`` changes, so its modules have their ``.pyc`` as a user's
    would), where the ``nfd`` console script runs ``compat validate-node --spec
    --features`` on the example (the spec as YAML, and as JSON), and ``import nfd``,
    against that venv's ``python3 -c pass``, interleaved, medians of 21 runs
    (target: at most 3x ``-c pass`` with the JSON spec);
(b) one spec against 1,000 / 5,000 / 10,000 features documents in-process
    (target: 10,000 under 1 s, growing linearly).

Run: ``python benchmarks/bench_validate.py`` (the first run builds the venv: pip fetches
the dependencies, a minute or so).
"""

from __future__ import annotations

import hashlib
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
FEATURES = ROOT / "examples" / "features-h100.json"
VENV = ROOT / "benchmarks" / ".data" / "regular-install"
RUNS = 21


def _source_key() -> str:
    """A digest of everything the installed package is built from."""
    digest = hashlib.sha256()
    files = [ROOT / "pyproject.toml", *sorted((ROOT / "src").rglob("*"))]
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _regular_install() -> Path:
    """The venv's bin directory, with this tree installed as a user installs it."""
    bindir = VENV / "bin"
    stamp = VENV / "nfd-source.sha256"
    key = _source_key()
    if stamp.exists() and stamp.read_text() == key and (bindir / "nfd").exists():
        return bindir
    if not (bindir / "python3").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    # --no-deps after the first install: dependencies stay, only our code is replaced.
    deps = ["--no-deps", "--force-reinstall"] if stamp.exists() else []
    subprocess.run([str(bindir / "python3"), "-m", "pip", "install", "-q",
                    "--disable-pip-version-check", *deps, str(ROOT)], check=True)
    stamp.write_text(key)
    return bindir


def _env() -> dict[str, str]:
    """The caller's environment without what would point Python at another tree."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def _interleaved(commands: list[list[str]], runs: int) -> list[float]:
    """Median wall time of each command, run in turn (a busy machine slows all alike)."""
    times: list[list[float]] = [[] for _ in commands]
    env = _env()
    for _ in range(runs):
        for cmd, out in zip(commands, times, strict=True):
            start = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           check=False, env=env, cwd=tempfile.gettempdir())
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
    from nfd.api import load_file

    bindir = _regular_install()
    python, nfd = str(bindir / "python3"), str(bindir / "nfd")
    with tempfile.TemporaryDirectory() as tmp:
        json_spec = Path(tmp) / "image-compatibility.json"
        json_spec.write_text(json.dumps(load_file(SPEC)))
        validate = [nfd, "compat", "validate-node", "--features", str(FEATURES), "--spec"]
        base, imp, yaml_cli, json_cli = _interleaved([
            [python, "-c", "pass"], [python, "-c", "import nfd"],
            [*validate, str(SPEC)], [*validate, str(json_spec)]], RUNS)
    print(f"(a) cold start on a regular install ({VENV.relative_to(ROOT)}), "
          f"median of {RUNS} runs")
    print(f"    python3 -c pass                        {base * 1000:6.1f} ms")
    for label, t in (("import nfd", imp), ("validate-node, YAML spec", yaml_cli),
                     ("validate-node, JSON spec", json_cli)):
        print(f"    {label:<38} {t * 1000:6.1f} ms  = {t / base:.2f}x python3 -c pass")
    print("    target: validate-node with the JSON spec <= 3x python3 -c pass")


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
    sys.path.insert(0, str(ROOT / "src"))  # in process: this tree, wherever nfd is installed
    bench_cli()
    bench_in_process()
