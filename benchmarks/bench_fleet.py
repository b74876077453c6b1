"""validate-cluster on the fleet workload, against a bare ``json.load`` and NFD's Go engine.

The workload is the project's own (``benchmarks/fleet``: ``gen_cluster.py`` makes a
deterministic fleet of N nodes as ``kubectl get nodefeatures -A -o json`` prints it;
``bench-spec.yaml`` is the spec). Fleets are generated once into the git-ignored
``benchmarks/.data/``. For each size, in one interleaved run, each in a fresh process:

* ``python3 -c 'import json; json.load(open(F))'``: reading the dump once, bare;
* ``nfd compat validate-cluster --spec bench-spec.yaml --nodefeatures F -o json``;
* NFD's own Go engine, when built (see below).

Printed: medians of ``--repeat`` runs in seconds (the package byte-compiled first, as
an install leaves it), ours/json (goal <= 1.0), go/ours (goal >= 3), our peak RSS / file
size (goal <= 4), seconds per 1,000 nodes across sizes (linear: the same), and the
verdicts against NFD's (218 of 1,000; 1,156 of 5,000; 2,289 of 10,000; 4,611 of 20,000).
Then a ``--pools 20`` fleet (about 20 distinct configurations): evaluation in process,
remembering outcomes by projection against evaluating every node afresh.

NFD's Go engine is ``nfd-engine``, our ~60-line main over NFD v0.19.0's
``nodefeaturerule.ExecuteGroupRule`` (``tests/peers/nfd/nfd-engine/main.go``, in the
wrapper module that pins NFD), built by ``scripts/install-peers`` into the git-ignored
peers folder (``NFD_PEERS_DIR`` moves it); this benchmark runs that script first (a
cached run takes milliseconds; the first needs Go and its module proxy). ``--go BINARY``
runs another build instead.

    python benchmarks/bench_fleet.py [--sizes 1000,5000,20000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
FLEET = HERE / "fleet"
DATA = HERE / ".data"
SPEC = FLEET / "bench-spec.yaml"
NFD_VERDICTS = {1000: 218, 5000: 1156, 10000: 2289, 20000: 4611}
OURS = ["-c", "from nfd.cli import console; console()"]  # as the console script runs


def fleet(size: int, pools: int = 0) -> Path:
    """The generated fleet file (made once)."""
    DATA.mkdir(exist_ok=True)
    path = DATA / (f"fleet-{size}-pools{pools}.json" if pools else f"fleet-{size}.json")
    if not path.exists():
        extra = ["--pools", str(pools)] if pools else []
        subprocess.run([sys.executable, str(FLEET / "gen_cluster.py"), str(size), str(path),
                        *extra], check=True)
    return path


def _run(cmd: list[str]) -> tuple[float, int, bytes]:
    """Wall seconds, the child's own peak RSS in bytes (``wait4``), and its stdout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    chunks = []
    assert proc.stdout is not None and proc.stderr is not None
    while True:
        chunk = proc.stdout.read(1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd[:3])} failed ({proc.returncode}): "
                         f"{err.decode()[-500:]}")
    return elapsed, usage.ru_maxrss * 1024, b"".join(chunks)


def go_binary(arg: str | None) -> Path | None:
    """``--go``, else the ``nfd-engine`` peer (built now by ``scripts/install-peers`` if
    missing); None when it cannot be built here."""
    if arg is None:
        done = subprocess.run([str(ROOT / "scripts" / "install-peers")], capture_output=True,
                              text=True, check=False)
        if done.returncode != 0:
            print(f"install-peers failed: {done.stderr.strip()[-300:]}")
            return None
        arg = str(Path(done.stdout.strip().splitlines()[-1]) / "nfd-engine")
    path = Path(arg)
    return path if path.is_file() and os.access(path, os.X_OK) else None


