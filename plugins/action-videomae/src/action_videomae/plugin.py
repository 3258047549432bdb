"""Registrations of the action-videomae plugin (imports action_core only; model code loads on first use)."""

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"

_PRESETS = ("videomae_vit_b16_16x4x1_kinetics400_rgb",)
_NARROW = {
    "num_classes": 5,
    "img_size": 32,
    "patch_size": 8,
    "num_frames": 4,
    "embed_dims": 32,
    "depth": 2,
    "num_heads": 4,
}


@hookimpl
def action_register_models(register) -> None:
    register(
        "videomae_vit_b16",
        "action_videomae.models:videomae_vit_b16",
        summary="VideoMAE ViT-B/16 classifier, 16 frames of 224x224 in 2x16x16 tubelets, mean pooling",
        params=86_534_800,
        input_format="NCTHW",
        example_kwargs=_NARROW,
        example_input=(1, 3, 4, 32, 32),
        expand="action_videomae.models:videomae_vit_b16_parts",
        weights="action_videomae.models:VIT_B16_WEIGHTS",
    )
    register(
        "videomae_vit_l16",
        "action_videomae.models:videomae_vit_l16",
        summary="VideoMAE ViT-L/16 classifier (1024 wide, 24 blocks, 16 heads)",
        params=304_270_736,
        input_format="NCTHW",
        example_kwargs=_NARROW,
        example_input=(1, 3, 4, 32, 32),
        expand="action_videomae.models:videomae_vit_l16_parts",
        weights="action_videomae.models:VIT_L16_WEIGHTS",
    )


@hookimpl
def action_register_converters(register) -> None:
    register(
        "mmaction2_videomae",
        "action_vit.convert:convert_mmaction2_vit3d",
        summary="MMAction2 1.x VideoMAE (VisionTransformer) checkpoint -> videomae_vit_b16 / _l16 keys",
        source="mmaction2",
        models="videomae_vit_b16",
    )
    register(
        "transformers_videomae",
        "action_videomae.convert:convert_transformers_videomae",
        summary="transformers VideoMAEForVideoClassification state dict -> videomae_vit_b16 keys "
        "(q/k/v fused; build with its LayerNorm epsilons)",
        source="transformers",
        models="videomae_vit_b16",
        model_args={"norm_eps": 1e-12, "fc_norm_eps": 1e-5},
    )


@hookimpl
def action_register_presets(register) -> None:
    for name in _PRESETS:
        register(
            name,
            f"action_videomae:presets/{name}.toml",
            summary=f"MMAction2 recipe {name} (test only: MMAction2 ships converted weights, no training recipe)",
            dataset="kinetics400",
        )
