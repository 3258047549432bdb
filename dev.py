#!/usr/bin/env python3
"""Set up a development environment and run the project's main jobs. Standard library only.

    python3 dev.py demo     # set up, then train + evaluate TSM and TSN on the synthetic dataset
    python3 dev.py test     # set up, then wheels, every distribution tested alone, integration tests, docs

Set-up creates ``.venv`` with uv and installs every distribution of this repository in editable mode.
Package sources (find-links, extra indexes, constraints) are taken from pip's own configuration at run
time, so a machine whose pip points at a local wheel store is used as is.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
TOOLS = [
    "nox>=2024.3",
    "ruff>=0.4",
    "pytest>=7",
    "pytest-xdist>=3",
    "build>=1",
    "tox>=4",
    "tox-uv>=1",
    "sphinx>=7",
    "myst-parser>=2",
]


def distributions() -> list[Path]:
    """Every distribution folder (one with a pyproject.toml) in install order: core first."""
    found = [ROOT / "core"]
    for group in ("packages", "plugins"):
        found += sorted(p.parent for p in (ROOT / group).glob("*/pyproject.toml"))
    return found


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


def uv_environment() -> dict[str, str]:
    """Environment variables that make uv (and nox/tox through it) use the same sources as pip."""
    conf = pip_config()
    env = dict(os.environ)
    if conf.get("find-links"):
        env["UV_FIND_LINKS"] = " ".join(conf["find-links"])
    if conf.get("extra-index-url"):
        env["UV_EXTRA_INDEX_URL"] = " ".join(conf["extra-index-url"])
    if conf.get("index-url"):
        env["UV_INDEX_URL"] = conf["index-url"][0]
    constraints = [c for c in conf.get("constraint", []) if Path(c).exists()]
    if constraints:
        env["UV_CONSTRAINT"] = " ".join(constraints)
    env["UV_LINK_MODE"] = env.get("UV_LINK_MODE", "hardlink")
    return env


def run(cmd: list[str], env: dict[str, str] | None = None) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT, env=env)


def setup() -> dict[str, str]:
    """Create or update .venv; returns the environment to run tools in."""
    env = uv_environment()
    env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    dists = distributions()
    stamp_text = "".join((d / "pyproject.toml").read_text() for d in dists) + " ".join(TOOLS)
    stamp = hashlib.sha256(stamp_text.encode()).hexdigest()
    stamp_file = VENV / ".action-dev-stamp"
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        return env
    if not (BIN / "python").exists():
        run([sys.executable, "-m", "venv", str(VENV)])
    if not (BIN / "uv").exists():
        run([str(BIN / "python"), "-m", "pip", "install", "-q", "uv"])
    editable: list[str] = []
    for d in dists:
        extras = "[test]" if "test = [" in (d / "pyproject.toml").read_text() else ""
        editable += ["-e", f"{d}{extras}"]
    run(
        [str(BIN / "uv"), "pip", "install", "-q", "--python", str(BIN / "python"), *TOOLS, *editable], env=env
    )
    stamp_file.write_text(stamp)
    return env


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"setup", "demo", "test", "nox"}:
        print(__doc__)
        return 2
    env = setup()
    command, rest = argv[0], argv[1:]
    nox = [str(BIN / "nox")]
    if command == "setup":
        return 0
    if command == "demo":
        run([*nox, "-s", "demo", "--", *rest], env=env)
    elif command == "test":
        run([*nox, "-s", "wheels", "tests", "integration", "docs", "--", *rest], env=env)
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
