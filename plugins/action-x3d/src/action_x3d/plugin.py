"""Registrations of the action-x3d plugin (imports action_core only; model code loads on first use)."""

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"

# preset -> the published checkpoint it reproduces (model zoo metrics, the test command)
_PRESETS = {
    "x3d_s_13x6x1_kinetics400_rgb": "x3d_s_13x6x1_kinetics400_mmaction2",
    "x3d_m_16x5x1_kinetics400_rgb": "x3d_m_16x5x1_kinetics400_mmaction2",
}
# gamma_w 1/3 gives an 8-channel stem; gamma_d 0.5 one or two blocks per stage
_TINY_BACKBONE = {"gamma_w": 1 / 3, "gamma_d": 0.5}
_TINY = {"num_classes": 5, "mid_channels": 16, **_TINY_BACKBONE}


@hookimpl
def action_register_models(register) -> None:
    register(
        "x3d_s",
        "action_x3d.models:x3d_s",
        summary="X3D-S (13 frames, 160 px): depthwise inverted-bottleneck 3D net with squeeze-excitation",
        params=3_794_322,
        input_format="NCTHW",
        example_kwargs=_TINY,
        example_input=(1, 3, 4, 32, 32),
        expand="action_x3d.models:x3d_s_parts",
        weights="action_x3d.models:X3D_S_WEIGHTS",
    )
    register(
        "x3d_m",
        "action_x3d.models:x3d_m",
        summary="X3D-M (16 frames, 224 px): the X3D-S network on larger clips",
        params=3_794_322,
        input_format="NCTHW",
        example_kwargs=_TINY,
        example_input=(1, 3, 4, 32, 32),
        expand="action_x3d.models:x3d_m_parts",
        weights="action_x3d.models:X3D_M_WEIGHTS",
    )


@hookimpl
def action_register_backbones(register) -> None:
    register(
        "x3d",
        "action_x3d.models:x3d_backbone",
        summary="X3D backbone (gamma_w, gamma_b, gamma_d; MMAction2 module names), returns conv5 features",
        example_kwargs=_TINY_BACKBONE,
    )


@hookimpl
def action_register_heads(register) -> None:
    register(
        "x3d_head",
        "action_x3d.models:x3d_head",
        summary="pool, fc1 to 2048 (no bias), ReLU, dropout, linear",
    )


@hookimpl
def action_register_converters(register) -> None:
    register(
        "mmaction2_x3d",
        "action_x3d.convert:convert_mmaction2",
        summary="MMAction2 1.x/0.x X3D checkpoint -> x3d_s / x3d_m keys (cls_head.fc2 -> head.fc_cls)",
        source="mmaction2",
        models="x3d_s",
    )
    register(
        "pytorchvideo_x3d",
        "action_x3d.convert:convert_pytorchvideo",
        summary="PyTorchVideo x3d_s / x3d_m state dict -> x3d_s(strided_shortcut_norm=False) keys",
        source="pytorchvideo",
        models="x3d_s",
        model_args={"strided_shortcut_norm": False},
    )


@hookimpl
def action_register_presets(register) -> None:
    for name, weights in _PRESETS.items():
        register(
            name,
            f"action_x3d:presets/{name}.toml",
            summary=f"MMAction2 recipe {name}",
            dataset="kinetics400",
            weights=weights,
        )
