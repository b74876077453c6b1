"""Cluster use cases: which nodes can run an image, and how to make the scheduler agree.

* :func:`validate_cluster` evaluates a spec on every node of a NodeFeature
  dump (:func:`cluster_features_from_document`) or of a live cluster
  (:func:`list_node_features`, or page by page with :func:`iter_pages`, every request
  bounded in time and size; :func:`cluster_features_from_pages` evaluates as pages
  come), merging each node's objects as NFD's master does.
  :func:`validate_fleet_dump` and :func:`validate_live_cluster` do it as fast as
  ``nfd compat validate-cluster`` does: a dump read ahead (:func:`prefetch_dump`),
  garbage collection paused, both cores where the process may fork.
* :func:`build_rule_plan` translates a spec into a NodeFeatureRule labelling
  the nodes of each compatibility set; :func:`build_affinity` turns those labels
  into pod node affinity, and :func:`patch_workload` merges it into a manifest.
* :func:`build_job` writes a Job that runs ``validate-node`` on one node,
  :func:`build_jobs` one per node of a list (:func:`parse_node_list`), in a List;
  with ``--verify notation`` :func:`build_trust_configmap` carries the trust policy.

The Kubernetes API is reached through one client, :class:`KubeClient` (reads and
writes, each call within its deadline and byte budget, the kubeconfig's proxy and TLS);
each name's module loads on first use.
"""

from __future__ import annotations

import typing

from nfd._lazy import lazy_getattr as _lazy_getattr

if typing.TYPE_CHECKING:
    from nfd.api import DEFAULT_NFD_NAMESPACE
    from nfd.cluster._affinity import (
        POD_SPEC_PATHS,
        Affinity,
        AffinityTooLarge,
        and_node_affinities,
        build_affinity,
        merge_node_affinity,
        patch_workload,
        patchable,
    )
    from nfd.cluster._audit import (
        Evaluations,
        SpecLookup,
        SpecSource,
        audit,
        fetch_specs,
        images_from_list,
        pods_from_document,
        reads_of,
        what_if,
    )
    from nfd.cluster._documents import (
        MAX_DUMP_BYTES,
        load_cluster_dump,
        load_documents,
        load_dump,
        parse_documents,
    )
    from nfd.cluster._evaluate import (
        ClusterResult,
        NodeVerdict,
        SetInfo,
        validate_cluster,
    )
    from nfd.cluster._feature_index import (
        FeatureIndex,
        SatisfiabilityCheck,
        Unsatisfied,
        WatchGone,
    )
    from nfd.cluster._fleet import (
        PrefetchedDump,
        prefetch_dump,
        validate_fleet_dump,
        validate_live_cluster,
    )
    from nfd.cluster._index_feed import DEFAULT_WATCH_SECONDS, IndexFeed
    from nfd.cluster._job import (
        COSIGN_PUBLIC_KEY,
        DEFAULT_CLIENT_IMAGE,
        HOST_MOUNTS,
        HOST_PATH_TYPES,
        VERIFY_SCHEMES,
        JobOptions,
        Toleration,
        build_job,
        build_jobs,
        build_trust_configmap,
        parse_node_list,
    )
    from nfd.cluster._kube import (
        KubeOptions,
        Listing,
        Page,
        iter_pages,
        kube_client,
        list_node_features,
        list_objects,
    )
    from nfd.cluster._kube_client import KubeClient
    from nfd.cluster._kube_defaults import DEFAULT_PAGE_SIZE, DEFAULT_REQUEST_TIMEOUT
    from nfd.cluster._kube_reader import NODE_FEATURES, Resource, status_message
    from nfd.cluster._kubeconfig import ClusterAccess, load_access
    from nfd.cluster._labels import (
        DEFAULT_LABEL_PREFIX,
        LabelScheme,
        check_label_prefix,
        image_label_base,
        sanitize_name,
    )
    from nfd.cluster._manifest import (
        Manifest,
        check_json,
        parse_manifest,
        read_manifest,
        write_changes,
    )
    from nfd.cluster._nfd_affinity import LabelRequirement, nfd_label_requirement
    from nfd.cluster._nfd_releases import (
        REFERENCE_NFD_VERSION,
        NfdSupport,
        fit_compatibility,
        nfd_requirements,
        parse_nfd_version,
    )
    from nfd.cluster._nodefeatures import (
        ClusterFeatures,
        cluster_features_from_document,
        merge_cluster,
        parse_node_features,
    )
    from nfd.cluster._report import cluster_report
    from nfd.cluster._rule import RulePlan, SelectedSet, build_rule_plan
    from nfd.cluster._stream import cluster_features_from_pages, prefetched, project_features
    from nfd.match import SetVerdict, select_sets

