"""The ``network`` source: physical and virtual interfaces.

Mirrors NFD ``source/network/network.go``. An interface is a ``device`` when
``<iface>/device`` can be stat'ed (PCI, USB, virtio NICs alike), else
``virtual``. Listing ``class/net`` failing fails the source (NFD aborts).
"""

from __future__ import annotations

from nfd.api import Features
from nfd.errors import DiscoveryError
from nfd.sources._hostpaths import HostPaths, listing_error

_DEVICE_IFACE_ATTRS = ("operstate", "speed", "device/sriov_numvfs", "device/sriov_totalvfs",
                       "mtu")
_VIRTUAL_IFACE_ATTRS = ("operstate", "speed", "mtu")

def discover_network(host: HostPaths) -> Features:
    """``network.device`` (interfaces with a ``device`` link) and ``network.virtual``."""
    base = host.sys("class/net")
    try:
        names = host.list_dir(base)
    except OSError as exc:
        raise DiscoveryError("network", "failed to detect network devices: failed to list "
                             f"network interfaces: {listing_error(exc)}") from exc
    devices: list[dict[str, str]] = []
    virtual: list[dict[str, str]] = []
    for name in names:
        if name == "bonding_masters":
            continue
        path = f"{base}/{name}"
        if host.exists(f"{path}/device"):
            devices.append(host.read_attrs(path, _DEVICE_IFACE_ATTRS, {"name": name}))
        else:
            virtual.append(host.read_attrs(path, _VIRTUAL_IFACE_ATTRS, {"name": name}))
    return Features(instances={"device": devices, "virtual": virtual})
