"""The ``usb`` source: one instance per USB device, or per interface for class ``00``.

Mirrors NFD ``source/usb`` (usb.go, utils.go). Devices are the directories
of ``bus/usb/devices/*/idProduct`` in sorted order (root hubs included). A
device whose ``bDeviceClass`` is ``00`` defines its class per interface, so
it yields one instance per ``*/bInterfaceClass`` instead of one of its own.
"""

from __future__ import annotations

from nfd.api import Features
from nfd.sources._hostpaths import HostPaths, go_trim_space

# attribute -> sysfs file, in NFD's devAttrs order
_DEVICE_ATTRS = (("class", "bDeviceClass"), ("vendor", "idVendor"), ("device", "idProduct"),
                 ("serial", "serial"))


def _glob_children(host: HostPaths, directory: str, leaf: str) -> list[str]:
    """``filepath.Glob(directory + "/*/" + leaf)`` as directory paths (sorted, dot-names too)."""
    try:
        names = host.list_dir(directory)
    except OSError:
        return []
    return [f"{directory}/{name}" for name in names
            if host.lexists(f"{directory}/{name}/{leaf}")]


def _device_instances(host: HostPaths, path: str) -> list[dict[str, str]] | None:
    """``readUsbDevInfo``; None when an interface class cannot be read (device dropped)."""
    attrs: dict[str, str] = {}
    for attr, filename in _DEVICE_ATTRS:
        text = host.read_text(f"{path}/{filename}")
        value = go_trim_space(text) if text is not None else ""
        if value:
            attrs[attr] = value
    if attrs.get("class") != "00":
        return [attrs]
    instances = []
    for iface in _glob_children(host, path, "bInterfaceClass"):
        text = host.read_text(f"{iface}/bInterfaceClass")
        if text is None:
            return None
        instances.append({**attrs, "class": go_trim_space(text)})
    return instances


def discover_usb(host: HostPaths) -> Features:
    """``usb.device`` instances (short name ``device``)."""
    devices: list[dict[str, str]] = []
    for path in _glob_children(host, host.sys("bus/usb/devices"), "idProduct"):
        found = _device_instances(host, path)
        if found is not None:
            devices.extend(found)
    return Features(instances={"device": devices})
