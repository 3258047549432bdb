"""`action-run` as a user runs it: subprocesses, real plugin metadata, no torch for listing commands."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from action_core.cli.main import main

PLUGIN = """
from action_core import hookimpl
ACTION_PLUGIN_API = "1.0"

@hookimpl
def action_register_models(register):
    register("demo_net", "fake_clidemo.models:demo_net", summary="a demo network")

@hookimpl
def action_register_presets(register):
    register("demo_preset", "fake_clidemo.plugin:PRESET")
    register("demo_full", "fake_clidemo.plugin:FULL")

@hookimpl
def action_register_commands(register):
    register("hello", "fake_clidemo.plugin:hello", summary="say hello")

PRESET = {"optim": {"lr": 0.1}, "epochs": 2}
FULL = {
    "model": {"type": "demo_net", "num_classes": 3},
    "data": {"dataset": "video_list", "batch_size": 2},
    "optim": {"lr": 0.1},
}

def hello(argv):
    print("hello from a plugin", *argv)
    return 0
"""


def _run(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run(
        [sys.executable, "-m", "action_core.cli.main", *args], capture_output=True, text=True, env=env
    )


def _imported_modules(*args: str, env_extra: dict[str, str]) -> set[str]:
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['action-run', *{list(args)!r}]\n"
        "from action_core.cli.main import main\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main(sys.argv[1:])\n    except SystemExit:\n        pass\n"
        "print('\\n'.join(sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ, **env_extra)
    )
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


@pytest.mark.parametrize("args", [("--help",), ("plugins",)])
def test_help_and_plugins_import_no_torch_and_no_plugin(make_plugin, site_dir, args):
    make_plugin("clidemo", PLUGIN)
    modules = _imported_modules(*args, env_extra={"PYTHONPATH": str(site_dir)})
    assert "torch" not in modules
    assert not any(m.startswith("fake_clidemo") for m in modules)


def test_help_lists_each_core_command_once_and_commands_adds_the_plugins(make_plugin, site_dir, capsys):
    from action_core.cli.main import COMMANDS

    make_plugin("clidemo", PLUGIN)
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = capsys.readouterr().out
    for name in COMMANDS:
        assert len(re.findall(rf"^  {name} +\S", help_text, re.M)) == 1, name
    assert "hello" not in help_text  # plugins are not imported for --help
    assert main(["commands"]) == 0
    listing = capsys.readouterr().out
    for name in COMMANDS:
        assert len(re.findall(rf"^  {name} +\S", listing, re.M)) == 1, name
    assert re.search(r"^plugin clidemo \(action-clidemo\):\n  hello +say hello$", listing, re.M)


def test_plugins_lists_status(make_plugin, site_dir, capsys):
    make_plugin("clidemo", PLUGIN)
    make_plugin("broken", "raise ImportError('missing dependency xyz')\n")
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"clidemo +action-clidemo 0.1.0 +not loaded", out)
    assert main(["plugins", "--load"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"clidemo +action-clidemo 0.1.0 +loaded", out)
    assert re.search(r"broken +action-broken 0.1.0 +skipped: import of 'fake_broken.plugin' failed", out)


def test_list_info_config_and_plugin_command(make_plugin, site_dir, capsys):
    make_plugin("clidemo", PLUGIN)
    assert main(["list", "models"]) == 0
    assert re.search(r"demo_net +\[clidemo\]  a demo network", capsys.readouterr().out)
    assert main(["info", "demo_net"]) == 0
    assert "fake_clidemo.models:demo_net" in capsys.readouterr().out
    assert main(["config", "show", "demo_preset", "--raw", "--set", "optim.lr=0.5"]) == 0
    assert "lr = 0.5" in capsys.readouterr().out
    assert main(["hello", "world"]) == 0
    assert "hello from a plugin world" in capsys.readouterr().out


def test_errors_are_one_clear_line(make_plugin, site_dir, capsys):
    make_plugin("clidemo", PLUGIN)
    assert main(["info", "demo_nett", "--kind", "model"]) == 2
    assert "Did you mean 'demo_net' (plugin clidemo)?" in capsys.readouterr().err
    assert main(["--plugin", "no_such_plugin", "list", "models"]) == 2
    assert "no plugin named 'no_such_plugin' is installed" in capsys.readouterr().err
    assert main(["no-such-command"]) == 2
    assert "unknown command 'no-such-command'" in capsys.readouterr().err


def test_plugin_option_loads_only_that_plugin(make_plugin, site_dir, capsys):
    make_plugin("clidemo", PLUGIN)
    make_plugin(
        "other",
        PLUGIN.replace("fake_clidemo", "fake_other").replace("demo_", "other_").replace('"hello"', '"hi"'),
    )
    assert main(["--plugin", "other", "list", "models"]) == 0
    out = capsys.readouterr().out
    assert "other_net" in out and "demo_net" not in out


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("optim.lr=-1", "optim.lr = -1.0 is out of range"),
        ("data.batch_size=1.5", "data.batch_size = 1.5 must be an integer"),
        ("model=3", "model = 3 must be a table"),
        ("optim.lrr=0.1", "unknown key optim.lrr"),
    ],
)
def test_config_show_validates_what_it_prints(make_plugin, site_dir, capsys, override, message):
    make_plugin("clidemo", PLUGIN)
    assert main(["config", "show", "demo_full"]) == 0
    capsys.readouterr()
    assert main(["config", "show", "demo_full", "--set", override]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert main(["config", "show", "demo_full", "--raw", "--set", override]) == 0


def test_known_errors_are_one_message_and_minus_v_shows_the_traceback(tmp_path):
    missing = tmp_path / "nope.mp4"
    quiet = _run("predict", str(missing), "--checkpoint", str(tmp_path / "none.pth"))
    assert quiet.returncode == 2
    assert "Traceback" not in quiet.stderr and "nope.mp4" in quiet.stderr or "none.pth" in quiet.stderr
    assert "-v" in quiet.stderr
    loud = _run("-v", "predict", str(missing), "--checkpoint", str(tmp_path / "none.pth"))
    assert loud.returncode == 2 and "Traceback" in loud.stderr


def test_install_hints_only_for_plugins_that_are_not_installed(monkeypatch):
    from importlib import metadata

    from action_core.plugins.known import install_hint

    real = metadata.distribution

    def fake(name):
        if name == "action-tsm":
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(metadata, "distribution", fake)
    assert install_hint("tsm_r5") == "pip install action-tsm"
    monkeypatch.setattr(metadata, "distribution", lambda name: object())
    assert install_hint("tsm_r5") is None  # installed: a typo gets "did you mean", not "pip install"


def test_info_names_both_plugins_of_a_shared_name(make_plugin, site_dir, capsys):
    shared = 'from action_core import hookimpl\nACTION_PLUGIN_API = "1.0"\n\n@hookimpl\ndef action_register_models(register):\n    register("twin_net", "x.y:z")\n'
    make_plugin("one", shared)
    make_plugin("two", shared)
    assert main(["info", "twin_net"]) == 2
    err = capsys.readouterr().err
    assert "registered by several plugins" in err and "'one'" in err and "'two'" in err


@pytest.mark.parametrize("kind", ["loss", "losses", "models", "backbones", "Heads"])
def test_list_accepts_singular_and_plural_kinds(kind):
    from action_core.registry import KINDS, normalize_kind

    assert normalize_kind(kind) in KINDS
    with pytest.raises(Exception, match="kinds are"):
        normalize_kind(kind + "x")
