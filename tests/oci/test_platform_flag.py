"""``--platform`` as a flag: a bad one is exit 2 before any network call, and every
command's help says what it really defaults to."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests._cli import assert_one_line_error, nfd
from tests.oci._fake_registry import FakeRegistry

from nfd.oci import host_platform

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("command", [["list"], ["get-spec"], ["remove-spec", "--all"],
                                     ["validate-node"], ["validate-spec"]])
def test_bogus_platform_is_a_usage_error_before_any_request(
        fake_registry: FakeRegistry, command: list[str]) -> None:
    image = f"{fake_registry.host}/app:v1"
    proc = nfd("compat", *command, "--image", image, "--plain-http", "--platform", "bogus")
    assert_one_line_error(proc, 2, "invalid platform 'bogus'", "unknown operating system")
    assert fake_registry.log == []
    if command == ["list"]:  # the control: a good platform does reach the registry
        nfd("compat", *command, "--image", image, "--plain-http", "--platform", "linux/amd64")
        assert fake_registry.log


def test_bogus_platform_with_a_spec_file_is_refused_too() -> None:
    proc = nfd("compat", "validate-node", "--spec", str(EXAMPLES / "image-compatibility.yaml"),
               "--features", str(EXAMPLES / "features-h100.json"), "--platform", "linux/bogus")
    assert_one_line_error(proc, 2, "unknown architecture 'bogus'")


def test_job_refuses_a_bogus_platform_before_writing_the_job() -> None:
    proc = nfd("compat", "job", "--image", "registry.example/app:v1", "--node", "n1",
               "--platform", "bogus")
    assert_one_line_error(proc, 2, "invalid platform 'bogus'")
    assert proc.stdout == ""


def test_help_says_what_platform_defaults_to() -> None:
    attach = " ".join(nfd("compat", "attach-spec", "--help").stdout.split())
    assert "default: none: attach to what --image names" in attach
    listing = " ".join(nfd("compat", "list", "--help").stdout.split())
    assert f"default: this host's, {host_platform()}" in listing
