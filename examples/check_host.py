"""Check a host against the compatibility spec attached to an image, and say why not.

    python examples/check_host.py REGISTRY/REPO:TAG [--host-root DIR] [--plain-http]

Discovers the host's features as NFD's worker would (``--host-root``: a mounted or
captured root file system instead of this machine), fetches the image's newest
compatibility spec, and prints each compatibility set's verdict, then every failing
expression with what the host has. Exit 0 when a set matches, 1 when none does.
"""

from __future__ import annotations

import argparse
import sys

import nfd


def shown(text: object) -> str:
    """Outside text (registry replies, spec and host values) without terminal controls."""
    return "".join(c if c.isprintable() else "?" for c in str(text))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", help="the image whose compatibility spec to check")
    parser.add_argument("--host-root", help="the host's root file system (default: /)")
    parser.add_argument("--plain-http", action="store_true", help="no TLS to the registry")
    args = parser.parse_args(argv)

    try:
        features = nfd.discover(nfd.HostPaths.from_options(args.host_root, None)).features
        options = nfd.RegistryOptions(plain_http=args.plain_http)
        attached = nfd.fetch_compat_spec(args.image, options)
        result = nfd.validate_features(attached.spec, features)
    except nfd.NfdError as exc:
        print(f"check_host: {shown(exc)}", file=sys.stderr)
        return 2
    print(f"spec {attached.artifact_digest} of {attached.image}@{attached.image_digest}")
    for status in result.statuses:
        verdict = "compatible" if status.is_match else "not compatible"
        print(shown(f"set {status.number} ({status.description or 'no description'}): "
                    f"{verdict}"))
    for failure in result.failures():
        node = failure.node
        has = ("no such feature" if not node.available else
               f"value {node.value!r}" if node.value is not None else
               f"values {list(node.values)!r}" if node.instances is not None else
               "present" if node.present else "absent")
        print(shown(f"  set {failure.set_index + 1}, rule {failure.rule!r}: {failure.feature}"
                    f" {failure.name} {failure.expression.op} "
                    f"{list(failure.expression.value)}: the host has {has}"))
    return 0 if result.compatible else 1


if __name__ == "__main__":
    sys.exit(main())
