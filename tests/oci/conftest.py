"""Registry fixtures: real ``docker-registry`` processes (session-scoped) and images.

Variants: anonymous plain HTTP, htpasswd basic auth over TLS (throwaway CA),
bearer token auth (test token server issuing RS256 JWTs). Without the tools
these tests skip with the reason; CI installs them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.oci._fake_registry import FakeRegistry
from tests.oci._images import build_layout, push_image
from tests.oci._registry import (
    Registry,
    TokenServer,
    issue_cert,
    make_ca,
    missing_tools,
    start_registry,
)

USER, PASSWORD = "alice", "s3cret-pass"
_counter = itertools.count()


def _require_tools(*names: str) -> None:
    missing = missing_tools(*names)
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (Debian: docker-registry, skopeo, umoci, "
                    "apache2-utils)")


@pytest.fixture(scope="session")
def image_layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require_tools("umoci")
    return build_layout(tmp_path_factory.mktemp("layout"))


@pytest.fixture(scope="session")
def plain_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    _require_tools("docker-registry", "skopeo", "umoci")
    registry = start_registry(tmp_path_factory.mktemp("reg-plain"))
    yield registry
    registry.stop()


@pytest.fixture(scope="session")
def tls_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    _require_tools("docker-registry", "skopeo", "umoci", "htpasswd")
    ca = make_ca()
    registry = start_registry(tmp_path_factory.mktemp("reg-tls"), tls=issue_cert(ca), ca=ca,
                              htpasswd_users={USER: PASSWORD})
    yield registry
    registry.stop()


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    _require_tools("docker-registry", "skopeo", "umoci")
    server = TokenServer(make_ca("nfd-test-token-signer"), {USER: PASSWORD})
    registry = start_registry(tmp_path_factory.mktemp("reg-token"), token_server=server)
    registry.users[USER] = PASSWORD
    yield registry
    registry.stop()


PushImage = Callable[..., str]


@pytest.fixture(scope="session")
def push(image_layout: Path) -> PushImage:
    """``push(registry, tag="amd64"|"arm64"|"multi", repo=None) -> "host/repo:v1"``;
    each call without ``repo`` gets a fresh repository, so tests do not see each other."""

    def _push(registry: Registry, tag: str = "amd64", repo: str | None = None) -> str:
        repo = repo or f"test/img{next(_counter)}"
        creds = (USER, registry.users[USER]) if registry.users else None
        push_image(image_layout, tag, registry, f"{repo}:v1", creds)
        return f"{registry.host}/{repo}:v1"

    return _push


@pytest.fixture(scope="session")
def plain_multi(plain_registry: Registry, push: PushImage) -> str:
    """A two-platform image (linux/amd64, linux/arm64) on the plain registry, shared."""
    return push(plain_registry, "multi", "shared/multi")


@pytest.fixture
def fake_registry() -> Iterator[FakeRegistry]:
    server = FakeRegistry()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def referrers_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry with the native Referrers API (go-containerregistry's, a real peer)."""
    from tests._peers import start_referrers_registry

    _require_tools("skopeo", "umoci")
    registry = start_referrers_registry(tmp_path_factory.mktemp("reg-referrers"))
    yield registry
    registry.stop()


@pytest.fixture(params=["tag-schema", "referrers-api"])
def both_registries(request: pytest.FixtureRequest) -> Registry:
    """Each kind of registry in turn: Debian's docker-registry (distribution 2.8, which keeps
    referrers in the ``sha256-<hex>`` tag schema) and one that serves the Referrers API."""
    name = "plain_registry" if request.param == "tag-schema" else "referrers_registry"
    registry: Registry = request.getfixturevalue(name)
    return registry
