"""Registrations of the action-trn plugin (imports action_core only; model code loads on first use)."""

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"

_PRESETS = ("trn_r50_1x1x8_50e_sthv1_rgb",)
# The published checkpoint each preset's recipe produced (the model zoo shows its metrics).
_PRESET_WEIGHTS = {
    "trn_r50_1x1x8_50e_sthv1_rgb": "trn_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv1-rgb",
}


@hookimpl
def action_register_models(register) -> None:
    register(
        "trn_r50",
        "action_trn.models:trn_r50",
        summary="TRN, ResNet-50 (partial BN), multi-scale temporal relation head (MMAction2 TRNHead)",
        expand="action_trn.models:trn_r50_parts",
        weights="action_trn.models:TRN_WEIGHTS",
        params=26_641_154,
        params_for="num_classes=174",
        input_format="NTCHW",
        example_kwargs={"num_classes": 5, "num_segments": 3, "hidden_dim": 16},
        example_input=(2, 3, 3, 32, 32),
    )


@hookimpl
def action_register_heads(register) -> None:
    register(
        "trn_head",
        "action_trn.heads:trn_head",
        summary="temporal relation head: per-segment projection, (multi-scale) relation MLPs over segment tuples",
        example_kwargs={"num_classes": 5, "in_channels": 64, "num_segments": 3, "hidden_dim": 16},
    )


@hookimpl
def action_register_converters(register) -> None:
    register(
        "trn_from_mmaction",
        "action_trn.convert:from_mmaction",
        summary="MMAction2 1.x/0.x TRN state dict -> action-trn keys (state dict, unconverted keys)",
        source="mmaction2",
        models="trn_r50",
    )


@hookimpl
def action_register_presets(register) -> None:
    for name in _PRESETS:
        register(
            name,
            f"action_trn:presets/{name}.toml",
            summary=f"MMAction2 {name}",
            dataset="sthv1",
            weights=_PRESET_WEIGHTS.get(name, ""),
        )
