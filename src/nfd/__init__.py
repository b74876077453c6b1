"""nfd-client: Kubernetes Node Feature Discovery image compatibility in Python.

A library first: every ``nfd`` command is a thin shell over these functions.
The calls a tool writer needs are here; each loads its package on first use
(PEP 562), so ``import nfd`` stays as cheap as importing the errors.

>>> import nfd
>>> spec = nfd.load_spec("spec.yaml")  # doctest: +SKIP
>>> result = nfd.validate_features(spec, nfd.load_features("features.json"))  # doctest: +SKIP
>>> [(f.rule, f.feature, f.name, f.node.value) for f in result.failures()]  # doctest: +SKIP
>>> with nfd.RegistryClient(nfd.RegistryOptions()) as client:  # doctest: +SKIP
...     attached = nfd.fetch_compat_spec("registry.example/app:v1", client=client)
...     listed = nfd.list_compat_artifacts("registry.example/app:v1", client=client)

Everything else lives in the subpackages: :mod:`nfd.api` (documents),
:mod:`nfd.match` (the engine), :mod:`nfd.compat` (use cases), :mod:`nfd.oci`
(registries), :mod:`nfd.sources` (discovery), :mod:`nfd.cluster`, :mod:`nfd.webhook`.
"""

from __future__ import annotations

from nfd import _lazy
from nfd._lazy import lazy_getattr as _lazy_getattr
from nfd.errors import (
    AuthError,
    ClusterError,
    DigestMismatchError,
    DiscoveryError,
    EvaluationError,
    NfdError,
    NoArtifactError,
    NotFoundError,
    RegistryError,
    SpecError,
    TooLargeError,
    UsageError,
)

if _lazy.TYPE_CHECKING:
    from nfd.api import CompatSpec, Features, load_features, load_spec
    from nfd.compat import (
        AttachedSpec,
        ValidationResult,
        attach_compat_spec,
        fetch_compat_spec,
        fetch_compat_spec_bytes,
        list_compat_artifacts,
        remove_compat_specs,
        validate_features,
    )
    from nfd.oci import RegistryClient, RegistryOptions
    from nfd.sources import HostPaths, discover

__version__ = "0.1.0"

_FRONT_DOOR = {
    "CompatSpec": "nfd.api",
    "Features": "nfd.api",
    "load_features": "nfd.api",
    "load_spec": "nfd.api",
    "AttachedSpec": "nfd.compat",
    "ValidationResult": "nfd.compat",
    "attach_compat_spec": "nfd.compat",
    "fetch_compat_spec": "nfd.compat",
    "fetch_compat_spec_bytes": "nfd.compat",
    "list_compat_artifacts": "nfd.compat",
    "remove_compat_specs": "nfd.compat",
    "validate_features": "nfd.compat",
    "RegistryClient": "nfd.oci",
    "RegistryOptions": "nfd.oci",
    "HostPaths": "nfd.sources",
    "discover": "nfd.sources",
}

__getattr__ = _lazy_getattr(__name__, _FRONT_DOOR)

__all__ = [
    "AttachedSpec",
    "AuthError",
    "ClusterError",
    "CompatSpec",
    "DigestMismatchError",
    "DiscoveryError",
    "EvaluationError",
    "Features",
    "HostPaths",
    "NfdError",
    "NoArtifactError",
    "NotFoundError",
    "RegistryClient",
    "RegistryError",
    "RegistryOptions",
    "SpecError",
    "TooLargeError",
    "UsageError",
    "ValidationResult",
    "__version__",
    "attach_compat_spec",
    "discover",
    "fetch_compat_spec",
    "fetch_compat_spec_bytes",
    "list_compat_artifacts",
    "load_features",
    "load_spec",
    "remove_compat_specs",
    "validate_features",
]
