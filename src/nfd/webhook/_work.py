"""The CPU side of one review, from its body bytes: what the event loop needs, and the answer.

Both steps take the body as bytes and return small values (the answer already
encoded), so they can run in another process: parsing and encoding megabytes
of JSON are C calls that hold the GIL for tens of milliseconds, which would
stall ``/healthz`` if they ran in a thread of the server's process. The
second step parses the body again rather than receive the parsed pod (a
pickled object tree would cost the event loop as much as the parse).
Failures come back as text, never as exceptions to unpickle.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nfd._text import printable_line
from nfd.api import LoadLimits, check_json_containers
from nfd.cluster import LabelRequirement, nfd_label_requirement
from nfd.errors import SpecError
from nfd.webhook._resolver import Resolution
from nfd.webhook._review import (
    FailurePolicy,
    PodImages,
    ReviewRequest,
    Target,
    decide,
    opted_out,
    parse_review,
    pod_images,
    target_of,
)


@dataclass(frozen=True)
class Prepared:
    """A parsed review: the object to patch (``None``: not ours), and the pod's images."""

    review: ReviewRequest
    target: Target | None
    opted_out: bool
    images: PodImages | None


@dataclass(frozen=True)
class Look:
    """What the event loop needs of a review: who asks (without the object), and the images
    to resolve (``None``: answer "allowed" at once, ``opted_out`` says why)."""

    review: ReviewRequest
    opted_out: bool
    images: PodImages | None
    # The pod's own nodeSelector and required node affinity on NFD labels (small).
    requirement: LabelRequirement | None = None


@dataclass(frozen=True)
class Decision:
    """The encoded answer, its outcome, and its warnings (for the log)."""

    outcome: str
    body: bytes
    warnings: tuple[str, ...]


# Review processes run below the server's priority: on a busy node the event loop answering
# /healthz and small reviews goes first, big reviews take what is left (nice(2)).
WORKER_NICENESS = 10


def lower_priority() -> None:
    """The review processes' initializer: a lower CPU priority (best effort)."""
    with contextlib.suppress(OSError):  # not allowed: the same priority, which still works
        os.nice(WORKER_NICENESS)


def prepare(body: bytes, workloads: bool) -> Prepared:
    """Parse and look at a review body: linear in its size (the body cap bounds it), and
    its memory too (the containers are counted before anything is built)."""
    check_json_containers(body, LoadLimits().containers(len(body)))
    review = parse_review(json.loads(body))
    target = target_of(review, workloads)
    if target is None or opted_out(target):
        return Prepared(review, target, target is not None, None)
    return Prepared(review, target, False, pod_images(target))


def look(body: bytes, workloads: bool) -> Look | str:
    """:func:`prepare`, slimmed for the event loop; a bad review is its one-line reason."""
    try:
        prepared = prepare(body, workloads)
    except (ValueError, RecursionError, SpecError) as exc:
        return printable_line(str(exc))
    target = prepared.target
    requirement = (nfd_label_requirement(target.get(target.spec_path))
                   if target is not None and prepared.images is not None else None)
    return Look(dataclasses.replace(prepared.review, obj=None), prepared.opted_out,
                prepared.images, requirement)


def encode(answer: dict[str, Any]) -> bytes:
    return json.dumps(answer, separators=(",", ":")).encode()


def decide_body(body: bytes, workloads: bool, resolutions: Sequence[Resolution],
                policy: FailurePolicy) -> Decision | str:
    """The answer for a review whose images are resolved; a bug of ours is its message."""
    try:
        prepared = prepare(body, workloads)
        assert prepared.target is not None
        answer, outcome = decide(prepared.review, prepared.target, resolutions, policy)
        return Decision(outcome, encode(answer), tuple(answer["response"].get("warnings", ())))
    except Exception as exc:  # answered by the failure policy, and logged, by the caller
        return f"internal error: {type(exc).__name__}: {exc}"
