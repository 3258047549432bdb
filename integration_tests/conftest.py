"""Fresh virtual environments installed from a local wheelhouse, as a user would install the toolkit."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent


def _dev_module():
    spec = importlib.util.spec_from_file_location("action_dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


DEV = _dev_module()
UV_ENV = DEV.uv_environment()


def _uv() -> str:
    found = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if not Path(found).exists():
        pytest.skip("uv is needed to create the integration venvs (python3 dev.py setup installs it)")
    return found


def _build(sources: list[Path], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for src in sources:
        subprocess.run(
            [_uv(), "build", "--wheel", "-q", "--out-dir", str(out), str(src)], check=True, env=UV_ENV
        )


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Wheels of every distribution in this repository (built by `nox -s wheels`, or here)."""
    given = os.environ.get("ACTION_WHEELHOUSE")
    if given and any(Path(given).glob("action_core-*.whl")):
        return Path(given)
    out = tmp_path_factory.mktemp("wheelhouse")
    _build(DEV.distributions(), out)
    return out


@pytest.fixture(scope="session")
def extra_wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Wheels of the out-of-tree third-party plugins and of the plugins broken on purpose."""
    out = tmp_path_factory.mktemp("extra_wheels")
    _build([*sorted((HERE / "third_party").iterdir()), *sorted((HERE / "broken").iterdir())], out)
    return out


class Venv:
    """A fresh venv: install into it and run its python / action-run."""

    def __init__(self, path: Path, find_links: list[Path]) -> None:
        self.path = path
        self.find_links = find_links
        self.bin = path / "bin"
        subprocess.run([_uv(), "venv", "-q", str(path)], check=True, env=UV_ENV)

    def install(self, *requirements: str, no_deps: bool = False) -> None:
        """Install distributions, ours only from the wheelhouses given."""
        links = [a for d in self.find_links for a in ("--find-links", str(d))]
        cmd = [_uv(), "pip", "install", "-q", "--python", str(self.bin / "python"), *links, *requirements]
        if no_deps:
            cmd.append("--no-deps")
        subprocess.run(cmd, check=True, env=UV_ENV)

    def run(
        self, *args: str, env: dict[str, str] | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a command from the venv's bin folder."""
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("ACTION_")}
        full_env.pop("PYTHONPATH", None)
        full_env.update(env or {})
        out = subprocess.run(
            [str(self.bin / args[0]), *args[1:]], capture_output=True, text=True, env=full_env
        )
        if check and out.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
        return out

    def python(self, code: str, **kwargs) -> subprocess.CompletedProcess[str]:
        return self.run("python", "-c", code, **kwargs)


@pytest.fixture
def make_venv(tmp_path: Path, wheelhouse: Path, extra_wheelhouse: Path) -> Callable[[], Venv]:
    def make(name: str = "venv") -> Venv:
        return Venv(tmp_path / name, [wheelhouse, extra_wheelhouse])

    return make
