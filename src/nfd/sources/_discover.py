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

from nfd._lazy import TYPE_CHECKING
from nfd._record import FrozenRecord, set_field
from nfd.api import Features
from nfd.errors import UsageError
from nfd.sources._hostpaths import HostPaths

if TYPE_CHECKING:
    from datetime import datetime


class SourceContext(FrozenRecord):
    """What a source may use: the host, ``NODE_NAME``'s environment, the clock, and notes."""

    __slots__ = ("environ", "host", "metadata", "now")
    host: HostPaths
    environ: Mapping[str, str]
    now: datetime | None
    metadata: dict[str, str]

    def __init__(
        self,
        host: HostPaths,
        environ: Mapping[str, str],
        now: datetime | None,
        metadata: dict[str, str],
    ) -> None:
        set_field(self, "host", host)
        set_field(self, "environ", environ)
        set_field(self, "now", now)
        set_field(self, "metadata", metadata)


SourceFunction = Callable[[SourceContext], Features]


# Each source's module is imported when the source runs: a run that needs two sources
# (validate-node reads only what its spec names) loads two.
def _cpu(ctx: SourceContext) -> Features:
    from nfd.sources._cpu import discover_cpu
    from nfd.sources._cpu_facts import cpu_facts

    facts = cpu_facts(ctx.host)
    ctx.metadata["cpuid"] = facts.method
    ctx.metadata.update(facts.notes)
    return discover_cpu(ctx.host, facts)


def _kernel(ctx: SourceContext) -> Features:
    from nfd.sources._kernel import discover_kernel

    return discover_kernel(ctx.host)


def _local(ctx: SourceContext) -> Features:
    from nfd.sources._local import discover_local

    return discover_local(ctx.host, ctx.now)


def _memory(ctx: SourceContext) -> Features:
    from nfd.sources._memory import discover_memory

    return discover_memory(ctx.host)


def _network(ctx: SourceContext) -> Features:
    from nfd.sources._network import discover_network

    return discover_network(ctx.host)


def _pci(ctx: SourceContext) -> Features:
    from nfd.sources._pci import discover_pci

    return discover_pci(ctx.host)


def _storage(ctx: SourceContext) -> Features:
    from nfd.sources._storage import discover_storage

    return discover_storage(ctx.host)


def _system(ctx: SourceContext) -> Features:
    from nfd.sources._system import discover_system

    return discover_system(ctx.host, ctx.environ)


def _usb(ctx: SourceContext) -> Features:
    from nfd.sources._usb import discover_usb

    return discover_usb(ctx.host)


# NFD's nine default feature sources, in the (name) order NFD runs them.
SOURCE_TABLE: tuple[tuple[str, SourceFunction], ...] = (
    ("cpu", _cpu), ("kernel", _kernel), ("local", _local), ("memory", _memory),
    ("network", _network), ("pci", _pci), ("storage", _storage), ("system", _system),
    ("usb", _usb),
)
SOURCES: tuple[str, ...] = tuple(name for name, _ in SOURCE_TABLE)


def _builtin_list(host: HostPaths) -> str:
    from nfd.sources._kernel import kernel_release

    return host.lib(f"modules/{kernel_release(host) or '<release>'}/modules.builtin")


# The one file each of these features comes from (NFD source/kernel, source/system): when
# the feature is absent, that file is why, and the node admin is told which and how it
# failed, rather than a bare "not available" that reads like "not on this node".
FEATURE_FILES: dict[str, Callable[[HostPaths], str]] = {
    "kernel.version": lambda host: host.literal("/proc/sys/kernel/osrelease"),
    "kernel.loadedmodule": lambda host: host.literal("/proc/modules"),
    "kernel.enabledmodule": _builtin_list,
    "system.osrelease": lambda host: host.etc("os-release"),
}


def _unread(host: HostPaths, features: Features, sources: set[str]) -> dict[str, str]:
    """For each absent feature of :data:`FEATURE_FILES`: ``path: why it was not read``."""
    out: dict[str, str] = {}
    for feature, where in FEATURE_FILES.items():
        if feature.split(".", 1)[0] not in sources or feature in features.flags \
                or feature in features.attributes:
            continue
        path = where(host)
        error = host.stat_error(path)  # a stat, not a second read: no bound is spent twice
        why = (error.strerror or str(error)) if error is not None else \
            "not a readable regular file within nfd-client's bounds"
        out[feature] = f"{host.display(path)}: {why}"
    return out


def source_status(discovery: Discovery) -> dict[str, str]:
    """Each source's status for ``--metadata``: ``ok``, or what it could not read."""
    status = {name: "ok" for name in SOURCES}
    notes: dict[str, list[str]] = {}
    for feature, why in discovery.unread.items():
        notes.setdefault(feature.split(".", 1)[0], []).append(f"{feature} not read ({why})")
    for source, why in discovery.failed_reads.items():
        notes.setdefault(source, []).append(f"could not read {why}")
    for source, found in notes.items():
        status[source] = "; ".join(found)
    return status


def _failed_reads(host: HostPaths) -> dict[str, str]:
    out = {}
    for source, (count, first) in host.failed_reads().items():
        out[source] = first if count == 1 else f"{first} (and {count - 1} more)"
    return out


