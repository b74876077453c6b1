"""Use cases: validating a node or features against a spec, linting, reports, and the
compatibility artifacts of images in registries (attach, list, fetch, remove).

>>> from nfd.api import load_features, load_spec
>>> from nfd.compat import validate_features
>>> result = validate_features(load_spec("spec.yaml"), load_features("features.json"))
>>> result.compatible  # doctest: +SKIP

The registry use cases and the linter load on first use (PEP 562), so validating
files never imports the registry client, and validating never imports the linter.
The registry use cases take a :class:`nfd.oci.RegistryOptions`, or a
:class:`nfd.oci.RegistryClient` (``client=``) so that one session reuses its tokens and
connections across calls.
Evaluation itself is :mod:`nfd.match`'s spec evaluator; its results are
re-exported here.
"""

from __future__ import annotations

from nfd import _lazy
from nfd._lazy import lazy_getattr as _lazy_getattr
from nfd.compat._node_report import nfd_report, rich_report
from nfd.compat._spec_source import load_compat_spec
from nfd.match import (
    RULE_MATCHED,
    CompatibilityStatus,
    ValidationResult,
    explain_expression,
    first_failure,
    node_text,
    validate_features,
)

if _lazy.TYPE_CHECKING:
    from nfd.compat._artifact_push import AttachResult, attach_compat_spec
    from nfd.compat._artifact_remove import Removal, remove_compat_specs
    from nfd.compat._artifacts import (
        ArtifactInfo,
        AttachedSpec,
        FetchedSpec,
        fetch_compat_spec,
        fetch_compat_spec_bytes,
        list_compat_artifacts,
    )
    from nfd.compat._explain import explain_vocabulary
    from nfd.compat._generate import ImageConfig, read_image_config
    from nfd.compat._lint import (
        ERROR,
        WARNING,
        Finding,
        check_spec,
        lint_spec,
        lint_spec_bytes,
    )
    from nfd.compat._nvidia_require import (
        MAX_CONFIG_BYTES,
        Translation,
        env_from_config,
        spec_from_env,
    )

_LAZY = {
    "ERROR": "nfd.compat._lint",
    "WARNING": "nfd.compat._lint",
    "Finding": "nfd.compat._lint",
    "check_spec": "nfd.compat._lint",
    "lint_spec": "nfd.compat._lint",
    "lint_spec_bytes": "nfd.compat._lint",
    "ArtifactInfo": "nfd.compat._artifacts",
    "AttachResult": "nfd.compat._artifact_push",
    "AttachedSpec": "nfd.compat._artifacts",
    "FetchedSpec": "nfd.compat._artifacts",
    "Removal": "nfd.compat._artifact_remove",
    "attach_compat_spec": "nfd.compat._artifact_push",
    "explain_vocabulary": "nfd.compat._explain",
    "fetch_compat_spec": "nfd.compat._artifacts",
    "fetch_compat_spec_bytes": "nfd.compat._artifacts",
    "list_compat_artifacts": "nfd.compat._artifacts",
    "remove_compat_specs": "nfd.compat._artifact_remove",
    "ImageConfig": "nfd.compat._generate",
    "read_image_config": "nfd.compat._generate",
    "MAX_CONFIG_BYTES": "nfd.compat._nvidia_require",
    "Translation": "nfd.compat._nvidia_require",
    "env_from_config": "nfd.compat._nvidia_require",
    "spec_from_env": "nfd.compat._nvidia_require",
}


__getattr__ = _lazy_getattr(__name__, _LAZY)


__all__ = [
    "ERROR",
    "MAX_CONFIG_BYTES",
    "RULE_MATCHED",
    "WARNING",
    "ArtifactInfo",
    "AttachResult",
    "AttachedSpec",
    "CompatibilityStatus",
    "FetchedSpec",
    "Finding",
    "ImageConfig",
    "Removal",
    "Translation",
    "ValidationResult",
    "attach_compat_spec",
    "check_spec",
    "env_from_config",
    "explain_expression",
    "explain_vocabulary",
    "fetch_compat_spec",
    "fetch_compat_spec_bytes",
    "first_failure",
    "lint_spec",
    "lint_spec_bytes",
    "list_compat_artifacts",
    "load_compat_spec",
    "nfd_report",
    "node_text",
    "read_image_config",
    "remove_compat_specs",
    "rich_report",
    "spec_from_env",
    "validate_features",
]
