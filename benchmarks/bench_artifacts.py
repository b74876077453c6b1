"""Artifact commands benchmark: what checking and describing artifacts costs, in requests.

Against Debian's docker-registry on 127.0.0.1 (tag-schema fallback), with an image
carrying ``N`` compatibility artifacts, one run prints:
- ``list`` (each artifact read for its spec's size, tags and descriptions) against the
  bare referrers listing it starts from;
- attaching the spec already in effect (nothing pushed) against attaching a new one;
- ``remove_compat_specs(every=True)`` (each artifact fetched and checked before it is
  deleted) against the deletes and index mending alone.
Run: ``python benchmarks/bench_artifacts.py [N]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.oci._images import build_layout, push_image
from tests.oci._registry import start_registry
from tests.oci._specs import spec_text

from nfd.compat import attach_compat_spec, list_compat_artifacts, remove_compat_specs
from nfd.compat._artifacts import find_artifacts, resolve_image
from nfd.oci import Reference, RegistryClient, RegistryOptions

OPTIONS = RegistryOptions(use_auth_files=False)


def _counted(fn: Callable[[], object]) -> tuple[int, float]:
    """HTTP requests sent by every client ``fn`` opens, and its wall time."""
    counted: list[int] = []
    original = RegistryClient.close

    def close(self: RegistryClient) -> None:
        counted.append(self.requests_sent)
        original(self)

    RegistryClient.close = close  # type: ignore[method-assign]
    start = time.perf_counter()
    try:
        fn()
    finally:
        RegistryClient.close = original  # type: ignore[method-assign]
    return sum(counted), time.perf_counter() - start


def _bare_listing(image: str) -> None:
    with RegistryClient(OPTIONS) as client:
        find_artifacts(client, resolve_image(client, Reference.parse(image), None))


def _row(name: str, ours: tuple[int, float], base: tuple[int, float], base_name: str) -> None:
    print(f"{name:<34} {ours[0]:>4} requests {ours[1] * 1000:7.1f} ms   vs {base_name}: "
          f"{base[0]} requests ({ours[0] / base[0]:.1f}x)")


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        layout = build_layout(work / "layout")
        registry = start_registry(work / "registry")
        try:
            image = f"{registry.host}/bench/app:v1"
            push_image(layout, "amd64", registry, "bench/app:v1", None)
            for i in range(count):
                attach_compat_spec(image, spec_text(f"bench-{i}"), OPTIONS)
            print(f"image with {count} compatibility artifacts (docker-registry, tag fallback)")
            _row("list (each artifact read)", _counted(lambda: list_compat_artifacts(image,
                                                                                     OPTIONS)),
                 _counted(lambda: _bare_listing(image)), "bare listing")
            newest = spec_text(f"bench-{count - 1}")  # the spec in effect: a no-op
            _row("attach, spec already in effect",
                 _counted(lambda: attach_compat_spec(image, newest, OPTIONS)),
                 _counted(lambda: attach_compat_spec(image, spec_text("new"), OPTIONS)),
                 "a new spec")
            removal = _counted(lambda: remove_compat_specs(image, OPTIONS, every=True))
            checks = count + 1  # one manifest GET per artifact removed
            _row("remove all (each checked first)", removal,
                 (removal[0] - checks, removal[1]), "without the checks")
        finally:
            registry.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
