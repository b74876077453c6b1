"""The registries of ``tests/oci`` (Debian's docker-registry with the tag schema, and the
Referrers-API peer), and the real signing tools set up in a temporary home."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nfd.trust import clear_verification_cache
from tests.oci.conftest import (  # noqa: F401  (fixtures, shared with tests/oci)
    both_registries,
    image_layout,
    plain_registry,
    push,
    referrers_registry,
)
from tests.trust._signers import CosignSigner, NotationSigner, Pki


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """Each test sees its own verdicts, not a cached one of an earlier test."""
    clear_verification_cache()
    yield
    clear_verification_cache()


@pytest.fixture(scope="session")
def pki() -> Pki:
    return Pki()


@pytest.fixture(scope="session")
def notation(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> NotationSigner:
    """Notation with the key ``trusted`` (a leaf of ``pki``) and a strict trust policy
    trusting ``pki``'s root for any identity; ``.policy`` is the policy file."""
    signer = NotationSigner(tmp_path_factory.mktemp("notation-home"))
    key, cert = pki.leaf()
    signer.add_key("trusted", key, [cert, pki.cert])
    stranger = Pki("stranger-root")
    other_key, other_cert = stranger.leaf()
    signer.add_key("stranger", other_key, [other_cert, stranger.cert])
    signer.policy = signer.trust("nfd", pki.cert)
    return signer


@pytest.fixture(scope="session")
def cosign(tmp_path_factory: pytest.TempPathFactory) -> CosignSigner:
    return CosignSigner(tmp_path_factory.mktemp("cosign-keys"))


@pytest.fixture(scope="session")
def cosign_stranger(tmp_path_factory: pytest.TempPathFactory) -> CosignSigner:
    return CosignSigner(tmp_path_factory.mktemp("cosign-stranger"))


@pytest.fixture(scope="session")
def policy_dir(notation: NotationSigner) -> Path:
    return notation.config
