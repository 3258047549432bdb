"""pytest side of the conformance kit (registered as a pytest plugin through ``pytest11``)."""

from __future__ import annotations

from typing import ClassVar

import pytest

from action_testkit.checks import validate_plugin


class PluginConformance:
    """Subclass in a plugin's tests and set ``plugin`` to its entry-point name."""

    plugin: ClassVar[str] = ""
    build: ClassVar[bool] = True

    def test_plugin_conformance(self) -> None:
        """Every conformance check passes for this plugin."""
        if not self.plugin:
            pytest.fail("set the class attribute `plugin` to your plugin's entry-point name")
        report = validate_plugin(self.plugin, build=self.build)
        assert report.ok, report.render()


@pytest.fixture
def plugin_report():
    """A function that validates a plugin by name and returns the report."""
    return validate_plugin
