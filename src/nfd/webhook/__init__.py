"""An admission webhook: pods get the node affinity their images' compatibility specs ask for.

* :class:`Resolver` turns image references into specs (allow-list, tag and
  spec caches, one deadline per review) and each spec into the affinity and
  NodeFeatureRule that ``nfd compat affinity`` makes (:class:`ImagePlan`).
* :func:`parse_review`, :func:`target_of` and :func:`decide` are the pure
  ``admission.k8s.io/v1`` side: which object, which images, which JSONPatch.
* :func:`build_manifests` writes the objects that deploy it.
* :func:`serve` (``nfd.webhook._server``) runs the HTTPS server; it is loaded
  on first use, so aiohttp is imported only by ``nfd compat webhook serve``.
* :class:`AllowList` is the exact ``--allow-registry`` grammar; :class:`Logger`
  the one way the webhook logs (text or JSON lines, every value escaped).
"""

from __future__ import annotations

import typing

from nfd._lazy import lazy_getattr as _lazy_getattr
from nfd.webhook._allow import AllowList
from nfd.webhook._cache import TTLCache
from nfd.webhook._log import Logger
from nfd.webhook._manifests import DEFAULT_NAME, DEFAULT_NAMESPACE, ManifestOptions, build_manifests
from nfd.webhook._plan import ImagePlan, plan_image
from nfd.webhook._resolver import Resolution, Resolver, ResolverSettings
from nfd.webhook._review import (
    APPLIED_ANNOTATION,
    SKIP_ANNOTATION,
    SKIP_VALUE,
    ReviewRequest,
    decide,
    images_of,
    parse_review,
    target_of,
)

if typing.TYPE_CHECKING:
    from nfd.webhook._rules import RuleWriter
    from nfd.webhook._server import ServerSettings, serve
    from nfd.webhook._unsatisfiable import UnsatisfiableCheck

_LAZY = {"ServerSettings": "nfd.webhook._server", "serve": "nfd.webhook._server",
         "RuleWriter": "nfd.webhook._rules",
         "UnsatisfiableCheck": "nfd.webhook._unsatisfiable"}


__getattr__ = _lazy_getattr(__name__, _LAZY)


__all__ = [
    "APPLIED_ANNOTATION",
    "DEFAULT_NAME",
    "DEFAULT_NAMESPACE",
    "SKIP_ANNOTATION",
    "SKIP_VALUE",
    "AllowList",
    "ImagePlan",
    "Logger",
    "ManifestOptions",
    "Resolution",
    "Resolver",
    "ResolverSettings",
    "ReviewRequest",
    "RuleWriter",
    "ServerSettings",
    "TTLCache",
    "UnsatisfiableCheck",
    "build_manifests",
    "decide",
    "images_of",
    "parse_review",
    "plan_image",
    "serve",
    "target_of",
]
