"""What one image's spec asks of the scheduler: the same objects ``nfd compat affinity`` makes.

The label names come from the image reference as the pod writes it (as
``affinity --image REF`` derives them), so the webhook's affinity and the
command's are the same object for the same reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nfd.api import CompatSpec
from nfd.cluster import (
    LabelScheme,
    NfdSupport,
    build_affinity,
    build_rule_plan,
    image_label_base,
)


@dataclass(frozen=True)
class ImagePlan:
    """The node affinity for one image, the NodeFeatureRule making its labels, and warnings."""

    node_affinity: dict[str, Any]
    rule: dict[str, Any]
    warnings: tuple[str, ...]

    @property
    def rule_name(self) -> str:
        return str(self.rule["metadata"]["name"])


def plan_image(image: str, spec: CompatSpec, label_prefix: str,
               nfd: NfdSupport | None = None) -> ImagePlan:
    """Affinity and rule for ``image`` (as written in the pod) carrying ``spec``, the rule in
    the ops ``nfd`` accepts (a spec it cannot carry is a :class:`~nfd.errors.SpecError`)."""
    scheme = LabelScheme(label_prefix, image_label_base(image))
    plan = build_rule_plan(spec, scheme, nfd=nfd)
    affinity = build_affinity(plan.sets, spec.source)
    return ImagePlan(affinity.node_affinity, plan.rule, affinity.warnings)
