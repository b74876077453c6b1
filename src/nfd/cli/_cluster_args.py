"""How the live cluster is reached: one set of flags for every command that lists from it
(kept light: ``validate-cluster`` builds its parser from it)."""

from __future__ import annotations

from nfd._lazy import TYPE_CHECKING

if TYPE_CHECKING:
    from nfd.cli._base import ArgumentAdder


def add_cluster_access_arguments(where: ArgumentAdder, group: ArgumentAdder) -> None:
    """How the live cluster is reached, as ``validate-cluster``, ``audit`` and ``what-if``
    take it: ``--kubeconfig`` / ``--in-cluster`` into the mutually exclusive ``where``
    (``validate-cluster`` adds its dump there), the rest into ``group``."""
    from nfd.cluster import DEFAULT_PAGE_SIZE, DEFAULT_REQUEST_TIMEOUT

    where.add_argument("--kubeconfig", metavar="FILE",
                       help="kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
    where.add_argument("--in-cluster", action="store_true",
                       help="use the pod's service account")
    group.add_argument("--context", metavar="NAME", help="kubeconfig context to use")
    group.add_argument("--page-size", type=int, default=DEFAULT_PAGE_SIZE, metavar="N",
                       help=f"objects per API list request (default {DEFAULT_PAGE_SIZE})")
    group.add_argument("--request-timeout", type=float, default=DEFAULT_REQUEST_TIMEOUT,
                       metavar="SECONDS",
                       help=f"time limit per API request (default {DEFAULT_REQUEST_TIMEOUT:g})")
