"""The ``cpu`` source: cpuid, model, topology, cstate, pstate, rdt, security, sst, coprocessor.

Mirrors NFD ``source/cpu`` (cpu.go and its ``_amd64``/``_linux``/``_stub``
files). Which parts are real depends on the architecture, as in NFD's build
tags: cstate, pstate, rdt and sst exist only on amd64 (``{}`` elsewhere), the
``cpu.cpuid`` attribute set only on amd64.
"""

from __future__ import annotations

import errno

from nfd.api import Features
from nfd.sources._cpu_facts import CpuFacts, cpu_facts, sanitize
from nfd.sources._hostpaths import HostPaths, decode, go_trim_space
from nfd.sources._memory import go_atoi


def _topology(host: HostPaths) -> dict[str, str]:
    """``discoverTopology``: ``{}`` if any CPU's topology files cannot be read."""
    base = host.sys("bus/cpu/devices")
    try:
        cpus = host.list_dir(base)
    except OSError:
        return {}
    threads = False
    packages = set()
    for cpu in cpus:
        siblings = host.read_bytes(f"{base}/{cpu}/topology/thread_siblings_list")
        package = host.read_text(f"{base}/{cpu}/topology/physical_package_id")
        if siblings is None or package is None:
            return {}
        threads = threads or b"," in siblings or b"-" in siblings
        packages.add(go_trim_space(package))
    return {"hardware_multithreading": "true" if threads else "false",
            "socket_count": str(len(packages))}


def _cstate(host: HostPaths) -> dict[str, str] | None:
    """``detectCstate``: None (feature absent) where NFD returns an error."""
    base = host.sys("devices/system/cpu")
    if host.stat_error(base) is not None:
        return None
    err = host.stat_error(f"{base}/cpuidle")
    if err is not None and err.errno == errno.ENOENT:
        return {}
    driver = host.read_text(f"{base}/cpuidle/current_driver")
    if driver is None:
        return None
    if go_trim_space(driver) != "intel_idle":
        return {}
    text = host.read_text(host.sys("module/intel_idle/parameters/max_cstate"))
    value = None if text is None else go_atoi(go_trim_space(text))
    if value is None:
        return None
    return {"enabled": "true" if value > 0 else "false"}


def _pstate(host: HostPaths) -> dict[str, str]:
    """``detectPstate``: errors give ``{}`` (the feature is always present on amd64)."""
    base = host.sys("devices/system/cpu")
    if host.stat_error(base) is not None:
        return {}
    pstate = f"{base}/intel_pstate"
    err = host.stat_error(pstate)
    if err is not None and err.errno == errno.ENOENT:
        return {}
    status = host.read_trimmed(f"{pstate}/status")
    if status is None or status == "off":
        return {}
    out = {"status": status}
    no_turbo = host.read_bytes(f"{pstate}/no_turbo")
    if no_turbo is not None:
        out["turbo"] = "true" if no_turbo[:1] == b"0" else "false"
    if status != "active":
        return out
    try:
        policies = host.list_dir(f"{base}/cpufreq")
    except OSError:
        return out
    governor = ""
    for policy in policies:
        cpus = host.read_trimmed(f"{base}/cpufreq/{policy}/affected_cpus")
        current = host.read_trimmed(f"{base}/cpufreq/{policy}/scaling_governor")
        if not cpus or current is None:
            continue
        if governor and governor != current:
            governor = ""  # policies disagree: no scaling_governor element
            break
        governor = current
    if governor:
        out["scaling_governor"] = governor
    return out


def _resctrl_root(host: HostPaths) -> str | None:
    """runc's ``intelrdt.Root()``: ``/sys/fs/resctrl`` must exist, then mountinfo decides."""
    fixed = host.literal("/sys/fs/resctrl")
    if not host.exists(fixed):
        return None
    mounts = host.read_text(host.literal("/proc/self/mountinfo")) or ""
    first = None
    for line in mounts.split("\n"):
        left, sep, right = line.partition(" - ")
        fields, fstype = left.split(), right.split()[:1]
        if sep and len(fields) >= 5 and fstype == ["resctrl"]:
            if fields[4] == "/sys/fs/resctrl":
                return fixed  # the fixed path itself is a resctrl mount
            first = first or fields[4]
    return None if first is None else host.literal(first)


def _rdt(host: HostPaths, facts: CpuFacts) -> dict[str, str]:
    out = dict(facts.rdt)
    if "RDTL3CA" in out:
        root = _resctrl_root(host)
        text = None if root is None else host.read_text(f"{root}/info/L3/num_closids")
        count = None if text is None else go_atoi(go_trim_space(text))
        if count is not None:
            out["RDTL3CA_NUM_CLOSID"] = str(count - 1)
    return out


def _misc_capacity(host: HostPaths, resource: str) -> int | None:
    """First line of the cgroup misc.capacity starting with ``resource``: its count."""
    for rel in ("fs/cgroup/misc.capacity", "fs/cgroup/misc/misc.capacity"):
        text = host.read_text(host.sys(rel))
        if text is None:
            continue
        for line in text.split("\n"):
            if line.startswith(resource):
                parts = line.split(" ")
                return go_atoi(parts[1]) if len(parts) > 1 else None
        return None
    return None


