"""What one image's spec asks of the scheduler: the same objects ``nfd compat affinity`` makes.

The label names come from the image reference as the pod writes it (as
``affinity --image REF`` derives them), so the webhook's affinity and the
command's are the same object for the same reference. The rule also records
whose it is, in annotations: the normalised reference its name was derived
from, the repository, and the digest of the spec artifact it was made from. A
rule without them, or with another image's, is never replaced
(:mod:`nfd.webhook._rules`).
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
from nfd.errors import ClusterError
from nfd.oci import Reference

_OWNER = "image-compatibility.nfd.k8s-sigs.io"
IMAGE_ANNOTATION = f"{_OWNER}/image"
REPOSITORY_ANNOTATION = f"{_OWNER}/repository"
SPEC_DIGEST_ANNOTATION = f"{_OWNER}/spec-digest"


class RuleConflict(ClusterError):
    """A rule's name is taken by a rule that is not provably this image's; it was left alone."""


@dataclass(frozen=True)
class ImagePlan:
    """The node affinity for one image, the NodeFeatureRule making its labels, and warnings."""

    node_affinity: dict[str, Any]
    rule: dict[str, Any]
    warnings: tuple[str, ...]

    @property
    def rule_name(self) -> str:
        return str(self.rule["metadata"]["name"])


def owner_annotations(image: str, spec_digest: str | None) -> dict[str, str]:
    """The annotations saying which image (and spec artifact) a rule belongs to."""
    ref = Reference.parse(image)
    owner = {IMAGE_ANNOTATION: str(ref), REPOSITORY_ANNOTATION: f"{ref.registry}/{ref.repository}"}
    if spec_digest:
        owner[SPEC_DIGEST_ANNOTATION] = spec_digest
    return owner


def plan_image(image: str, spec: CompatSpec, label_prefix: str,
               nfd: NfdSupport | None = None, *, spec_digest: str | None = None,
               attempt: int = 0) -> ImagePlan:
    """Affinity and rule for ``image`` (as written in the pod) carrying ``spec``, the rule in
    the ops ``nfd`` accepts (a spec it cannot carry is a :class:`~nfd.errors.SpecError`).

    ``attempt`` > 0 names the rule and labels with the image's alternative hash,
    for when its first name belongs to another rule.
    """
    scheme = LabelScheme(label_prefix, image_label_base(image, attempt))
    plan = build_rule_plan(spec, scheme, nfd=nfd)
    plan.rule["metadata"]["annotations"] = owner_annotations(image, spec_digest)
    affinity = build_affinity(plan.sets, spec.source)
    return ImagePlan(affinity.node_affinity, plan.rule, affinity.warnings)