def byte_compile() -> None:
    """Compile the package as an install does: where ``PYTHONDONTWRITEBYTECODE`` is set,
    an uncompiled source tree would be compiled anew on every run, which no installed
    copy does (pip compiles at install time)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "nfd")],
                   check=True, stdout=subprocess.DEVNULL)


def bench_size(size: int, repeat: int, go: Path | None) -> dict[str, float | int | None]:
    """Medians of ``repeat`` interleaved runs (json, ours, Go in turn)."""
    path = fleet(size)
    bare: list[float] = []
    ours: list[float] = []
    gob: list[float] = []
    rss = 0
    verdict = go_verdict = None
    for _ in range(repeat):
        bare.append(_run([sys.executable, "-c", "import json, sys; "
                          "json.load(open(sys.argv[1]))", str(path)])[0])
        t, peak, out = _run([sys.executable, *OURS, "compat", "validate-cluster", "--spec",
                             str(SPEC), "--nodefeatures", str(path), "-o", "json"])
        ours.append(t)
        rss = max(rss, peak)
        verdict = json.loads(out)["summary"]["compatibleNodes"]
        if go is not None:
            t, _, out = _run([str(go), str(SPEC), str(path)])
            gob.append(t)
            go_verdict = int(out.split()[0])
    return {"size": size, "mb": path.stat().st_size / 1e6, "bytes": path.stat().st_size,
            "json": median(bare), "ours": median(ours), "go": median(gob) if go else None,
            "rss": rss,
            "verdict": verdict, "go_verdict": go_verdict}


def bench_pools(size: int) -> tuple[float, float, int]:
    """Evaluation only (in process): remembering by projection vs every node afresh."""
    sys.path.insert(0, str(ROOT / "src"))
    from nfd.api import load_spec
    from nfd.cluster import load_cluster_dump, validate_cluster
    from nfd.match import SpecEvaluator

    spec = load_spec(SPEC)
    cluster = load_cluster_dump(fleet(size, pools=20), only=SpecEvaluator(spec).reads)
    timings = []
    results = []
    for remember in (1 << 16, 0):
        evaluator = SpecEvaluator(spec, remember=remember)
        start = time.perf_counter()
        results.append(validate_cluster(spec, cluster, evaluator=evaluator))
        timings.append(time.perf_counter() - start)
    assert results[0] == results[1], "remembered verdicts differ from fresh ones"
    return timings[0], timings[1], len(results[0].compatible_nodes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,20000")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--go", help="NFD Go engine benchmark binary (see the docstring)")
    args = parser.parse_args()
    go = go_binary(args.go)
    byte_compile()
    if go is None:
        print("NFD's Go engine could not be built (see this file's docstring): no Go column")
    rows = [bench_size(int(s), args.repeat, go) for s in args.sizes.split(",")]
    print(f"{'nodes':>6} {'MB':>6} {'json s':>7} {'ours s':>7} {'go s':>7} {'ours/json':>9} "
          f"{'go/ours':>7} {'RSS/file':>8} {'s/1k nodes':>10}  verdicts (ours, go, NFD)")
    ok = True
    for r in rows:
        size, ours, bare = int(r["size"] or 0), float(r["ours"] or 0), float(r["json"] or 0)
        go_s = r["go"]
        go_ratio = f"{float(go_s) / ours:7.2f}" if go_s else f"{'-':>7}"
        go_text = f"{float(go_s):7.2f}" if go_s else f"{'-':>7}"
        expected = NFD_VERDICTS.get(size)
        same = r["verdict"] == expected if expected is not None else True
        same = same and (r["go_verdict"] is None or r["go_verdict"] == r["verdict"])
        ok = ok and same
        print(f"{size:>6} {float(r['mb'] or 0):6.1f} {bare:7.2f} {ours:7.2f} {go_text} "
              f"{ours / bare:9.2f} {go_ratio} {float(r['rss'] or 0) / float(r['bytes'] or 1):8.2f} "
              f"{ours / size * 1000:10.3f}  {r['verdict']}, {r['go_verdict']}, {expected}"
              f"{'' if same else '  MISMATCH'}")
    first, last = rows[0], rows[-1]
    per_first = float(first["ours"] or 0) / int(first["size"] or 1)
    per_last = float(last["ours"] or 0) / int(last["size"] or 1)
    print(f"linearity: time per node at {last['size']} / at {first['size']} = "
          f"{per_last / per_first:.2f} (1.0 = linear; start-up weighs on small fleets)")
    remembered, fresh, compatible = bench_pools(5000)
    print(f"--pools 20, 5000 nodes: evaluation {remembered:.3f} s remembering by projection, "
          f"{fresh:.3f} s afresh: {fresh / remembered:.1f}x ({compatible} compatible)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
