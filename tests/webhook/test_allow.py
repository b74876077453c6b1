"""The --allow-registry grammar: exact hosts, ports and repository prefixes, no globbing."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nfd.errors import UsageError
from nfd.oci import Reference
from nfd.webhook import AllowList


def _allows(pattern: str, image: str) -> bool:
    return AllowList.parse([pattern]).allows(Reference.parse(image))


@pytest.mark.parametrize(("pattern", "image", "allowed"), [
    # IPv6: an address, not a character class; with and without a port.
    ("[fd00::1]:5000", "[fd00::1]:5000/app:v1", True),
    ("[fd00::1]:5000", "d:5000/app:v1", False),
    ("[fd00::1]:5000", "f:5000/app:v1", False),
    ("[fd00::1]:5000", "[fd00::1]:5001/app:v1", False),
    ("[fd00::1]:5000", "[fd00::1]/app:v1", False),
    ("[fd00::1]", "[fd00::1]/app:v1", True),
    ("[fd00::1]", "[fd00::1]:5000/app:v1", False),
    ("[FD00:0::1]", "[fd00::1]/app:v1", True),  # compared as addresses
    ("[fd00::1]", "[fd00::2]/app:v1", False),
    ("[fd00::1]:*", "[fd00::1]:6000/app:v1", True),
    # IPv4 and ports.
    ("10.1.2.3", "10.1.2.3/app", True),
    ("10.1.2.3", "10.1.2.30/app", False),
    ("10.1.2.3:5000", "10.1.2.3:5000/app", True),
    ("10.1.2.3:5000", "10.1.2.3/app", False),
    ("127.0.0.1:*", "169.254.169.254/latest", False),
    # Names: case-insensitive, whole labels, no trailing-dot tricks.
    ("registry.example.com", "REGISTRY.Example.COM/app", True),
    ("Registry.Example.com", "registry.example.com/app", True),
    ("example.com", "evil.example.com.attacker/app", False),
    ("example.com", "example.com.attacker/app", False),
    ("example.com", "evilexample.com/app", False),
    ("*.example.com", "a.b.example.com/app", True),
    ("*.example.com", "example.com/app", False),
    ("*.example.com", "evil.example.com.attacker/app", False),
    ("*.example.com", "evilexample.com/app", False),
    ("*.example.com", "a.example.com:5000/app", False),
    # Repository paths: exact, or strictly below a prefix with "/*".
    ("ghcr.io/acme/app", "ghcr.io/acme/app:v1", True),
    ("ghcr.io/acme/app", "ghcr.io/acme/app2:v1", False),
    ("ghcr.io/acme/app", "ghcr.io/acme/app/sub:v1", False),
    ("ghcr.io/acme/*", "ghcr.io/acme/team/app:v1", True),
    ("ghcr.io/acme/*", "ghcr.io/acme:v1", False),
    ("ghcr.io/acme/*", "ghcr.io/acme-evil/app:v1", False),
    ("ghcr.io/*", "ghcr.io/anything/at/all", True),
    ("docker.io/library/*", "nginx:1.25", True),
    ("index.docker.io", "ubuntu", True),
])
def test_patterns(pattern: str, image: str, allowed: bool) -> None:
    assert _allows(pattern, image) is allowed


@pytest.mark.parametrize("image", ["example.com./app", "[fd00::1/app"])
def test_references_the_grammar_refuses_are_never_allowed(image: str) -> None:
    with pytest.raises(UsageError):
        Reference.parse(image)


@pytest.mark.parametrize("image", ["[::::]:5000/app", "999.1.1.1/app", "1.2.3/app",
                                   "0x7f.0.0.1/app", "registry.example.com:99999/app"])
def test_hosts_that_are_no_address_never_match(image: str) -> None:
    allow = AllowList.parse(["*.example.com", "*.0x7f", "127.0.0.1:*", "[::1]:*"])
    assert not allow.allows(Reference.parse(image))


@pytest.mark.parametrize(("pattern", "why"), [
    ("", "empty"), ("ghcr.io ", "spaces"), ("example.com.", "ends with a dot"),
    ("*", "leading label"), ("*example.com", "leading label"), ("a.*.com", "leading label"),
    ("[fd00::1", "unclosed"), ("[fd00::g]:5000", "not an IPv6"), ("[fd00::1]x", "unexpected"),
    ("fd00::1:5000", "port"), ("host:0", "port"), ("host:65536", "port"), ("host:5x", "port"),
    ("*.10.0.0.1", "IPv4"), ("300.1.1.1", "not an IPv4"), ("1.2.3", "neither"),
    ("ghcr.io/", "nothing after"), ("ghcr.io/Acme", "component"), ("ghcr.io/a*", "component"),
    ("ghcr.io/*/app", "component"), ("ghcr.io/a//b", "component"), ("[a-z]", "not an IPv6"),
    ("?.example.com", "DNS name"), ("exa_mple.com", "DNS name"),
])
def test_invalid_patterns_are_usage_errors(pattern: str, why: str) -> None:
    with pytest.raises(UsageError, match=why):
        AllowList.parse([pattern])


@given(st.text(max_size=30))
def test_any_pattern_text_parses_or_is_a_usage_error(text: str) -> None:
    try:
        allow = AllowList.parse([text])
    except UsageError:
        return
    assert allow.patterns[0].text == text


@pytest.mark.parametrize("command", ["serve", "manifests"])
def test_an_invalid_pattern_stops_the_command_with_a_usage_error(command: str,
                                                                 tmp_path: Path) -> None:
    from tests._cli import nfd

    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")  # never read as a certificate
    flags = (["--tls-cert-file", "unused.crt", "--tls-key-file", "unused.key"]
             if command == "serve" else ["--ca-bundle", str(bundle)])
    done = nfd("compat", "webhook", command, *flags, "--allow-registry", "ghcr.io",
               "--allow-registry", "[fd00::1:5000")
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "'[fd00::1:5000'" in done.stderr
    assert "unclosed" in done.stderr and "Traceback" not in done.stderr
