"""Fixtures: a real registry with images carrying specs, TLS material, webhook servers."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests._cli import nfd
from tests.oci._images import build_layout, push_image
from tests.oci._registry import Registry, issue_cert, make_ca, start_registry
from tests.webhook._webhook import DATA, WebhookProcess, require_tools

_repos = itertools.count()
StartWebhook = Callable[..., WebhookProcess]
PushImage = Callable[..., str]


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(server certificate, its key, the throwaway CA that signed it)."""
    directory = tmp_path_factory.mktemp("webhook-tls")
    ca = make_ca("nfd-webhook-test-ca")
    cert, key = issue_cert(ca).write(directory, "server")
    ca_file = directory / "ca.crt"
    ca_file.write_bytes(ca.cert_pem)
    return cert, key, ca_file


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    require_tools("docker-registry", "skopeo", "umoci")
    reg = start_registry(tmp_path_factory.mktemp("webhook-registry"))
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_tools("umoci")
    return build_layout(tmp_path_factory.mktemp("webhook-layout"))


@pytest.fixture(scope="session")
def push_image_with(registry: Registry, layout: Path) -> PushImage:
    """``push_image_with(spec_file or None) -> "127.0.0.1:PORT/webhook/imgN:v1"``: a fresh
    repository, the spec attached by ``nfd compat attach-spec`` when given."""

    def push(spec: Path | None = None, tag: str = "amd64") -> str:
        image = f"{registry.host}/webhook/img{next(_repos)}:v1"
        push_image(layout, tag, registry, image.split("/", 1)[1])
        if spec is not None:
            done = nfd("compat", "attach-spec", "--image", image, "--spec", str(spec))
            assert done.returncode == 0, done.stderr
        return image

    return push


@pytest.fixture(scope="session")
def weighted_image(push_image_with: PushImage) -> str:
    return push_image_with(DATA / "spec-weighted.yaml")


@pytest.fixture(scope="session")
def kernel_image(push_image_with: PushImage) -> str:
    return push_image_with(DATA / "spec-kernel.yaml")


@pytest.fixture(scope="session")
def bare_image(push_image_with: PushImage) -> str:
    return push_image_with(None)


@pytest.fixture
def start_webhook(tls_files: tuple[Path, Path, Path]) -> Iterator[StartWebhook]:
    """``start_webhook(*flags)``: a running server, stopped after the test."""
    started: list[WebhookProcess] = []

    def start(*flags: str, env: dict[str, str] | None = None) -> WebhookProcess:
        server = WebhookProcess(tls_files[:2], tls_files[2], *flags, env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


AUTH_USER, AUTH_PASSWORD = "webhook-puller", "pull-s3cret"


@pytest.fixture(scope="session")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry over TLS (its own throwaway CA) that wants a password for everything."""
    require_tools("docker-registry", "skopeo", "umoci", "htpasswd")
    ca = make_ca("nfd-webhook-registry-ca")
    reg = start_registry(tmp_path_factory.mktemp("webhook-auth-registry"), tls=issue_cert(ca),
                         ca=ca, htpasswd_users={AUTH_USER: AUTH_PASSWORD})
    yield reg
    reg.stop()
