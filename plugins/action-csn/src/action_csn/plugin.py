"""Registrations of the action-csn plugin (imports action_core only; model code loads on first use)."""

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"

_PRESET = "ircsn_ig65m_pretrained_bnfrozen_r152_32x2x1_58e_kinetics400_rgb"
_TINY_BACKBONE = {"base_channels": 4}


@hookimpl
def action_register_models(register) -> None:
    register(
        "ircsn_r152",
        "action_csn.models:ircsn_r152",
        summary="ir-CSN ResNet-152: 3D ResNet with depthwise 3x3x3 bottleneck convolutions",
        params=29_703_568,
        input_format="NCTHW",
        example_kwargs={"num_classes": 5, "depth": 50, **_TINY_BACKBONE},
        example_input=(1, 3, 8, 32, 32),
        expand="action_csn.models:ircsn_r152_parts",
        weights="action_csn.models:WEIGHTS",
    )


@hookimpl
def action_register_backbones(register) -> None:
    register(
        "resnet3d_csn",
        "action_csn.models:csn_backbone",
        summary="ResNet3dCSN (ir/ip bottlenecks, BatchNorm eps 1e-3, temporal strides 1,2,2,2), depth 50/101/152",
        example_kwargs={"depth": 50, **_TINY_BACKBONE},
    )


@hookimpl
def action_register_converters(register) -> None:
    register(
        "mmaction2_csn",
        "action_csn.convert:convert_mmaction2",
        summary="MMAction2 1.x/0.x ir-/ip-CSN checkpoint -> ircsn_r152 keys (conv2.0.* -> conv2.*)",
        source="mmaction2",
        models="ircsn_r152",
    )


@hookimpl
def action_register_presets(register) -> None:
    register(
        _PRESET,
        f"action_csn:presets/{_PRESET}.toml",
        summary="MMAction2 recipe ircsn_ig65m-pretrained-r152-bnfrozen_8xb12-32x2x1-58e_kinetics400-rgb",
        dataset="kinetics400",
        weights="ircsn_r152_ig65m_bnfrozen_32x2x1_kinetics400_mmaction2",
    )
