"""nfd-client: Kubernetes Node Feature Discovery image compatibility in Python.

A library first: every ``nfd`` command is a thin shell over these functions.
Heavy parts (registry client, discovery, Kubernetes) load only when used.
"""

from __future__ import annotations

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

__version__ = "0.1.0"

__all__ = [
    "AuthError",
    "ClusterError",
    "DigestMismatchError",
    "DiscoveryError",
    "EvaluationError",
    "NfdError",
    "NoArtifactError",
    "NotFoundError",
    "RegistryError",
    "SpecError",
    "TooLargeError",
    "UsageError",
    "__version__",
]
