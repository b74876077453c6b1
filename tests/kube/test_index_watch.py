"""The webhook's NodeFeature index against the real API server: each watch event is applied
as kube-apiserver streams it, while the watch call is still under way (not when it ends).

The probe object carries no ``nfd.node.kubernetes.io/node-name`` label, so nfd-master
ignores it (NFD v0.19.0 ``pkg/nfd-master``: a NodeFeature names its node by that label) and
no node of the session changes; the index still applies its events (its version and
generation advance).
"""

from __future__ import annotations

import threading

from tests.kube._control_plane import ControlPlane, wait_until

from nfd.cluster import FeatureIndex, IndexFeed, KubeOptions

# Long enough that the call cannot have ended when the two events are seen (they arrive in
# well under a second); the test waits for its end once, to count what it applied.
WATCH_SECONDS = 6
PROBES = "/apis/nfd.k8s-sigs.io/v1alpha1/namespaces/default/nodefeatures"
PROBE = "nfd-client-index-watch-probe"


def test_watch_events_apply_while_the_call_is_under_way(cluster: ControlPlane) -> None:
    assert cluster.admin is not None
    feed = IndexFeed(FeatureIndex({"kernel.version": frozenset({"major"})}),
                     KubeOptions(kubeconfig=str(cluster.admin.kubeconfig), timeout=10),
                     watch_seconds=WATCH_SECONDS)
    feed.sync()
    listed = feed.index.generation
    ended: list[int | BaseException] = []

    def watch() -> None:
        try:
            ended.append(feed.watch_once())
        except BaseException as exc:  # handed to the test thread
            ended.append(exc)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    created = False
    try:
        probe = cluster.request("POST", PROBES, {
            "apiVersion": "nfd.k8s-sigs.io/v1alpha1", "kind": "NodeFeature",
            "metadata": {"name": PROBE},
            "spec": {"features": {"attributes": {"kernel.version": {
                "elements": {"major": "9"}}}}}})
        created = True
        version = int(probe["metadata"]["resourceVersion"])
        wait_until(lambda: int(feed.index.resource_version) >= version, 10,
                   "the ADDED event is applied")
        cluster.request("DELETE", f"{PROBES}/{PROBE}")
        created = False
        wait_until(lambda: feed.index.generation >= listed + 2, 10,
                   "the DELETED event is applied")
        assert watcher.is_alive() and not ended, ended  # the watch call is still under way
    finally:
        if created:
            cluster.request("DELETE", f"{PROBES}/{PROBE}")
        watcher.join(WATCH_SECONDS + 15)
        feed.stop()
    assert len(ended) == 1 and isinstance(ended[0], int) and ended[0] >= 2, ended
    assert feed.watches == 1 and feed.errors == 0
