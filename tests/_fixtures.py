"""Where the test fixtures live: ``tests/fixtures`` in this repository (copied from the
project's shared fixtures; see each folder's README for provenance)."""

from __future__ import annotations

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
