"""The client image: build time, size, and validate-node's cost inside it.

Run: ``python benchmarks/bench_image.py`` (root, with mmdebstrap, buildah and skopeo).
Builds with ``scripts/build-image`` (cache in ``.cache/build-image``), then runs
``validate-node --host-prefix /host-`` on the H100 tree with buildah as 65534 and compares
it with the host CLI (``--host-root``) and with a bare interpreter in the same container,
so the ratios separate the engine's cost from ours.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "tests" / "image" / "data" / "host-prefixed.yaml"
LIMIT_BYTES = 60 * 1000 * 1000


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    missing = [t for t in ("mmdebstrap", "buildah", "skopeo") if shutil.which(t) is None]
    if missing or os.geteuid() != 0:
        print(f"skipped: needs root and {', '.join(missing) or 'nothing else'}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        archive = work / "nfd-client.tar"
        start = time.perf_counter()
        out = subprocess.run([sys.executable, str(ROOT / "scripts" / "build-image"),
                              "--oci-archive", str(archive)], check=True, capture_output=True,
                             text=True).stdout
        build_s = time.perf_counter() - start
        size = json.loads(out.strip().splitlines()[-1])["compressedBytes"]
        tree = work / "tree"
        tree.mkdir()
        with tarfile.open(ROOT / "tests" / "fixtures" / "hosts" /
                          "gpu-h100-ubuntu2404.tar.gz") as tar:
            tar.extractall(tree, filter="tar")
        base = ["buildah", "--storage-driver", "vfs", "--root", str(work / "st"),
                "--runroot", str(work / "run")]
        subprocess.run([*base, "from", "--quiet", "--name", "bench", f"oci-archive:{archive}"],
                       check=True, capture_output=True)
        run = [*base, "run", "--isolation", "chroot", "--user", "65534:65534",
               "-v", f"{tree}/sys:/host-sys:ro",
               "-v", f"{tree}/etc/os-release:/host-etc/os-release:ro",
               "-v", f"{SPEC.parent}:/spec:ro", "bench", "--"]
        try:
            def inside() -> None:
                subprocess.run([*run, "nfd", "compat", "validate-node", "--spec",
                                f"/spec/{SPEC.name}", "--host-prefix", "/host-",
                                "--output-json"], check=True, capture_output=True)

            def bare_inside() -> None:
                subprocess.run([*run, "python3.11", "-c", "pass"], check=True,
                               capture_output=True)

            def host() -> None:
                subprocess.run([sys.executable, "-m", "nfd", "compat", "validate-node", "--spec",
                                str(SPEC), "--host-root", str(tree), "--output-json"],
                               check=True, capture_output=True)

            inside()
            inside_ms, bare_ms, host_ms = (_median_ms(inside, 7), _median_ms(bare_inside, 7),
                                           _median_ms(host, 7))
        finally:
            subprocess.run([*base, "rm", "bench"], capture_output=True, check=False)
            subprocess.run([*base, "rmi", "--all", "--force"], capture_output=True, check=False)
    print(f"build-image (warm wheel cache):       {build_s:7.1f} s")
    print(f"compressed size:                      {size / 1e6:7.1f} MB "
          f"({size / LIMIT_BYTES:.2f}x the 60 MB limit)")
    print(f"validate-node in the image (buildah): {inside_ms:7.1f} ms median of 7")
    print(f"python3 -c pass in the image:         {bare_ms:7.1f} ms "
          f"(validate-node is {inside_ms / bare_ms:.2f}x the engine + interpreter)")
    print(f"validate-node on the host CLI:        {host_ms:7.1f} ms "
          f"(image / host: {inside_ms / host_ms:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
