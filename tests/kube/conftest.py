"""Fixtures of the real-cluster tests: one control plane with NFD for the whole session, a
real registry holding images with specs attached, and the webhook's TLS material.

The binaries come from ``scripts/install-peers``; without them every test here is skipped
with the reason (and fails under ``CI=true``, where ``.ci/run`` builds them).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests._cli import nfd
from tests._peers import INSTALL_HINT, kubectl, peers_bin
from tests.kube._control_plane import CONTROL_PLANE_BINARIES, ControlPlane, nfd_crds_file
from tests.oci._images import build_layout, push_image
from tests.oci._registry import Registry, issue_cert, make_ca, start_registry
from tests.webhook._webhook import require_tools

DATA = Path(__file__).parent / "data"
PushImage = Callable[[Path | None], str]
_repos = itertools.count()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """etcd, kube-apiserver, kube-scheduler, a Node, NFD's CRDs, nfd-worker's NodeFeature
    of this machine and a running nfd-master; stopped by PID at the end of the session."""
    kubectl()
    bin_dir = peers_bin()
    missing = [str(bin_dir / name) for name in CONTROL_PLANE_BINARIES
               if not os.access(bin_dir / name, os.X_OK)]
    if not nfd_crds_file(bin_dir).is_file():
        missing.append(str(nfd_crds_file(bin_dir)))
    if missing:
        pytest.skip(f"needs the real control plane and NFD (missing: {', '.join(missing)}): "
                    f"{INSTALL_HINT}")
    plane = ControlPlane(bin_dir, tmp_path_factory.mktemp("kube"))
    try:
        plane.start()
    except BaseException:
        plane.stop()
        raise
    yield plane
    plane.stop()


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    require_tools("docker-registry", "skopeo", "umoci")
    reg = start_registry(tmp_path_factory.mktemp("kube-registry"))
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def push(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> PushImage:
    """``push(spec or None) -> "127.0.0.1:PORT/kube/imgN:v1"``: a fresh repository holding
    a linux/amd64 image, the spec attached by ``nfd compat attach-spec`` when given."""
    layout = build_layout(tmp_path_factory.mktemp("kube-layout"))

    def push_one(spec: Path | None) -> str:
        image = f"{registry.host}/kube/img{next(_repos)}:v1"
        push_image(layout, "amd64", registry, image.split("/", 1)[1])
        if spec is not None:
            done = nfd("compat", "attach-spec", "--image", image, "--spec", str(spec))
            assert done.returncode == 0, done.stderr
        return image

    return push_one


@pytest.fixture(scope="session")
def webhook_tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, bytes]:
    """(serving certificate for 127.0.0.1, its key, the throwaway CA's PEM)."""
    directory = tmp_path_factory.mktemp("kube-webhook-tls")
    ca = make_ca("nfd-kube-webhook-ca")
    cert, key = issue_cert(ca).write(directory, "webhook")
    return cert, key, ca.cert_pem
