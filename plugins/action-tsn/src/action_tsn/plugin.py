"""Registrations of the action-tsn plugin (imports action_core only; model code loads on first use)."""

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"

_MODELS = {
    "tsn_r18": ("TSN, ResNet-18", 11_381_712),
    "tsn_r34": ("TSN, ResNet-34", 21_489_872),
    "tsn_r50": ("TSN, ResNet-50", 24_327_632),
    "tsn_r101": ("TSN, ResNet-101", 43_319_760),
}

_PRESETS = (
    "tsn_r50_1x1x3_100e_kinetics400_rgb",
    "tsn_r50_1x1x8_100e_kinetics400_rgb",
    "tsn_r101_1x1x8_100e_kinetics400_rgb",
    "tsn_r50_1x1x8_50e_sthv2_rgb",
    "tsn_r50_1x1x16_50e_sthv2_rgb",
    "tsn_r50_1x1x3_75e_ucf101_rgb",
)
# The published checkpoint each preset's recipe produced (the model zoo shows its metrics).
_PRESET_WEIGHTS = {
    "tsn_r50_1x1x3_100e_kinetics400_rgb": "tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb",
    "tsn_r50_1x1x8_100e_kinetics400_rgb": "tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_kinetics400-rgb",
    "tsn_r101_1x1x8_100e_kinetics400_rgb": "tsn_imagenet-pretrained-r101_8xb32-1x1x8-100e_kinetics400-rgb",
    "tsn_r50_1x1x8_50e_sthv2_rgb": "tsn_imagenet-pretrained-r50_8xb32-1x1x8-50e_sthv2-rgb",
    "tsn_r50_1x1x16_50e_sthv2_rgb": "tsn_imagenet-pretrained-r50_8xb32-1x1x16-50e_sthv2-rgb",
}


def _published(name: str) -> dict[str, str]:
    """The ``weights`` field of the models with published MMAction2 checkpoints (ResNet-50 and -101)."""
    if name in ("tsn_r50", "tsn_r101"):
        return {"weights": f"action_tsn.models:{name.upper()}_WEIGHTS"}
    return {}


@hookimpl
def action_register_models(register) -> None:
    for name, (summary, params) in _MODELS.items():
        register(
            name,
            f"action_tsn.models:{name}",
            summary=f"{summary} (segment consensus, MMAction2 TSNHead)",
            expand=f"action_tsn.models:{name}_parts",
            **_published(name),
            params=params,
            params_for="num_classes=400",
            input_format="NTCHW",
            example_kwargs={"num_classes": 5, "num_segments": 2},
            example_input=(2, 2, 3, 32, 32),
        )


@hookimpl
def action_register_backbones(register) -> None:
    register(
        "resnet2d",
        "action_tsn.backbones:resnet2d",
        summary="torchvision ResNet (18/34/50/101/152) without classifier, optional partial BatchNorm; "
        "returns the layer4 feature map",
        example_kwargs={"depth": 18},
    )


@hookimpl
def action_register_converters(register) -> None:
    register(
        "tsn_from_mmaction",
        "action_tsn.convert:from_mmaction",
        summary="MMAction2 1.x/0.x TSN state dict -> action-tsn keys (returns state dict, unconverted keys)",
        source="mmaction2",
        models=sorted(_MODELS),
    )


@hookimpl
def action_register_presets(register) -> None:
    for name in _PRESETS:
        register(
            name,
            f"action_tsn:presets/{name}.toml",
            summary=f"MMAction2 {name}",
            weights=_PRESET_WEIGHTS.get(name, ""),
        )