# Names load on first use (PEP 562): a command imports only the modules it uses, not
# the affinity, job and Kubernetes code with every cluster command.
_HOME = {
    "DEFAULT_NFD_NAMESPACE": "nfd.api",
    "Affinity": "nfd.cluster._affinity",
    "AffinityTooLarge": "nfd.cluster._affinity",
    "and_node_affinities": "nfd.cluster._affinity",
    "POD_SPEC_PATHS": "nfd.cluster._affinity",
    "build_affinity": "nfd.cluster._affinity",
    "merge_node_affinity": "nfd.cluster._affinity",
    "patch_workload": "nfd.cluster._affinity",
    "patchable": "nfd.cluster._affinity",
    "load_cluster_dump": "nfd.cluster._documents",
    "load_documents": "nfd.cluster._documents",
    "load_dump": "nfd.cluster._documents",
    "parse_documents": "nfd.cluster._documents",
    "ClusterResult": "nfd.cluster._evaluate",
    "NodeVerdict": "nfd.cluster._evaluate",
    "SetInfo": "nfd.cluster._evaluate",
    "validate_cluster": "nfd.cluster._evaluate",
    "DEFAULT_CLIENT_IMAGE": "nfd.cluster._job",
    "HOST_PATH_TYPES": "nfd.cluster._job",
    "COSIGN_PUBLIC_KEY": "nfd.cluster._job",
    "VERIFY_SCHEMES": "nfd.cluster._job",
    "DEFAULT_PAGE_SIZE": "nfd.cluster._kube_defaults",
    "DEFAULT_REQUEST_TIMEOUT": "nfd.cluster._kube_defaults",
    "PrefetchedDump": "nfd.cluster._fleet",
    "prefetch_dump": "nfd.cluster._fleet",
    "validate_fleet_dump": "nfd.cluster._fleet",
    "validate_live_cluster": "nfd.cluster._fleet",
    "MAX_DUMP_BYTES": "nfd.cluster._documents",
    "HOST_MOUNTS": "nfd.cluster._job",
    "JobOptions": "nfd.cluster._job",
    "Toleration": "nfd.cluster._job",
    "build_job": "nfd.cluster._job",
    "build_jobs": "nfd.cluster._job",
    "build_trust_configmap": "nfd.cluster._job",
    "parse_node_list": "nfd.cluster._job",
    "KubeOptions": "nfd.cluster._kube",
    "KubeClient": "nfd.cluster._kube_client",
    "status_message": "nfd.cluster._kube_reader",
    "NODE_FEATURES": "nfd.cluster._kube_reader",
    "Resource": "nfd.cluster._kube_reader",
    "FeatureIndex": "nfd.cluster._feature_index",
    "LabelRequirement": "nfd.cluster._nfd_affinity",
    "nfd_label_requirement": "nfd.cluster._nfd_affinity",
    "SatisfiabilityCheck": "nfd.cluster._feature_index",
    "Unsatisfied": "nfd.cluster._feature_index",
    "WatchGone": "nfd.cluster._feature_index",
    "DEFAULT_WATCH_SECONDS": "nfd.cluster._index_feed",
    "IndexFeed": "nfd.cluster._index_feed",
    "kube_client": "nfd.cluster._kube",
    "list_objects": "nfd.cluster._kube",
    "reads_of": "nfd.cluster._audit",
    "ClusterAccess": "nfd.cluster._kubeconfig",
    "load_access": "nfd.cluster._kubeconfig",
    "Manifest": "nfd.cluster._manifest",
    "check_json": "nfd.cluster._manifest",
    "parse_manifest": "nfd.cluster._manifest",
    "read_manifest": "nfd.cluster._manifest",
    "write_changes": "nfd.cluster._manifest",
    "Listing": "nfd.cluster._kube",
    "Page": "nfd.cluster._kube",
    "iter_pages": "nfd.cluster._kube",
    "list_node_features": "nfd.cluster._kube",
    "DEFAULT_LABEL_PREFIX": "nfd.cluster._labels",
    "LabelScheme": "nfd.cluster._labels",
    "check_label_prefix": "nfd.cluster._labels",
    "image_label_base": "nfd.cluster._labels",
    "sanitize_name": "nfd.cluster._labels",
    "Evaluations": "nfd.cluster._audit",
    "SpecLookup": "nfd.cluster._audit",
    "SpecSource": "nfd.cluster._audit",
    "audit": "nfd.cluster._audit",
    "fetch_specs": "nfd.cluster._audit",
    "images_from_list": "nfd.cluster._audit",
    "pods_from_document": "nfd.cluster._audit",
    "what_if": "nfd.cluster._audit",
    "REFERENCE_NFD_VERSION": "nfd.cluster._nfd_releases",
    "NfdSupport": "nfd.cluster._nfd_releases",
    "fit_compatibility": "nfd.cluster._nfd_releases",
    "nfd_requirements": "nfd.cluster._nfd_releases",
    "parse_nfd_version": "nfd.cluster._nfd_releases",
    "ClusterFeatures": "nfd.cluster._nodefeatures",
    "cluster_features_from_document": "nfd.cluster._nodefeatures",
    "merge_cluster": "nfd.cluster._nodefeatures",
    "parse_node_features": "nfd.cluster._nodefeatures",
    "cluster_report": "nfd.cluster._report",
    "RulePlan": "nfd.cluster._rule",
    "SelectedSet": "nfd.cluster._rule",
    "build_rule_plan": "nfd.cluster._rule",
    "cluster_features_from_pages": "nfd.cluster._stream",
    "prefetched": "nfd.cluster._stream",
    "project_features": "nfd.cluster._stream",
    "SetVerdict": "nfd.match",
    "select_sets": "nfd.match",
}


