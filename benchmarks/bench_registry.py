"""Registry benchmark: HTTP requests and wall time to fetch an image's compatibility spec.

Starts Debian's docker-registry on 127.0.0.1 (anonymous, and token auth), pushes
an image with skopeo, attaches a spec, then measures in one run:
- nfd's fetch_compat_spec_bytes in-process (requests counted on the httpx client),
- ``nfd compat validate-node --image`` as a subprocess (wall time),
- oras-py fetching the same artifact manifest and spec blob (requests counted).
Run: ``python benchmarks/bench_registry.py [rounds]``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.oci._images import build_layout, push_image
from tests.oci._registry import Registry, TokenServer, make_ca, start_registry
from tests.oci._specs import spec_text

from nfd.compat import attach_compat_spec, fetch_compat_spec_bytes
from nfd.oci import Reference, RegistryClient, RegistryOptions, fallback_tag

USER, PASSWORD = "bench", "bench-pass"


def _timed(fn: Callable[[], int], rounds: int) -> tuple[float, int]:
    times, requests = [], 0
    for _ in range(rounds):
        start = time.perf_counter()
        requests = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), requests


def _nfd_fetch(image: str, options: RegistryOptions) -> int:
    counted: list[int] = []
    original = RegistryClient.close

    def close(self: RegistryClient) -> None:
        counted.append(self.requests_sent)
        original(self)

    RegistryClient.close = close  # type: ignore[method-assign]
    try:
        fetch_compat_spec_bytes(image, options)
    finally:
        RegistryClient.close = original  # type: ignore[method-assign]
    return counted[0]


def _oras_fetch(registry: Registry, image: str, artifact: str, auth: bool) -> int:
    import oras.provider

    client = oras.provider.Registry(hostname=registry.host, insecure=True)
    count = [0]
    client.session.hooks["response"].append(lambda r, *a, **k: count.__setitem__(0, count[0] + 1))
    if auth:
        client.auth.set_basic_auth(USER, PASSWORD)
    repo = Reference.parse(image).repository
    manifest = client.get_manifest(f"{registry.host}/{repo}@{artifact}")
    client.get_blob(f"{registry.host}/{repo}", manifest["layers"][0]["digest"])
    return count[0]


def _cli(image: str, features: Path, stdin: str | None, extra: list[str]) -> int:
    done = subprocess.run([sys.executable, "-m", "nfd", "compat", "validate-node", "--image", image,
                    "--features", str(features), "--output-json", *extra],
                   input=stdin, text=True, capture_output=True, check=False)
    if done.returncode not in (0, 1):  # compatible or not: both mean the spec was fetched
        raise SystemExit(f"validate-node failed ({done.returncode}): {done.stderr.strip()}")
    return -1


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    work = Path(tempfile.mkdtemp(prefix="nfd-bench-"))
    layout = build_layout(work)
    features = work / "features.json"
    features.write_text('{"flags": {}, "attributes": {}, "instances": {}}')
    plain = start_registry(work / "plain")
    token = start_registry(work / "token", token_server=TokenServer(make_ca("s"), {USER: PASSWORD}))
    try:
        rows = []
        for name, registry, creds in (("anonymous", plain, None),
                                      ("token auth", token, (USER, PASSWORD))):
            image = f"{registry.host}/bench/app:v1"
            push_image(layout, "amd64", registry, "bench/app:v1", creds)
            opts = RegistryOptions(use_auth_files=False, username=creds[0] if creds else None,
                                   password=creds[1] if creds else None)
            attached = attach_compat_spec(image, spec_text("bench"), opts)
            assert fallback_tag(attached.subject)
            nfd_t, nfd_n = _timed(partial(_nfd_fetch, image, opts), rounds)
            extra = ["--registry-username", USER, "--registry-password-stdin"] if creds else []
            cli_t, _ = _timed(partial(_cli, image, features, PASSWORD if creds else None, extra),
                              max(3, rounds // 3))
            oras_t, oras_n = _timed(
                partial(_oras_fetch, registry, image, attached.artifact_digest, bool(creds)),
                rounds)
            rows.append((name, nfd_n, nfd_t, cli_t, oras_n, oras_t))
        print(f"{'registry':<11} {'nfd reqs':>8} {'nfd ms':>8} {'cli ms':>8} "
              f"{'oras reqs':>9} {'oras ms':>8} {'nfd/oras time':>13}")
        for name, nfd_n, nfd_t, cli_t, oras_n, oras_t in rows:
            print(f"{name:<11} {nfd_n:>8} {nfd_t * 1000:>8.1f} {cli_t * 1000:>8.1f} "
                  f"{oras_n:>9} {oras_t * 1000:>8.1f} {nfd_t / oras_t:>13.2f}")
        print("nfd: resolve tag + referrers (tag fallback) + artifact manifest + spec blob, "
              "all digest-verified; oras-py: artifact manifest by digest + blob only "
              "(it cannot list referrers)")
    finally:
        plain.stop()
        token.stop()


if __name__ == "__main__":
    main()
