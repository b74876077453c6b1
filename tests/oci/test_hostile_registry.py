"""A hostile registry never crashes, hangs or robs the client.

Arbitrary (but digest-consistent) documents give a spec or a typed error; network
attacks (trickled headers, endless bodies in the auth flow, token servers that never
finish, echoed secrets, terminal controls, bad Link URLs, endless referrers pages,
foreign token realms) each end in a one-line error within their deadline.
"""

from __future__ import annotations

import base64
import copy
import json
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests._cli import assert_one_line_error, nfd
from tests.oci._fake_registry import (
    FakeRegistry,
    Handler,
    image_with_artifact,
    send_endless,
    sha256,
    trickle,
)

from nfd.api import ARTIFACT_TYPE, SPEC_MEDIA_TYPE
from nfd.compat import fetch_compat_spec_bytes
from nfd.errors import AuthError, NfdError, RegistryError, TooLargeError, UsageError
from nfd.oci import RegistryOptions, fallback_tag

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
EMPTY = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
JUNK: list[Any] = [None, 1, -1, 2**70, 1.5, True, "", "x", "sha256:zz", [], {}, [None],
                   {"a": None}, "application/vnd.oci.image.index.v1+json"]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeRegistry]:
    registry = FakeRegistry(referrers_api=False)
    yield registry
    registry.stop()


def _mutate(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(0, 3)):
        parents: list[Any] = [doc]
        node: Any = doc
        while isinstance(node, (dict, list)) and node and rng.random() < 0.6:
            key = rng.choice(list(node) if isinstance(node, dict) else range(len(node)))
            parents.append((node, key))
            node = node[key]
        if len(parents) > 1:
            container, key = parents[-1]
            container[key] = copy.deepcopy(rng.choice(JUNK))
    return doc


def _size(obj: dict[str, Any]) -> int:
    return len(json.dumps(obj).encode())  # what FakeRegistry.put_manifest stores


def _publish(server: FakeRegistry, repo: str, mutate: Any,
             spec: bytes = b"version: v1alpha1\ncompatibilities: [{rules: []}]\n",
             ) -> tuple[str, str]:
    """An image, its artifact (holding ``spec``) and the fallback index, each passed
    through ``mutate``; written straight into the registry, as another tool would."""
    config = server.put_blob(repo, b"{}")
    image = mutate({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                               "digest": config, "size": 2}, "layers": []})
    subject = server.put_manifest(repo, image, tag="v1")
    layer = server.put_blob(repo, spec)
    server.put_blob(repo, b"{}")
    artifact = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": ARTIFACT_TYPE,
                "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": EMPTY,
                           "size": 2},
                "layers": [{"mediaType": SPEC_MEDIA_TYPE, "digest": layer, "size": len(spec)}],
                "subject": {"mediaType": OCI_MANIFEST, "digest": subject,
                            "size": _size(image)},
                "annotations": {"org.opencontainers.image.created": "2026-01-01T00:00:00Z"}}
    artifact = mutate(artifact)
    artifact_digest = server.put_manifest(repo, artifact)
    index = mutate({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": artifact_digest, "size": _size(artifact),
         "artifactType": ARTIFACT_TYPE}]})
    server.put_manifest(repo, index, tag=fallback_tag(subject), media_type=OCI_INDEX)
    return f"{server.host}/{repo}:v1", layer


OPTIONS = RegistryOptions(plain_http=True, timeout=5, retries=0, use_auth_files=False)


def test_well_formed_documents_give_the_spec(server: FakeRegistry) -> None:
    image, layer = _publish(server, "wellformed", lambda doc: doc)
    assert sha256(fetch_compat_spec_bytes(image, OPTIONS).spec_bytes) == layer


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.randoms(use_true_random=False), st.integers(0, 10**9))
def test_arbitrary_documents_give_a_spec_or_a_typed_error(server: FakeRegistry,
                                                          rng: random.Random, n: int) -> None:
    image, layer = _publish(server, f"hostile{n}", lambda doc: _mutate(doc, rng))
    try:
        fetched = fetch_compat_spec_bytes(image, OPTIONS)
    except NfdError:
        return
    assert sha256(fetched.spec_bytes) == layer


# -- network attacks: every one ends in a typed error (CLI: one line, exit 2/3) in time --

ATTACK_TIMEOUT = 1.5
SECRET = "hunter2-Zq9"


def _attacked(handler_fault: Any) -> Iterator[FakeRegistry]:
    registry = FakeRegistry(referrers_api=False)
    registry.fault = handler_fault
    try:
        yield registry
    finally:
        registry.stop()


def _options(**extra: Any) -> RegistryOptions:
    settings: dict[str, Any] = {"plain_http": True, "use_auth_files": False,
                                "timeout": ATTACK_TIMEOUT, "retries": 0}
    return RegistryOptions(**{**settings, **extra})


