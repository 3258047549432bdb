"""Registrations of the action-i3d plugin (imports action_core only; model code loads on first use)."""

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"

# preset -> the published checkpoint it reproduces (model zoo metrics, the test command); MMAction2 has no 8x8 I3D
_PRESETS = {
    "i3d_r50_32x2x1_100e_kinetics400_rgb": "i3d_r50_32x2x1_kinetics400_mmaction2",
    "i3d_r50_8x8x1_100e_kinetics400_rgb": "",
}


@hookimpl
def action_register_models(register) -> None:
    register(
        "i3d_r50",
        "action_i3d.models:i3d_r50",
        summary="I3D, 3D ResNet-50 (MMAction2 form), optional non-local blocks",
        params=28_043_472,
        input_format="NCTHW",
        example_kwargs={"num_classes": 5, "base_channels": 4},
        example_input=(1, 3, 8, 32, 32),
        expand="action_i3d.models:i3d_r50_parts",
        weights="action_i3d.models:WEIGHTS",
    )


@hookimpl
def action_register_backbones(register) -> None:
    register(
        "resnet3d_i3d",
        "action_i3d.models:i3d_backbone",
        summary="ResNet3d in MMAction2's I3D configuration (5x7x7 stem, alternating inflation, pool2)",
        example_kwargs={"base_channels": 4},
    )


@hookimpl
def action_register_converters(register) -> None:
    register(
        "mmaction2_i3d",
        "action_resnet3d.convert:convert_mmaction2",
        summary="MMAction2 1.x/0.x I3D checkpoint -> i3d_r50 keys",
        source="mmaction2",
        models="i3d_r50",
    )


@hookimpl
def action_register_presets(register) -> None:
    for name, weights in _PRESETS.items():
        register(
            name,
            f"action_i3d:presets/{name}.toml",
            summary=f"MMAction2 recipe {name}",
            dataset="kinetics400",
            weights=weights,
        )
