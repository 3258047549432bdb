"""Registrations of the action-c3d plugin (imports action_core only; model code loads on first use)."""

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"

_PRESET = "c3d_sports1m_16x1x1_45e_ucf101_split1_rgb"
# narrow widths; 16x16x16 clips pool down to 1x1x1, so fc6 reads 16 values
_TINY_BACKBONE = {"widths": (4, 8, 8, 16, 16), "out_dim": 16, "fc_channels": 32}


@hookimpl
def action_register_models(register) -> None:
    register(
        "c3d",
        "action_c3d.models:c3d",
        summary="C3D: eight 3x3x3 convolutions, fc6/fc7 (16x112x112 clips), UCF101 head",
        params=78_409_573,
        input_format="NCTHW",
        example_kwargs={"num_classes": 5, **_TINY_BACKBONE},
        example_input=(1, 3, 16, 16, 16),
        expand="action_c3d.models:c3d_parts",
        weights="action_c3d.models:WEIGHTS",
    )


@hookimpl
def action_register_backbones(register) -> None:
    register(
        "c3d",
        "action_c3d.models:c3d_backbone",
        summary="C3D backbone (MMAction2 names), returns fc7 features; pretrained=True loads Sports-1M",
        example_kwargs=_TINY_BACKBONE,
    )


@hookimpl
def action_register_heads(register) -> None:
    register(
        "c3d_head",
        "action_c3d.models:c3d_head",
        summary="MMAction2's C3D head: dropout, linear on fc7 features (an I3D head without pooling)",
    )


@hookimpl
def action_register_converters(register) -> None:
    register(
        "mmaction2_c3d",
        "action_c3d.convert:convert_mmaction2",
        summary="MMAction2 1.x/0.x C3D checkpoint -> c3d keys (cls_head.fc_cls -> head.fc_cls)",
        source="mmaction2",
        models="c3d",
    )


@hookimpl
def action_register_presets(register) -> None:
    register(
        _PRESET,
        f"action_c3d:presets/{_PRESET}.toml",
        summary="MMAction2 recipe c3d_sports1m-pretrained_8xb30-16x1x1-45e_ucf101-rgb",
        dataset="ucf101",
        weights="c3d_16x1x1_ucf101_split1_mmaction2",
    )
