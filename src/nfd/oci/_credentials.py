"""Registry credentials: explicit options, Docker/Podman auth files, credential helpers.

Search order (Podman's, which includes Docker's file): ``REGISTRY_AUTH_FILE``, else
``$XDG_RUNTIME_DIR/containers/auth.json``; then ``~/.config/containers/auth.json``;
then ``$DOCKER_CONFIG/config.json`` (default ``~/.docker/config.json``). In each file,
``credHelpers[host]`` wins, then ``auths`` (most specific ``host/namespace`` key first),
then ``credsStore``. Helpers are the ``docker-credential-<name>`` programs speaking
the docker-credential-helpers protocol (``get`` with the server URL on stdin).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence

from nfd._io import read_bounded
from nfd._lazy import TYPE_CHECKING
from nfd._record import FrozenRecord, set_field
from nfd.errors import AuthError
from nfd.oci._reference import DOCKER_HUB

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

# Docker stores Hub credentials under its v1 URL.
_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")
HELPER_TIMEOUT = 30.0
MAX_AUTH_FILE_BYTES = 4 * 1024 * 1024


class Credential(FrozenRecord):
    """What to authenticate with; secrets stay out of ``repr``.

    ``refresh_token`` is an OAuth2 identity token (Docker's ``identitytoken``);
    ``access_token`` is a ready bearer token sent as is (``--registry-token-stdin``).
    """

    __slots__ = ("access_token", "origin", "password", "refresh_token", "username")
    _unshown = ("password", "refresh_token", "access_token")
    username: str | None
    password: str | None
    refresh_token: str | None
    access_token: str | None
    origin: str

    def __init__(
        self,
        username: str | None = None,
        password: str | None = None,
        refresh_token: str | None = None,
        access_token: str | None = None,
        origin: str = "options",
    ) -> None:
        set_field(self, "username", username)
        set_field(self, "password", password)
        set_field(self, "refresh_token", refresh_token)
        set_field(self, "access_token", access_token)
        set_field(self, "origin", origin)

    @property
    def has_basic(self) -> bool:
        return bool(self.username) and self.password is not None


ANONYMOUS = Credential(origin="anonymous")


def auth_file_candidates(env: Mapping[str, str]) -> list[Path]:
    """The auth files to look in, in order of precedence."""
    from pathlib import Path

    return [Path(name) for name in _candidate_names(env)]


def _candidate_names(env: Mapping[str, str]) -> list[str]:
    # os.path rather than pathlib: a registry command's cold start does not import it.
    join = os.path.join
    home = env.get("HOME") or os.path.expanduser("~")  # Path.home()
    files: list[str] = []
    if env.get("REGISTRY_AUTH_FILE"):
        files.append(env["REGISTRY_AUTH_FILE"])
    elif env.get("XDG_RUNTIME_DIR"):
        files.append(join(env["XDG_RUNTIME_DIR"], "containers", "auth.json"))
    files.append(join(home, ".config", "containers", "auth.json"))
    files.append(join(env.get("DOCKER_CONFIG") or join(home, ".docker"), "config.json"))
    return files


def find_credential(
    registry: str, repository: str, env: Mapping[str, str] | None = None,
    *, files: Sequence[str | os.PathLike[str]] | None = None,
) -> Credential:
    """Credentials for ``registry/repository`` from the auth files (``files``, else the
    usual search), else :data:`ANONYMOUS`."""
    env = os.environ if env is None else env
    for path in _candidate_names(env) if files is None else files:
        config = _read_auth_file(path)
        if config is None:
            continue
        found = _from_config(config, path, registry, repository, env)
        if found is not None:
            return found
    return ANONYMOUS


def _read_auth_file(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    try:
        raw = read_bounded(path, MAX_AUTH_FILE_BYTES)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AuthError(f"cannot read auth file {path}: {exc.strerror or exc}") from exc
    if len(raw) > MAX_AUTH_FILE_BYTES:
        raise AuthError(f"auth file {path} is over {MAX_AUTH_FILE_BYTES} bytes")
    if not raw.strip():
        return None
    try:
        obj = json.loads(raw)
    except ValueError as exc:
        raise AuthError(f"auth file {path} is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise AuthError(f"auth file {path}: top level is not a JSON object")
    return obj


def _registry_keys(registry: str) -> tuple[str, ...]:
    return _HUB_KEYS if registry == DOCKER_HUB else (registry,)


def _from_config(
    config: dict[str, Any], path: str | os.PathLike[str], registry: str, repository: str,
    env: Mapping[str, str],
) -> Credential | None:
    helpers = config.get("credHelpers")
    if isinstance(helpers, dict):
        for key in _registry_keys(registry):
            helper = helpers.get(key)
            if isinstance(helper, str) and helper:
                return run_credential_helper(helper, _helper_server(registry), env)
    auths = config.get("auths")
    if isinstance(auths, dict):
        entry_key = _best_auth_key(auths, registry, repository)
        if entry_key is not None:
            found = _from_auth_entry(auths[entry_key], path, entry_key)
            if found is not None:
                return found
    store = config.get("credsStore")
    if isinstance(store, str) and store:
        return run_credential_helper(store, _helper_server(registry), env, missing_ok=True)
    return None


def _helper_server(registry: str) -> str:
    return _HUB_KEYS[0] if registry == DOCKER_HUB else registry


def _normalise_key(key: str) -> str:
    """``https://host/v2/`` and ``host`` name the same registry in an auths map."""
    for prefix in ("https://", "http://"):
        if key.startswith(prefix):
            key = key[len(prefix) :]
    key = key.rstrip("/")
    for suffix in ("/v1", "/v2"):
        if key.endswith(suffix):
            key = key[: -len(suffix)]
    return "docker.io" if key in ("index.docker.io", "registry-1.docker.io") else key


def _best_auth_key(auths: dict[str, Any], registry: str, repository: str) -> str | None:
    """The most specific key of ``auths`` that covers ``registry/repository`` (Podman rule)."""
    wanted = f"{registry}/{repository}"
    best: tuple[int, str] | None = None
    for key in auths:
        norm = _normalise_key(key)
        covering = norm in (wanted, registry) or wanted.startswith(norm + "/")
        if covering and (best is None or len(norm) > best[0]):
            best = (len(norm), key)
    return best[1] if best else None


def _from_auth_entry(entry: Any, path: str | os.PathLike[str], key: str) -> Credential | None:
    if not isinstance(entry, dict):
        return None
    origin = f"{path} ({key})"
    token = entry.get("identitytoken")
    username, password = entry.get("username"), entry.get("password")
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        import base64  # only with an auth file's entry: most pulls have none
        import binascii

        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise AuthError(
                f"auth file {path}: entry {key!r} has an invalid 'auth' value"
            ) from None
        username, sep, password = decoded.partition(":")
        if not sep:
            raise AuthError(f"auth file {path}: entry {key!r}: 'auth' is not user:password")
    if isinstance(token, str) and token:
        return Credential(username or None, None, refresh_token=token, origin=origin)
    if isinstance(username, str) and username and isinstance(password, str):
        return Credential(username, password, origin=origin)
    return None


def run_credential_helper(
    name: str, server: str, env: Mapping[str, str], *, missing_ok: bool = False
) -> Credential | None:
    """Ask ``docker-credential-<name> get`` for ``server``'s credentials."""
    import subprocess  # only when a helper is configured

    program = f"docker-credential-{name}"
    try:
        done = subprocess.run(
            [program, "get"],
            input=server.encode(),
            capture_output=True,
            timeout=HELPER_TIMEOUT,
            env=dict(env),
            check=False,
        )
    except FileNotFoundError:
        raise AuthError(f"credential helper {program} not found on PATH") from None
    except subprocess.TimeoutExpired:
        raise AuthError(
            f"credential helper {program} timed out after {HELPER_TIMEOUT:g}s"
        ) from None
    except OSError as exc:
        raise AuthError(f"credential helper {program} failed: {exc.strerror or exc}") from None
    if done.returncode != 0:
        # The protocol says "credentials not found in native keychain" on stdout.
        message = (done.stdout or done.stderr).decode(errors="replace").strip()
        if "credentials not found" in message.lower():
            return None if missing_ok else ANONYMOUS
        raise AuthError(f"credential helper {program} failed: {message.splitlines()[0][:200]}"
                        if message else f"credential helper {program} failed")
    try:
        reply = json.loads(done.stdout)
        username, secret = reply["Username"], reply["Secret"]
        if not isinstance(username, str) or not isinstance(secret, str):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise AuthError(f"credential helper {program} gave an unreadable answer") from None
    origin = f"credential helper {program}"
    if username == "<token>":  # the protocol's marker for an identity token
        return Credential(None, None, refresh_token=secret, origin=origin)
    return Credential(username, secret, origin=origin)
