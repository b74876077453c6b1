"""Host feature discovery: NFD's feature sources, re-implemented.

Each source is a plain function ``discover_<name>(host, ...)`` returning its
part of a :class:`nfd.api.Features` value with short feature names;
:func:`discover` runs the selected ones and merges them under
``<source>.<feature>``, exactly as ``nfd export features`` would report them.
:class:`HostPaths` says where host files are read from (NFD's ``/host-``
container prefix, or a whole captured tree) and is the only way sources read
them: paths resolve inside the root as in a chroot, and every read and
listing is bounded by :class:`HostLimits`. Nothing reads the host at import
time and nothing registers itself anywhere.

    >>> from nfd.sources import HostPaths, discover
    >>> result = discover(HostPaths.from_options("/mnt/node", None))  # doctest: +SKIP
    >>> result.features.instances["pci.device"]  # doctest: +SKIP
"""

from __future__ import annotations

from nfd import _lazy
from nfd._lazy import lazy_getattr as _lazy_getattr
from nfd.sources._discover import (
    SOURCES,
    Discovery,
    discover,
    source_status,
    sources_read,
    uses_live_cpuid,
)
from nfd.sources._hostfs import HostLimits
from nfd.sources._hostpaths import HostPaths

if _lazy.TYPE_CHECKING:
    from nfd.sources._cpu import discover_cpu
    from nfd.sources._cpu_facts import CpuFacts, cpu_facts
    from nfd.sources._drivers import (
        GFD_NAMES,
        GFD_VERSION_NAMES,
        driver_facts,
        features_d_text,
        gfd_facts,
        module_versions,
    )
    from nfd.sources._feature_labels import (
        FEATURE_LABEL_NS,
        LabelResult,
        custom_rule_files,
        feature_labels,
    )
    from nfd.sources._kernel import discover_kernel, parse_kconfig, parse_kernel_version
    from nfd.sources._local import discover_local, parse_feature_file
    from nfd.sources._memory import discover_memory
    from nfd.sources._network import discover_network
    from nfd.sources._pci import discover_pci
    from nfd.sources._storage import discover_storage
    from nfd.sources._system import discover_system, parse_os_release
    from nfd.sources._usb import discover_usb

# The sources load on first use (PEP 562), as discover() runs them: a discovery of two
# sources imports two.
_LAZY = {
    "CpuFacts": "nfd.sources._cpu_facts",
    "GFD_NAMES": "nfd.sources._drivers",
    "GFD_VERSION_NAMES": "nfd.sources._drivers",
    "driver_facts": "nfd.sources._drivers",
    "features_d_text": "nfd.sources._drivers",
    "gfd_facts": "nfd.sources._drivers",
    "module_versions": "nfd.sources._drivers",
    "FEATURE_LABEL_NS": "nfd.sources._feature_labels",
    "LabelResult": "nfd.sources._feature_labels",
    "custom_rule_files": "nfd.sources._feature_labels",
    "feature_labels": "nfd.sources._feature_labels",
    "cpu_facts": "nfd.sources._cpu_facts",
    "discover_cpu": "nfd.sources._cpu",
    "discover_kernel": "nfd.sources._kernel",
    "discover_local": "nfd.sources._local",
    "discover_memory": "nfd.sources._memory",
    "discover_network": "nfd.sources._network",
    "discover_pci": "nfd.sources._pci",
    "discover_storage": "nfd.sources._storage",
    "discover_system": "nfd.sources._system",
    "discover_usb": "nfd.sources._usb",
    "parse_feature_file": "nfd.sources._local",
    "parse_kconfig": "nfd.sources._kernel",
    "parse_kernel_version": "nfd.sources._kernel",
    "parse_os_release": "nfd.sources._system",
}


__getattr__ = _lazy_getattr(__name__, _LAZY)

__all__ = [
    "FEATURE_LABEL_NS",
    "GFD_NAMES",
    "GFD_VERSION_NAMES",
    "SOURCES",
    "CpuFacts",
    "Discovery",
    "HostLimits",
    "HostPaths",
    "LabelResult",
    "cpu_facts",
    "custom_rule_files",
    "discover",
    "discover_cpu",
    "discover_kernel",
    "discover_local",
    "discover_memory",
    "discover_network",
    "discover_pci",
    "discover_storage",
    "discover_system",
    "discover_usb",
    "driver_facts",
    "feature_labels",
    "features_d_text",
    "gfd_facts",
    "module_versions",
    "parse_feature_file",
    "parse_kconfig",
    "parse_kernel_version",
    "parse_os_release",
    "source_status",
    "sources_read",
    "uses_live_cpuid",
]
