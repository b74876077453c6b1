"""``nfd.cluster`` loads each name's module on first use."""

from __future__ import annotations

import subprocess
import sys

import nfd.cluster


def test_every_listed_name_resolves() -> None:
    for name in nfd.cluster.__all__:
        assert getattr(nfd.cluster, name) is not None


def test_validate_cluster_from_a_dump_loads_no_affinity_job_or_kubernetes_code() -> None:
    code = ("import sys, nfd.cluster as c; c.load_cluster_dump, c.validate_cluster, "
            "c.cluster_report; print(sorted(m for m in ('nfd.cluster._affinity', "
            "'nfd.cluster._job', 'nfd.cluster._kube', 'kubernetes', 'logging') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