__getattr__ = _lazy_getattr(__name__, _HOME)


__all__ = [
    "COSIGN_PUBLIC_KEY",
    "DEFAULT_CLIENT_IMAGE",
    "DEFAULT_LABEL_PREFIX",
    "DEFAULT_NFD_NAMESPACE",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_REQUEST_TIMEOUT",
    "DEFAULT_WATCH_SECONDS",
    "HOST_MOUNTS",
    "HOST_PATH_TYPES",
    "MAX_DUMP_BYTES",
    "NODE_FEATURES",
    "POD_SPEC_PATHS",
    "REFERENCE_NFD_VERSION",
    "VERIFY_SCHEMES",
    "Affinity",
    "AffinityTooLarge",
    "ClusterAccess",
    "ClusterFeatures",
    "ClusterResult",
    "Evaluations",
    "FeatureIndex",
    "IndexFeed",
    "JobOptions",
    "KubeClient",
    "KubeOptions",
    "LabelRequirement",
    "LabelScheme",
    "Listing",
    "Manifest",
    "NfdSupport",
    "NodeVerdict",
    "Page",
    "PrefetchedDump",
    "Resource",
    "RulePlan",
    "SatisfiabilityCheck",
    "SelectedSet",
    "SetInfo",
    "SetVerdict",
    "SpecLookup",
    "SpecSource",
    "Toleration",
    "Unsatisfied",
    "WatchGone",
    "and_node_affinities",
    "audit",
    "build_affinity",
    "build_job",
    "build_jobs",
    "build_rule_plan",
    "build_trust_configmap",
    "check_json",
    "check_label_prefix",
    "cluster_features_from_document",
    "cluster_features_from_pages",
    "cluster_report",
    "fetch_specs",
    "fit_compatibility",
    "image_label_base",
    "images_from_list",
    "iter_pages",
    "kube_client",
    "list_node_features",
    "list_objects",
    "load_access",
    "load_cluster_dump",
    "load_documents",
    "load_dump",
    "merge_cluster",
    "merge_node_affinity",
    "nfd_label_requirement",
    "nfd_requirements",
    "parse_documents",
    "parse_manifest",
    "parse_nfd_version",
    "parse_node_features",
    "parse_node_list",
    "patch_workload",
    "patchable",
    "pods_from_document",
    "prefetch_dump",
    "prefetched",
    "project_features",
    "read_manifest",
    "reads_of",
    "sanitize_name",
    "select_sets",
    "status_message",
    "validate_cluster",
    "validate_fleet_dump",
    "validate_live_cluster",
    "what_if",
    "write_changes",
]
