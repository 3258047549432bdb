#!/usr/bin/env python3
"""Set up a development environment and run the project's main jobs. Standard library only.

    python3 dev.py demo     # set up, then train + evaluate TSM and TSN on the synthetic dataset
    python3 dev.py test     # set up, then lint, type check, wheels, every distribution tested alone,
                            # integration tests, docs
    python3 dev.py setup    # only create or update .venv
    python3 dev.py lock     # re-resolve constraints.txt (the pinned versions every environment installs)
    python3 dev.py nox ...  # run nox with the given arguments (e.g. `nox -s unit`)

Set-up creates ``.venv`` with uv and installs every distribution of this repository in editable mode, with
third-party versions pinned by ``constraints.txt``. Package sources (find-links, extra indexes, pip's own
constraints) are taken from pip's configuration at run time, so a machine whose pip points at a local wheel
store is used as is. ``noxfile.py`` imports this module for the list of distributions and those settings.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
LOCK = ROOT / "constraints.txt"
TOOLS = [
    "nox>=2024.3",
    "ruff>=0.4",
    "mypy>=1.10",
    "pytest>=7",
    "pytest-xdist>=3",
    "build>=1",
    "sphinx>=7",
    "myst-parser>=2",
    "furo>=2024.1",
]


def distributions() -> list[Path]:
    """Every distribution folder (one with a pyproject.toml) in install order: core first."""
    found = [ROOT / "core"]
    for group in ("packages", "plugins"):
        found += sorted(p.parent for p in (ROOT / group).glob("*/pyproject.toml"))
    return found


def project(path: Path) -> dict:
    """The ``[project]`` table of a distribution's pyproject.toml."""
    return tomllib.loads((path / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def dist_name(path: Path) -> str:
    """The distribution name (``action-core``, ``action-tsm``...)."""
    return str(project(path)["name"])


def extras(path: Path) -> list[str]:
    """The optional-dependency groups a distribution declares (``test``, ``export``...)."""
    return sorted(project(path).get("optional-dependencies", {}))


def editable_args(paths: list[Path] | None = None, *, test: bool = True) -> list[str]:
    """``-e path[test]`` arguments installing distributions in editable mode (with their test extra)."""
    args: list[str] = []
    for path in paths or distributions():
        args += ["-e", f"{path}[test]" if test and "test" in extras(path) else str(path)]
    return args


def third_party_requirements() -> list[str]:
    """Every requirement of every distribution (and extra) that is not one of ours, plus the tools."""
    ours = {dist_name(p) for p in distributions()}
    reqs: set[str] = set(TOOLS)
    for path in distributions():
        meta = project(path)
        groups = [meta.get("dependencies", []), *meta.get("optional-dependencies", {}).values()]
        for req in (r for group in groups for r in group):
            name = re.split(r"[\s\[<>=!~;]", req, maxsplit=1)[0]
            if name not in ours:
                reqs.add(req)
    return sorted(reqs)


def pip_config() -> dict[str, list[str]]:
    """find-links / extra-index-url / index-url / constraint from `pip config list`, as lists."""
    out = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    ).stdout
    conf: dict[str, list[str]] = {}
    for line in out.splitlines():
        key, _, value = line.partition("=")
        name = key.rpartition(".")[2]
        value = value.strip().strip("'\"")
        if name in {"find-links", "extra-index-url", "index-url", "constraint"} and value:
            for item in value.split():
                if item not in conf.setdefault(name, []):
                    conf[name].append(item)
    return conf


def uv_environment(*, locked: bool = True) -> dict[str, str]:
    """Environment variables that make uv (and nox through it) use the same sources as pip, and the
    versions pinned in constraints.txt (``locked``)."""
    conf = pip_config()
    env = dict(os.environ)
    if conf.get("find-links"):
        env["UV_FIND_LINKS"] = " ".join(conf["find-links"])
    if conf.get("extra-index-url"):
        env["UV_EXTRA_INDEX_URL"] = " ".join(conf["extra-index-url"])
    if conf.get("index-url"):
        env["UV_INDEX_URL"] = conf["index-url"][0]
    constraints = [c for c in conf.get("constraint", []) if Path(c).exists()]
    if locked and LOCK.exists():
        constraints.append(str(LOCK))
    if constraints:
        env["UV_CONSTRAINT"] = " ".join(constraints)
    env["UV_LINK_MODE"] = env.get("UV_LINK_MODE", "hardlink")
    return env


def run(cmd: list[str], env: dict[str, str] | None = None) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT, env=env)


def _bootstrap() -> None:
    if not (BIN / "python").exists():
        run([sys.executable, "-m", "venv", str(VENV)])
    if not (BIN / "uv").exists():
        run([str(BIN / "python"), "-m", "pip", "install", "-q", "uv"])


def setup() -> dict[str, str]:
    """Create or update .venv; returns the environment to run tools in."""
    env = uv_environment()
    env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    dists = distributions()
    stamp_text = "".join((d / "pyproject.toml").read_text() for d in dists) + " ".join(TOOLS)
    stamp_text += LOCK.read_text() if LOCK.exists() else ""
    stamp = hashlib.sha256(stamp_text.encode()).hexdigest()
    stamp_file = VENV / ".action-dev-stamp"
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        return env
    _bootstrap()
    run(
        [str(BIN / "uv"), "pip", "install", "-q", "--python", str(BIN / "python"), *TOOLS, *editable_args()],
        env=env,
    )
    stamp_file.write_text(stamp)
    return env


def lock() -> None:
    """Resolve every third-party requirement together and write the pins to constraints.txt."""
    _bootstrap()
    env = uv_environment(locked=False)
    source = ROOT / "build" / "requirements.in"
    source.parent.mkdir(exist_ok=True)
    source.write_text("\n".join(third_party_requirements()) + "\n")
    run(
        [
            str(BIN / "uv"), "pip", "compile", "-q", str(source), "-o", str(LOCK), "--python-version", "3.11",
            "--no-header", "--no-annotate", "--no-emit-index-url", "--no-emit-find-links",
        ],
        env=env,
    )  # fmt: skip
    LOCK.write_text(
        "# Pinned third-party versions for every environment of this repository (dev.py, nox sessions).\n"
        "# Regenerate with `python3 dev.py lock` after changing a dependency.\n" + LOCK.read_text()
    )


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"setup", "demo", "test", "nox", "lock"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "lock":
        lock()
        return 0
    env = setup()
    nox = [str(BIN / "nox")]
    if command == "setup":
        return 0
    if command == "demo":
        run([*nox, "-s", "demo", "--", *rest], env=env)
    elif command == "test":
        run([*nox, "-s", "lint", "typecheck", "wheels", "tests", "integration", "docs", "--", *rest], env=env)
    else:
        run([*nox, *rest], env=env)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as e:
        print(
            f"dev.py: command failed with exit code {e.returncode}: {' '.join(map(str, e.cmd))}",
            file=sys.stderr,
        )
        sys.exit(e.returncode or 1)
