"""Attach a compatibility spec to an image, then list what the image carries, in one
registry session (one token per repository scope, one connection pool).

    python examples/publish_spec.py REGISTRY/REPO:TAG SPEC.yaml [--plain-http]

Prints the artifact attached (or found already attached) and every compatibility
artifact of the image, newest first: digest, creation time, set descriptions.
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
    parser.add_argument("image", help="the image to attach the spec to")
    parser.add_argument("spec", help="the compatibility spec (YAML or JSON)")
    parser.add_argument("--plain-http", action="store_true", help="no TLS to the registry")
    args = parser.parse_args(argv)

    options = nfd.RegistryOptions(plain_http=args.plain_http)
    with open(args.spec, "rb") as handle:
        # One byte past the limit: attach_compat_spec refuses a spec over it.
        spec_bytes = handle.read(options.max_spec_bytes + 1)
    try:
        with nfd.RegistryClient(options) as client:
            result = nfd.attach_compat_spec(args.image, spec_bytes, client=client,
                                            source=args.spec)
            state = "already attached" if result.unchanged else "attached"
            print(f"{state}: {result.artifact_digest} on {result.subject}")
            for artifact in nfd.list_compat_artifacts(args.image, client=client):
                described = "; ".join(artifact.descriptions) or artifact.problem or ""
                print(shown(f"{artifact.digest}  {artifact.created or '-'}  {described}"))
    except nfd.NfdError as exc:
        print(f"publish_spec: {shown(exc)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
