"""The console script's way out: ``main()``, its output flushed, then ``os._exit``.

Skipping the interpreter's teardown must change nothing a user sees: every byte is
written, the exit code is main()'s, and a reader that goes away early (``| head``)
ends the run quietly with 0, as main() itself treats a broken pipe.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cluster._synthetic import synthetic_list

ROOT = Path(__file__).resolve().parents[2]
SPEC_CPU = ROOT / "tests" / "cluster" / "data" / "spec-cpu-kernel.yaml"


def _dump(tmp_path: Path) -> Path:
    path = tmp_path / "nf.json"
    path.write_text(json.dumps(synthetic_list(2500, seed=3)))  # the two-process path
    return path


def _command(dump: Path) -> list[str]:
    return [sys.executable, "-m", "nfd", "compat", "validate-cluster", "--spec",
            str(SPEC_CPU), "--nodefeatures", str(dump), "-o", "json"]


def test_every_byte_is_written_and_the_exit_code_is_mains(tmp_path: Path) -> None:
    dump = _dump(tmp_path)
    out = tmp_path / "report.json"
    with out.open("wb") as sink:  # a file: fully buffered, flushed only at the end
        proc = subprocess.run(_command(dump), stdout=sink, stderr=subprocess.PIPE,
                              check=False)
    report = json.loads(out.read_text())
    assert proc.returncode == (0 if report["summary"]["compatibleNodes"] else 1)
    assert report["summary"]["nodes"] > 2000 and proc.stderr == b""
    unknown = subprocess.run([sys.executable, "-m", "nfd", "nosuch"], capture_output=True,
                             text=True, check=False)
    assert unknown.returncode == 2 and "unknown command group" in unknown.stderr


def test_a_reader_that_goes_away_ends_the_run_quietly(tmp_path: Path) -> None:
    dump = _dump(tmp_path)
    proc = subprocess.Popen(_command(dump), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(10)  # the report has begun...
    proc.stdout.close()  # ...and the reader leaves
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0 and err == b"", err
