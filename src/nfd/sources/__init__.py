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

from nfd.sources._cpu import discover_cpu
from nfd.sources._cpu_facts import CpuFacts, cpu_facts
from nfd.sources._discover import SOURCES, Discovery, discover, source_status, uses_live_cpuid
from nfd.sources._drivers import (
    GFD_NAMES,
    GFD_VERSION_NAMES,
    driver_facts,
    features_d_text,
    gfd_facts,
    module_versions,
)
from nfd.sources._hostfs import HostLimits
from nfd.sources._hostpaths import HostPaths
from nfd.sources._kernel import discover_kernel, parse_kconfig, parse_kernel_version
from nfd.sources._labels import FEATURE_LABEL_NS, LabelResult, feature_labels
from nfd.sources._local import discover_local, parse_feature_file
from nfd.sources._memory import discover_memory
from nfd.sources._network import discover_network
from nfd.sources._pci import discover_pci
from nfd.sources._storage import discover_storage
from nfd.sources._system import discover_system, parse_os_release
from nfd.sources._usb import discover_usb

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
    "uses_live_cpuid",
]
