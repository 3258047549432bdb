"""Registrations of the action-bmn plugin (imports action_core only; model code loads on first use)."""

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"

_PRESETS = {
    "bmn_400x100_2x8_9e_activitynet_feature": "MMAction2 bmn_2xb8-400x100-9e_activitynet-feature",
    "bmn_400x100_2x8_9e_thumos14_feature": "BMN on THUMOS14 400-d features rescaled to 100 (variant)",
}


@hookimpl
def action_register_models(register) -> None:
    register(
        "bmn",
        "action_bmn.models:bmn",
        summary="BMN boundary-matching network, temporal action proposals (MMAction2 1.2.0 form)",
        params=36_978_564,
        trainable_params=4_978_564,
        example_input=(2, 8, 8),
        example_output=[(2, 2, 8, 8), (2, 8), (2, 8)],
        task="localization",
        input_format="NCT",
        example_kwargs={
            "num_classes": 1,
            "temporal_dim": 8,
            "feat_dim": 8,
            "num_samples": 4,
            "num_samples_per_bin": 2,
            "hidden_dim_1d": 8,
            "hidden_dim_2d": 4,
            "hidden_dim_3d": 8,
        },
    )


@hookimpl
def action_register_losses(register) -> None:
    register(
        "bmn_loss",
        "action_bmn.models:BMNLoss",
        summary="BMN loss: TEM + 10 x PEM regression + PEM classification",
    )


@hookimpl
def action_register_converters(register) -> None:
    register(
        "mmaction2_bmn",
        "action_bmn.convert:convert_mmaction2",
        summary="MMAction2 1.x/0.x BMN checkpoint -> bmn keys",
        source="mmaction2",
        models="bmn",
    )


@hookimpl
def action_register_presets(register) -> None:
    for name, summary in _PRESETS.items():
        register(name, f"action_bmn:presets/{name}.toml", summary=summary, task="localization")
