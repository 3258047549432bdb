"""Registrations of the action-r2plus1d plugin (imports action_core only; model code loads on first use)."""

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"

# preset -> the published checkpoint it reproduces (model zoo metrics, the test command)
_PRESETS = {
    "r2plus1d_r34_8x8x1_180e_kinetics400_rgb": "r2plus1d_r34_8x8x1_kinetics400_mmaction2",
    "r2plus1d_r34_32x2x1_180e_kinetics400_rgb": "r2plus1d_r34_32x2x1_kinetics400_mmaction2",
}


@hookimpl
def action_register_models(register) -> None:
    register(
        "r2plus1d_r34",
        "action_r2plus1d.models:r2plus1d_r34",
        summary="R(2+1)D ResNet-34 as MMAction2 builds it",
        params=63_759_281,
        input_format="NCTHW",
        example_kwargs={"num_classes": 5, "base_channels": 2},
        example_input=(1, 3, 8, 32, 32),
        expand="action_r2plus1d.models:r2plus1d_r34_parts",
        weights="action_r2plus1d.models:R2PLUS1D_R34_WEIGHTS",
    )
    register(
        "r2plus1d_18",
        "action_r2plus1d.models:r2plus1d_18",
        summary="R(2+1)D ResNet-18 with torchvision's r2plus1d_18 architecture",
        params=31_505_325,
        input_format="NCTHW",
        example_kwargs={"num_classes": 5},
        example_input=(1, 3, 4, 16, 16),
        expand="action_r2plus1d.models:r2plus1d_18_parts",
        weights="action_r2plus1d.models:R2PLUS1D_18_WEIGHTS",
    )


@hookimpl
def action_register_backbones(register) -> None:
    register(
        "resnet2plus1d",
        "action_r2plus1d.models:r2plus1d_backbone",
        summary="ResNet3d with (2+1)D factorised convolutions (MMAction2 ResNet2Plus1d)",
        example_kwargs={"depth": 18, "base_channels": 2},
    )
    register(
        "resnet2plus1d_torchvision",
        "action_r2plus1d.models:torchvision_r2plus1d_backbone",
        summary="torchvision's R(2+1)D layout (45-channel stem, per-block widths, plain shortcuts), depth 18/34",
    )


@hookimpl
def action_register_converters(register) -> None:
    register(
        "mmaction2_r2plus1d",
        "action_resnet3d.convert:convert_mmaction2",
        summary="MMAction2 1.x/0.x R(2+1)D checkpoint -> r2plus1d_r34 keys",
        source="mmaction2",
        models="r2plus1d_r34",
    )
    register(
        "torchvision_r2plus1d",
        "action_r2plus1d.convert:convert_torchvision_r2plus1d",
        summary="torchvision r2plus1d_18 state dict -> r2plus1d_18 keys",
        source="torchvision",
        models="r2plus1d_18",
    )


@hookimpl
def action_register_presets(register) -> None:
    for name, weights in _PRESETS.items():
        register(
            name,
            f"action_r2plus1d:presets/{name}.toml",
            summary=f"MMAction2 recipe {name}",
            dataset="kinetics400",
            weights=weights,
        )
