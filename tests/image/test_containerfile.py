"""The Containerfile (for Docker and podman users) makes the image build-image makes.

Both run the same script on the same locks for the root file system (``--rootfs``); what
the Containerfile states itself (user, entry point, environment, labels) must be what the
script writes into the image config.
"""

from __future__ import annotations

import json
import re
import shlex
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType
from typing import Any

import nfd
from nfd._image import SOURCE_URL

ROOT = Path(__file__).resolve().parents[2]


def build_image_module() -> ModuleType:
    path = str(ROOT / "scripts" / "build-image")
    loader = SourceFileLoader("build_image", path)
    module = ModuleType(loader.name)
    module.__file__ = path
    loader.exec_module(module)
    return module


def final_stage() -> dict[str, list[str]]:
    """Instruction -> its argument texts, in the last stage (continuation lines joined)."""
    text = (ROOT / "Containerfile").read_text().replace("\\\n", " ")
    stage = text.rsplit("\nFROM ", 1)[1]
    found: dict[str, list[str]] = {}
    for line in stage.splitlines()[1:]:
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            found.setdefault(word, []).append(rest.strip())
    return found


def test_containerfile_states_what_build_image_writes() -> None:
    script = build_image_module()
    config: dict[str, Any] = script.image_config(0, "sha256:" + "0" * 64, nfd.__version__,
                                                 SOURCE_URL, "rev")["config"]
    stage = final_stage()
    assert stage["USER"] == [config["User"]]
    assert json.loads(stage["ENTRYPOINT"][0]) == config["Entrypoint"]
    assert json.loads(stage["CMD"][0]) == config["Cmd"]
    assert sorted(shlex.split(stage["ENV"][0])) == sorted(config["Env"])
    labels = dict(item.split("=", 1) for item in shlex.split(stage["LABEL"][0]))
    for key, value in labels.items():
        if "$" not in value:
            assert config["Labels"][key] == value, key
    assert labels["org.opencontainers.image.version"] == nfd.__version__
    assert stage["COPY"] == ["--from=build /rootfs/ /"]
    assert re.search(r"build-image .*--rootfs /rootfs", (ROOT / "Containerfile").read_text()
                     .replace("\\\n", " "))
