"""Platform parsing (NFD's --platform) and selection in an index."""

from __future__ import annotations

import os

import pytest

from nfd.errors import UsageError
from nfd.oci import Platform, host_platform, select_platform

# uname -m -> (GOARCH, variant), written out here rather than taken from the code under test.
UNAME_TO_GO = {"x86_64": ("amd64", None), "aarch64": ("arm64", None), "arm64": ("arm64", None),
               "armv7l": ("arm", "v7"), "armv6l": ("arm", "v6"), "i686": ("386", None),
               "ppc64le": ("ppc64le", None), "s390x": ("s390x", None),
               "riscv64": ("riscv64", None)}


def _entry(arch: str, variant: str | None = None, os: str = "linux") -> dict[str, object]:
    platform = {"os": os, "architecture": arch, **({"variant": variant} if variant else {})}
    return {"mediaType": "m", "digest": f"d-{arch}-{variant}", "size": 1, "platform": platform}


def test_parse_forms() -> None:
    assert Platform.parse("linux/arm64") == Platform("linux", "arm64")
    assert Platform.parse("linux/arm/v7") == Platform("linux", "arm", "v7")
    assert Platform.parse("windows/amd64:10.0.17763") == Platform(
        "windows", "amd64", None, "10.0.17763")
    arch, _ = UNAME_TO_GO[os.uname().machine]
    assert Platform.parse("linux").architecture == arch  # no arch: this host's
    assert str(Platform.parse("linux/arm/v6")) == "linux/arm/v6"


@pytest.mark.parametrize("text", ["/amd64", "linux/", "a/b/c/d", "bogus", "bogus/amd64",
                                  "linux/bogus", "linux/amd 64", "linux/amd64/v@", "x" * 51,
                                  "linux/*"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="invalid platform"):
        Platform.parse(text)


def test_one_word_is_an_os_else_an_architecture() -> None:
    host = host_platform()
    assert Platform.parse("arm64") == Platform(host.os, "arm64")
    assert Platform.parse("aarch64") == Platform(host.os, "arm64")
    assert Platform.parse("windows").os == "windows"
    assert Platform.parse("linux/x86_64") == Platform("linux", "amd64")
    with pytest.raises(UsageError, match="unknown operating system or architecture"):
        Platform.parse("bogus")


def test_select_by_os_arch_and_variant() -> None:
    entries = [_entry("amd64"), _entry("arm", "v6"), _entry("arm", "v7"), _entry("arm64")]
    assert select_platform(entries, Platform("linux", "amd64")) is entries[0]
    assert select_platform(entries, Platform("linux", "arm", "v7")) is entries[2]
    # arm64's default variant v8 may be omitted in the index
    assert select_platform(entries, Platform("linux", "arm64", "v8")) is entries[3]
    assert select_platform(entries, Platform("linux", "s390x")) is None
    assert select_platform(entries, Platform("windows", "amd64")) is None


def test_host_platform_is_go_spelling() -> None:
    host = host_platform()
    assert host.os == "linux"
    assert (host.architecture, host.variant) == UNAME_TO_GO[os.uname().machine]


@pytest.mark.parametrize(("machine", "go"), [
    ("x86_64", "linux/amd64"), ("aarch64", "linux/arm64"), ("armv7l", "linux/arm/v7"),
])
def test_missing_arch_is_the_hosts_in_go_spelling(machine: str, go: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # platform.machine() is os.uname().machine on POSIX, read without importing platform.
    uname = os.uname_result(("Linux", "node", "6.1", "#1", machine))
    monkeypatch.setattr(os, "uname", lambda: uname)
    assert str(Platform.parse("linux")) == go
