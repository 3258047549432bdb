"""The workspace stays consistent: every distribution is complete, tested alone, and part of action-all."""

from __future__ import annotations

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


def test_nox_is_the_one_runner_and_tests_every_tested_distribution_alone():
    assert not (DEV.ROOT / "tox.ini").exists()
    noxfile = (DEV.ROOT / "noxfile.py").read_text()
    assert "DEV.distributions()" in noxfile  # the one discovery of distributions, in dev.py
    tested = {name for name, path in DISTS.items() if (path / "tests").is_dir()}
    assert tested <= set(DISTS) and "action-core" in tested


def test_versions_are_written_once_and_pins_are_locked():
    for path in DISTS.values():
        for init in path.glob("src/*/__init__.py"):
            assert "__version__ =" not in init.read_text(), f"{init}: read the version from the metadata"
    lock = (DEV.ROOT / "constraints.txt").read_text()
    pins = [line for line in lock.splitlines() if line and not line.startswith("#")]
    assert "torch==2.14.1" in pins or any(p.startswith("torch==") for p in pins)
    assert not any("/" in p for p in pins), "no path of a machine in the lock"
    assert (DEV.ROOT / "LICENSE").read_text().lstrip().startswith("Apache License")


def test_action_all_depends_on_every_first_party_plugin():
    deps = {re.split(r"[<>=!~ ]", d)[0] for d in _pyproject(DISTS["action-all"])["project"]["dependencies"]}
    plugins = {name for name, path in DISTS.items() if path.parent.name == "plugins"}
    assert plugins | {"action-core", "action-testkit"} == deps