def _within(seconds: float) -> Any:
    class Clocked:
        def __enter__(self) -> None:
            self.started = time.monotonic()

        def __exit__(self, *exc: object) -> None:
            assert time.monotonic() - self.started < seconds

    return Clocked()


def test_trickled_headers_stop_at_the_deadline() -> None:
    def slow_headers(handler: Handler) -> bool:
        trickle(handler, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" * 50, 0.1)
        return True

    for registry in _attacked(slow_headers):
        with _within(ATTACK_TIMEOUT + 2), pytest.raises(RegistryError, match="timed out"):
            fetch_compat_spec_bytes(f"{registry.host}/app:v1", _options())


def test_endless_401_body_in_the_auth_flow_is_cut() -> None:
    def endless_401(handler: Handler) -> bool:
        send_endless(handler, 401, {"WWW-Authenticate": 'Basic realm="x"'})
        return True

    # Only the start of an error body is read (64 KiB), inside the auth flow as after it:
    # the endless body is cut there and the 401 stands.
    for registry in _attacked(endless_401):
        with _within(ATTACK_TIMEOUT + 2), \
                pytest.raises(AuthError, match=r"unauthorized \(401\): user bob"):
            fetch_compat_spec_bytes(f"{registry.host}/app:v1",
                              _options(username="bob", password=SECRET, timeout=20))


def _bearer(realm: str) -> Any:
    def challenge(handler: Handler) -> bool:
        if "/token" in handler.path:
            return False
        handler.reply(401, b"{}", {"WWW-Authenticate": f'Bearer realm="{realm}",'
                                                        'service="reg",scope="x"'})
        return True

    return challenge


@pytest.mark.parametrize("attack", ["endless", "trickle"])
def test_token_endpoint_that_never_finishes(attack: str) -> None:
    token_server = FakeRegistry()

    def token(handler: Handler) -> bool:
        if attack == "endless":
            send_endless(handler, 200, {"Content-Type": "application/json"})
        else:
            handler.send_response(200)
            handler.send_header("Content-Length", "100000")
            handler.end_headers()
            trickle(handler, b'{"token":"' + b"a" * 1000, 0.05)
        return True

    token_server.fault = token
    try:
        for registry in _attacked(_bearer(f"http://{token_server.host}/token")):
            with _within(ATTACK_TIMEOUT + 3), pytest.raises(RegistryError) as info:
                fetch_compat_spec_bytes(f"{registry.host}/app:v1", _options(timeout=20 if attack ==
                                                                      "endless" else 1.5))
            # An endless token reply is cut at the token bound (1 MiB).
            expected = "sent an answer over" if attack == "endless" else "timed out"
            assert expected in str(info.value)
    finally:
        token_server.stop()


def test_400_digit_expires_in_is_capped() -> None:
    token_server = FakeRegistry()

    def token(handler: Handler) -> bool:
        handler.reply(200, b'{"token":"tok","expires_in":' + b"9" * 400 + b"}",
                      {"Content-Type": "application/json"})
        return True

    token_server.fault = token
    registry = FakeRegistry(referrers_api=False)
    try:
        image = image_with_artifact(registry, _options(timeout=5))

        def needs_token(handler: Handler) -> bool:
            if handler.headers.get("Authorization") == "Bearer tok":
                return False
            return _bearer(f"http://{token_server.host}/token")(handler)

        registry.fault = needs_token
        fetched = fetch_compat_spec_bytes(image, _options(timeout=5))
        assert fetched.spec_bytes.startswith(b"version:")
    finally:
        registry.stop()
        token_server.stop()


def test_realm_on_another_host_gets_no_credentials_unless_trusted() -> None:
    token_server = FakeRegistry()
    seen: list[str | None] = []

    def token(handler: Handler) -> bool:
        seen.append(handler.headers.get("Authorization"))
        handler.reply(401, b"{}")
        return True

    token_server.fault = token
    # "localhost" is another host name than the registry's 127.0.0.1.
    realm = f"http://localhost:{token_server.port}/token"
    try:
        for registry in _attacked(_bearer(realm)):
            image = f"{registry.host}/app:v1"
            with pytest.raises(AuthError, match="none were sent"):
                fetch_compat_spec_bytes(image, _options(username="bob", password=SECRET))
            assert seen == [None]
            with pytest.raises(AuthError, match="refused the credentials"):
                fetch_compat_spec_bytes(image, _options(username="bob", password=SECRET,
                                                  token_hosts=(f"localhost:{token_server.port}",)))
            assert seen[1] is not None and seen[1].startswith("Basic ")
    finally:
        token_server.stop()


def test_credentials_never_go_over_plain_http_to_another_machine() -> None:
    realm = "http://auth.example.invalid/token"
    for registry in _attacked(_bearer(realm)):
        with pytest.raises(UsageError, match=r"plain HTTP to auth\.example\.invalid"):
            fetch_compat_spec_bytes(f"{registry.host}/app:v1",
                              _options(username="bob", password=SECRET,
                                       token_hosts=("auth.example.invalid",)))


def test_echoed_secrets_are_redacted() -> None:
    def echo(handler: Handler) -> bool:
        auth = handler.headers.get("Authorization") or ""
        decoded = base64.b64decode(auth.removeprefix("Basic ")).decode() if auth else ""
        message = f"denied: header {auth} means {decoded}; pass {SECRET} q={quote(SECRET)}"
        body = json.dumps({"errors": [{"code": "DENIED", "message": message}]}).encode()
        handler.reply(401 if not auth else 403, body, {"WWW-Authenticate": 'Basic realm="x"'})
        return True

    for registry in _attacked(echo):
        proc = nfd("compat", "get-spec", "--image", f"{registry.host}/app:v1", "--plain-http",
                   "--registry-username", "bob", "--registry-password-stdin",
                   stdin=SECRET + "\n")
        assert_one_line_error(proc, 3, "access denied (403)", "***")
        b64 = base64.b64encode(f"bob:{SECRET}".encode()).decode()
        for leaked in (SECRET, b64, quote(SECRET), f"bob:{SECRET}"):
            assert leaked not in proc.stderr


def test_terminal_controls_from_the_registry_are_stripped() -> None:
    def hostile(handler: Handler) -> bool:
        message = "\x1b]0;pwned\x07\x1b[2J\u202eevil\x9b31m"
        handler.reply(404, json.dumps({"errors": [{"code": "MANIFEST_UNKNOWN",
                                                   "message": message}]}).encode())
        return True

    for registry in _attacked(hostile):
        proc = nfd("compat", "get-spec", "--image", f"{registry.host}/app:v1", "--plain-http")
        assert_one_line_error(proc, 3, "not found (404)", "pwned", "evil")
        assert not any(ch in proc.stderr for ch in "\x1b\x07\u202e\x9b")


def test_malformed_link_url_is_a_registry_error() -> None:
    registry = FakeRegistry(referrers_api=True)
    try:
        image = image_with_artifact(registry)

        def bad_link(handler: Handler) -> bool:
            if "/referrers/" in handler.path:
                handler.reply(200, b'{"schemaVersion":2,"manifests":[]}',
                              {"Content-Type": OCI_INDEX,
                               "Link": '<http://[::1/x>; rel="next"'})
                return True
            return False

        registry.fault = bad_link
        proc = nfd("compat", "get-spec", "--image", image, "--plain-http")
        assert_one_line_error(proc, 3, "next-page Link is not a valid URL")
    finally:
        registry.stop()


def test_referrers_pagination_is_bounded_by_bytes() -> None:
    registry = FakeRegistry(referrers_api=True)
    served = [0]
    try:
        image = image_with_artifact(registry)
        filler = [{"mediaType": "x", "digest": "sha256:" + "0" * 64, "size": 1,
                   "annotations": {"pad": "p" * 900_000}}]

        def endless_pages(handler: Handler) -> bool:
            if "/referrers/" not in handler.path:
                return False
            body = json.dumps({"schemaVersion": 2, "manifests": filler}).encode()
            served[0] += len(body)
            handler.reply(200, body, {"Content-Type": OCI_INDEX, "Link":
                                      f'</v2/app/referrers/x?page={served[0]}>; rel="next"'})
            return True

        registry.fault = endless_pages
        with pytest.raises(TooLargeError, match="pages total over the 3000000-byte limit"):
            fetch_compat_spec_bytes(image, _options(timeout=10, max_referrers_bytes=3_000_000))
        assert served[0] < 5_000_000  # stopped after about 3 MB, not 100 pages
    finally:
        registry.stop()


def test_relative_redirect_after_the_https_fallback_stays_on_http() -> None:
    registry = FakeRegistry(referrers_api=False)
    try:
        image = image_with_artifact(registry)
        moved = [0]

        def relative_redirect(handler: Handler) -> bool:
            if handler.path.endswith("/manifests/v1"):
                moved[0] += 1
                handler.reply(307, b"", {"Location": "/v2/app/manifests/v1?moved=1"})
                return True
            return False

        registry.fault = relative_redirect
        # No plain_http: loopback first tries TLS, finds plain HTTP, falls back.
        options = RegistryOptions(use_auth_files=False, timeout=5)
        assert fetch_compat_spec_bytes(image, options).spec_bytes.startswith(b"version:")
        assert moved[0] == 1
    finally:
        registry.stop()


@pytest.mark.parametrize("value", ["inf", "1e308", "nan", "-1", "0"])
def test_unusable_timeouts_are_usage_errors(value: str) -> None:
    proc = nfd("compat", "get-spec", "--image", "127.0.0.1:9/app:v1", "--timeout", value)
    assert_one_line_error(proc, 2, "--timeout")


def test_endless_password_on_stdin_is_a_usage_error() -> None:
    with open("/dev/zero", "rb") as zero, _within(20):
        proc = subprocess.run([sys.executable, "-m", "nfd", "compat", "get-spec", "--image",
                               "127.0.0.1:9/app:v1", "--registry-username", "bob",
                               "--registry-password-stdin"], stdin=zero, capture_output=True,
                              text=True, timeout=30, check=False)
    assert_one_line_error(proc, 2, "registry secret on stdin is over")


def test_wrong_password_reads_differently_from_none() -> None:
    registry = FakeRegistry(referrers_api=False, username="bob", password=SECRET)
    try:
        image = f"{registry.host}/app:v1"
        none = nfd("compat", "get-spec", "--image", image, "--plain-http",
                   env={"HOME": "/nonexistent", "DOCKER_CONFIG": "/nonexistent",
                        "REGISTRY_AUTH_FILE": "/nonexistent/auth.json"})
        assert_one_line_error(none, 3, "no credentials were given", "--registry-username")
        wrong = nfd("compat", "get-spec", "--image", image, "--plain-http",
                    "--registry-username", "bob", "--registry-password-stdin", stdin="nope\n")
        assert_one_line_error(wrong, 3, "user bob (options) was refused")
        assert "--registry-username" not in wrong.stderr
    finally:
        registry.stop()


def test_secret_echoed_into_a_document_is_redacted_too() -> None:
    registry = FakeRegistry(referrers_api=True, username="bob", password=SECRET)
    try:
        image = image_with_artifact(registry, _options(username="bob", password=SECRET,
                                                       timeout=5))

        def echo_into_index(handler: Handler) -> bool:
            if "/referrers/" not in handler.path or not handler.headers.get("Authorization"):
                return False
            entry = {"mediaType": OCI_MANIFEST, "digest": f"sha256:{SECRET}", "size": 1}
            handler.reply(200, json.dumps({"schemaVersion": 2, "manifests": [entry]}).encode(),
                          {"Content-Type": OCI_INDEX})
            return True

        registry.fault = echo_into_index
        proc = nfd("compat", "get-spec", "--image", image, "--plain-http",
                   "--registry-username", "bob", "--registry-password-stdin",
                   stdin=SECRET + "\n")
        assert_one_line_error(proc, 3, "invalid digest", "***")
        assert SECRET not in proc.stderr
    finally:
        registry.stop()


def test_registry_token_host_flag_trusts_the_named_realm() -> None:
    token_server = FakeRegistry()
    seen: list[str | None] = []

    def token(handler: Handler) -> bool:
        seen.append(handler.headers.get("Authorization"))
        handler.reply(401, b"{}")
        return True

    token_server.fault = token
    realm_host = f"localhost:{token_server.port}"
    try:
        for registry in _attacked(_bearer(f"http://{realm_host}/token")):
            args = ["compat", "get-spec", "--image", f"{registry.host}/app:v1", "--plain-http",
                    "--registry-username", "bob", "--registry-password-stdin"]
            untrusted = nfd(*args, stdin=SECRET)
            assert_one_line_error(untrusted, 3, "none were sent to it",
                                  f"--registry-token-host {realm_host}")
            trusted = nfd(*args, "--registry-token-host", realm_host, stdin=SECRET)
            assert_one_line_error(trusted, 3, "refused the credentials")
            assert seen[0] is None and seen[1] is not None
            assert SECRET not in untrusted.stderr + trusted.stderr
    finally:
        token_server.stop()


def test_get_spec_to_a_terminal_strips_controls_but_a_pipe_gets_the_bytes() -> None:
    import os
    import pty

    registry = FakeRegistry(referrers_api=False)
    try:
        spec = b'version: v1alpha1\n# \x1b]0;pwned\x07\x1b[2J\ncompatibilities: [{rules: []}]\n'
        image, _ = _publish(registry, "terminal", lambda doc: doc, spec)
        args = [sys.executable, "-m", "nfd", "compat", "get-spec", "--image", image,
                "--plain-http"]
        piped = subprocess.run(args, capture_output=True, timeout=60, check=False)
        assert piped.returncode == 0 and piped.stdout == spec
        leader, follower = pty.openpty()
        with subprocess.Popen(args, stdout=follower, stderr=subprocess.PIPE) as proc:
            os.close(follower)
            out = b""
            while True:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # the terminal closed: the command is done
                    break
                if not chunk:
                    break
                out += chunk
            assert proc.wait(timeout=60) == 0
        os.close(leader)
        assert b"\\x1b]0;pwned\\x07\\x1b[2J" in out and b"\x1b" not in out and b"\x07" not in out
    finally:
        registry.stop()
