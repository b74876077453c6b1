"""The oracle cases still hold for NFD v0.19.0, our reference release.

They were made against NFD master 76e6cc8 (four commits past v0.19.0, none of them
in the engine); ``nfd-oracle`` (``tests/peers/nfd-oracle``, built by
``scripts/install-peers``) is v0.19.0's node-validator loop, and ``generate.py
check`` asks it about every case again.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests._peers import peer

CASES = sorted((Path(__file__).parent / "cases").glob("oracle_*.yaml"))


def test_every_oracle_case_is_nfd_v0_19_0s_verdict() -> None:
    oracle = peer("nfd-oracle")
    assert len(CASES) == 5
    done = subprocess.run([sys.executable, "-m", "tests.match.oracle.generate", "check",
                           *map(str, CASES), "--oracle", str(oracle)],
                          capture_output=True, text=True, timeout=300, check=False,
                          cwd=Path(__file__).parents[2])
    assert done.returncode == 0 and done.stderr == "", done.stderr
