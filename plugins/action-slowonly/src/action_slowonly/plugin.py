"""Registrations of the action-slowonly plugin (imports action_core only; model code loads on first use)."""

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"

# preset -> the published checkpoint it reproduces (model zoo metrics, the test command)
_PRESETS = {
    "slowonly_r50_4x16x1_256e_kinetics400_rgb": "slowonly_r50_4x16x1_kinetics400_mmaction2",
    "slowonly_r50_8x8x1_256e_kinetics400_rgb": "slowonly_r50_8x8x1_kinetics400_mmaction2",
}


@hookimpl
def action_register_models(register) -> None:
    register(
        "slowonly_r50",
        "action_slowonly.models:slowonly_r50",
        summary="SlowOnly, 3D ResNet-50 (4x16 or 8x8 sampling), from scratch or ImageNet-inflated",
        params=32_454_096,
        input_format="NCTHW",
        example_kwargs={"num_classes": 5, "base_channels": 4},
        example_input=(1, 3, 4, 32, 32),
        expand="action_slowonly.models:slowonly_r50_parts",
        weights="action_slowonly.models:WEIGHTS",
    )


@hookimpl
def action_register_backbones(register) -> None:
    register(
        "resnet3d_slowonly",
        "action_slowonly.models:slowonly_backbone",
        summary="ResNet3d in MMAction2's SlowOnly configuration (2D stem and stages 1-2, 3x1x1 in stages 3-4)",
        example_kwargs={"base_channels": 4},
    )


@hookimpl
def action_register_converters(register) -> None:
    register(
        "mmaction2_slowonly",
        "action_resnet3d.convert:convert_mmaction2",
        summary="MMAction2 1.x/0.x SlowOnly checkpoint -> slowonly_r50 keys",
        source="mmaction2",
        models="slowonly_r50",
    )
    register(
        "pytorchvideo_slow",
        "action_slowonly.convert:convert_pytorchvideo_slow",
        summary="PyTorchVideo/PySlowFast slow_r50 state dict -> slowonly_r50 keys",
        source="pytorchvideo",
        models="slowonly_r50",
    )


@hookimpl
def action_register_presets(register) -> None:
    for name, weights in _PRESETS.items():
        register(
            name,
            f"action_slowonly:presets/{name}.toml",
            summary=f"MMAction2 recipe {name}",
            dataset="kinetics400",
            weights=weights,
        )
