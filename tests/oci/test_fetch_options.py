"""What a server calling :func:`nfd.compat.fetch_compat_spec_bytes` needs (the admission webhook):
its own deadline over the whole fetch, and a credentials file of its own."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from tests.oci._fake_registry import FakeRegistry, Handler
from tests.oci._registry import Registry
from tests.oci._specs import spec_text
from tests.oci.conftest import PASSWORD, USER, PushImage

from nfd.compat import attach_compat_spec, fetch_compat_spec_bytes
from nfd.errors import AuthError, RegistryError, UsageError
from nfd.oci import RegistryOptions

STEP_SECONDS = 0.5


def _image(server: FakeRegistry) -> str:
    config = server.put_blob("app", b"{}")
    server.put_manifest("app", {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config, "size": 2}, "layers": []}, tag="v1")
    image = f"{server.host}/app:v1"
    attach_compat_spec(image, spec_text("deadline"), RegistryOptions(plain_http=True,
                                                                     use_auth_files=False))
    return image


def _slow_steps(handler: Handler) -> bool:
    """Every read answers, but only after a pause: a fetch (about four reads) takes ~2 s."""
    if handler.command == "GET":
        time.sleep(STEP_SECONDS)
    return False


def test_the_deadline_bounds_the_whole_fetch(fake_registry: FakeRegistry) -> None:
    image = _image(fake_registry)
    fake_registry.fault = _slow_steps
    roomy = RegistryOptions(plain_http=True, use_auth_files=False, timeout=30)
    assert fetch_compat_spec_bytes(image, roomy).spec_bytes == spec_text("deadline")  # the control
    started = time.monotonic()
    tight = RegistryOptions(plain_http=True, use_auth_files=False, timeout=30,
                            deadline=started + 3 * STEP_SECONDS)
    with pytest.raises(RegistryError, match="timed out"):
        fetch_compat_spec_bytes(image, tight)
    assert time.monotonic() - started < 5 * STEP_SECONDS


def _auth_file(path: Path, host: str, user: str, password: str) -> Path:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    path.write_text(json.dumps({"auths": {host: {"auth": token}}}))
    return path


def test_auth_file_is_the_one_read(tls_registry: Registry, push: PushImage, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    image = push(tls_registry)
    ca = str(tls_registry.ca_file)
    attach_compat_spec(image, spec_text("auth-file"), RegistryOptions(
        ca_file=ca, username=USER, password=PASSWORD, use_auth_files=False))
    # The usual search would find wrong credentials; the named file has the right ones.
    wrong = _auth_file(tmp_path / "wrong.json", tls_registry.host, USER, "wrong")
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(wrong))
    with pytest.raises(AuthError):
        fetch_compat_spec_bytes(image, RegistryOptions(ca_file=ca))
    right = _auth_file(tmp_path / "right.json", tls_registry.host, USER, PASSWORD)
    fetched = fetch_compat_spec_bytes(image, RegistryOptions(ca_file=ca, auth_file=str(right)))
    assert fetched.spec_bytes == spec_text("auth-file")
    # A named file that is not there is an error, not a silent anonymous pull.
    with pytest.raises(UsageError, match="`auth_file`") as info:
        fetch_compat_spec_bytes(image, RegistryOptions(ca_file=ca,
                                                       auth_file=str(tmp_path / "none")))
    assert info.value.arguments == ("auth_file",)
