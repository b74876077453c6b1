"""Credentials from Docker/Podman auth files and docker-credential-* helpers."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from nfd.errors import AuthError
from nfd.oci import find_credential


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(tmp_path), "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", **extra}


def _write(path: Path, obj: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))
    return path


def test_docker_config_auths(tmp_path: Path) -> None:
    _write(tmp_path / ".docker/config.json", {"auths": {
        "reg.example:5000": {"auth": _b64("alice:pw")},
        "https://index.docker.io/v1/": {"auth": _b64("hub:hubpw")}}})
    env = _env(tmp_path)
    cred = find_credential("reg.example:5000", "app", env)
    assert (cred.username, cred.password) == ("alice", "pw")
    assert find_credential("docker.io", "library/ubuntu", env).username == "hub"
    assert find_credential("other.example", "app", env).username is None
    assert "pw" not in repr(cred)


def test_precedence_and_namespaces(tmp_path: Path) -> None:
    _write(tmp_path / ".docker/config.json", {"auths": {"reg": {"auth": _b64("docker:a")}}})
    podman = _write(tmp_path / "auth.json", {"auths": {
        "reg": {"auth": _b64("podman:b")}, "reg/team": {"auth": _b64("team:c")}}})
    env = _env(tmp_path, REGISTRY_AUTH_FILE=str(podman))
    assert find_credential("reg", "team/app", env).username == "team"  # most specific key
    assert find_credential("reg", "other/app", env).username == "podman"
    assert find_credential("reg", "x", _env(tmp_path)).username == "docker"
    _write(tmp_path / "dc" / "config.json", {"auths": {"reg": {"username": "u", "password": "p",
                                                              "identitytoken": ""}}})
    assert find_credential("reg", "x", _env(tmp_path, DOCKER_CONFIG=str(tmp_path / "dc"))
                           ).username == "u"


def _helper(tmp_path: Path, name: str, script: str) -> None:
    path = tmp_path / "bin" / f"docker-credential-{name}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_cred_helpers_and_store(tmp_path: Path) -> None:
    _helper(tmp_path, "fake", 'read server\n[ "$1" = get ] || exit 2\n'
            'if [ "$server" = "reg.example" ]; then\n'
            '  echo "{\\"ServerURL\\":\\"$server\\",\\"Username\\":\\"helper\\",'
            '\\"Secret\\":\\"s3\\"}"\nelse echo "credentials not found in native keychain"; '
            'exit 1; fi\n')
    _helper(tmp_path, "tok", 'read server\necho \'{"Username":"<token>","Secret":"idt"}\'\n')
    _write(tmp_path / ".docker/config.json", {"credsStore": "fake",
                                              "credHelpers": {"tok.example": "tok"}})
    env = _env(tmp_path)
    cred = find_credential("reg.example", "app", env)
    assert (cred.username, cred.password) == ("helper", "s3")
    assert find_credential("tok.example", "app", env).refresh_token == "idt"
    assert find_credential("nowhere.example", "app", env).username is None


def test_broken_auth_file_and_helper_are_reported(tmp_path: Path) -> None:
    _write(tmp_path / ".docker/config.json", {"credHelpers": {"reg": "missing"}})
    with pytest.raises(AuthError, match="docker-credential-missing not found"):
        find_credential("reg", "app", _env(tmp_path))
    (tmp_path / ".docker/config.json").write_text("{not json")
    with pytest.raises(AuthError, match="not valid JSON"):
        find_credential("reg", "app", _env(tmp_path))
