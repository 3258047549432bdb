"""Fixtures shared by core's tests."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from action_core.plugins import host as plugin_host


@pytest.fixture
def site_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory on sys.path where tests install tiny real distributions (dist-info + module)."""
    d = tmp_path / "site"
    d.mkdir()
    monkeypatch.syspath_prepend(str(d))
    for var in (
        "ACTION_STRICT_PLUGINS",
        "ACTION_PLUGINS",
        "ACTION_DISABLE_PLUGINS",
        "ACTION_DISABLE_PLUGIN_AUTOLOAD",
    ):
        monkeypatch.delenv(var, raising=False)
    before = set(sys.modules)
    plugin_host._HOST = None  # a host made earlier in this process would not see the plugins installed here
    yield d
    for name in set(sys.modules) - before:
        if name.startswith("fake_"):
            del sys.modules[name]
    plugin_host._HOST = None


@pytest.fixture
def make_plugin(site_dir: Path) -> Callable[..., Path]:
    """Install a plugin distribution into ``site_dir``: metadata, entry point and module source."""

    def make(
        name: str,
        source: str,
        *,
        distribution: str | None = None,
        version: str = "0.1.0",
        requires: tuple[str, ...] = ("action-core>=0.1",),
    ) -> Path:
        module = f"fake_{name}"
        dist = distribution or f"action-{name}"
        info = site_dir / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        meta = ["Metadata-Version: 2.1", f"Name: {dist}", f"Version: {version}"]
        meta += [f"Requires-Dist: {r}" for r in requires]
        (info / "METADATA").write_text("\n".join(meta) + "\n")
        (info / "entry_points.txt").write_text(f"[action.plugins]\n{name} = {module}.plugin\n")
        pkg = site_dir / module
        pkg.mkdir()
        (pkg / "__init__.py").write_text("")
        (pkg / "plugin.py").write_text(textwrap.dedent(source))
        return pkg

    return make
