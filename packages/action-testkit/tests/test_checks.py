"""The conformance kit on small real plugins installed into a temporary site directory."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from action_testkit import validate_plugin

MODELS = """
import torch

def tiny(*, num_classes=3, width=4):
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.LazyLinear(num_classes))

def positional(num_classes=3):
    return torch.nn.Linear(2, num_classes)

def wrong_shape(*, num_classes=3):
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.LazyLinear(num_classes + 1))
"""


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", str(site))

    def make(name: str, plugin_source: str, models: str = MODELS) -> None:
        info = site / f"action_{name}-0.1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: action-{name}\nVersion: 0.1.0\nRequires-Dist: action-core>=0.1\n"
        )
        (info / "entry_points.txt").write_text(f"[action.plugins]\n{name} = ck_{name}.plugin\n")
        pkg = site / f"ck_{name}"
        pkg.mkdir()
        (pkg / "__init__.py").write_text("")
        (pkg / "plugin.py").write_text(textwrap.dedent(plugin_source))
        (pkg / "models.py").write_text(models)

    yield make
    for mod in [m for m in sys.modules if m.startswith("ck_")]:
        del sys.modules[mod]


def test_valid_plugin_passes(install):
    install(
        "okay",
        """
        from action_core import hookimpl
        ACTION_PLUGIN_API = "1.0"
        @hookimpl
        def action_register_models(register):
            register("tiny", "ck_okay.models:tiny", example_kwargs={"num_classes": 5}, example_input=(2, 3, 4))
        """,
    )
    report = validate_plugin("okay")
    assert report.ok, report.render()
    assert any("-> (2, 5)" in r.detail for r in report.results)


def test_each_violation_is_reported(install):
    install(
        "bad",
        """
        import torch  # a plugin module must not import torch
        from action_core import hookimpl
        ACTION_PLUGIN_API = "1.0"
        @hookimpl
        def action_register_models(register):
            register("positional", "ck_bad.models:positional")
            register("missing", "ck_bad.models:not_there")
            register("wrong_shape", "ck_bad.models:wrong_shape", example_kwargs={"num_classes": 2}, example_input=(1, 3))
        """,
    )
    report = validate_plugin("bad")
    assert not report.ok
    failed = {r.name for r in report.results if r.status == "fail"}
    assert "plugin module imports no torch" in failed
    assert "model positional: keyword-only builder" in failed
    assert "model missing: target resolves" in failed
    assert "model wrong_shape: builds and runs a tiny forward" in failed


def test_api_mismatch_and_unknown_plugin(install):
    install("old", 'ACTION_PLUGIN_API = "0.3"\n')
    report = validate_plugin("old")
    assert not report.ok and "plugin API" in report.render()
    assert not validate_plugin("does_not_exist").ok


def test_scaffold_refuses_bad_names_and_writes_the_layout(tmp_path):
    from action_core.api import PluginError
    from action_testkit.scaffold import create_plugin

    with pytest.raises(PluginError, match="lowercase"):
        create_plugin("Bad-Name", tmp_path)
    project = create_plugin("tiny_one", tmp_path)
    files = sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "pyproject.toml",
        "src/action_tiny_one/__init__.py",
        "src/action_tiny_one/models.py",
        "src/action_tiny_one/plugin.py",
        "src/action_tiny_one/py.typed",
        "tests/test_conformance.py",
    ]
    assert 'tiny_one = "action_tiny_one.plugin"' in (project / "pyproject.toml").read_text()


def test_tuple_outputs_are_checked_against_a_list_of_shapes(install):
    models = (
        MODELS
        + """

class Two(torch.nn.Module):
    def forward(self, x):
        return x.mean(dim=1), x.sum(dim=2)

def two_maps(*, num_classes=1):
    return Two()
"""
    )
    install(
        "pair",
        """
        from action_core import hookimpl
        ACTION_PLUGIN_API = "1.0"
        @hookimpl
        def action_register_models(register):
            register("good", "ck_pair.models:two_maps", example_input=(2, 3, 4), example_output=[(2, 4), (2, 3)])
            register("bad", "ck_pair.models:two_maps", example_input=(2, 3, 4), example_output=[(2, 4), (2, 4)])
        """,
        models,
    )
    report = validate_plugin("pair")
    status = {r.name: r.status for r in report.results}
    assert status["model good: builds and runs a tiny forward"] == "ok"
    assert status["model bad: builds and runs a tiny forward"] == "fail"


DATASETS = """
import torch

class Items:
    classes = ["a", "b"]
    multi_label = False

    def __init__(self, norm):
        self.norm = norm

    def __len__(self):
        return 1

    def __getitem__(self, index):
        item = {"inputs": torch.zeros(1, 3, 2, 4, 4, dtype=torch.uint8), "label": torch.tensor(0), "index": index}
        item["norm"] = self.norm
        return item

def build(*, norm_shape):
    return Items(torch.ones(norm_shape))

def good(tmp):
    return {"norm_shape": (2, 3, 1, 1, 1)}

def bad(tmp):
    return {"norm_shape": (3, 1, 1, 1)}
"""


def test_an_items_deferred_normalisation_entry_is_checked(install):
    install(
        "norms",
        """
        from action_core import hookimpl
        ACTION_PLUGIN_API = "1.0"
        @hookimpl
        def action_register_datasets(register):
            register("good_norm", "ck_norms.models:build", example="ck_norms.models:good")
            register("bad_norm", "ck_norms.models:build", example="ck_norms.models:bad")
        """,
        models=DATASETS,
    )
    report = validate_plugin("norms")
    status = {r.name: r.status for r in report.results}
    assert status["dataset good_norm: yields the sample schema"] == "ok", report.render()
    assert status["dataset bad_norm: yields the sample schema"] == "fail", report.render()
    assert "Normalize(on_device=True)" in report.render()