def _kvm_param(host: HostPaths, name: str) -> bool:
    data = host.read_bytes(host.sys(f"module/kvm_amd/parameters/{name}"))
    return data is not None and data[:1] in (b"1", b"Y")


def _security(host: HostPaths, facts: CpuFacts) -> dict[str, str]:
    if facts.arch == "s390x":
        prot = host.read_bytes(host.sys("firmware/uv/prot_virt_host"))
        return {"se.enabled": "true"} if prot == b"1\n" else {}
    if facts.arch != "amd64" or facts.x86 is None:
        return {}
    out: dict[str, str] = {}
    if facts.x86.sgx_epc_bytes > 0:
        out.update({"sgx.enabled": "true", "sgx.epc": str(facts.x86.sgx_epc_bytes)})
    if host.read_bytes(host.sys("module/kvm_intel/parameters/tdx")) == b"Y\n":
        out["tdx.enabled"] = "true"
        keys = _misc_capacity(host, "tdx")
        if keys is not None and keys > -1:
            out["tdx.total_keys"] = str(keys)
    if "TDX_GUEST" in facts.flags:
        out["tdx.protected"] = "true"
    for param, enabled, resource, count_key in (
            ("sev", "sev.enabled", "sev", "sev.asids"),
            ("sev_es", "sev.es.enabled", "sev_es", "sev.encrypted_state_ids"),
            ("sev_snp", "sev.snp.enabled", None, None)):
        if _kvm_param(host, param):
            out[enabled] = "true"
            if resource and count_key:
                count = _misc_capacity(host, resource)
                if count is not None and count > -1:
                    out[count_key] = str(count)
    return out


def _sst(host: HostPaths, facts: CpuFacts) -> dict[str, str]:
    """``discoverSST``: ``bf.enabled`` when a CPU's base frequency beats the nominal one."""
    base = host.sys("bus/cpu/devices")
    try:
        cpus = host.list_dir(base)
    except OSError:
        return {}
    for cpu in cpus:
        path = f"{base}/{cpu}/cpufreq/base_frequency"
        try:
            text = decode(host.read_file(path))
        except FileNotFoundError:
            continue
        except OSError:
            return {}
        freq = go_atoi(go_trim_space(text))
        if freq is None or facts.nominal_mhz == 0:
            return {}
        if freq // 1000 > facts.nominal_mhz:
            return {"bf.enabled": "true"}
    return {}


def _model(facts: CpuFacts, host: HostPaths) -> dict[str, str]:
    model = {"vendor_id": facts.vendor, "family": str(facts.family), "id": str(facts.model)}
    if facts.arch == "s390x":
        return _s390x_model(host, model)
    if facts.hypervisor is not None:
        model["hypervisor"] = facts.hypervisor
    return model


def _s390x_model(host: HostPaths, model: dict[str, str]) -> dict[str, str]:
    """s390x: vendor/family/id from ``/proc/cpuinfo``, hypervisor from ``/proc/sysinfo``."""
    vendor, family, ident = "", "0", "0"
    for line in (host.read_text(host.literal("/proc/cpuinfo")) or "").split("\n"):
        key, sep, value = line.partition(":")
        key, value = go_trim_space(key), go_trim_space(value)
        if not sep:
            continue
        if key == "vendor_id":
            vendor = sanitize(value)
        elif key == "machine":
            ident = value
        elif key == "identification" and family == "0":
            family = value
    if vendor:
        model["vendor_id"] = vendor
    if family not in ("", "0"):
        model["family"] = family
    if ident not in ("", "0"):
        model["id"] = ident
    sysinfo = host.read_text(host.literal("/proc/sysinfo"))
    if sysinfo is not None:
        hypervisor = ""
        for line in sysinfo.split("\n"):
            if "Control Program:" in line:
                hypervisor = go_trim_space(line.split(":", 1)[1])
                break
        model["hypervisor"] = sanitize(hypervisor) if hypervisor else "none"
    return model


def discover_cpu(host: HostPaths, facts: CpuFacts | None = None) -> Features:
    """The cpu source's features (short names). ``facts`` defaults to :func:`cpu_facts`."""
    facts = facts or cpu_facts(host)
    features = Features()
    flags = set(facts.flags)
    if facts.x86 is not None:
        flags.update(f"X86_64_V{i}" for i in range(1, facts.x86.x64_level() + 1))
    features.flags["cpuid"] = flags
    amd64 = facts.arch == "amd64"
    if amd64:
        level = facts.x86.avx10_level if facts.x86 else 0
        features.attributes["cpuid"] = {"AVX10_VERSION": str(level)} if level else {}
    features.attributes["model"] = _model(facts, host)
    if amd64:
        cstate = _cstate(host)
        if cstate is not None:
            features.attributes["cstate"] = cstate
    else:
        features.attributes["cstate"] = {}
    features.attributes["pstate"] = _pstate(host) if amd64 else {}
    features.attributes["rdt"] = _rdt(host, facts) if amd64 else {}
    features.attributes["security"] = _security(host, facts)
    features.attributes["sst"] = _sst(host, facts) if amd64 else {}
    features.attributes["topology"] = _topology(host)
    nx_gzip = facts.arch == "ppc64le" and host.exists(
        host.sys("devices/vio/ibm,compression-v1/nx_gzip_caps"))
    features.attributes["coprocessor"] = {"nx_gzip": "true"} if nx_gzip else {}
    return features
