"""Spec documents for registry tests."""

from __future__ import annotations


def spec_text(marker: str = "a") -> bytes:
    """A valid v1alpha1 spec; ``marker`` makes each one's digest different."""
    return f"""version: v1alpha1
compatibilities:
- description: "registry test {marker}"
  rules:
  - name: "kernel and cpu"
    matchFeatures:
    - feature: kernel.loadedmodule
      matchExpressions:
        vfio_pci: {{op: Exists}}
""".encode()
