"""Plugin discovery, compatibility checks, isolation and lazy loading, on real installed metadata."""

from __future__ import annotations

import logging
import sys

import pytest

from action_core.errors import PluginError, RegistryError
from action_core.plugins.host import PluginHost

GOOD = """
from action_core import hookimpl
ACTION_PLUGIN_API = "1.0"

@hookimpl
def action_register_models(register):
    register("tiny_net", "fake_good.models:tiny_net", summary="a tiny model", params=10)

@hookimpl
def action_register_presets(register):
    register("tiny_preset", "fake_good.plugin:PRESET")

PRESET = {"model": {"type": "tiny_net", "num_classes": 3}}
"""

MODELS = """
def tiny_net(*, num_classes=3):
    return {"classes": num_classes}
"""


def test_discovery_reads_metadata_without_importing(make_plugin):
    make_plugin("good", GOOD)
    host = PluginHost()
    assert host.plugins["good"].distribution == "action-good"
    assert host.plugins["good"].status == "not loaded"
    assert "fake_good.plugin" not in sys.modules


def test_lookup_loads_plugin_on_demand_and_builds(make_plugin):
    pkg = make_plugin("good", GOOD)
    (pkg / "models.py").write_text(MODELS)
    host = PluginHost()
    entry = host.registry.get("model", "tiny_net")
    assert (entry.plugin, entry.distribution, entry.version) == ("good", "action-good", "0.1.0")
    assert entry.spec.params == 10
    assert entry.load()(num_classes=5) == {"classes": 5}
    assert host.plugins["good"].status == "loaded"


def test_import_error_is_isolated(make_plugin, caplog):
    make_plugin("good", GOOD)
    make_plugin("broken", "import not_a_module_anywhere\n")
    host = PluginHost()
    with caplog.at_level(logging.WARNING):
        host.load_all()
    assert host.plugins["broken"].status == "skipped"
    assert "not_a_module_anywhere" in host.plugins["broken"].reason
    assert host.plugins["good"].status == "loaded"
    line = next(r.getMessage() for r in caplog.records if "broken" in r.getMessage())
    assert "action-broken 0.1.0" in line and "ACTION_DISABLE_PLUGINS=broken" in line
    assert host.registry.get("model", "tiny_net").plugin == "good"


def test_hook_raising_rolls_back_its_registrations(make_plugin):
    make_plugin(
        "raiser",
        """
        from action_core import hookimpl
        ACTION_PLUGIN_API = "1.0"
        @hookimpl
        def action_register_models(register):
            register("half_done", "fake_raiser.x:y")
            raise RuntimeError("boom in registration")
        """,
    )
    host = PluginHost()
    host.load_all()
    assert host.plugins["raiser"].status == "skipped"
    assert "boom in registration" in host.plugins["raiser"].reason
    assert ("model", "half_done") not in host.registry


def test_api_major_mismatch_refused_and_newer_minor_warns(make_plugin):
    make_plugin("future", 'ACTION_PLUGIN_API = "2.0"\n')
    make_plugin("minor", 'ACTION_PLUGIN_API = "1.9"\n')
    make_plugin("noapi", "X = 1\n")
    host = PluginHost()
    with pytest.warns(UserWarning, match="newer than action-core"):
        host.load_all()
    assert host.plugins["future"].status == "skipped"
    assert "upgrade action-core" in host.plugins["future"].reason
    assert host.plugins["minor"].status == "loaded"
    assert "ACTION_PLUGIN_API" in host.plugins["noapi"].reason


def test_core_requirement_checked_before_import(make_plugin):
    make_plugin("needsnew", GOOD.replace("fake_good", "fake_needsnew"), requires=("action-core>=99",))
    host = PluginHost()
    host.load_all()
    assert host.plugins["needsnew"].status == "skipped"
    assert "requires action-core>=99" in host.plugins["needsnew"].reason
    assert "fake_needsnew.plugin" not in sys.modules


def test_strict_mode_is_fatal(make_plugin, monkeypatch):
    make_plugin("broken", "raise ValueError('bad plugin')\n")
    monkeypatch.setenv("ACTION_STRICT_PLUGINS", "1")
    host = PluginHost()
    with pytest.raises(PluginError, match="bad plugin") as info:
        host.load_plugin("broken")
    assert isinstance(info.value.__cause__, ValueError)


def test_allow_list_deny_list_and_autoload_off(make_plugin, monkeypatch):
    make_plugin("good", GOOD)
    make_plugin("other", GOOD.replace("fake_good", "fake_other").replace("tiny_net", "other_net"))
    monkeypatch.setenv("ACTION_PLUGINS", "good")
    host = PluginHost()
    host.load_all()
    assert host.plugins["good"].status == "loaded"
    assert host.plugins["other"].status == "disabled"
    monkeypatch.delenv("ACTION_PLUGINS")
    monkeypatch.setenv("ACTION_DISABLE_PLUGINS", "good")
    host = PluginHost()
    host.load_all()
    assert host.plugins["good"].status == "disabled"
    assert not host.load_plugin("good")
    monkeypatch.delenv("ACTION_DISABLE_PLUGINS")
    monkeypatch.setenv("ACTION_DISABLE_PLUGIN_AUTOLOAD", "1")
    host = PluginHost()
    with pytest.raises(RegistryError):
        host.registry.get("model", "tiny_net")
    assert host.load_plugin("good")
    assert host.registry.get("model", "tiny_net")


