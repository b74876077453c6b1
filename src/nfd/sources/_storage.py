"""The ``storage`` source: every ``/sys/block`` entry with its queue attributes.

Mirrors NFD ``source/storage/storage.go``; no filtering (loop, zram, dm-*
are all listed). Listing ``block`` failing fails the source (NFD aborts).
"""

from __future__ import annotations

from nfd.api import Features
from nfd.errors import DiscoveryError
from nfd.sources._hostpaths import HostPaths, listing_error

_BLOCK_QUEUE_ATTRS = ("dax", "rotational", "nr_zones", "zoned")


def discover_storage(host: HostPaths) -> Features:
    """``storage.block``: every ``/sys/block`` entry with its queue attributes."""
    base = host.sys("block")
    try:
        names = host.list_dir(base)
    except OSError as exc:
        raise DiscoveryError("storage", "failed to detect block devices: failed to list "
                             f"block devices: {listing_error(exc)}") from exc
    blocks = [host.read_attrs(f"{base}/{name}/queue", _BLOCK_QUEUE_ATTRS, {"name": name})
              for name in names]
    return Features(instances={"block": blocks})
