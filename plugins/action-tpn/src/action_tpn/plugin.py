"""Registrations of the action-tpn plugin (imports action_core only; model code loads on first use)."""

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"

_PRESETS = ("tpn_tsm_r50_1x1x8_150e_sthv1_rgb",)
# The published checkpoint each preset's recipe produced (the model zoo shows its metrics).
_PRESET_WEIGHTS = {
    "tpn_tsm_r50_1x1x8_150e_sthv1_rgb": "tpn-tsm_imagenet-pretrained-r50_8xb8-1x1x8-150e_sthv1-rgb",
}
# A narrow pyramid for the conformance kit's tiny forward (the backbone stays a ResNet-50).
_TINY_NECK = {"channels": 32, "fusion_channels": 64, "out_channels": 64}


@hookimpl
def action_register_models(register) -> None:
    register(
        "tpn_tsm_r50",
        "action_tpn.models:tpn_tsm_r50",
        summary="TPN neck on TSM ResNet-50 (layer3 + layer4), auxiliary head in training (MMAction2 TPN-TSM)",
        expand="action_tpn.models:tpn_tsm_r50_parts",
        weights="action_tpn.models:TPN_WEIGHTS",
        params=82_445_724,
        params_for="num_classes=174",
        input_format="NTCHW",
        example_kwargs={"num_classes": 5, "num_segments": 8, "neck_args": _TINY_NECK},
        example_input=(1, 8, 3, 32, 32),
    )


@hookimpl
def action_register_backbones(register) -> None:
    register(
        "resnet_tsm_stages",
        "action_tpn.backbones:resnet_tsm_stages",
        summary="action-tsm's resnet_tsm returning chosen stages as (N, C, T, H, W) clip tensors (for TPN)",
        example_kwargs={"depth": 18, "num_segments": 4},
    )


@hookimpl
def action_register_necks(register) -> None:
    register(
        "tpn",
        "action_tpn.necks:tpn",
        summary="temporal pyramid network: spatial/temporal modulation, top-down + bottom-up fusion, aux head",
        example_kwargs={"in_channels": (256, 512), "channels": 32, "fusion_channels": 64, "out_channels": 64},
    )


@hookimpl
def action_register_converters(register) -> None:
    register(
        "tpn_from_mmaction",
        "action_tpn.convert:from_mmaction",
        summary="MMAction2 1.x/0.x TPN-TSM state dict -> action-tpn keys (state dict, unconverted keys)",
        source="mmaction2",
        models="tpn_tsm_r50",
    )


@hookimpl
def action_register_presets(register) -> None:
    for name in _PRESETS:
        register(
            name,
            f"action_tpn:presets/{name}.toml",
            summary=f"MMAction2 {name}",
            dataset="sthv1",
            weights=_PRESET_WEIGHTS.get(name, ""),
        )
