"""kubectl's own strict client-side validation of what we emit, against the published
OpenAPI schemas of Kubernetes 1.32 and 1.37 (``tests/_kubectl.py``: the real kubectl,
a server answering discovery and ``/openapi/v2``, ``/openapi/v3`` from the
``k8s.io/kubernetes`` module of that release, NFD v0.19.0's NodeFeatureRule CRD).

1.32's schema requires ``onPodConditions[].status``; kubectl checks a List (what
``job --nodes`` prints) through OpenAPI v2, which then refuses a Job without it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from tests._cli import nfd
from tests._kubectl import Kubectl, kubectl_reader, published_openapi
from tests.cluster._nfd_crds import nodefeaturerule_crd
from tests.cluster.test_affinity import POD_SPEC, SPEC, workloads

# The oldest Kubernetes we promise and the newest release on the Go module proxy here.
RELEASES = ("v1.32.0", "v1.37.2")


@pytest.fixture(scope="module", params=RELEASES)
def kube(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Kubectl]:
    openapi = published_openapi(request.param, nodefeaturerule_crd("v0.19.0"))
    with kubectl_reader(tmp_path_factory.mktemp("kubectl-strict"), openapi) as reader:
        yield reader


def _accepted(kube: Kubectl, text: str) -> list[str]:
    done = kube.validate(text)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def _out(*args: str) -> str:
    done = nfd(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_jobs_and_job_lists(kube: Kubectl, tmp_path: Path) -> None:
    nodes = tmp_path / "nodes.txt"
    nodes.write_text("node-a\nnode-b\n")
    listed = _out("compat", "job", "--image", "registry.example/app:1", "--nodes", str(nodes))
    assert len(_accepted(kube, listed)) == 2
    single = _out("compat", "job", "--image", "registry.example/app:1", "--node", "node-a")
    assert _accepted(kube, single) == ["job.batch/" + yaml.safe_load(single)["metadata"]["name"]]


def test_a_job_list_without_the_condition_status_fails_on_1_32(kube: Kubectl,
                                                              tmp_path: Path) -> None:
    """What kubectl said of our Job List before: the test can fail."""
    nodes = tmp_path / "nodes.txt"
    nodes.write_text("node-a\n")
    jobs = yaml.safe_load(_out("compat", "job", "--image", "registry.example/app:1", "--nodes",
                               str(nodes)))
    for job in jobs["items"]:
        del job["spec"]["podFailurePolicy"]["rules"][1]["onPodConditions"][0]["status"]
    done = kube.validate(json.dumps(jobs))
    if "v1.32" in kube.server_release:
        assert done.returncode == 1
        assert 'missing required field "status"' in done.stderr
    else:  # 1.35 made it optional (the API server had always defaulted it)
        assert done.returncode == 0, done.stderr


def test_affinity_outputs(kube: Kubectl, tmp_path: Path) -> None:
    manifest = tmp_path / "workloads.yaml"
    manifest.write_text(yaml.safe_dump_all(workloads(POD_SPEC)))
    patched = _out("compat", "affinity", "--spec", str(SPEC), "--patch", str(manifest))
    names = _accepted(kube, patched)
    assert names[0].startswith("nodefeaturerule.nfd.k8s-sigs.io/")
    assert len(names) == 1 + len(workloads(POD_SPEC))
    as_list = _out("compat", "affinity", "--spec", str(SPEC), "--patch", str(manifest), "-o",
                   "json")
    assert _accepted(kube, as_list) == names
    assert _accepted(kube, _out("compat", "affinity", "--spec", str(SPEC))) == names[:1]