def test_duplicate_names_across_plugins_name_both(make_plugin):
    make_plugin("good", GOOD)
    make_plugin("twin", GOOD.replace("fake_good", "fake_twin").replace("tiny_preset", "twin_preset"))
    host = PluginHost()
    host.load_all()
    with pytest.raises(RegistryError, match="'good' .*'twin'|'twin' .*'good'") as info:
        host.registry.get("model", "tiny_net")
    assert "good:tiny_net" in str(info.value)
    assert host.registry.get("model", "twin:tiny_net").plugin == "twin"


def test_did_you_mean_and_install_hint(make_plugin):
    make_plugin("good", GOOD)
    host = PluginHost()
    with pytest.raises(RegistryError, match="Did you mean 'tiny_net' \\(plugin good\\)"):
        host.registry.get("model", "tiny_nett")
    prefix, dist = _first_party_not_installed()
    with pytest.raises(RegistryError, match=f"pip install {dist}"):
        host.registry.get("model", f"{prefix}_r50")


def _first_party_not_installed() -> tuple[str, str]:
    from importlib import metadata

    from action_core.plugins.known import FIRST_PARTY

    for prefix, dist in FIRST_PARTY.items():
        try:
            metadata.distribution(dist)
        except metadata.PackageNotFoundError:
            return prefix, dist
    pytest.skip("every first-party plugin is installed here")


def test_restrict_to_unknown_plugin_says_what_to_install(make_plugin):
    host = PluginHost()
    prefix, dist = _first_party_not_installed()
    with pytest.raises(PluginError, match=f"pip install {dist}"):
        host.restrict_to([prefix])


def test_runtime_hooks_reach_plugins(make_plugin):
    make_plugin(
        "observer",
        """
        from action_core import hookimpl
        ACTION_PLUGIN_API = "1.0"
        SEEN = []
        @hookimpl
        def action_on_log(run, step, scalars):
            SEEN.append((step, dict(scalars)))
        """,
    )
    host = PluginHost()
    host.load_all()
    host.hook.action_on_log(run=None, step=3, scalars={"loss": 1.5})
    assert sys.modules["fake_observer.plugin"].SEEN == [(3, {"loss": 1.5})]


def test_core_registers_its_own_components_and_they_load(site_dir):
    host = PluginHost(autoload=False)
    assert {"accuracy", "mean_class_accuracy", "multilabel_map", "activitynet_proposal"} <= set(
        host.registry.names("metric")
    )
    assert {"SampleFrames", "DecodeFrames", "Resize", "FormatShape"} <= set(host.registry.names("transform"))
    assert {"video_list", "rawframe_list", "slowfast_list"} <= set(host.registry.names("dataset"))
    core_entries = [e for e in host.registry.entries() if e.plugin == "core"]
    for entry in core_entries:
        assert callable(entry.load()), entry


MISSPELLED_FIELD = """
from action_core import hookimpl
ACTION_PLUGIN_API = "1.0"

@hookimpl
def action_register_models(register):
    register("typo_net", "fake_typo.models:net", summary="x", exmaple_input=(1, 3, 8, 8))
"""

MISSPELLED_HOOK = """
from action_core import hookimpl
ACTION_PLUGIN_API = "1.0"

@hookimpl
def action_register_model(register):
    register("never_seen", "fake_hook.models:net")

@hookimpl
def action_register_heads(register):
    register("seen_head", "fake_hook.models:head")
"""

WRONG_ARGUMENT = """
from action_core import hookimpl
ACTION_PLUGIN_API = "1.0"

@hookimpl
def action_register_models(registry):
    registry("x", "fake_arg.models:x")
"""


def test_a_misspelled_registration_field_fails_naming_it_and_the_allowed_ones(make_plugin, caplog):
    make_plugin("typo", MISSPELLED_FIELD)
    host = PluginHost()
    with caplog.at_level(logging.WARNING):
        assert not host.load_plugin("typo")
    reason = host.plugins["typo"].reason
    assert "exmaple_input" in reason and "Did you mean 'example_input'" in reason and "params" in reason
    assert ("model", "typo_net") not in host.registry


def test_a_misspelled_hook_is_reported_at_load_and_the_rest_registers(make_plugin, caplog):
    make_plugin("hook", MISSPELLED_HOOK)
    host = PluginHost()
    with caplog.at_level(logging.WARNING):
        assert host.load_plugin("hook")
    warned = [r.getMessage() for r in caplog.records if "action_register_model," in r.getMessage()]
    assert warned and "not a hook of the action plugin API" in warned[0] and "fix the name" in warned[0]
    assert ("head", "seen_head") in host.registry
    assert ("model", "never_seen") not in host.registry


def test_hooks_are_called_through_pluggy_which_checks_arguments(make_plugin):
    make_plugin("arg", WRONG_ARGUMENT)
    host = PluginHost()
    assert not host.load_plugin("arg")
    assert "registry" in host.plugins["arg"].reason  # pluggy: argument not in the hook specification


def test_every_public_api_name_resolves():
    import action_core.api as api

    missing = [name for name in api.__all__ if getattr(api, name, None) is None]
    assert not missing


def test_plugins_import_only_the_public_api():
    # Plugins (and the testkit) import `action_core` (hook markers) and `action_core.api`; nothing else.
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    private = re.compile(r"^\s*(from|import) action_core\.(?!api\b)", re.M)
    offenders = [
        str(p.relative_to(root))
        for group in ("plugins", "packages")
        for p in (root / group).glob("*/**/*.py")
        if private.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
