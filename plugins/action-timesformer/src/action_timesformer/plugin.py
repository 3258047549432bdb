"""Registrations of the action-timesformer plugin (imports action_core only; model code loads on first use)."""

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"

_PRESETS = ("timesformer_divST_8x32x1_15e_kinetics400_rgb",)
# The published checkpoint each preset's recipe produced (the model zoo shows its metrics).
_PRESET_WEIGHTS = {
    "timesformer_divST_8x32x1_15e_kinetics400_rgb": "timesformer_divST_8xb8-8x32x1-15e_kinetics400-rgb",
}
_NARROW = {
    "num_frames": 4,
    "img_size": 32,
    "patch_size": 8,
    "embed_dims": 32,
    "num_heads": 4,
    "num_layers": 2,
}


@hookimpl
def action_register_models(register) -> None:
    register(
        "timesformer_divst",
        "action_timesformer.models:timesformer_divst",
        summary="TimeSformer ViT-B/16, divided space-time attention, 8 frames of 224x224",
        params=121_566_352,
        params_for="num_classes=400",
        input_format="NCTHW",
        example_kwargs={"num_classes": 5, **_NARROW},
        example_input=(1, 3, 4, 32, 32),
        expand="action_timesformer.models:timesformer_divst_parts",
        weights="action_timesformer.models:WEIGHTS",
    )


@hookimpl
def action_register_backbones(register) -> None:
    register(
        "timesformer",
        "action_timesformer.models:timesformer_backbone",
        summary="TimeSformer backbone (divided space-time attention); returns the normalised class token",
        example_kwargs=_NARROW,
    )


@hookimpl
def action_register_converters(register) -> None:
    register(
        "mmaction2_timesformer",
        "action_timesformer.convert:convert_mmaction2_timesformer",
        summary="MMAction2 1.x TimeSformer (divided space-time) checkpoint -> timesformer_divst keys",
        source="mmaction2",
        models="timesformer_divst",
    )
    register(
        "transformers_timesformer",
        "action_timesformer.convert:convert_transformers_timesformer",
        summary="transformers TimesformerForVideoClassification state dict -> timesformer_divst keys",
        source="transformers",
        models="timesformer_divst",
    )


@hookimpl
def action_register_presets(register) -> None:
    for name in _PRESETS:
        register(
            name,
            f"action_timesformer:presets/{name}.toml",
            summary=f"MMAction2 recipe {name}",
            dataset="kinetics400",
            weights=_PRESET_WEIGHTS.get(name, ""),
        )
