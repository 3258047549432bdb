"""Make this checkout importable from a side environment (one with MMAction2 installed) for benchmarks.

    python core/benchmarks/side_env.py FOLDER            # prints the PYTHONPATH to export
    export PYTHONPATH=$(python core/benchmarks/side_env.py /tmp/action-side)
    SIDE_PYTHON -m action_core.cli.main bench train tsm_r50_1x1x8_50e_kinetics400_rgb --synthetic-data \\
        --reference mmaction2

Run it with the interpreter of this project's environment (the one with every distribution installed
editable, ``python3 dev.py setup``). ``FOLDER`` is filled with links to the distribution metadata of the
installed ``action-*`` packages (plugins are found through their entry points, so their ``*.dist-info``
must be visible) and to the few pure-Python dependencies a side environment usually lacks (pluggy, attrs,
cattrs, tomli-w); the printed path puts every package's ``src`` folder first, then ``FOLDER``. MMAction2 is
never a dependency of this project; nothing is installed into the side environment.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPENDENCIES = ("pluggy", "attrs", "cattrs", "tomli_w")


def _link(target: Path, folder: Path) -> None:
    link = folder / target.name
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target)


def populate(folder: Path) -> list[Path]:
    """Fill ``folder`` with links; return the source folders to put on ``PYTHONPATH`` before it."""
    folder.mkdir(parents=True, exist_ok=True)
    sources = [ROOT / "core" / "src", *sorted((ROOT / "plugins").glob("*/src"))]
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("-", "_")
        wanted = name.startswith("action_") or name in DEPENDENCIES
        path = getattr(dist, "_path", None)
        if not wanted or path is None:
            continue
        _link(Path(path), folder)
        if name in DEPENDENCIES:
            for top in (dist.read_text("top_level.txt") or "").split() or [name]:
                module = Path(path).parent / top
                if module.is_dir():
                    _link(module, folder)
            if name == "attrs":  # attrs ships two packages: attr and attrs
                _link(Path(path).parent / "attr", folder)
    return sources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="where to put the links (created if missing)")
    args = parser.parse_args()
    if not any(d.metadata["Name"] == "action-core" for d in importlib.metadata.distributions()):
        sys.exit("run this with the interpreter of this project's environment (.venv/bin/python)")
    folder = Path(args.folder).resolve()
    print(os.pathsep.join(str(p) for p in [*populate(folder), folder]))


if __name__ == "__main__":
    main()
