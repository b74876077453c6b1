"""The client image, built once per session by ``scripts/build-image``, and run with buildah.

buildah (``--storage-driver vfs``, ``--isolation chroot``) is the engine that runs on these
machines (podman's runtimes cannot set the rlimits here). Its storage lives in the session's
temporary directory, so nothing of the user's is touched. Without the tools, or without root
(mmdebstrap and buildah's chroot need it), the tests skip and say why; under CI=true they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.oci._registry import Registry, TokenServer, make_ca, start_registry

ROOT = Path(__file__).resolve().parents[2]
BUILD_IMAGE = ROOT / "scripts" / "build-image"
TOOLS = ("mmdebstrap", "buildah", "skopeo", "docker-registry")
# What buildah itself adds to stderr when the command exits non-zero.
ENGINE_NOISE = re.compile(r"(subprocess exited with status \d+|Error: exit status \d+)")
BUILD_TIMEOUT = 600  # two builds (the reproducibility check), each ~15-60 s here
USER, PASSWORD = "builder", "image-pass-1"


def require_image_tools() -> None:
    """Skip (fail under CI=true) unless the image can be built and run here."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    reason = ""
    if missing:
        reason = f"needs {', '.join(missing)} (Debian packages; .ci/run installs them)"
    elif os.geteuid() != 0:
        reason = "needs root: mmdebstrap's root mode and buildah's chroot isolation"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"image tests cannot run under CI: {reason}")
        pytest.skip(reason)


@dataclass(frozen=True)
class BuiltImage:
    archive: Path
    digest: str
    tag: str
    pushed: str  # the reference build-image pushed it to
    registry: Registry
    build_log: str


@dataclass(frozen=True)
class Buildah:
    """buildah with its own storage, and one working container of the image."""

    base: tuple[str, ...]
    container: str
    mountpoint: Path

    def run(self, *args: str, volumes: tuple[str, ...] = (), env: tuple[str, ...] = (),
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``buildah run --isolation chroot --user 65534:65534 ... CONTAINER -- ARGS``."""
        cmd = [*self.base, "run", "--isolation", "chroot", "--user", "65534:65534"]
        for volume in volumes:
            cmd += ["-v", volume]
        for item in env:
            cmd += ["-e", item]
        proc = subprocess.run([*cmd, self.container, "--", *args], capture_output=True,
                              text=True, timeout=timeout, check=False)
        proc.stderr = "".join(line for line in proc.stderr.splitlines(keepends=True)
                              if not ENGINE_NOISE.fullmatch(line.strip()))
        return proc


@pytest.fixture(scope="session")
def image_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    require_image_tools()
    registry = start_registry(tmp_path_factory.mktemp("reg-image"))
    yield registry
    registry.stop()


@pytest.fixture(scope="session")
def private_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry with token auth: anonymous pulls, USER may push (and is recorded)."""
    require_image_tools()
    server = TokenServer(make_ca("nfd-image-token-signer"), {USER: PASSWORD})
    registry = start_registry(tmp_path_factory.mktemp("reg-private"), token_server=server)
    registry.users[USER] = PASSWORD
    yield registry
    registry.stop()


@pytest.fixture(scope="session")
def built_image(tmp_path_factory: pytest.TempPathFactory,
                image_registry: Registry) -> BuiltImage:
    """Built from this tree with a fresh cache, twice (same digest), archived and pushed."""
    require_image_tools()
    work = tmp_path_factory.mktemp("image")
    archive = work / "nfd-client.tar"
    pushed = f"{image_registry.host}/nfd-client:test"
    proc = subprocess.run(
        [sys.executable, str(BUILD_IMAGE), "--cache", str(work / "cache"), "--check-reproducible",
         "--oci-archive", str(archive), "--push", pushed, "--push-tls-verify", "false"],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return BuiltImage(archive, result["digest"], result["tag"], pushed, image_registry,
                      proc.stderr)


@pytest.fixture(scope="session")
def buildah(tmp_path_factory: pytest.TempPathFactory, built_image: BuiltImage) -> Iterator[Buildah]:
    storage = tmp_path_factory.mktemp("buildah")
    base = ("buildah", "--storage-driver", "vfs", "--root", str(storage / "root"),
            "--runroot", str(storage / "run"))
    name = "nfd-client-test"
    subprocess.run([*base, "from", "--quiet", "--name", name,
                    f"oci-archive:{built_image.archive}"], check=True, capture_output=True,
                   timeout=300)
    mountpoint = subprocess.run([*base, "mount", name], check=True, capture_output=True,
                                text=True, timeout=60).stdout.strip()
    yield Buildah(base, name, Path(mountpoint))
    subprocess.run([*base, "rm", name], capture_output=True, timeout=120, check=False)
    subprocess.run([*base, "rmi", "--all", "--force"], capture_output=True, timeout=120,
                   check=False)
    shutil.rmtree(storage, ignore_errors=True)


@pytest.fixture(scope="session")
def host_roots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The real host trees (tests/fixtures/hosts), unpacked, by host name."""
    from tests.cluster._synthetic import unpack_hosts

    return unpack_hosts(tmp_path_factory.mktemp("hosts"))
