"""The public surface grows only on purpose (httpx's test_exported_members)."""

from __future__ import annotations

import nfd
import nfd.api
import nfd.compat
import nfd.match


def test_exported_members_are_listed() -> None:
    for module in (nfd, nfd.api, nfd.compat, nfd.match):
        public = {name for name in vars(module) if not name.startswith("_")}
        submodules = {name for name in public if type(getattr(module, name)).__name__ == "module"}
        extra = public - submodules - {"annotations", "typing"} - set(module.__all__)
        assert not extra, f"{module.__name__} exposes unlisted names {sorted(extra)}"
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name} listed but missing"


def test_importing_nfd_stays_light() -> None:
    import subprocess
    import sys

    code = ("import sys, nfd; "
            "print(sorted(m for m in ('httpx','yaml','re2','kubernetes') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_template_engine_loads_only_when_a_template_is_used() -> None:
    import subprocess
    import sys

    code = ("import sys, nfd.compat, nfd.match; "
            "print('nfd._go.template.execute' in sys.modules); "
            "nfd.match.expand_vars_template('a=1', {}); "
            "print('nfd._go.template.execute' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
