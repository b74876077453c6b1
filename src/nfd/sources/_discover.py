"""Run the feature sources and merge their parts into one ``Features`` value.

Equivalent of NFD's ``Discover()`` loop for ``nfd export features`` and
``validate-node``: each selected source runs once with default settings; a
source's short feature names get the ``<source>.`` prefix. Only pci, network
and storage can fail the whole run (:class:`~nfd.errors.DiscoveryError`), as
in NFD; every other source leaves out what it cannot read.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from nfd.api import Features
from nfd.errors import UsageError
from nfd.sources._cpu import discover_cpu
from nfd.sources._cpu_facts import METHOD_CPUID, cpu_facts
from nfd.sources._hostpaths import HostPaths
from nfd.sources._kernel import discover_kernel
from nfd.sources._local import discover_local
from nfd.sources._memory import discover_memory
from nfd.sources._network import discover_network
from nfd.sources._pci import discover_pci
from nfd.sources._storage import discover_storage
from nfd.sources._system import discover_system
from nfd.sources._usb import discover_usb

SOURCES: tuple[str, ...] = (
    "cpu", "kernel", "local", "memory", "network", "pci", "storage", "system", "usb",
)


@dataclass(frozen=True)
class Discovery:
    """Discovered features plus how they were obtained.

    ``metadata`` keys: ``cpuid`` (``cpuid-instruction``, ``proc-cpuinfo``,
    ``auxv-hwcap`` or ``unavailable``), ``hostRoot``, ``hostPrefix`` and, when
    the CPU was described from a tree, notes such as ``hypervisor``.
    """

    features: Features
    metadata: dict[str, str] = field(default_factory=dict)


def _prefixed(source: str, part: Features) -> Features:
    return Features(
        flags={f"{source}.{k}": v for k, v in part.flags.items()},
        attributes={f"{source}.{k}": v for k, v in part.attributes.items()},
        instances={f"{source}.{k}": v for k, v in part.instances.items()},
    )


def discover(host: HostPaths | None = None, *, sources: Iterable[str] = SOURCES,
             environ: Mapping[str, str] | None = None, now: datetime | None = None
             ) -> Discovery:
    """Discover the host's features as ``nfd export features`` does.

    ``environ`` supplies ``NODE_NAME`` (default ``os.environ``); ``now`` is the
    time ``features.d`` expiry directives are checked against (default: now).
    """
    host = host or HostPaths()
    env = os.environ if environ is None else environ
    selected = list(dict.fromkeys(sources))
    unknown = [s for s in selected if s not in SOURCES]
    if unknown:
        raise UsageError(f"unknown feature source(s) {', '.join(unknown)} "
                         f"(known: {', '.join(SOURCES)})")
    metadata = {"hostRoot": host.root, "hostPrefix": host.prefix}
    runners: dict[str, Callable[[], Features]] = {
        "kernel": lambda: discover_kernel(host),
        "local": lambda: discover_local(host, now),
        "memory": lambda: discover_memory(host),
        "network": lambda: discover_network(host),
        "pci": lambda: discover_pci(host),
        "storage": lambda: discover_storage(host),
        "system": lambda: discover_system(host, env),
        "usb": lambda: discover_usb(host),
    }
    merged = Features()
    for source in sorted(selected):  # NFD runs sources in name order
        if source == "cpu":
            facts = cpu_facts(host)
            metadata["cpuid"] = facts.method
            metadata.update(facts.notes)
            part = discover_cpu(host, facts)
        else:
            part = runners[source]()
        merged.merge(_prefixed(source, part))
    if "cpu" not in selected:
        metadata["cpuid"] = "not-run"
    return Discovery(features=merged, metadata=metadata)


def uses_live_cpuid(discovery: Discovery) -> bool:
    """True when ``cpu.cpuid`` came from executing CPUID on this machine."""
    return discovery.metadata.get("cpuid") == METHOD_CPUID
