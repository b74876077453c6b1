"""``compat audit`` from dumps at fleet scale, against a bare ``json.load`` of the same dumps.

Workload: the fleet benchmark's nodes (``benchmarks/fleet/gen_cluster.py``, 5,000 by default),
20,000 running pods spread over them, 500 distinct images: 100 applications of 5 versions
each, an application's versions carrying the same spec and the applications' specs differing
(variants of ``bench-spec.yaml`` asking for different values, so no two compile alike). Specs
are given offline with ``--specs`` (no registry in the measurement). Generated once into the
git-ignored ``benchmarks/.data/``. In one interleaved run, each in a fresh process:

* ``python3 -c 'json.load(pods); json.load(nodefeatures)'``: reading both dumps, bare;
* ``nfd compat audit --pods P --nodefeatures N --specs S -o json``.

Printed: medians in seconds and ours/json (goal <= 2.0), and the drift found (the same every
run: the workload is seeded).

    python benchmarks/bench_audit.py [--nodes 5000] [--pods 20000] [--images 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_fleet import DATA, OURS, SPEC, fleet  # noqa: E402

FAMILIES = ("6", "23", "25", "26")
VERSIONS = 5  # images per application, sharing its spec


def _node_names(path: Path) -> list[str]:
    items = json.loads(path.read_text())["items"]
    return sorted({i["metadata"]["labels"]["nfd.node.kubernetes.io/node-name"] for i in items})


def workload(nodes: int, pods: int, images: int) -> tuple[Path, Path, Path]:
    """(pods dump, nodefeatures dump, specs map), made once."""
    node_dump = fleet(nodes)
    base = DATA / f"audit-v2-{nodes}-{pods}-{images}"
    pods_file, specs_file = base.with_suffix(".pods.json"), base.with_suffix(".specs.json")
    if pods_file.exists() and specs_file.exists():
        return pods_file, node_dump, specs_file
    rng = random.Random(2403)
    spec_dir = DATA / f"audit-v2-specs-{images}"
    spec_dir.mkdir(exist_ok=True)
    template = SPEC.read_text()
    table = {}
    for i in range(images):
        app = i // VERSIONS
        image = f"registry.example.com/team{app % 25}/app{app}:v{i % VERSIONS}"
        spec = spec_dir / f"spec-{app}.yaml"
        if not spec.exists():
            text = template.replace("description:", f"description: app {app} -", 1)
            # Each application asks for another CPU vendor besides Intel's, so no two
            # applications' specs compile alike.
            text = text.replace('"Intel"', f'"Intel", "{FAMILIES[app % len(FAMILIES)]}-{app}"', 1)
            spec.write_text(text)
        table[image] = str(spec)
    names = _node_names(node_dump)
    image_names = list(table)
    items = []
    for i in range(pods):
        chosen = rng.sample(image_names, k=1 + (i % 3 == 0))
        items.append({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": f"pod-{i}", "namespace": f"ns{i % 40}"},
                      "spec": {"nodeName": names[rng.randrange(len(names))],
                               "containers": [{"name": f"c{j}", "image": image}
                                              for j, image in enumerate(chosen)]},
                      "status": {"phase": "Running"}})
    pods_file.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    specs_file.write_text(json.dumps(table))
    return pods_file, node_dump, specs_file


def _time(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[:4]} failed: {proc.stderr.strip()}")
    return elapsed, proc.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods", type=int, default=20000)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    pods, nodes, specs = workload(args.nodes, args.pods, args.images)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(HERE.parent / "src")],
                   check=False)
    bare = [sys.executable, "-c", "import json,sys; [json.load(open(p)) for p in sys.argv[1:]]",
            str(pods), str(nodes)]
    ours = [sys.executable, *OURS, "compat", "audit", "--pods", str(pods), "--nodefeatures",
            str(nodes), "--specs", str(specs), "-o", "json"]
    times: dict[str, list[float]] = {"json": [], "ours": []}
    report = ""
    for _ in range(args.repeat):
        times["json"].append(_time(bare)[0])
        elapsed, report = _time(ours)
        times["ours"].append(elapsed)
    found = json.loads(report)
    drifted = sum(len(g["pods"]) for g in found["drift"])
    size = (pods.stat().st_size + nodes.stat().st_size) / 1e6
    j, o = median(times["json"]), median(times["ours"])
    print(f"audit: {args.nodes} nodes, {args.pods} pods, {args.images} images, {size:.1f} MB "
          f"of dumps; medians of {args.repeat}")
    print(f"  json.load both: {j:.2f} s   audit: {o:.2f} s   ours/json {o / j:.2f} (goal <= 2.0)")
    print(f"  drift: {drifted} pod image(s) in {len(found['drift'])} group(s); "
          f"checked {found['checked']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
