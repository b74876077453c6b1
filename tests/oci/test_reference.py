"""References are normalised like Docker's (distribution/reference)."""

from __future__ import annotations

import pytest

from nfd.errors import UsageError
from nfd.oci import Reference

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(("text", "expected"), [
    ("ubuntu", "docker.io/library/ubuntu:latest"),
    ("ubuntu:22.04", "docker.io/library/ubuntu:22.04"),
    ("user/app", "docker.io/user/app:latest"),
    ("index.docker.io/library/ubuntu", "docker.io/library/ubuntu:latest"),
    ("localhost/app", "localhost/app:latest"),
    ("localhost:5000/app:v1", "localhost:5000/app:v1"),
    ("127.0.0.1:5000/team/app:v1", "127.0.0.1:5000/team/app:v1"),
    ("quay.io/org/app", "quay.io/org/app:latest"),
    (f"ghcr.io/org/app@{DIGEST}", f"ghcr.io/org/app@{DIGEST}"),
    (f"ghcr.io/org/app:v1@{DIGEST}", f"ghcr.io/org/app:v1@{DIGEST}"),
    ("[::1]:5000/app", "[::1]:5000/app:latest"),
])
def test_normalised_like_docker(text: str, expected: str) -> None:
    assert str(Reference.parse(text)) == expected


def test_parts_and_api_host() -> None:
    ref = Reference.parse(f"myreg.example:8443/a/b/c:tag@{DIGEST}")
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        "myreg.example:8443", "a/b/c", "tag", DIGEST)
    assert ref.reference == DIGEST  # the digest wins over the tag
    assert Reference.parse("ubuntu").api_host == "registry-1.docker.io"
    assert ref.api_host == "myreg.example:8443"


@pytest.mark.parametrize(("text", "loopback"), [
    ("localhost:5000/a", True), ("127.0.0.1:5000/a", True), ("[::1]:5000/a", True),
    ("127.1.2.3/a", True), ("example.com/a", False), ("10.0.0.1:5000/a", False),
])
def test_loopback(text: str, loopback: bool) -> None:
    assert Reference.parse(text).is_loopback is loopback


@pytest.mark.parametrize(("text", "fragment"), [
    ("", "empty"),
    ("Ubuntu", "lower case"),
    ("example.com/App:v1", "lower case"),
    ("team//app", "bad repository component"),
    ("app:bad/tag", "bad registry host"),
    ("app:" + "x" * 129, "bad tag"),
    ("app@sha256:1234", "bad digest"),
    ("app@md5:" + "a" * 32, "bad digest"),
    ("exa_mple.com:5000/app", "bad registry host"),
    (" app", "spaces"),
])
def test_invalid_references_are_named(text: str, fragment: str) -> None:
    with pytest.raises(UsageError) as info:
        Reference.parse(text)
    assert fragment in str(info.value)
    assert repr(text) in str(info.value)
