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
    from action_core.plugins.host import plugin_host
    from action_core.tools.zoo import preset_rows

    with plugin_host(strict=False) as host:
        host.load_all()
        rows = list(preset_rows())
        models = list(host.registry.entries("model"))
    lines = [
        "# Model zoo",
        "",
        "Generated when the documentation is built, from the registrations of the installed plugins. Parameters",
        "and FLOPs are counted by `action-run flops` (torch's FLOP counter, on the meta device) for one test view:",
        "a 2D model's whole test clip (TSN's 25 segments), a 3D model's one clip, at the test crop size.",
        "GMACs are multiply-accumulates, the figure MMAction2's model zoo calls FLOPs. Published metrics are",
        "those of the checkpoint a preset names, as its authors report them.",
    ]
    for task in ("recognition", "localization"):
        chosen = [r for r in rows if r.task == task]
        if not chosen:
            continue
        lines += ["", f"## {task.capitalize()} presets", ""]
        lines += [
            "| preset | dataset | frames x interval x clips | input | views | params (M) | GMACs / view "
            "| published top-1 / top-5 | test |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in chosen:
            params = "" if r.params is None else f"{r.params / 1e6:.2f}"
            gmacs = "" if r.gmacs is None else f"{r.gmacs:.2f}"
            top = ""
            if r.metrics:
                top = " / ".join(str(r.metrics.get(k, "")) for k in ("top1", "top5")) + f" (`{r.weights}`)"
            note = f" {r.note}" if r.note else ""
            lines.append(
                f"| `{r.name}` | {r.dataset} | {r.clip} | {r.input_size} | {r.views} | {params} | {gmacs} | "
                f"{top} | `{r.test_command}`{note} |"
            )
    lines += ["", "## Models", "", "| model | plugin | summary | params | of |", "|---|---|---|---|---|"]
    for entry in models:
        params = getattr(entry.spec, "params", None)
        lines.append(
            f"| `{entry.name}` | {entry.plugin} ({entry.distribution}) | {entry.summary} | "
            f"{'' if params is None else f'{params:,}'} | {getattr(entry.spec, 'params_for', '')} |"
        )
    _write(Path(app.srcdir) / "model-zoo.md", "\n".join(lines) + "\n")


def setup(app: Sphinx) -> dict[str, bool]:
    app.connect("builder-inited", write_api_pages)
    app.connect("builder-inited", write_model_zoo)
    return {"parallel_read_safe": True}
