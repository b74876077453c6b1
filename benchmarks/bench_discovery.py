"""Discovery speed: in-process discovery of the H100 tree, and ``nfd export features`` wall time.

Run: ``python benchmarks/bench_discovery.py``. The tree is unpacked from
``tests/fixtures/hosts`` into a temporary directory. Every read is confined to
the tree (``openat2`` or, where the kernel refuses it, a component-wise walk);
the walk's cost is shown as a ratio. Figures are medians; the export is
compared with ``python3 -c pass`` measured in the same run, so the ratio is
meaningful across machines.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from nfd.sources import HostPaths, discover, feature_labels

TARGET_MS = 50.0


def _fixtures() -> Path:
    return Path(__file__).resolve().parents[1] / "tests" / "fixtures"


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    tarball = _fixtures() / "hosts" / "gpu-h100-ubuntu2404.tar.gz"
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="tar")
        host = HostPaths(root=tmp)
        discover(host)  # warm the page cache and imports
        tree_ms = _median_ms(lambda: discover(host), 30)
        walk = HostPaths(root=tmp, use_openat2=False)
        walk_ms = _median_ms(lambda: discover(walk), 30)
        labels_ms = _median_ms(lambda: feature_labels(discover(host).features, host), 30)
        live_ms = _median_ms(discover, 30)

        def export() -> None:
            subprocess.run([sys.executable, "-m", "nfd", "export", "features", "--host-root", tmp],
                           check=True, capture_output=True)

        def bare() -> None:
            subprocess.run(["python3", "-c", "pass"], check=True, capture_output=True)

        export()
        export_ms = _median_ms(export, 10)
        bare_ms = _median_ms(bare, 10)
    print(f"discover(H100 tree), in process:   {tree_ms:7.2f} ms median of 30 "
          f"(target < {TARGET_MS:.0f} ms: {'ok' if tree_ms < TARGET_MS else 'MISSED'})")
    print(f"discover(H100 tree), walk, no openat2: {walk_ms:7.2f} ms "
          f"({walk_ms / tree_ms:.2f}x openat2)")
    print(f"discover + labels (H100 tree):     {labels_ms:7.2f} ms "
          f"({labels_ms / tree_ms:.2f}x discover)")
    print(f"discover(live host), in process:   {live_ms:7.2f} ms median of 30")
    print(f"nfd export features --host-root:   {export_ms:7.2f} ms median of 10")
    print(f"python3 -c pass:                   {bare_ms:7.2f} ms median of 10")
    print(f"export / bare interpreter:         {export_ms / bare_ms:7.2f}x")
    return 0 if tree_ms < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
