"""Registrations of the action-mvit plugin (imports action_core only; model code loads on first use)."""

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"

_PRESETS = ("mvit_small_p244_16x4x1_200e_kinetics400_rgb",)
# The published checkpoint each preset's recipe produced (the model zoo shows its metrics).
_PRESET_WEIGHTS = {
    "mvit_small_p244_16x4x1_200e_kinetics400_rgb": "mvit_v2_s_16x4x1_kinetics400_mmaction2",
}
_NARROW = {
    "embed_dims": 8,
    "num_layers": 4,
    "downscale_indices": (1, 2, 3),
    "spatial_size": 32,
    "temporal_size": 4,
}
_TINY = {"num_classes": 5, **_NARROW}
_TINY_INPUT = (1, 3, 4, 32, 32)
_CATALOGUES = {
    "mvit_v2_s": "action_mvit.models:MVIT_V2_S_WEIGHTS",
    "mvit_v1_b": "action_mvit.models:MVIT_V1_B_WEIGHTS",
}


@hookimpl
def action_register_models(register) -> None:
    for name, summary, params in (
        ("mvit_v2_s", "MViTv2-S 16x4 (MMAction2 mvit-small-p244; torchvision mvit_v2_s)", 34_537_744),
        ("mvit_v2_b", "MViTv2-B 32x3 (MMAction2 mvit-base-p244)", 51_230_128),
        ("mvit_v2_l", "MViTv2-L 40x3, 312 px (MMAction2 mvit-large-p244)", 213_390_112),
        ("mvit_v1_b", "MViT-B 16x4 v1 (PyTorchVideo mvit_base_16x4; torchvision mvit_v1_b)", 36_610_672),
    ):
        register(
            name,
            f"action_mvit.models:{name}",
            summary=summary,
            params=params,
            input_format="NCTHW",
            example_kwargs=_TINY,
            example_input=_TINY_INPUT,
            expand=f"action_mvit.models:{name}_parts",
            weights=_CATALOGUES.get(name, ""),
        )


@hookimpl
def action_register_backbones(register) -> None:
    register(
        "mvit",
        "action_mvit.models:mvit_backbone",
        summary="Multiscale Vision Transformer (MMAction2 MViT archs small/base/large; v1 options); returns "
        "(patch tokens N,C,T,H,W; class token N,C)",
        example_kwargs=_NARROW,
    )


@hookimpl
def action_register_heads(register) -> None:
    register(
        "mvit_head",
        "action_mvit.models:mvit_head",
        summary="class token (or mean patch token), dropout, linear (MMAction2 MViTHead)",
    )


@hookimpl
def action_register_converters(register) -> None:
    register(
        "mmaction2_mvit",
        "action_mvit.convert:convert_mmaction2",
        summary="MMAction2 1.x MViT recognizer checkpoint -> mvit_v2_s/b/l keys",
        source="mmaction2",
        models="mvit_v2_s",
    )
    register(
        "torchvision_mvit",
        "action_mvit.convert:convert_torchvision",
        summary="torchvision mvit_v2_s / mvit_v1_b state dict -> mvit_v2_s / mvit_v1_b(pool_norm_eps=1e-6) keys",
        source="torchvision",
        models="mvit_v2_s",
    )
    register(
        "pytorchvideo_mvit",
        "action_mvit.convert:convert_pytorchvideo",
        summary="PyTorchVideo mvit_base_16x4 / PySlowFast MVIT_B_16x4 state dict -> mvit_v1_b keys",
        source="pytorchvideo",
        models="mvit_v1_b",
    )


@hookimpl
def action_register_presets(register) -> None:
    for name in _PRESETS:
        register(
            name,
            f"action_mvit:presets/{name}.toml",
            summary=f"MMAction2 recipe {name}",
            dataset="kinetics400",
            weights=_PRESET_WEIGHTS.get(name, ""),
        )
