"""Where the read-only shared fixtures live: ``../shared`` beside the checkout, or
``$NFD_SHARED_DIR``."""

from __future__ import annotations

import os
from pathlib import Path


def shared_dir() -> Path:
    """The shared folder (design docs, host trees, os-release files)."""
    env = os.environ.get("NFD_SHARED_DIR")
    if env:
        return Path(env)
    return (Path(__file__).resolve().parents[1] / ".." / "shared").resolve()


def hosts_dir() -> Path:
    """The real host tarballs."""
    return shared_dir() / "fixtures" / "hosts"
