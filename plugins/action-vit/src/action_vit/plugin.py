"""Registrations of the action-vit plugin (imports action_core only; model code loads on first use)."""

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"


@hookimpl
def action_register_backbones(register) -> None:
    register(
        "vit3d",
        "action_vit.vit3d:vit3d_backbone",
        summary="VideoMAE's video ViT: tubelet patches, joint space-time SDPA attention, mean pooling",
        example_kwargs={"img_size": 32, "patch_size": 8, "embed_dims": 32, "depth": 2, "num_heads": 4},
    )


@hookimpl
def action_register_heads(register) -> None:
    register(
        "timesformer_head",
        "action_vit.heads:timesformer_head",
        summary="MMAction2's TimeSformerHead: dropout + linear on a pooled transformer feature (core I3DHead)",
    )


@hookimpl
def action_register_converters(register) -> None:
    register(
        "mmaction2_vit3d",
        "action_vit.convert:convert_mmaction2_vit3d",
        summary="MMAction2 1.x VisionTransformer (VideoMAE) recognizer checkpoint -> action keys",
        source="mmaction2",
    )
