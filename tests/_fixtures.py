"""Where the test fixtures live: ``tests/fixtures`` in this repository (copied from the
project's shared fixtures; see each folder's README for provenance)."""

from __future__ import annotations

import tarfile
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixtures_dir() -> Path:
    """The repository's fixture folder (host trees, os-release files)."""
    return FIXTURES


def hosts_dir() -> Path:
    """The real host tarballs."""
    return FIXTURES / "hosts"


def os_release_dir() -> Path:
    """The real os-release files of node OSes."""
    return FIXTURES / "os-release"


def unpack_host(name: str, dest: Path) -> Path:
    """Unpack the real host tree ``name`` (e.g. ``gpu-h100-ubuntu2404``) into ``dest``, its
    root; links stay inside it (tarfile's ``tar`` filter)."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(hosts_dir() / f"{name}.tar.gz") as tar:
        tar.extractall(dest, filter="tar")
    return dest
