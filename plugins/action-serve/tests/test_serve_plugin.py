"""The plugin: its registration passes the conformance kit, it uses core's public API only, and
`action-run serve` starts a server on the loopback address that a signal stops cleanly."""

from __future__ import annotations

import ast
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from action_testkit import PluginConformance

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "action_serve"


class TestServeConformance(PluginConformance):
    plugin = "serve"


def test_serve_is_a_registered_command() -> None:
    from action_core.api import plugin_host

    with plugin_host() as host:
        host.load_all()
        entry = host.registry.get("command", "serve")
        assert entry.plugin == "serve"
        assert entry.target == "action_serve.cli:main"


def _core_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("action_core"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("action_core")}
    return found


def test_only_cores_public_api_is_imported() -> None:
    assert _core_imports(PACKAGE / "plugin.py") == {"action_core"}
    for module in sorted(set(PACKAGE.glob("*.py")) - {PACKAGE / "plugin.py"}):
        assert _core_imports(module) <= {"action_core.api"}, module.name
    # The one reach past action_core.api, until the API exports core's timeline, is named in one module.
    reaching = [m.name for m in PACKAGE.glob("*.py") if "action_core.apps" in m.read_text(encoding="utf-8")]
    assert reaching == ["core_timeline.py"]


def test_the_page_loads_nothing_from_elsewhere() -> None:
    for asset in (PACKAGE / "static").iterdir():
        text = asset.read_text(encoding="utf-8")
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE), asset.name


def test_the_default_address_is_loopback_and_other_addresses_get_a_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from action_serve import cli
    from action_serve.settings import ServeSettings, is_loopback

    assert ServeSettings().host == "127.0.0.1" and cli._parser().parse_args(["x"]).host == "127.0.0.1"
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.3.2.1", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "192.168.1.2", "::", "example.org"))
    monkeypatch.delenv(cli.TOKEN_ENV, raising=False)

    def token(*args: str) -> tuple[str | None, bool]:
        return cli._token(cli._parser().parse_args(["x", *args]))

    assert token() == (None, False)
    generated, fresh = token("--host", "0.0.0.0")
    assert fresh and generated is not None and len(generated) >= 24
    assert token("--host", "0.0.0.0", "--no-token") == (None, False)
    (tmp_path / "token").write_text("from-a-file-123\n")
    assert token("--host", "0.0.0.0", "--token-file", str(tmp_path / "token")) == ("from-a-file-123", False)
    monkeypatch.setenv(cli.TOKEN_ENV, "from-the-env-456")
    assert token() == ("from-the-env-456", False)
    with pytest.raises(ValueError, match="at least 8 characters"):
        ServeSettings(token="short")


def test_a_preset_without_published_weights_is_refused_with_what_to_do() -> None:
    from action_core.api import ConfigError
    from action_serve.cli import load_inferencer

    with pytest.raises(ConfigError, match=r"action-run train tsm_r18_synthetic"):
        load_inferencer("tsm_r18_synthetic")


def test_settings_refuse_nonsense() -> None:
    from action_serve.settings import ServeSettings

    for bad in ({"max_upload_bytes": 0}, {"max_duration": -1}, {"workers": 0}, {"queue": -1}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            ServeSettings(**bad)  # type: ignore[arg-type]


@pytest.mark.slow
def test_action_run_serve_serves_on_loopback_and_stops_on_a_signal(
    checkpoint: Path, clip: Path, tmp_path: Path
) -> None:
    tmp_dir = tmp_path / "uploads"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("ACTION_SERVE_TOKEN", None)
    command = [sys.executable, "-m", "action_core.cli.main", "serve", str(checkpoint), "--port", "0",
               "--tmp-dir", str(tmp_dir), "--device", "cpu", "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    try:
        url = None
        deadline = time.monotonic() + 180
        assert process.stderr is not None
        while url is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line and process.poll() is not None:
                raise AssertionError(f"action-run serve exited with {process.returncode}")
            match = re.match(r"open (http://127\.0\.0\.1:\d+/)$", line.strip())
            url = match.group(1) if match else None
        assert url is not None
        assert httpx.get(url + "healthz").json()["model"] == "tsm.pth"
        answer = httpx.post(url + "v1/predict", files={"file": (clip.name, clip.read_bytes())}, timeout=60)
        assert answer.status_code == 200 and answer.json()["source"] == clip.name
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(60)
    assert code in (0, -signal.SIGTERM)  # uvicorn shuts down gracefully, then re-raises the signal
    assert list(tmp_dir.iterdir()) == []  # the server's own folder inside --tmp-dir is gone


def test_the_timeline_bridge_takes_cores_public_names_when_the_api_has_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib

    import action_core.api as api
    from action_serve.core_timeline import NAMES, timeline_functions

    module = importlib.import_module("action_core.apps.timeline")
    exported = all(name in api.__all__ for name in NAMES)
    assert timeline_functions() is (api if exported else module)
    if not exported:  # as the API will once it exports the timeline
        monkeypatch.setattr(api, "__all__", [*api.__all__, *NAMES])
        for name in NAMES:
            monkeypatch.setattr(api, name, getattr(module, name), raising=False)
        assert timeline_functions() is api
    assert all(getattr(timeline_functions(), name) is getattr(module, name) for name in NAMES)
