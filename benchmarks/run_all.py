"""Run every benchmark in turn and print its figures: ``python benchmarks/run_all.py``.

Each one also runs alone (``python benchmarks/bench_<name>.py``). Absolute times drift
on shared machines; compare the ratios each benchmark prints within its own run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failed = 0
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"== {script.name}", flush=True)
        failed += subprocess.run([sys.executable, str(script)], check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
