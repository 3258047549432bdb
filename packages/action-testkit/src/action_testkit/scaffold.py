"""``action-run plugins new NAME``: a new plugin project from the template shipped with the kit."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from string import Template

from action_core.api import PLUGIN_API_VERSION, PluginError

# template file → where it goes in the new project ({name} is the plugin's short name)
LAYOUT = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "__init__.py.tmpl": "src/action_{name}/__init__.py",
    "plugin.py.tmpl": "src/action_{name}/plugin.py",
    "models.py.tmpl": "src/action_{name}/models.py",
    "test_conformance.py.tmpl": "tests/test_conformance.py",
}


def create_plugin(name: str, parent: str | Path = ".") -> Path:
    """Write ``action-<name>/`` under ``parent`` and return its path; refuses to overwrite anything."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise PluginError(
            f"plugin name {name!r} must be lowercase letters, digits and underscores, starting with a letter"
        )
    dashed = name.replace("_", "-")
    project = Path(parent) / f"action-{dashed}"
    if project.exists():
        raise PluginError(f"{project} already exists; choose another name or folder")
    from action_core import __version__

    major, minor = (int(p) for p in __version__.split(".")[:2])
    values = {
        "name": name,
        "dashed": dashed,
        "title": name.replace("_", " ").title(),
        "api": PLUGIN_API_VERSION,
        "core_min": f"{major}.{minor}",
        "core_next": f"{major}.{minor + 1}" if major == 0 else f"{major + 1}",
    }
    templates = resources.files("action_testkit").joinpath("template")
    for source, target in LAYOUT.items():
        text = Template(templates.joinpath(source).read_text(encoding="utf-8")).substitute(values)
        path = project / target.format(name=name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (project / f"src/action_{name}/py.typed").touch()
    return project
