"""Registrations of the action-swin plugin (imports action_core only; model code loads on first use)."""

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"

_PRESETS = ("swin_tiny_p244_w877_32x2x1_30e_kinetics400_rgb",)
# The published checkpoint each preset's recipe produced (the model zoo shows its metrics).
_PRESET_WEIGHTS = {
    "swin_tiny_p244_w877_32x2x1_30e_kinetics400_rgb": "swin3d_t_32x2x1_kinetics400_mmaction2",
}
_NARROW = {"embed_dims": 4, "depths": (2, 2, 2, 2), "num_heads": (1, 1, 2, 2), "window_size": (4, 3, 3)}


@hookimpl
def action_register_models(register) -> None:
    for name, summary, params in (
        (
            "swin3d_t",
            "Video Swin-T, patch 2x4x4, window 8x7x7 (MMAction2 swin-tiny-p244-w877; torchvision swin3d_t)",
            28_158_070,
        ),
        ("swin3d_s", "Video Swin-S (MMAction2 swin-small-p244-w877; torchvision swin3d_s)", 49_816_678),
        ("swin3d_b", "Video Swin-B (MMAction2 swin-base-p244-w877; torchvision swin3d_b)", 88_048_984),
        ("swin3d_l", "Video Swin-L (MMAction2 swin-large-p244-w877)", 196_953_916),
    ):
        register(
            name,
            f"action_swin.models:{name}",
            summary=summary,
            params=params,
            input_format="NCTHW",
            example_kwargs={"num_classes": 5, **_NARROW},
            example_input=(1, 3, 4, 24, 24),
            expand=f"action_swin.models:{name}_parts",
            weights="action_swin.models:WEIGHTS" if name == "swin3d_t" else "",  # published: Swin-T only
        )


@hookimpl
def action_register_backbones(register) -> None:
    register(
        "swin3d",
        "action_swin.models:swin3d_backbone",
        summary="Video Swin Transformer (MMAction2 SwinTransformer3D archs tiny/small/base/large, ImageNet "
        "inflation); returns the normalised last-stage map (N, C, T, H, W) for i3d_head",
        example_kwargs=_NARROW,
    )


@hookimpl
def action_register_converters(register) -> None:
    register(
        "mmaction2_swin",
        "action_swin.convert:convert_mmaction2",
        summary="MMAction2 1.x (or original Video Swin) recognizer checkpoint -> swin3d_t/s/b/l keys",
        source="mmaction2",
        models="swin3d_t",
    )
    register(
        "torchvision_swin",
        "action_swin.convert:convert_torchvision",
        summary="torchvision swin3d_t/s/b state dict -> swin3d_t/s/b keys",
        source="torchvision",
        models="swin3d_t",
    )


@hookimpl
def action_register_presets(register) -> None:
    for name in _PRESETS:
        register(
            name,
            f"action_swin:presets/{name}.toml",
            summary=f"MMAction2 recipe {name}",
            dataset="kinetics400",
            weights=_PRESET_WEIGHTS.get(name, ""),
        )
