"""What signature verification costs: ``validate-node --image`` with and without ``--verify``,
and a webhook decision that is cached, with and without a policy for its registry.

Starts the Referrers-API registry peer and Debian's docker-registry on 127.0.0.1, pushes an
image with skopeo, attaches a spec and signs it with the real Notation CLI and cosign, then
prints, as medians over the rounds:
- ``nfd compat validate-node --image`` as a subprocess (wall time), plain, with
  ``--verify notation`` and with ``--verify cosign``, and the ratios (target: <= 1.3x);
- a cached webhook decision (``Resolver.resolve_all`` in-process), with and without
  ``--verify-registry``, and the ratio (target: nothing added, 1.0x).
Needs scripts/install-peers (notation, cosign, referrers-registry).
Run: ``python benchmarks/bench_verify.py [rounds]``.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests._peers import start_referrers_registry
from tests.oci._images import build_layout, push_image
from tests.oci._registry import Registry, start_registry
from tests.oci._specs import spec_text
from tests.trust._signers import CosignSigner, NotationSigner, Pki

from nfd.compat import attach_compat_spec
from nfd.oci import RegistryOptions
from nfd.trust import CosignVerifier
from nfd.webhook import AllowList, Resolver, ResolverSettings

ANON = RegistryOptions(use_auth_files=False)
FEATURES = '{"flags": {"kernel.loadedmodule": {"elements": {"vfio-pci": {}}}}}'


def _interleaved_medians(commands: list[list[str]], rounds: int) -> list[float]:
    """Median wall time of each command, run in turn each round (a shared machine's noise
    falls on all of them alike)."""
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(rounds):
        for i, cmd in enumerate(commands):
            start = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            times[i].append(time.perf_counter() - start)
            if done.returncode != 0:
                raise SystemExit(f"{' '.join(cmd[3:6])} failed: {done.stderr.strip()}")
    return [statistics.median(t) for t in times]


def _cached_decisions(image: str, registry: Registry, key: Path, rounds: int
                      ) -> tuple[float, float]:
    """Seconds per cached decision without and with a policy for the registry, measured in
    alternating batches on one event loop."""
    plain = ResolverSettings(ANON, AllowList((registry.host,)), "bench.example.com")
    policed = ResolverSettings(ANON, AllowList((registry.host,)), "bench.example.com",
                               verifiers=((registry.host, CosignVerifier([key])),))

    async def run() -> tuple[float, float]:
        resolvers = [Resolver(plain), Resolver(policed)]
        try:
            for resolver in resolvers:
                [first] = await resolver.resolve_all([image], 10, write_rules=False)
                assert first.status == "spec", first.message
            batches: list[list[float]] = [[], []]
            for _ in range(rounds):
                for i, resolver in enumerate(resolvers):
                    start = time.perf_counter()
                    for _ in range(100):
                        await resolver.resolve_all([image], 10, write_rules=False)
                    batches[i].append((time.perf_counter() - start) / 100)
            return statistics.median(batches[0]), statistics.median(batches[1])
        finally:
            for resolver in resolvers:
                resolver.close()

    return asyncio.run(run())


def _sign_both(registry: Registry, layout: Path, work: Path) -> tuple[str, NotationSigner,
                                                                        CosignSigner]:
    push_image(layout, "amd64", registry, "bench/verify:v1", None)
    image = f"{registry.host}/bench/verify:v1"
    artifact = attach_compat_spec(image, spec_text("bench"), ANON).artifact_digest
    pinned = f"{registry.host}/bench/verify@{artifact}"
    pki = Pki()
    notation = NotationSigner(work / f"notation-{registry.host.replace(':', '-')}")
    key, cert = pki.leaf()
    notation.add_key("bench", key, [cert, pki.cert])
    notation.policy = notation.trust("bench", pki.cert)
    notation.sign(pinned, "bench", referrers_api="referrers" in registry.workdir.name)
    cosign = CosignSigner(work / f"cosign-{registry.host.replace(':', '-')}")
    cosign.sign(pinned)
    return image, notation, cosign


def main(rounds: int = 9) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        layout = build_layout(work)
        features = work / "features.json"
        features.write_text(FEATURES)
        registries = {"referrers-api": start_referrers_registry(work / "api"),
                      "tag-schema": start_registry(work / "tags")}
        try:
            for kind, registry in registries.items():
                image, notation, cosign = _sign_both(registry, layout, work)
                base = [sys.executable, "-m", "nfd", "compat", "validate-node", "--image",
                        image, "--features", str(features)]
                plain, with_notation, with_cosign = _interleaved_medians([
                    base,
                    [*base, "--verify", "notation", "--trust-policy", str(notation.policy)],
                    [*base, "--verify", "cosign", "--cosign-key", str(cosign.public_key)],
                ], rounds)
                print(f"{kind}: validate-node --image {plain * 1000:.0f} ms; "
                      f"--verify notation {with_notation * 1000:.0f} ms "
                      f"({with_notation / plain:.2f}x); --verify cosign "
                      f"{with_cosign * 1000:.0f} ms ({with_cosign / plain:.2f}x)")
                unverified, verified = _cached_decisions(image, registry, cosign.public_key,
                                                         rounds * 10)
                print(f"{kind}: cached webhook decision {unverified * 1e6:.1f} us; with a "
                      f"policy {verified * 1e6:.1f} us ({verified / unverified:.2f}x)")
        finally:
            for registry in registries.values():
                registry.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
