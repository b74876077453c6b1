"""Cluster use cases: which nodes can run an image, and how to make the scheduler agree.

* :func:`validate_cluster` evaluates a spec on every node of a NodeFeature
  dump (:func:`cluster_features_from_document`) or of a live cluster
  (:func:`list_node_features`), merging each node's objects as NFD's master does.
* :func:`build_rule_plan` translates a spec into a NodeFeatureRule labelling
  the nodes of each compatibility set; :func:`build_affinity` turns those labels
  into pod node affinity, and :func:`patch_workload` merges it into a manifest.
* :func:`build_job` writes a Job that runs ``validate-node`` on one node,
  :func:`build_jobs` one per node of a list (:func:`parse_node_list`), in a List.

The Kubernetes client library is imported only by :func:`list_node_features`.
"""

from __future__ import annotations

from nfd.api import DEFAULT_NFD_NAMESPACE
from nfd.cluster._affinity import (
    POD_SPEC_PATHS,
    Affinity,
    build_affinity,
    merge_node_affinity,
    patch_workload,
    patchable,
)
from nfd.cluster._documents import load_documents, load_dump, parse_documents
from nfd.cluster._evaluate import (
    ClusterResult,
    NodeVerdict,
    SetInfo,
    SetVerdict,
    validate_cluster,
)
from nfd.cluster._job import (
    DEFAULT_CLIENT_IMAGE,
    HOST_MOUNTS,
    JobOptions,
    Toleration,
    build_job,
    build_jobs,
    parse_node_list,
)
from nfd.cluster._kube import KubeOptions, Listing, Page, iter_pages, list_node_features
from nfd.cluster._labels import (
    DEFAULT_LABEL_PREFIX,
    LabelScheme,
    check_label_prefix,
    image_label_base,
    sanitize_name,
)
from nfd.cluster._nodefeatures import (
    ClusterFeatures,
    cluster_features_from_document,
    merge_cluster,
    parse_node_features,
)
from nfd.cluster._report import cluster_report, render_cluster_table
from nfd.cluster._rule import RulePlan, SelectedSet, build_rule_plan, select_sets

__all__ = [
    "DEFAULT_CLIENT_IMAGE",
    "DEFAULT_LABEL_PREFIX",
    "DEFAULT_NFD_NAMESPACE",
    "HOST_MOUNTS",
    "POD_SPEC_PATHS",
    "Affinity",
    "ClusterFeatures",
    "ClusterResult",
    "JobOptions",
    "KubeOptions",
    "LabelScheme",
    "Listing",
    "NodeVerdict",
    "Page",
    "RulePlan",
    "SelectedSet",
    "SetInfo",
    "SetVerdict",
    "Toleration",
    "build_affinity",
    "build_job",
    "build_jobs",
    "build_rule_plan",
    "check_label_prefix",
    "cluster_features_from_document",
    "cluster_report",
    "image_label_base",
    "iter_pages",
    "list_node_features",
    "load_documents",
    "load_dump",
    "merge_cluster",
    "merge_node_affinity",
    "parse_documents",
    "parse_node_features",
    "parse_node_list",
    "patch_workload",
    "patchable",
    "render_cluster_table",
    "sanitize_name",
    "select_sets",
    "validate_cluster",
]
