"""The CPU side of one review, from its body bytes: what the event loop needs, and the answer.

A body is parsed once (:func:`examine`) by whoever then decides it
(:func:`decide_prepared`): the event loop for small reviews, a review worker
for big ones. A worker (:func:`serve_reviews`) takes the body as raw bytes,
keeps the parsed review between the two steps and returns small values (the
answer already encoded): parsing and encoding megabytes of JSON are C calls
that hold the GIL for tens of milliseconds, which would stall ``/healthz`` in
a thread of the server's process, and a pickled object tree would cost the
event loop as much as the parse. Failures come back as text, never as
exceptions to unpickle.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
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
    encoding: str | None = None  # "gzip": ``body`` is compressed (Content-Encoding)


# A worker compresses answers over this size when the API server accepts gzip (Go's
# http.Transport asks for it and decompresses transparently): a maximal review's answer
# (~10 MiB of base64 patch) shrinks about 20 times, at level 1 in tens of milliseconds
# here, instead of the event loop encrypting and sending all of it.
COMPRESS_BYTES = 256 * 1024


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


def examine(body: bytes, workloads: bool) -> tuple[Prepared | None, Look | str]:
    """:func:`prepare`, and its slim view for the event loop; a bad review is its one-line
    reason. The :class:`Prepared` (``None`` when there is nothing to decide) is kept by
    whoever decides the review, so the body is parsed once."""
    try:
        prepared = prepare(body, workloads)
    except (ValueError, RecursionError, SpecError) as exc:
        return None, printable_line(str(exc))
    target = prepared.target
    requirement = (nfd_label_requirement(target.get(target.spec_path))
                   if target is not None and prepared.images is not None else None)
    looked = Look(dataclasses.replace(prepared.review, obj=None), prepared.opted_out,
                  prepared.images, requirement)
    return (prepared if prepared.images is not None else None), looked


def look(body: bytes, workloads: bool) -> Look | str:
    """:func:`examine`'s view for the event loop alone (the parsed review dropped)."""
    return examine(body, workloads)[1]


def encode(answer: dict[str, Any]) -> bytes:
    return json.dumps(answer, separators=(",", ":")).encode()


def decide_prepared(prepared: Prepared, resolutions: Sequence[Resolution],
                    policy: FailurePolicy, gzip_ok: bool = False) -> Decision | str:
    """The answer for a parsed review whose images are resolved (a big one compressed when
    ``gzip_ok``); a bug of ours is its message."""
    try:
        assert prepared.target is not None
        answer, outcome = decide(prepared.review, prepared.target, resolutions, policy)
        warnings = tuple(answer["response"].get("warnings", ()))
        body = encode(answer)
        if gzip_ok and len(body) > COMPRESS_BYTES:
            return Decision(outcome, gzip.compress(body, compresslevel=1), warnings, "gzip")
        return Decision(outcome, body, warnings)
    except Exception as exc:  # answered by the failure policy, and logged, by the caller
        return f"internal error: {type(exc).__name__}: {exc}"


def serve_reviews(conn: Connection) -> None:
    """A review worker's loop over its pipe to the server (:mod:`nfd.webhook._pool`).

    ``("look", workloads)`` then the body as raw bytes: parse it, hold the parsed
    review, answer the :class:`Look` (or the reason it is bad). ``("decide",
    (prepared, resolutions, policy, gzip_ok))``: decide ``prepared``, or the held review when
    it is ``None``, and answer the :class:`Decision` (``gzip_ok``: a big answer may be
    compressed). ``("drop", None)``: forget the
    held review (no answer). Ends when the server closes the pipe.
    """
    held: Prepared | None = None
    reply: Look | Decision | str
    while True:
        try:
            step, argument = conn.recv()
            if step == "drop":
                held = None
                continue
            if step == "look":
                held = None  # before the next body arrives: one parsed review at a time
                held, reply = examine(conn.recv_bytes(), argument)
            else:
                prepared, resolutions, policy, gzip_ok = argument
                given = prepared or held
                held = None
                reply = (decide_prepared(given, resolutions, policy, gzip_ok)
                         if given is not None
                         else "internal error: no parsed review to decide")
            conn.send(reply)
        except (EOFError, OSError):  # the server went away
            return


def worker_main(conn: Connection) -> None:
    """A review process: lower priority, then :func:`serve_reviews` until the pipe closes."""
    lower_priority()
    serve_reviews(conn)