class Discovery(FrozenRecord):
    """Discovered features plus how they were obtained.

    ``metadata`` keys: ``cpuid`` (``cpuid-instruction``, ``proc-cpuinfo``,
    ``auxv-hwcap`` or ``unavailable``), ``hostRoot``, ``hostPrefix``, when
    the CPU was described from a tree notes such as ``hypervisor``, and when a
    bound of :class:`~nfd.sources.HostLimits` left something out
    ``overLimitCount`` and ``overLimitFirst`` (a path). ``unread``: features absent
    because their file could not be read, with ``path: why`` (:data:`FEATURE_FILES`).
    ``failed_reads``: per source, the first read or listing that failed for another reason
    than an absent path (a FIFO or device where a file or directory belongs, a bound, no
    permission), ``path: why``, with how many more.
    """

    __slots__ = ("failed_reads", "features", "metadata", "unread")
    features: Features
    metadata: dict[str, str]
    unread: dict[str, str]
    failed_reads: dict[str, str]

    def __init__(
        self,
        features: Features,
        metadata: dict[str, str] | None = None,
        unread: dict[str, str] | None = None,
        failed_reads: dict[str, str] | None = None,
    ) -> None:
        set_field(self, "features", features)
        set_field(self, "metadata", {} if metadata is None else metadata)
        set_field(self, "unread", {} if unread is None else unread)
        set_field(self, "failed_reads", {} if failed_reads is None else failed_reads)

    def why_unread(self, feature: str) -> str | None:
        """``path: why`` when ``feature`` is absent (or, for an instance feature, empty)
        while a read failed: its own file (:data:`FEATURE_FILES`), else its source's first
        failed read; None when it was read and is simply not on this host."""
        if feature in self.features.flags or feature in self.features.attributes:
            return None
        source_why = self.failed_reads.get(feature.split(".", 1)[0])
        if feature in self.features.instances:  # NFD publishes a failed listing empty
            return None if self.features.instances[feature] else source_why
        return self.unread.get(feature) or source_why


def _prefixed(source: str, part: Features) -> Features:
    return Features(
        flags={f"{source}.{k}": v for k, v in part.flags.items()},
        attributes={f"{source}.{k}": v for k, v in part.attributes.items()},
        instances={f"{source}.{k}": v for k, v in part.instances.items()},
    )


def discover(host: HostPaths | None = None, *, sources: Iterable[str] = SOURCES,
             environ: Mapping[str, str] | None = None, now: datetime | None = None,
             driver_facts: bool = False) -> Discovery:
    """Discover the host's features as ``nfd export features`` does.

    ``environ`` supplies ``NODE_NAME`` (default ``os.environ``); ``now`` is the
    time ``features.d`` expiry directives are checked against (default: now).
    ``driver_facts`` adds :func:`~nfd.sources.driver_facts` (GFD's names) to
    ``local.label`` and ``local.feature``, as NFD would publish them from GFD's
    ``features.d`` file; lines a real ``features.d`` file sets win.
    """
    host = host or HostPaths()
    wanted = set(sources)
    unknown = sorted(wanted - set(SOURCES))
    if unknown:
        raise UsageError(f"unknown feature source(s) {', '.join(unknown)} "
                         f"(known: {', '.join(SOURCES)})")
    ctx = SourceContext(host=host, environ=os.environ if environ is None else environ, now=now,
                        metadata={"hostRoot": host.root, "hostPrefix": host.prefix,
                                  "cpuid": "not-run"})
    merged = Features()
    host.begin_discovery()
    count_before, _ = host.over_limit()
    for name, run in SOURCE_TABLE:
        if name in wanted:
            with host.reading_for(name):
                merged.merge(_prefixed(name, run(ctx)))
    if driver_facts:
        from nfd.sources._drivers import driver_facts as derive_driver_facts

        _add_driver_facts(merged, derive_driver_facts(host), ctx.metadata)
    count, paths = host.over_limit()
    if count > count_before:
        ctx.metadata["overLimitCount"] = str(count - count_before)
        ctx.metadata["overLimitFirst"] = paths[min(count_before, len(paths) - 1)]
    return Discovery(features=merged, metadata=ctx.metadata,
                     unread=_unread(host, merged, wanted), failed_reads=_failed_reads(host))


def sources_read(features: Iterable[str]) -> tuple[str, ...]:
    """The sources that provide ``features`` (names like ``cpu.model``), in NFD's order.

    A spec's verdict and its report depend only on the features its rules name (NFD's
    report lists each expression of the spec, nothing else), so discovering just their
    sources gives the same ``--output-json``. Names of no source (``rule.matched``)
    need none.
    """
    wanted = {name.partition(".")[0].lower() for name in features}
    return tuple(name for name in SOURCES if name in wanted)


def _add_driver_facts(features: Features, facts: dict[str, str],
                      metadata: dict[str, str]) -> None:
    """Merge derived facts under the local source's two features, below real files' lines."""
    for name in ("local.label", "local.feature"):
        # A real features.d line keeps its value: facts go underneath what the files say.
        features.attributes[name] = {**facts, **(features.attributes.get(name) or {})}
    metadata["driverFacts"] = f"{len(facts)} derived by nfd-client, not by NFD"


def uses_live_cpuid(discovery: Discovery) -> bool:
    """True when ``cpu.cpuid`` came from executing CPUID on this machine."""
    from nfd.sources._cpu_facts import METHOD_CPUID

    return discovery.metadata.get("cpuid") == METHOD_CPUID
