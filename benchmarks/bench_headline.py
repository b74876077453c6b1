"""The seed's own command against NFD v0.19.0's Go client, paired, on the live host.

Run: ``python benchmarks/bench_headline.py [runs]`` (needs Go and its module proxy on the
first run, Debian's docker-registry, skopeo and umoci). One command:

* builds (once) NFD v0.19.0's ``nfd`` with ``scripts/install-peers`` into the git-ignored
  peers folder (``NFD_PEERS_DIR`` moves it), and the Referrers-API registry peer;
* starts three registries: Debian's docker-registry on plain HTTP; docker-registry on
  HTTPS (a throwaway CA) with token auth (the test suite's token server, user and
  password); go-containerregistry's registry with the Referrers API;
* pushes one image to each (skopeo) and attaches the bundled example spec (our
  ``attach-spec``);
* runs ``nfd compat validate-node --image REF --output-json`` of both clients, interleaved
  (ours, NFD's, ours, ...), checks their outputs are byte-identical, and prints the medians
  and ours/NFD for each setup; then ``nfd export features`` on this host, and a cold
  ``validate-node --spec --features`` against the interpreter's ``-c pass``. Each of ours
  also runs without the interpreter's site hooks (``-S``): see ``CLEAN``.

Goals: validate-node --image and export features <= 1.0x NFD's; the cold local run <= 2.0x
a bare interpreter (the same one). NFD's client trusts the throwaway CA through
``SSL_CERT_FILE`` (Go's crypto/x509 reads it on Linux), ours through ``--ca-file``.
"""

from __future__ import annotations

import os
import site
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.oci._images import build_layout, push_image  # noqa: E402
from tests.oci._registry import (  # noqa: E402
    Registry,
    TokenServer,
    free_port,
    issue_cert,
    make_ca,
    start_registry,
)

SPEC = ROOT / "src" / "nfd" / "examples" / "image-compatibility.yaml"
USER, PASSWORD = "alice", "s3cret-pass"
# Ours as the console script runs it; and the same without site hooks (-S): the machine's
# site-packages then come from PYTHONPATH. Some machines' site hooks (a .pth importing
# certifi, say) cost an interpreter far more than our whole command: the second column
# shows what is ours.
_CONSOLE = "from nfd.cli import console; console()"
OURS = [sys.executable, "-c", _CONSOLE]
# The standard library a registry command cannot do without, imported by a bare interpreter:
# the floor under any CPython client's --image run (printed beside NFD's plain-HTTP run).
FLOOR = [sys.executable, "-S", "-c", "import json, argparse, socket, hashlib, urllib.parse, "
         "ctypes; argparse.ArgumentParser().parse_args([])"]
CLEAN = [sys.executable, "-S", "-c", _CONSOLE]
ENV = {"PYTHONPATH": os.pathsep.join([str(ROOT / "src"), *site.getsitepackages(),
                                      site.getusersitepackages()])}


@dataclass
class Setup:
    """One registry and how each client reaches it."""

    name: str
    image: str
    ours: list[str] = field(default_factory=list)
    theirs: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    stdin: bytes | None = None


def install_peers() -> Path:
    """``scripts/install-peers`` (cached after the first build): the peers' bin folder."""
    done = subprocess.run([str(ROOT / "scripts" / "install-peers")], capture_output=True,
                          text=True, check=True)
    return Path(done.stdout.strip().splitlines()[-1])


