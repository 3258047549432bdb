"""The documentation builds without warnings and documents every hook and every public function of core."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(DOCS / "_ext"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(out)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"sphinx -W failed:\n{result.stdout}\n{result.stderr}"
    return out


def _inventory(built: Path) -> set[str]:
    from sphinx.util.inventory import InventoryFile

    with open(built / "objects.inv", "rb") as f:
        inv = InventoryFile.load(f, "", lambda base, uri: uri)
    return {name for group in inv.values() for name in group}


def test_every_hook_spec_is_documented(built: Path):
    from action_core.plugins import hookspecs

    documented = _inventory(built)
    hooks = [n for n in dir(hookspecs) if n.startswith("action_") and callable(getattr(hookspecs, n))]
    assert sorted(hooks) == sorted(hookspecs.ALL_HOOKS)
    missing = [h for h in hooks if f"action_core.plugins.hookspecs.{h}" not in documented]
    assert not missing, f"hooks missing from the reference: {missing}"


def test_every_public_function_of_core_is_documented(built: Path):
    from generate_pages import public_modules, public_objects

    documented = _inventory(built)
    missing = []
    for module in public_modules():
        importlib.import_module(module)
        missing += [
            f"{module}.{name}" for name in public_objects(module) if f"{module}.{name}" not in documented
        ]
    assert not missing, f"public objects missing from the API reference: {missing[:20]}"


def test_model_zoo_counts_every_recognizer_preset_and_shows_published_metrics(built: Path):
    from action_core.tools.zoo import preset_rows

    rows = list(preset_rows())
    recognizers = [r for r in rows if r.task == "recognition"]
    assert len(recognizers) >= 40
    uncounted = [r.name for r in recognizers if not r.params or not r.gmacs]
    assert not uncounted, f"presets without parameters or FLOPs: {uncounted}"
    unpublished = [r.name for r in rows if r.weights and not r.metrics]
    assert not unpublished, f"presets naming weights without published metrics: {unpublished}"
    page = (DOCS / "model-zoo.md").read_text()
    assert all(f"`{r.name}`" in page for r in rows)
