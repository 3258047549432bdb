"""Registrations of the action-tsm plugin (imports action_core only; model code loads on first use)."""

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"

_MODELS = {
    "tsm_r18": ("TSM, ResNet-18", 11_381_712),
    "tsm_r34": ("TSM, ResNet-34", 21_489_872),
    "tsm_r50": ("TSM, ResNet-50", 24_327_632),
    "tsm_r101": ("TSM, ResNet-101", 43_319_760),
    "tsm_mobilenetv2": ("TSM, MobileNetV2", 2_736_272),
}

_PRESETS = (
    "tsm_r50_1x1x8_50e_kinetics400_rgb",
    "tsm_r50_1x1x8_100e_kinetics400_rgb",
    "tsm_r50_1x1x16_50e_kinetics400_rgb",
    "tsm_r50_1x1x8_50e_sthv2_rgb",
    "tsm_r50_1x1x16_50e_sthv2_rgb",
    "tsm_r101_1x1x8_50e_sthv2_rgb",
    "tsm_mobilenetv2_1x1x8_100e_kinetics400_rgb",
    "tsm_k400_pretrained_r50_1x1x8_25e_ucf101_rgb",
)
# The published checkpoint each preset's recipe produced (the model zoo shows its metrics).
_PRESET_WEIGHTS = {
    "tsm_r50_1x1x8_50e_kinetics400_rgb": "tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb",
    "tsm_r50_1x1x8_100e_kinetics400_rgb": "tsm_imagenet-pretrained-r50_8xb16-1x1x8-100e_kinetics400-rgb",
    "tsm_r50_1x1x16_50e_kinetics400_rgb": "tsm_imagenet-pretrained-r50_8xb16-1x1x16-50e_kinetics400-rgb",
    "tsm_r50_1x1x8_50e_sthv2_rgb": "tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv2-rgb",
    "tsm_r50_1x1x16_50e_sthv2_rgb": "tsm_imagenet-pretrained-r50_8xb16-1x1x16-50e_sthv2-rgb",
    "tsm_r101_1x1x8_50e_sthv2_rgb": "tsm_imagenet-pretrained-r101_8xb16-1x1x8-50e_sthv2-rgb",
}


def _published(name: str) -> dict[str, str]:
    """The ``weights`` field of the models with published MMAction2 checkpoints (ResNet-50 and -101)."""
    if name in ("tsm_r50", "tsm_r101"):
        return {"weights": f"action_tsm.models:{name.upper()}_WEIGHTS"}
    return {}


@hookimpl
def action_register_models(register) -> None:
    for name, (summary, params) in _MODELS.items():
        register(
            name,
            f"action_tsm.models:{name}",
            summary=f"{summary} (temporal shift, MMAction2 TSMHead)",
            expand=f"action_tsm.models:{name}_parts",
            **_published(name),
            params=params,
            params_for="num_classes=400",
            input_format="NTCHW",
            example_kwargs={"num_classes": 5, "num_segments": 4},
            example_input=(2, 4, 3, 32, 32),
        )


@hookimpl
def action_register_backbones(register) -> None:
    register(
        "resnet_tsm",
        "action_tsm.backbones:resnet_tsm",
        summary="ResNet with temporal shift (blockres/block) and optional temporal pooling",
        example_kwargs={"depth": 18, "num_segments": 4},
    )
    register(
        "mobilenetv2_tsm",
        "action_tsm.backbones:mobilenetv2_tsm",
        summary="MobileNetV2 with temporal shift on residual blocks",
        example_kwargs={"num_segments": 4},
    )


@hookimpl
def action_register_converters(register) -> None:
    register(
        "tsm_from_mmaction",
        "action_tsm.convert:from_mmaction",
        summary="MMAction2 1.x/0.x TSM state dict (ResNet or MobileNetV2) -> action-tsm keys",
        source="mmaction2",
        models=sorted(_MODELS),
    )


@hookimpl
def action_register_presets(register) -> None:
    for name in _PRESETS:
        register(
            name,
            f"action_tsm:presets/{name}.toml",
            summary=f"MMAction2 {name}",
            weights=_PRESET_WEIGHTS.get(name, ""),
        )
