"""Counters for ``GET /metrics``, in the Prometheus text exposition format (version 0.0.4).

Written by hand: a few counters and one latency summary do not justify a
dependency. Names carry the ``nfd_webhook_`` prefix and ``_total`` for counters.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from nfd.webhook._cache import TTLCache
from nfd.webhook._resolver import Resolver

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class Metrics:
    """Admission outcomes and the time spent deciding."""

    reviews: Counter[str] = field(default_factory=Counter)
    seconds_sum: float = 0.0
    seconds_count: int = 0

    def observe(self, outcome: str, seconds: float) -> None:
        self.reviews[outcome] += 1
        self.seconds_sum += seconds
        self.seconds_count += 1

    def render(self, resolver: Resolver) -> str:
        """The exposition text, resolver caches and registry calls included."""
        lines = ["# HELP nfd_webhook_reviews_total Admission reviews answered, by outcome.",
                 "# TYPE nfd_webhook_reviews_total counter"]
        lines += [f'nfd_webhook_reviews_total{{outcome="{name}"}} {count}'
                  for name, count in sorted(self.reviews.items())]
        lines += ["# HELP nfd_webhook_review_seconds Time to decide an admission review.",
                  "# TYPE nfd_webhook_review_seconds summary",
                  f"nfd_webhook_review_seconds_sum {self.seconds_sum:.6f}",
                  f"nfd_webhook_review_seconds_count {self.seconds_count}"]
        caches: dict[str, TTLCache[Any, Any]] = {"tag": resolver.tags, "spec": resolver.specs}
        for metric, help_text in (("hits", "Cache lookups that found a live entry."),
                                  ("misses", "Cache lookups that found none."),
                                  ("evictions", "Entries pushed out by the size bound.")):
            lines += [f"# HELP nfd_webhook_cache_{metric}_total {help_text}",
                      f"# TYPE nfd_webhook_cache_{metric}_total counter"]
            lines += [f'nfd_webhook_cache_{metric}_total{{cache="{name}"}} '
                      f"{getattr(cache.stats, metric)}" for name, cache in caches.items()]
        lines += ["# HELP nfd_webhook_cache_entries Entries held.",
                  "# TYPE nfd_webhook_cache_entries gauge"]
        lines += [f'nfd_webhook_cache_entries{{cache="{name}"}} {len(cache)}'
                  for name, cache in caches.items()]
        counters = resolver.counters
        for metric, values, help_text in (
                ("calls", counters.fetches, "Registry and API calls started, by step."),
                ("call_failures", counters.failures, "Calls that failed, by step.")):
            lines += [f"# HELP nfd_webhook_{metric}_total {help_text}",
                      f"# TYPE nfd_webhook_{metric}_total counter"]
            lines += [f'nfd_webhook_{metric}_total{{step="{step}"}} {count}'
                      for step, count in sorted(values.items())]
        lines += ["# HELP nfd_webhook_rule_conflicts_total NodeFeatureRule names found taken by a "
                  "rule not provably the image's (left alone; another name used).",
                  "# TYPE nfd_webhook_rule_conflicts_total counter",
                  f"nfd_webhook_rule_conflicts_total {counters.conflicts}"]
        return "\n".join(lines) + "\n"
