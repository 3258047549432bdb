"""Registrations of the action-slowfast plugin (imports action_core only; model code loads on first use)."""

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"

# preset -> the published checkpoint it reproduces (model zoo metrics, the test command)
_PRESETS = {
    "slowfast_r50_4x16x1_256e_kinetics400_rgb": "slowfast_r50_4x16x1_kinetics400_mmaction2",
    "slowfast_r50_8x8x1_256e_kinetics400_rgb": "slowfast_r50_8x8x1_kinetics400_mmaction2",
}
_TINY = {
    "num_classes": 5,
    "channel_ratio": 4,
    "slow_kwargs": {"base_channels": 4},
    "fast_kwargs": {"base_channels": 1},
}


@hookimpl
def action_register_models(register) -> None:
    register(
        "slowfast_r50",
        "action_slowfast.models:slowfast_r50",
        summary="SlowFast ResNet-50 4x16 (tau 8, alpha 8, beta 1/8)",
        params=34_479_288,
        input_format="NCTHW",
        example_kwargs=_TINY,
        example_input=(1, 3, 16, 32, 32),
        expand="action_slowfast.models:slowfast_r50_parts",
        weights="action_slowfast.models:SLOWFAST_R50_WEIGHTS",
    )
    register(
        "slowfast_r50_8x8",
        "action_slowfast.models:slowfast_r50_8x8",
        summary="SlowFast ResNet-50 8x8 (tau 4, alpha 4, beta 1/8, 7x1x1 fusion)",
        params=34_565_560,
        input_format="NCTHW",
        example_kwargs=_TINY,
        example_input=(1, 3, 16, 32, 32),
        expand="action_slowfast.models:slowfast_r50_8x8_parts",
        weights="action_slowfast.models:SLOWFAST_R50_8X8_WEIGHTS",
    )


@hookimpl
def action_register_backbones(register) -> None:
    register(
        "resnet3d_slowfast",
        "action_slowfast.models:slowfast_backbone",
        summary="two-pathway 3D ResNet with time-strided lateral fusion (returns slow and fast features)",
        example_kwargs={
            "channel_ratio": 4,
            "slow_kwargs": {"base_channels": 4},
            "fast_kwargs": {"base_channels": 1},
        },
    )


@hookimpl
def action_register_heads(register) -> None:
    register(
        "slowfast_head",
        "action_slowfast.models:slowfast_head",
        summary="pools both pathways, concatenates (fast, slow), dropout, linear",
    )


@hookimpl
def action_register_converters(register) -> None:
    register(
        "mmaction2_slowfast",
        "action_resnet3d.convert:convert_mmaction2",
        summary="MMAction2 1.x/0.x SlowFast checkpoint -> slowfast_r50 keys",
        source="mmaction2",
        models="slowfast_r50",
    )
    register(
        "pytorchvideo_slowfast",
        "action_slowfast.convert:convert_pytorchvideo_slowfast",
        summary="PyTorchVideo/PySlowFast slowfast_r50 state dict -> slowfast_r50_8x8(lateral_norm=True) keys",
        source="pytorchvideo",
        models="slowfast_r50_8x8",
        model_args={"lateral_norm": True},
    )


@hookimpl
def action_register_presets(register) -> None:
    for name, weights in _PRESETS.items():
        register(
            name,
            f"action_slowfast:presets/{name}.toml",
            summary=f"MMAction2 recipe {name}",
            dataset="kinetics400",
            weights=weights,
        )
