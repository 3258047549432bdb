"""``action-run plugins``: installed plugins and their status; ``plugins validate NAME``."""

from __future__ import annotations

import argparse
import json
import sys

from action_core.plugins import get_host
from action_core.plugins.host import check_core_requirement


def main(argv: list[str]) -> int:
    """List plugins from metadata (importing none of them) or, with ``--load``, load and report them."""
    if argv and argv[0] == "validate":
        return validate_main(argv[1:])
    if argv and argv[0] == "new":
        return new_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="action-run plugins",
        description="List installed plugins from their metadata. Nothing is imported unless --load is given. "
        "`plugins validate NAME` runs the conformance kit; `plugins new NAME` starts a new plugin project.",
    )
    parser.add_argument("--load", action="store_true", help="import every plugin and report loaded/skipped")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    host = get_host()
    if args.load:
        host.load_all()
    rows = []
    for info in host.plugins.values():
        status, reason = info.status, info.reason
        if status == "not loaded":
            problem = check_core_requirement(info)
            if problem:
                status, reason = "incompatible", problem
        rows.append(
            {
                "name": info.name,
                "distribution": info.distribution,
                "version": info.version,
                "module": info.module,
                "status": status,
                "reason": reason,
            }
        )
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return 0
    if not rows:
        print("no plugins installed; try: pip install action-tsm action-kinetics")
        return 0
    width = max(len(r["name"]) for r in rows)
    dwidth = max(len(f"{r['distribution']} {r['version']}") for r in rows)
    for r in rows:
        line = f"{r['name']:<{width}}  {r['distribution'] + ' ' + r['version']:<{dwidth}}  {r['status']}"
        if r["reason"]:
            line += f": {r['reason']}"
        print(line)
    return 0


def validate_main(argv: list[str]) -> int:
    """Run the conformance kit (action-testkit) against one installed plugin."""
    parser = argparse.ArgumentParser(
        prog="action-run plugins validate",
        description="Check that a plugin follows the plugin contract (needs action-testkit).",
    )
    parser.add_argument("name", help="the plugin's entry-point name, as `action-run plugins` shows it")
    parser.add_argument("--no-build", action="store_true", help="skip building models and datasets")
    args = parser.parse_args(argv)
    try:
        from action_testkit import validate_plugin
    except ImportError:
        print("plugins validate needs the conformance kit: pip install action-testkit", file=sys.stderr)
        return 2
    report = validate_plugin(args.name, build=not args.no_build)
    print(report.render())
    return 0 if report.ok else 1


def new_main(argv: list[str]) -> int:
    """Create a new plugin project from the template shipped with action-testkit."""
    parser = argparse.ArgumentParser(
        prog="action-run plugins new", description="Start a plugin project: action-NAME/ with a model, tests."
    )
    parser.add_argument("name", help="the plugin's short name (lowercase), e.g. mynet")
    parser.add_argument("--dir", default=".", help="folder to create action-NAME/ in")
    args = parser.parse_args(argv)
    try:
        from action_testkit.scaffold import create_plugin
    except ImportError:
        print("plugins new needs the conformance kit: pip install action-testkit", file=sys.stderr)
        return 2
    project = create_plugin(args.name, args.dir)
    print(
        f"created {project}; next: pip install -e '{project}[test]' && action-run plugins validate {args.name}"
    )
    return 0
