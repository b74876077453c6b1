"""nfd/_io.py: the one bounded read of a file, standard input or a stream."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from nfd._io import read_bounded, read_document
from nfd.errors import SpecError


def test_a_file_is_read_to_one_byte_past_the_bound(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    assert read_bounded(path, 10) == b"x" * 10
    assert read_bounded(str(path), 9) == b"x" * 10  # the caller sees it is too large
    assert read_bounded(path, 3) == b"xxxx"


def test_an_endless_file_is_bounded() -> None:
    assert read_bounded("/dev/zero", 1 << 16) == bytes((1 << 16) + 1)


def test_streams_text_and_binary() -> None:
    assert read_bounded(io.BytesIO(b"secret\n"), 3) == b"secr"
    assert read_bounded(io.StringIO("sécret"), 100) == "sécret".encode()


def test_dash_is_standard_input() -> None:
    code = "import sys; from nfd._io import read_bounded; print(read_bounded('-', 4))"
    out = subprocess.run([sys.executable, "-c", code], input=b"0123456789",
                         capture_output=True, check=True)
    assert out.stdout.strip() == b"b'01234'"


def test_errors_propagate_or_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(FileNotFoundError):
        read_bounded(missing, 10)
    with pytest.raises(SpecError, match="cannot read") as info:
        read_document(missing, 10)
    assert info.value.source == str(missing)
    with pytest.raises(SpecError, match="cannot read"):
        read_document(tmp_path, 10)  # a directory
