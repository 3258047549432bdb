"""Install from the wheelhouse into fresh venvs; the third-party plugin; broken plugins; strict mode."""

from __future__ import annotations

import json

import pytest
from conftest import DEV

FIRST_PARTY_PLUGINS = sorted(
    p.name for p in (DEV.ROOT / "plugins").glob("action-*") if (p / "pyproject.toml").exists()
)
BROKEN = {
    "broken_import": "a_module_that_is_not_installed",
    "broken_hook": "this registration hook fails on purpose",
    "broken_api": "written for plugin API 2.0",
    "broken_core": "requires action-core>=9.0",
}


def test_core_alone_installs_and_runs(make_venv):
    venv = make_venv()
    venv.install("action-core")
    assert "action-core 0.1.0" in venv.run("action-run", "--version").stdout
    assert "no plugins installed" in venv.run("action-run", "plugins").stdout


@pytest.mark.parametrize("dist", FIRST_PARTY_PLUGINS)
def test_core_plus_one_first_party_plugin(make_venv, dist):
    venv = make_venv()
    venv.install("action-core", dist)
    rows = json.loads(venv.run("action-run", "plugins", "--load", "--json").stdout)
    assert {r["distribution"] for r in rows} >= {dist}
    assert all(r["status"] == "loaded" for r in rows), rows


def test_third_party_plugin_via_cli_and_library(make_venv):
    venv = make_venv()
    venv.install("action-core", "action-testkit", "action-hello")
    listing = venv.run("action-run", "plugins").stdout
    assert "hello  action-hello 1.2.3  not loaded" in listing
    models = venv.run("action-run", "--plugin", "hello", "list", "models").stdout
    rows = [" ".join(line.split()) for line in models.splitlines()]
    assert "hello_net [hello] a tiny third-party recognizer" in rows, models
    out = venv.python(
        "import torch, action_core as ac\n"
        "m = ac.build_model('hello_net', num_classes=3)\n"
        "print(tuple(m(torch.zeros(2, 3, 4, 8, 8)).shape))\n"
    ).stdout
    assert out.strip() == "(2, 3)"
    report = venv.run("action-run", "plugins", "validate", "hello").stdout
    assert report.strip().endswith("valid"), report


def test_broken_plugins_are_skipped_with_reasons_and_the_rest_works(make_venv):
    venv = make_venv()
    venv.install(
        "action-core", "action-hello", "action-broken-import", "action-broken-hook", "action-broken-api"
    )
    venv.install("action-broken-core", no_deps=True)  # its requirement cannot be met on purpose
    rows = {r["name"]: r for r in json.loads(venv.run("action-run", "plugins", "--load", "--json").stdout)}
    assert rows["hello"]["status"] == "loaded"
    for name, why in BROKEN.items():
        assert rows[name]["status"] == "skipped", rows[name]
        assert why in rows[name]["reason"]
    plain = venv.run("action-run", "plugins").stdout
    assert "incompatible: requires action-core>=9.0" in plain
    listed = venv.run("action-run", "list", "models")
    assert "hello_net" in listed.stdout and "never_seen" not in listed.stdout
    for name in BROKEN:
        assert f"{name} (action-{name.replace('_', '-')} 0.0.1): skipped" in listed.stderr
    out = venv.python("import action_core as ac; print(type(ac.build_model('hello_net')).__name__)")
    assert out.stdout.strip() == "HelloNet"


def test_strict_mode_fails_loudly(make_venv):
    venv = make_venv()
    venv.install("action-core", "action-hello", "action-broken-import")
    out = venv.run("action-run", "list", "models", env={"ACTION_STRICT_PLUGINS": "1"}, check=False)
    assert out.returncode != 0
    assert "broken_import" in out.stderr and "ACTION_STRICT_PLUGINS=1" in out.stderr
    ok = venv.run(
        "action-run",
        "list",
        "models",
        env={"ACTION_DISABLE_PLUGINS": "broken_import", "ACTION_STRICT_PLUGINS": "1"},
    )
    assert "hello_net" in ok.stdout


def test_action_all_installs_every_plugin_and_all_load(make_venv):
    venv = make_venv()
    venv.install("action-all")
    rows = json.loads(venv.run("action-run", "plugins", "--load", "--json").stdout)
    assert {r["distribution"] for r in rows} == set(FIRST_PARTY_PLUGINS)
    assert all(r["status"] == "loaded" for r in rows), [r for r in rows if r["status"] != "loaded"]
