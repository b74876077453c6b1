"""Loading the two documents a validation needs from files: a spec and features."""

from __future__ import annotations

from nfd._lazy import TYPE_CHECKING
from nfd.api._features import Features, load_features_document
from nfd.api._yaml import LoadLimits, load_file

if TYPE_CHECKING:
    from pathlib import Path

# A features file may be a whole cluster's NodeFeature list: larger than a spec.
MAX_FEATURES_BYTES = 256 << 20


def load_features(path: str | Path, node: str | None = None, *,
                  max_bytes: int = MAX_FEATURES_BYTES) -> Features:
    """The features in ``path`` (``-`` is standard input).

    Accepts ``nfd export features`` JSON, a NodeFeature, or a NodeFeature list /
    ``kubectl get -o yaml`` ``List`` (YAML or JSON); in a list of several nodes,
    ``node`` chooses one, whose objects are merged as nfd-master merges them.
    Raises :class:`~nfd.errors.SpecError` located in the file.
    """
    doc = load_file(path, limits=LoadLimits(max_bytes=max_bytes))
    return load_features_document(doc, node=node, source=str(path))
