"""The workspace stays consistent: every distribution is complete, tested alone, and part of action-all."""

from __future__ import annotations

import configparser
import re
import tomllib
from pathlib import Path

import pytest
from conftest import DEV

DISTS = {p.name if p.name != "core" else "action-core": p for p in DEV.distributions()}


def _pyproject(path: Path) -> dict:
    return tomllib.loads((path / "pyproject.toml").read_text())


@pytest.mark.parametrize("name", sorted(DISTS))
def test_distribution_is_complete(name):
    path = DISTS[name]
    project = _pyproject(path)["project"]
    assert project["name"] == name
    assert project["requires-python"] == ">=3.11"
    assert (path / "README.md").is_file()
    assert _pyproject(path)["build-system"]["build-backend"] == "hatchling.build"
    for dep in project.get("dependencies", []):
        assert "==" not in dep, f"{name} pins {dep}; declare a range"
    if name == "action-all":
        return
    assert list(path.glob("src/*/py.typed")), f"{name} has no py.typed"
    assert (path / "tests").is_dir(), f"{name} has no tests/"
    if path.parent.name == "plugins":
        entry_points = project["entry-points"]["action.plugins"]
        assert len(entry_points) == 1


def test_every_tested_distribution_has_a_tox_environment():
    tox = configparser.ConfigParser()
    tox.read(DEV.ROOT / "tox.ini")
    test_paths = {
        re.search(r"TEST_PATH = \{toxinidir\}/(\S+)/tests", tox[s]["set_env"]).group(1)
        for s in tox.sections()
        if s.startswith("testenv:")
    }
    expected = {str(p.relative_to(DEV.ROOT)) for p in DISTS.values() if (p / "tests").is_dir()}
    assert test_paths == expected
    envs = {e.strip() for e in tox["tox"]["env_list"].split()}
    assert envs == {s.removeprefix("testenv:") for s in tox.sections() if s.startswith("testenv:")}


def test_action_all_depends_on_every_first_party_plugin():
    deps = {re.split(r"[<>=!~ ]", d)[0] for d in _pyproject(DISTS["action-all"])["project"]["dependencies"]}
    plugins = {name for name, path in DISTS.items() if path.parent.name == "plugins"}
    assert plugins | {"action-core", "action-testkit"} == deps
