"""The project's one task runner. Every session installs what it needs into its own environment, so any nox
works: ``pip install nox && nox -s docs`` on a fresh clone, or ``python3 dev.py nox -s NAME`` (faster, uv).

Sessions: lint, typecheck, wheels, tests (one per distribution, isolated, from the built wheels), integration,
docs (the default run, which CI runs through ``python3 dev.py test``), and unit (every distribution's tests in
one environment, quick feedback), demo, bench. Third-party versions are pinned by ``constraints.txt``; package
sources (find-links, extra indexes) come from pip's configuration, as in ``dev.py``.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
WHEELHOUSE = ROOT / "build" / "wheelhouse"


def _dev_module():
    spec = importlib.util.spec_from_file_location("action_dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


DEV = _dev_module()
os.environ.update(DEV.uv_environment())  # pip's package sources and the pinned versions, for uv
LOCK = ["-c", str(DEV.LOCK)]
DISTS = {DEV.dist_name(p): p for p in DEV.distributions()}
TESTED = [name for name, path in DISTS.items() if (path / "tests").is_dir()]

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "wheels", "tests", "integration", "docs"]


def install_everything(session: nox.Session, *extra: str) -> None:
    """Every distribution of the repository, editable, with its test extra, plus ``extra``."""
    session.install(*LOCK, *DEV.editable_args(), *extra)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole tree."""
    session.install(*LOCK, "ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy over action-core (strict on the public API and the plugin contract; see pyproject.toml)."""
    session.install(*LOCK, "mypy", "-e", str(ROOT / "core"))
    session.run("mypy")


@nox.session
def wheels(session: nox.Session) -> None:
    """Build a wheel of every distribution into build/wheelhouse (the local 'index' for installs)."""
    session.install(*LOCK, "uv")
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    for old in WHEELHOUSE.glob("*.whl"):
        old.unlink()
    for path in DISTS.values():
        session.run("uv", "build", "--wheel", "-q", "--out-dir", str(WHEELHOUSE), str(path))


@nox.session
@nox.parametrize("dist", TESTED)
def tests(session: nox.Session, dist: str) -> None:
    """One distribution's tests with only core, itself and its declared dependencies, from the wheelhouse."""
    path = DISTS[dist]
    target = f"{dist}[test]" if "test" in DEV.extras(path) else dist
    # Our distributions always come from this wheelhouse, never from a cache of an earlier build of the same
    # version (uv caches wheels by name and version).
    ours = [a for name in DISTS for a in ("--reinstall-package", name, "--refresh-package", name)]
    fresh = ours if session.venv_backend == "uv" else ["--force-reinstall"]
    session.install(*LOCK, "--find-links", str(WHEELHOUSE), *fresh, target, "pytest", "pytest-xdist")
    workers = ["-n", "2"] if dist == "action-core" else []  # the one suite big enough to gain from it
    session.run(
        "python",
        "-m",
        "pytest",
        str(path / "tests"),
        "-q",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(path),
        *workers,
        *session.posargs,
    )


@nox.session
def integration(session: nox.Session) -> None:
    """Fresh venvs from the wheelhouse, a third-party plugin, broken plugins, end-to-end runs."""
    install_everything(session, "uv")
    session.run(
        "python",
        "-m",
        "pytest",
        "integration_tests",
        "-q",
        "-p",
        "no:cacheprovider",
        *session.posargs,
        env={"ACTION_WHEELHOUSE": str(WHEELHOUSE)},
    )


@nox.session
def unit(session: nox.Session) -> None:
    """Every distribution's tests at once in one environment (quick feedback while editing)."""
    install_everything(session, "pytest-xdist")
    paths = [str(p / "tests") for p in DISTS.values() if (p / "tests").is_dir()]
    session.run("python", "-m", "pytest", *paths, "-q", "-n", "2", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation with warnings as errors, and check it documents every hook and public name."""
    install_everything(session, "sphinx", "myst-parser", "furo", "pytest")
    session.run("python", "-m", "pytest", str(ROOT / "docs" / "tests"), "-q", "-p", "no:cacheprovider")


@nox.session
def demo(session: nox.Session) -> None:
    """The main job: train and evaluate TSM and TSN on the synthetic dataset, print the table."""
    install_everything(session)
    session.run("action-run", "demo", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmark scripts (they print ratios against baselines run side by side)."""
    install_everything(session)
    for script in sorted(ROOT.glob("*/benchmarks/*.py")) + sorted(ROOT.glob("plugins/*/benchmarks/*.py")):
        session.run("python", str(script), *session.posargs)
