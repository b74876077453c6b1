"""Options shared by the commands that discover the host (kept light: validate-node's path)."""

from __future__ import annotations

import argparse

from nfd._lazy import TYPE_CHECKING

if TYPE_CHECKING:
    from nfd.cli._base import ArgumentAdder
    from nfd.sources import Discovery


def add_host_arguments(where: ArgumentAdder) -> None:
    """``--host-root`` / ``--host-prefix``: one pair, one help text, wherever the host is
    discovered; ``where`` is the caller's mutually exclusive group (validate-node adds
    ``--features`` to it)."""
    where.add_argument("--host-root", metavar="DIR",
                       help="read every host path, /proc included, under DIR as a chroot "
                            "would: symlinks never leave it (a captured tree, a mounted image)")
    where.add_argument("--host-prefix", metavar="P",
                       help="NFD's container convention: read /sys, /etc, /boot, /lib, /usr "
                            "and /proc/swaps at P+name (e.g. /host-)")


def add_driver_facts_argument(parser: argparse.ArgumentParser) -> None:
    """``--driver-facts``: one flag, one help text, wherever the host is discovered."""
    parser.add_argument("--driver-facts", action="store_true",
                        help="add driver facts NFD does not see (GPU driver and CUDA version, "
                             "GPU product, count and compute capability under GFD's "
                             "nvidia.com/ names, kernel module versions under "
                             "kmod.nfd-client.io/) as local.label and local.feature elements")


def driver_facts_note(result: Discovery) -> str | None:
    """The line that says which features came from us, not from NFD (or GFD)."""
    derived = result.metadata.get("driverFacts")
    if derived is None:
        return None
    return (f"note: --driver-facts: {derived} (local.label and local.feature under GFD's "
            "nvidia.com/ names and kmod.nfd-client.io/; a real features.d file wins)")
