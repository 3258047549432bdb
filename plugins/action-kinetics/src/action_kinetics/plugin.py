"""Registration of Kinetics-400/600/700 (imports action_core only; the dataset code is imported on use)."""

from __future__ import annotations

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"


@hookimpl
def action_register_datasets(register) -> None:
    """Kinetics-400, -600 and -700."""
    for version in (400, 600, 700):
        register(
            f"kinetics{version}",
            f"action_kinetics.datasets:kinetics{version}",
            summary=f"Kinetics-{version}: {version} classes from the official CSVs; missing clips reported, not fatal",
            num_classes=version,
            multi_label=False,
            example="action_kinetics.example:tiny_kinetics",
        )


@hookimpl
def action_register_presets(register) -> None:
    """TSN recipes for Kinetics-600/700."""
    for version in (600, 700):
        name = f"tsn_r50_1x1x3_100e_kinetics{version}_rgb"
        register(
            name,
            f"action_kinetics.presets:{name}",
            summary=f"TSN R50 3 segments, Kinetics-{version}",
            dataset=f"kinetics{version}",
        )


@hookimpl
def action_register_commands(register) -> None:
    """``action-run kinetics prepare --version N`` and ``action-run kinetics400 prepare`` etc."""
    register(
        "kinetics", "action_kinetics.commands:main", summary="`kinetics prepare --version 400 --root DIR`"
    )
    for version in (400, 600, 700):
        register(
            f"kinetics{version}",
            f"action_kinetics.commands:main{version}",
            summary=f"`kinetics{version} prepare --root DIR`: check a copy, write lists",
        )
