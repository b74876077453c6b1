"""The node labels nfd-worker publishes from discovered features, with NFD's default rules.

Mirrors each source's ``GetLabels`` (NFD ``source/*/``) with its default
configuration, and ``GetFeatureLabels`` in ``pkg/nfd-worker``: a built-in
source's label ``x`` becomes ``feature.node.kubernetes.io/<source>-x`` unless
it already has a ``/``; ``custom`` and ``local`` labels are kept as written;
labels whose name or value Kubernetes would reject are left out. Sources run
by priority, then name (``custom`` 10 and ``local`` 20 after the built-in
ones at 0), a later source's label replacing an earlier one's.

Where this follows nfd-worker rather than NFD's ``nfd export labels``: that
command never calls ``SetConfig``, so its cpu source starts with an empty
cpuid filter and prints every flag; nfd-worker (and this module) apply the
default ``attributeBlacklist``. The ``custom`` source's drop-in rules
(``custom.d``) are not evaluated, only its two static RDMA rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from nfd.api import FeatureMatcherTerm, Features, GroupRule, MatchExpression
from nfd.sources._hostpaths import HostPaths
from nfd.sources._memory import go_atoi

FEATURE_LABEL_NS = "feature.node.kubernetes.io"

# cpu: cpuidConfig.AttributeBlacklist of newDefaultConfig (labels only; features keep all).
CPUID_LABEL_BLACKLIST = frozenset({
    "AVX10", "BMI1", "BMI2", "CLMUL", "CMOV", "CX16", "ERMS", "F16C", "HTT", "LZCNT", "MMX",
    "MMXEXT", "NX", "POPCNT", "RDRAND", "RDSEED", "RDTSCP", "SGX", "SGXLC", "SSE", "SSE2",
    "SSE3", "SSE4", "SSE42", "SSSE3", "TDX_GUEST",
})
# cpu.security elements kept for rules (extended resources) but never labelled.
SECURITY_UNLABELLED = frozenset({"tdx.total_keys", "sgx.epc", "sev.encrypted_state_ids",
                                 "sev.asids"})
KCONFIG_LABEL_OPTIONS = ("NO_HZ", "NO_HZ_IDLE", "NO_HZ_FULL", "PREEMPT")
PCI_CLASS_WHITELIST = ("03", "0b40", "12")
PCI_LABEL_FIELDS = ("class", "vendor")
USB_CLASS_WHITELIST = ("0e", "ef", "fe", "ff")
USB_LABEL_FIELDS = ("class", "vendor", "device")
OS_RELEASE_LABEL_FIELDS = ("ID", "VERSION_ID", "VERSION_ID.major", "VERSION_ID.minor")

# k8s.io/apimachinery/pkg/util/validation
_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]", re.ASCII)
_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = re.compile(rf"{_DNS1123_LABEL}(\.{_DNS1123_LABEL})*", re.ASCII)
MAX_NAME_LENGTH = 63
MAX_PREFIX_LENGTH = 253
MAX_VALUE_LENGTH = 63

Labels = dict[str, str]
LabelFunction = Callable[[Features, HostPaths], Labels]


@dataclass
class LabelResult:
    """The labels nfd-worker would publish, and the ones it would drop as invalid."""

    labels: Labels = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, value)


def _attrs(features: Features, name: str) -> dict[str, str]:
    return features.attributes.get(name) or {}


def _instances(features: Features, name: str) -> list[dict[str, str]]:
    return features.instances.get(name) or []


def cpu_labels(features: Features, host: HostPaths) -> Labels:
    """``cpuSource.GetLabels`` with the default blacklist."""
    out = {f"cpuid.{flag}": "true" for flag in features.flags.get("cpu.cpuid") or ()
           if flag not in CPUID_LABEL_BLACKLIST}
    out.update({f"cpuid.{k}": v for k, v in _attrs(features, "cpu.cpuid").items()})
    for feature, prefix in (("model", "model."), ("cstate", "cstate."), ("pstate", "pstate."),
                            ("sst", "power.sst_")):
        out.update({prefix + k: v for k, v in _attrs(features, f"cpu.{feature}").items()})
    out.update({f"security.{k}": v for k, v in _attrs(features, "cpu.security").items()
                if k not in SECURITY_UNLABELLED})
    topology = _attrs(features, "cpu.topology")
    if "hardware_multithreading" in topology:
        out["hardware_multithreading"] = topology["hardware_multithreading"]
    coprocessor = _attrs(features, "cpu.coprocessor")
    if "nx_gzip" in coprocessor:
        out["coprocessor.nx_gzip"] = coprocessor["nx_gzip"]
    # NFD reads SysfsDir.Path("sys/devices/...") - "sys" twice - so on a normal host these
    # two never appear; kept identical on purpose.
    for hybrid in ("cpu_atom", "cpu_core"):
        if host.read_bytes(host.sys(f"sys/devices/{hybrid}/cpus")) is not None:
            out[hybrid] = "true"
    return out


def kernel_labels(features: Features, host: HostPaths) -> Labels:
    """``kernelSource.GetLabels``: version, the default kconfig options, SELinux when on.

    The "legacy" kconfig value is ``true`` for ``y``/``m``; NFD tests the unquoted raw
    text, so a quoted ``"y"`` (never written by kconfig) would differ here.
    """
    out = {f"version.{k}": v for k, v in _attrs(features, "kernel.version").items()}
    config = features.attributes.get("kernel.config")
    if config is not None:
        for option in KCONFIG_LABEL_OPTIONS:
            if option in config:
                value = config[option]
                out[f"config.{option}"] = "true" if value in ("y", "m") else value
    if _attrs(features, "kernel.selinux").get("enabled") == "true":
        out["selinux.enabled"] = "true"
    return out


def memory_labels(features: Features, host: HostPaths) -> Labels:
    """``memorySource.GetLabels``: numa, swap, nv.present, nv.dax."""
    out: Labels = {}
    if _attrs(features, "memory.numa").get("is_numa") == "true":
        out["numa"] = "true"
    if _attrs(features, "memory.swap").get("enabled") == "true":
        out["swap"] = "true"
    nv = _instances(features, "memory.nv")
    if nv:
        out["nv.present"] = "true"
    if any(dev.get("devtype") == "nd_dax" for dev in nv):
        out["nv.dax"] = "true"
    return out


def network_labels(features: Features, host: HostPaths) -> Labels:
    """``networkSource.GetLabels``: SR-IOV capable / configured interfaces."""
    out: Labels = {}
    for dev in _instances(features, "network.device"):
        for attr, label in (("sriov_totalvfs", "sriov.capable"),
                            ("sriov_numvfs", "sriov.configured")):
            count = go_atoi(dev[attr]) if attr in dev else None
            if count is not None and count > 0:
                out[label] = "true"
    return out


def _device_labels(devices: list[dict[str, str]], whitelist: tuple[str, ...],
                   fields: tuple[str, ...], sriov: bool) -> Labels:
    """PCI/USB: ``<field>_<field>.present`` for devices whose class starts with a listed one."""
    out: Labels = {}
    for dev in devices:
        if not any(dev.get("class", "").startswith(white.lower()) for white in whitelist):
            continue
        name = "_".join(dev.get(f, "") for f in fields)
        out[f"{name}.present"] = "true"
        if sriov and "sriov_totalvfs" in dev:
            out[f"{name}.sriov.capable"] = "true"
    return out


def pci_labels(features: Features, host: HostPaths) -> Labels:
    """``pciSource.GetLabels``: classes 03, 0b40, 12 labelled by class and vendor."""
    return _device_labels(_instances(features, "pci.device"), PCI_CLASS_WHITELIST,
                          PCI_LABEL_FIELDS, sriov=True)


def usb_labels(features: Features, host: HostPaths) -> Labels:
    """``usbSource.GetLabels``: classes 0e, ef, fe, ff labelled by class, vendor and device."""
    return _device_labels(_instances(features, "usb.device"), USB_CLASS_WHITELIST,
                          USB_LABEL_FIELDS, sriov=False)


def storage_labels(features: Features, host: HostPaths) -> Labels:
    """``storageSource.GetLabels``: one non-rotational block device is enough."""
    blocks = _instances(features, "storage.block")
    return {"nonrotationaldisk": "true"} if any(b.get("rotational") == "0" for b in blocks) else {}


def system_labels(features: Features, host: HostPaths) -> Labels:
    """``systemSource.GetLabels``: four os-release fields."""
    release = _attrs(features, "system.osrelease")
    return {f"os_release.{k}": release[k] for k in OS_RELEASE_LABEL_FIELDS if k in release}


def _static_rule(name: str, feature: str, expressions: dict[str, MatchExpression]) -> GroupRule:
    return GroupRule(name=name, match_features=(
        FeatureMatcherTerm(feature=feature, match_expressions=expressions),))


# custom/static_features.go: the rules every worker evaluates, whatever its configuration.
_STATIC_RULES = (
    ("rdma.capable", _static_rule("RDMA capable static rule", "pci.device",
                                  {"vendor": MatchExpression(op="In", value=("15b3",))})),
    ("rdma.available", _static_rule("RDMA available static rule", "kernel.loadedmodule",
                                    {"ib_uverbs": MatchExpression(op="Exists"),
                                     "rdma_ucm": MatchExpression(op="Exists")})),
)


def custom_labels(features: Features, host: HostPaths) -> Labels:
    """``customSource.GetLabels`` with no configuration: the static RDMA rules."""
    from nfd.match import evaluate_group_rule  # the engine loads only for labels

    return {label: "true" for label, rule in _STATIC_RULES
            if evaluate_group_rule(rule, features)[0].is_match}


CUSTOM_RULES_DIR = "/etc/kubernetes/node-feature-discovery/custom.d"


def custom_rule_files(host: HostPaths) -> list[str]:
    """The ``custom.d`` rule files nfd-worker reads (we do not): one level of subdirectories."""
    found: list[str] = []
    for name in _listing(host, CUSTOM_RULES_DIR):
        path = f"{CUSTOM_RULES_DIR}/{name}"
        if host.is_dir(path, follow=False):  # Go's DirEntry.IsDir: a link is not a directory
            found += [f"{path}/{sub}" for sub in _listing(host, path)
                      if not sub.startswith(".") and not host.is_dir(f"{path}/{sub}", follow=False)]
        elif not name.startswith("."):
            found.append(path)
    return found


def _listing(host: HostPaths, directory: str) -> list[str]:
    try:
        return host.list_dir(directory)
    except OSError:
        return []


def local_labels(features: Features, host: HostPaths) -> Labels:
    """``localSource.GetLabels``: the ``features.d`` labels, as written."""
    return dict(_attrs(features, "local.label"))


# (name, labels) in NFD's order: priority (0, custom 10, local 20), then name.
LABEL_TABLE: tuple[tuple[str, LabelFunction], ...] = (
    ("cpu", cpu_labels),
    ("kernel", kernel_labels),
    ("memory", memory_labels),
    ("network", network_labels),
    ("pci", pci_labels),
    ("storage", storage_labels),
    ("system", system_labels),
    ("usb", usb_labels),
    ("custom", custom_labels),
    ("local", local_labels),
)
_UNMANGLED = frozenset({"custom", "local"})


def is_qualified_name(name: str) -> bool:
    """``validation.IsQualifiedName``: ``[prefix/]name`` as Kubernetes label keys need."""
    parts = name.split("/")
    if len(parts) > 2:
        return False
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix or len(prefix) > MAX_PREFIX_LENGTH or not _DNS1123_SUBDOMAIN.fullmatch(
                prefix):
            return False
    short = parts[-1]
    return 0 < len(short) <= MAX_NAME_LENGTH and _NAME.fullmatch(short) is not None


def is_valid_label_value(value: str) -> bool:
    """``validation.IsValidLabelValue``: empty, or at most 63 name characters."""
    return len(value) <= MAX_VALUE_LENGTH and (not value or _NAME.fullmatch(value) is not None)


def feature_labels(features: Features, host: HostPaths | None = None) -> LabelResult:
    """The labels nfd-worker would publish for ``features`` (``host`` for the cpu extras)."""
    host = host or HostPaths()
    result = LabelResult()
    for source, labels_of in LABEL_TABLE:
        for name, value in labels_of(features, host).items():
            if source not in _UNMANGLED and "/" not in name:
                name = f"{FEATURE_LABEL_NS}/{source}-{name}"
            if is_qualified_name(name) and is_valid_label_value(value):
                result.labels[name] = value
            else:
                result.skipped.append((name, value))
    return result
