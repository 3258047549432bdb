"""Build-time pages: the API reference (one page per public ``action_core`` module) and the model zoo."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from sphinx.application import Sphinx

# the hook specs have their own page (reference/hooks.md)
SKIP = {"action_core.plugins.hookspecs"}


def public_modules() -> list[str]:
    """Every importable module of action_core whose name has no leading underscore."""
    import action_core

    names = ["action_core"]
    for info in pkgutil.walk_packages(action_core.__path__, "action_core."):
        if any(part.startswith("_") for part in info.name.split(".")) or info.name in SKIP:
            continue
        names.append(info.name)
    return sorted(names)


def public_objects(module_name: str) -> list[str]:
    """Functions and classes a module defines itself and does not mark private."""
    module = importlib.import_module(module_name)
    out = []
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module_name:
            continue
        if isinstance(obj, type) or callable(obj):
            out.append(name)
    return out


def _write(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def write_api_pages(app: Sphinx) -> None:
    out = Path(app.srcdir) / "reference" / "api"
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for name in public_modules():
        slug = name.replace(".", "-")
        entries.append(slug)
        _write(
            out / f"{slug}.md",
            f"# `{name}`\n\n```{{eval-rst}}\n.. automodule:: {name}\n   :ignore-module-all:\n```\n",
        )
    toc = "\n".join(entries)
    _write(
        out / "index.md",
        "# API reference\n\nOne page per public module of `action_core`, generated from the code.\n\n"
        f"```{{toctree}}\n:maxdepth: 1\n\n{toc}\n```\n",
    )


def write_model_zoo(app: Sphinx) -> None:
    from action_core.plugins.host import PluginHost

    host = PluginHost(strict=False)
    host.load_all()
    rows = ["| model | plugin | summary | params |", "|---|---|---|---|"]
    for entry in host.registry.entries("model"):
        params = getattr(entry.spec, "params", None)
        rows.append(
            f"| `{entry.name}` | {entry.plugin} ({entry.distribution}) | {entry.summary} | "
            f"{'' if params is None else f'{params:,}'} |"
        )
    presets = ["| preset | plugin |", "|---|---|"]
    for entry in host.registry.entries("preset"):
        presets.append(f"| `{entry.name}` | {entry.plugin} |")
    text = (
        "# Model zoo\n\nGenerated when the documentation is built, from the registrations of the installed "
        "plugins (`action-run list models` shows the same).\n\n## Models\n\n"
        + "\n".join(rows)
        + "\n\n## Presets\n\n"
        + "\n".join(presets)
        + "\n"
    )
    _write(Path(app.srcdir) / "model-zoo.md", text)


def setup(app: Sphinx) -> dict[str, bool]:
    app.connect("builder-inited", write_api_pages)
    app.connect("builder-inited", write_model_zoo)
    return {"parallel_read_safe": True}