@contextmanager
def referrers_registry(binary: Path, workdir: Path) -> Iterator[Registry]:
    """go-containerregistry's registry with the Referrers API (``tests/peers/``)."""
    port = free_port()
    process = subprocess.Popen([str(binary), "--address", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    registry = Registry(f"127.0.0.1:{port}", "http", process, workdir)
    try:
        _wait_for_port(port)
        yield registry
    finally:
        registry.stop()


def _wait_for_port(port: int) -> None:
    import socket

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing answers on port {port}")


@contextmanager
def started(registry: Registry) -> Iterator[Registry]:
    try:
        yield registry
    finally:
        registry.stop()


def attach(image: str, flags: Sequence[str], stdin: bytes | None) -> None:
    done = subprocess.run([*OURS, "compat", "attach-spec", "--image", image, "--spec",
                           str(SPEC), *flags], input=stdin, capture_output=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    if done.returncode != 0:
        raise RuntimeError(f"attach-spec {image}: {done.stderr.decode(errors='replace')}")


def attach_config_typed(image: str) -> None:
    """The spec as an artifact whose *config* media type is NFD's artifact type.

    go-containerregistry's Referrers API reports each referrer's config media type as its
    ``artifactType``; NFD's client filters on it and reads nothing more, so only such an
    artifact is found by both clients there (ours also reads ``artifactType`` manifests).
    """
    from nfd.api import ARTIFACT_TYPE, SPEC_MEDIA_TYPE
    from nfd.oci import (
        CREATED_ANNOTATION,
        Reference,
        RegistryClient,
        RegistryOptions,
        canonical_json,
    )

    ref = Reference.parse(image)
    with RegistryClient(RegistryOptions(plain_http=True)) as client:
        subject = client.get_manifest(ref).descriptor
        config = client.push_blob(ref, b"{}", ARTIFACT_TYPE)
        layer = client.push_blob(ref, SPEC.read_bytes(), SPEC_MEDIA_TYPE)
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": config.to_obj(), "layers": [layer.to_obj()],
                    "subject": {"mediaType": subject.media_type, "digest": subject.digest,
                                "size": subject.size},
                    "annotations": {CREATED_ANNOTATION: "2025-01-01T00:00:00Z"}}
        client.push_manifest(ref, canonical_json(manifest), manifest["mediaType"])


def prepare(stack: ExitStack, work: Path, peers: Path) -> list[Setup]:
    layout = build_layout(work / "layout")
    plain = stack.enter_context(started(start_registry(work / "plain")))
    ca = make_ca()
    token = stack.enter_context(started(start_registry(
        work / "token", tls=issue_cert(ca), ca=ca,
        token_server=TokenServer(make_ca("bench-token-signer"), {USER: PASSWORD},
                                 tls=issue_cert(ca)))))
    token.users[USER] = PASSWORD
    referrers = stack.enter_context(referrers_registry(peers / "referrers-registry",
                                                       work / "referrers"))
    setups = []
    for name, registry in (("plain HTTP", plain), ("HTTPS + token auth", token),
                           ("Referrers API", referrers)):
        creds = (USER, PASSWORD) if registry.users else None
        push_image(layout, "amd64", registry, "bench/app:v1", creds)
        setup = Setup(name, f"{registry.host}/bench/app:v1")
        if registry.scheme == "http":
            setup.ours = setup.theirs = ["--plain-http"]
        else:
            assert registry.ca_file is not None
            setup.ours = ["--ca-file", str(registry.ca_file)]
            setup.env = {"SSL_CERT_FILE": str(registry.ca_file)}
        if creds:
            login = ["--registry-username", USER, "--registry-password-stdin"]
            setup.ours, setup.theirs = [*setup.ours, *login], [*setup.theirs, *login]
            setup.stdin = PASSWORD.encode()
        if registry is referrers:
            attach_config_typed(setup.image)
        else:
            attach(setup.image, setup.ours, setup.stdin)
        setups.append(setup)
    return setups


def _timed(cmd: Sequence[str], env: dict[str, str], stdin: bytes | None) -> tuple[float, bytes]:
    start = time.perf_counter()
    done = subprocess.run(cmd, input=stdin, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{cmd[0]} {' '.join(cmd[1:4])} exited {done.returncode}: "
                           f"{done.stderr.decode(errors='replace')[-400:]}")
    return elapsed * 1000, done.stdout


def interleaved(commands: Sequence[Sequence[str]], runs: int, *,
                env: dict[str, str] | None = None, stdin: bytes | None = None,
                same_output: bool = True) -> list[float]:
    """Medians (ms) of ``runs`` rounds, each running every command once in turn, after one
    warm-up round; with ``same_output`` every command must print the same bytes."""
    environ = {**os.environ, **(env or {})}
    outputs = {_timed(cmd, environ, stdin)[1] for cmd in commands}
    if same_output and len(outputs) != 1:
        raise RuntimeError("outputs differ:\n" + "\n".join(repr(o[:300]) for o in outputs))
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for cmd, spent in zip(commands, times, strict=True):
            spent.append(_timed(cmd, environ, stdin)[0])
    return [statistics.median(spent) for spent in times]


def _row(name: str, ours: float, clean: float, peer: float, goal: float) -> None:
    print(f"{name:<40} {ours:8.1f} {clean:8.1f} {peer:8.1f} {ours / peer:7.2f}x "
          f"{clean / peer:7.2f}x  (goal <= {goal:.1f}x)")


def byte_compile() -> None:
    """Compile the package as an install does (``PYTHONDONTWRITEBYTECODE`` would otherwise
    have every run compile the whole tree anew, which no installed copy does)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "nfd")],
                   check=True, stdout=subprocess.DEVNULL)


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    peers = install_peers()
    byte_compile()
    nfd = str(peers / "nfd")
    print(f"medians of {runs} interleaved runs, ms; 'clean': the same interpreter without "
          "this machine's site hooks (-S)")
    print(f"{'command':<40} {'ours':>8} {'clean':>8} {'peer':>8} {'ratio':>8} {'clean':>8}")
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        work = Path(tmp)
        setups = prepare(stack, work, peers)
        for setup in setups:
            tail = ["compat", "validate-node", "--image", setup.image, "--output-json"]
            ours, clean, theirs = interleaved(
                [[*OURS, *tail, *setup.ours], [*CLEAN, *tail, *setup.ours],
                 [nfd, *tail, *setup.theirs]], runs, env={**ENV, **setup.env},
                stdin=setup.stdin)
            _row(f"validate-node --image ({setup.name})", ours, clean, theirs, 1.0)
        plain = setups[0]
        floor, theirs = interleaved(
            [FLOOR, [nfd, "compat", "validate-node", "--image", plain.image, "--output-json",
                     *plain.theirs]], runs, env=ENV, same_output=False)
        print(f"{'stdlib floor (bare -S, imports only)':<40} {'':>8} {floor:8.1f} "
              f"{theirs:8.1f} {'':>8} {floor / theirs:7.2f}x  (a bare interpreter importing "
              "what a registry command needs, against NFD's plain-HTTP run)")
        ours, clean, theirs = interleaved(
            [[*OURS, "export", "features"], [*CLEAN, "export", "features"],
             [nfd, "export", "features"]], runs, env=ENV, same_output=False)
        _row("export features (this host)", ours, clean, theirs, 1.0)
        features = work / "features.json"
        features.write_bytes(subprocess.run([nfd, "export", "features"], capture_output=True,
                                            check=True).stdout)
        tail = ["compat", "validate-node", "--spec", str(SPEC), "--features", str(features),
                "--output-json"]
        ours, clean, bare, bare_clean = interleaved(
            [[*OURS, *tail], [*CLEAN, *tail], [sys.executable, "-c", "pass"],
             [sys.executable, "-S", "-c", "pass"]], runs, env=ENV, same_output=False)
        print(f"{'validate-node --spec --features (cold)':<40} {ours:8.1f} {clean:8.1f} "
              f"{bare:8.1f} {ours / bare:7.2f}x {clean / bare_clean:7.2f}x  (goal <= 2.0x "
              f"{Path(sys.executable).name} -c pass; clean: against -S -c pass, "
              f"{bare_clean:.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
