"""The ``memory`` source: NUMA, swap, NVDIMM devices and huge pages.

Mirrors NFD ``source/memory/memory.go``. Swap is the one ``/proc`` file NFD
reads through the host prefix (``ProcDir/swaps``).
"""

from __future__ import annotations

import errno

from nfd._go.strconv import atoi
from nfd.api import Features
from nfd.sources._hostpaths import HostPaths, go_trim_space

go_atoi = atoi  # strconv.Atoi, under the name the sources use
_QUANTITY_SUFFIXES = ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei")


def detect_numa(host: HostPaths) -> dict[str, str] | None:
    """Count of ``bus/node/devices`` entries; None when the directory cannot be listed."""
    try:
        nodes = host.list_dir(host.sys("bus/node/devices"))
    except OSError:
        return None
    return {"is_numa": "true" if len(nodes) > 1 else "false", "node_count": str(len(nodes))}


def detect_swap(host: HostPaths) -> dict[str, str] | None:
    """More than one non-blank line in ``ProcDir/swaps`` (the header is one)."""
    text = host.read_text(host.proc("swaps"))
    if text is None:
        return None
    lines = sum(1 for line in text.split("\n") if go_trim_space(line))
    return {"enabled": "true" if lines > 1 else "false"}


def detect_nv(host: HostPaths) -> list[dict[str, str]] | None:
    """One instance per ``bus/nd/devices`` entry; ``[]`` if missing, None on other errors."""
    base = host.sys("bus/nd/devices")
    try:
        devices = host.list_dir(base)
    except FileNotFoundError:
        return []
    except OSError:
        return None
    out = []
    for name in devices:
        attrs = {"name": name}
        for attr in ("devtype", "mode"):
            value = host.read_trimmed(f"{base}/{name}/{attr}")
            if value is not None:
                attrs[attr] = value
        out.append(attrs)
    return out


def canonical_kib(kib: int) -> str:
    """A Kubernetes binary quantity of ``kib`` KiB in canonical form (``2048`` -> ``2Mi``)."""
    if kib == 0:
        return "0"
    index = 0
    while kib % 1024 == 0 and index < len(_QUANTITY_SUFFIXES) - 1:
        kib //= 1024
        index += 1
    return f"{kib}{_QUANTITY_SUFFIXES[index]}"


def detect_hugepages(host: HostPaths) -> dict[str, str] | None:
    """``hugepages-<size>`` -> ``nr_hugepages`` per page size, and ``enabled``."""
    base = host.sys("kernel/mm/hugepages")
    pages = {"enabled": "false"}
    try:
        entries = host.list_dir(base)
    except OSError as exc:
        return pages if exc.errno == errno.ENOENT else None
    for entry in entries:
        if not host.is_dir(f"{base}/{entry}", follow=False):
            continue  # Go's DirEntry.IsDir() does not follow symlinks
        total = host.read_trimmed(f"{base}/{entry}/nr_hugepages") or ""
        size = entry.removeprefix("hugepages-").rstrip("kB")
        if not size.isdigit() or not size.isascii():
            continue  # resource.ParseQuantity would reject it
        pages["hugepages-" + canonical_kib(int(size))] = total
        count = go_atoi(total)
        if count is not None and count > 0:
            pages["enabled"] = "true"
    return pages


def discover_memory(host: HostPaths) -> Features:
    """The memory source's features (short names)."""
    features = Features()
    numa = detect_numa(host)
    if numa is not None:
        features.attributes["numa"] = numa
    swap = detect_swap(host)
    if swap is not None:
        features.attributes["swap"] = swap
    nv = detect_nv(host)
    if nv is not None:
        features.instances["nv"] = nv
    hugepages = detect_hugepages(host)
    if hugepages is not None:
        features.attributes["hugepages"] = hugepages
    return features
