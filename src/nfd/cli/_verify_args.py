"""``--verify notation|cosign`` with ``--trust-policy F`` / ``--cosign-key F``: the flags of
every command that reads a spec from an image, and the verifier they make."""

from __future__ import annotations

import argparse

from nfd._lazy import TYPE_CHECKING
from nfd.errors import UsageError

if TYPE_CHECKING:
    from nfd.trust import Verifier

SCHEMES = ("notation", "cosign")


def add_verify_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("signatures")
    group.add_argument("--verify", choices=SCHEMES, default=None,
                       help="use only a compatibility artifact signed as this policy requires "
                       "(exit 5 when none is)")
    group.add_argument("--trust-policy", metavar="FILE", default=None,
                       help="Notation trust policy (default: trustpolicy.oci.json, else "
                       "trustpolicy.json, in Notation's config directory); its trust store is "
                       "the truststore/ directory beside it")
    group.add_argument("--cosign-key", action="append", default=[], metavar="FILE",
                       help="a PEM public key whose cosign signatures are trusted (repeatable)")


def verifier_from_args(args: argparse.Namespace) -> Verifier | None:
    """The verifier the flags ask for; policy files are read (and refused) here, before any
    registry is contacted."""
    scheme = getattr(args, "verify", None)
    policy = getattr(args, "trust_policy", None)
    keys = list(getattr(args, "cosign_key", None) or ())
    if scheme is None:
        if policy or keys:
            raise UsageError("--trust-policy and --cosign-key go with --verify")
        return None
    if scheme == "notation":
        if keys:
            raise UsageError("--cosign-key goes with --verify cosign")
        from nfd.trust import NotationVerifier

        return NotationVerifier(policy)
    if policy:
        raise UsageError("--trust-policy goes with --verify notation")
    from nfd.trust import CosignVerifier

    return CosignVerifier(keys)
