"""The ``pci`` source: one instance per PCI device, with the IOMMU attributes.

Mirrors NFD ``source/pci`` (pci.go, utils.go). There is no address attribute;
devices come in address (directory) order. Listing ``bus/pci/devices``
failing fails the source (NFD aborts).
"""

from __future__ import annotations

from nfd.api import Features
from nfd.errors import DiscoveryError
from nfd.sources._hostpaths import HostPaths, go_trim_space, listing_error

_PCI_MANDATORY = ("class", "vendor", "device", "subsystem_vendor", "subsystem_device")
_PCI_OPTIONAL = ("sriov_totalvfs", "iommu_group/type", "iommu/intel-iommu/version")

def _pci_attr(host: HostPaths, path: str, name: str) -> str | None:
    """``readSinglePciAttribute``: ``0x`` dropped, trimmed, class cut to 4 characters."""
    text = host.read_text(f"{path}/{name}")
    if text is None:
        return None
    value = go_trim_space(text.removeprefix("0x"))
    if name == "class" and len(value) > 4:
        value = value[:4]
    return value


def discover_pci(host: HostPaths) -> Features:
    """``pci.device``: one instance per readable device, in address order."""
    base = host.sys("bus/pci/devices")
    try:
        names = host.list_dir(base)
    except OSError as exc:
        raise DiscoveryError("pci", f"failed to detect PCI devices: {listing_error(exc)}"
                             ) from exc
    devices = []
    for name in names:
        path = f"{base}/{name}"
        attrs: dict[str, str] = {}
        for attr in _PCI_MANDATORY:
            value = _pci_attr(host, path, attr)
            if value is None:
                break  # a device missing a mandatory attribute is skipped
            attrs[attr] = value
        else:
            for attr in _PCI_OPTIONAL:
                value = _pci_attr(host, path, attr)
                if value is not None:
                    attrs[attr] = value  # key keeps its slashes: "iommu_group/type"
            devices.append(attrs)
    return Features(instances={"device": devices})
