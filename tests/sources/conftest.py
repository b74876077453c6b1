"""Fixtures for the discovery tests: the real host trees and a synthetic-tree builder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests import _fixtures
from tests._fixtures import unpack_host

HOSTS = ("gpu-h100-ubuntu2404", "amd-epyc-debian12")


@pytest.fixture(scope="session")
def host_trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each real host tarball unpacked once into its own temporary directory."""
    return {name: unpack_host(name, tmp_path_factory.mktemp(name)) for name in HOSTS}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``os_release_path`` over the real os-release files of the shared fixtures."""
    if "os_release_path" in metafunc.fixturenames:
        files = sorted(_fixtures.os_release_dir().glob("*.os-release"))
        assert files, f"no os-release fixtures in {_fixtures.os_release_dir()}"
        metafunc.parametrize("os_release_path", files, ids=[f.name for f in files])


@pytest.fixture(scope="session")
def os_release_dir() -> Path:
    """The folder of real os-release files."""
    return _fixtures.os_release_dir()


TreeWriter = Callable[[dict[str, str | bytes]], Path]


@pytest.fixture
def make_tree(tmp_path: Path) -> TreeWriter:
    """Write ``{relative path: content}`` under a fresh root; ``->target`` makes a symlink."""
    def write(files: dict[str, str | bytes]) -> Path:
        for rel, content in files.items():
            path = tmp_path / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, str) and content.startswith("->"):
                path.symlink_to(content[2:])
            elif isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        return tmp_path
    return write
