"""The ``system`` source: os-release, DMI ids and the node name.

Mirrors NFD ``source/system/system.go``. ``os-release`` is read only from
``EtcDir`` (no ``/usr/lib/os-release`` fallback); the node name comes from
the ``NODE_NAME`` environment variable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from nfd.api import Features
from nfd.sources._hostpaths import HostPaths, decode

_OS_RELEASE_LINE = re.compile(r"(\w+)=(.+)", re.ASCII)
_VERSION_ID = re.compile(r"(\d+)(\.(\d+))?(\..*)?", re.ASCII)
DMI_ID_NAMES = (
    "bios_date", "bios_vendor", "bios_version", "board_asset_tag", "board_name",
    "board_vendor", "board_version", "chassis_asset_tag", "chassis_type", "chassis_vendor",
    "chassis_version", "product_family", "product_name", "product_sku", "product_version",
    "sys_vendor",
)


def _scanner_lines(text: str) -> list[str]:
    """``bufio.Scanner`` lines: split on ``\\n``, one trailing ``\\r`` dropped, no empty tail."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def parse_os_release(text: str) -> dict[str, str]:
    """NFD's os-release parsing, derived ``VERSION_ID.major``/``.minor`` included.

    ``KEY=value`` at column 0 (key ``\\w+``, value non-empty); the value keeps
    everything but leading/trailing ``"`` and ``'`` characters. No unescaping.
    """
    release: dict[str, str] = {}
    for line in _scanner_lines(text):
        m = _OS_RELEASE_LINE.match(line)  # Go's `.` stops at a newline; lines have none
        if m:
            release[m.group(1)] = m.group(2).strip("\"'")
    version = release.get("VERSION_ID")
    if version is not None:
        m = _VERSION_ID.fullmatch(version)
        if m:
            if m.group(1):
                release["VERSION_ID.major"] = m.group(1)
            if m.group(3):
                release["VERSION_ID.minor"] = m.group(3)
    return release


def discover_system(host: HostPaths, environ: Mapping[str, str]) -> Features:
    """The system source's features (short names)."""
    features = Features(attributes={"name": {"nodename": environ.get("NODE_NAME", "")}})
    path = host.etc("os-release")
    raw = host.read_bytes(path)
    if raw is not None:
        features.attributes["osrelease"] = parse_os_release(decode(raw))
    elif host.is_dir(path):
        features.attributes["osrelease"] = {}  # Go opens a directory fine, then reads nothing
    dmi: dict[str, str] = {}
    for name in DMI_ID_NAMES:
        value = host.read_trimmed(host.sys(f"devices/virtual/dmi/id/{name}"))
        if value is not None:
            dmi[name] = value
    if dmi:
        features.attributes["dmiid"] = dmi
    return features
