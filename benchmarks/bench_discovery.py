"""Discovery speed: in-process discovery of the H100 tree, and ``nfd export features`` wall time.

Run: ``python benchmarks/bench_discovery.py``. The tree is unpacked from
``../shared/fixtures/hosts`` (or ``$NFD_SHARED_DIR``) into a temporary
directory. Figures are medians; the export is compared with ``python3 -c pass``
measured in the same run, so the ratio is meaningful across machines.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from nfd.sources import HostPaths, discover

TARGET_MS = 50.0


def _shared() -> Path:
    env = os.environ.get("NFD_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1] / ".." / "shared"


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    tarball = _shared() / "fixtures" / "hosts" / "gpu-h100-ubuntu2404.tar.gz"
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="tar")
        host = HostPaths(root=tmp)
        discover(host)  # warm the page cache and imports
        tree_ms = _median_ms(lambda: discover(host), 30)
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
    print(f"discover(live host), in process:   {live_ms:7.2f} ms median of 30")
    print(f"nfd export features --host-root:   {export_ms:7.2f} ms median of 10")
    print(f"python3 -c pass:                   {bare_ms:7.2f} ms median of 10")
    print(f"export / bare interpreter:         {export_ms / bare_ms:7.2f}x")
    return 0 if tree_ms < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
