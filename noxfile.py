"""Sessions: wheels, tests (one per distribution, isolated), integration, unit, lint, demo, docs, bench.

Run through ``python3 dev.py test`` / ``python3 dev.py demo`` on a fresh machine, or ``nox -s NAME``
from the development venv (``.venv``). Isolated sessions use uv, which takes its package sources from the
``UV_*`` variables that dev.py derives from pip's configuration.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
WHEELHOUSE = ROOT / "build" / "wheelhouse"
nox.options.default_venv_backend = "uv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["wheels", "tests", "integration"]


def _dists() -> dict[str, Path]:
    found = {"action-core": ROOT / "core"}
    for group in ("packages", "plugins"):
        for pyproject in sorted((ROOT / group).glob("*/pyproject.toml")):
            found[pyproject.parent.name] = pyproject.parent
    return found


DISTS = _dists()
TESTED = [name for name, path in DISTS.items() if (path / "tests").is_dir()]


@nox.session(venv_backend="none")
def wheels(session: nox.Session) -> None:
    """Build a wheel of every distribution into build/wheelhouse (the local 'index' for installs)."""
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
    extras = "[test]" if "test = [" in (path / "pyproject.toml").read_text() else ""
    session.install("--find-links", str(WHEELHOUSE), "--reinstall-package", dist, f"{dist}{extras}", "pytest")
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
        *session.posargs,
    )


@nox.session(venv_backend="none")
def integration(session: nox.Session) -> None:
    """Fresh venvs from the wheelhouse, a third-party plugin, broken plugins, end-to-end runs."""
    session.run(
        sys.executable,
        "-m",
        "pytest",
        "integration_tests",
        "-q",
        "-p",
        "no:cacheprovider",
        *session.posargs,
        env={"ACTION_WHEELHOUSE": str(WHEELHOUSE)},
    )


@nox.session(venv_backend="none")
def unit(session: nox.Session) -> None:
    """Every distribution's tests at once in the development venv (quick feedback while editing)."""
    paths = [str(p / "tests") for p in DISTS.values() if (p / "tests").is_dir()]
    session.run(sys.executable, "-m", "pytest", *paths, "-q", "-n", "2", *session.posargs)


@nox.session(venv_backend="none")
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole tree."""
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(venv_backend="none")
def demo(session: nox.Session) -> None:
    """The main job: train and evaluate TSM and TSN on the synthetic dataset, print the table."""
    session.run("action-run", "demo", *session.posargs)


@nox.session(venv_backend="none")
def docs(session: nox.Session) -> None:
    """Check the documentation: every hook spec documented in the generated hook reference."""
    session.run(sys.executable, "-m", "pytest", str(ROOT / "docs" / "tests"), "-q", "-p", "no:cacheprovider")


@nox.session(venv_backend="none")
def bench(session: nox.Session) -> None:
    """Run the benchmark scripts (they print ratios against baselines run side by side)."""
    for script in sorted(ROOT.glob("*/benchmarks/*.py")) + sorted(ROOT.glob("plugins/*/benchmarks/*.py")):
        session.run(sys.executable, str(script), *session.posargs)
