"""Registrations of the action-bsn plugin (imports action_core only; model code loads on first use)."""

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"

_PRESETS = {
    "bsn_tem_400x100_1x16_20e_activitynet_feature": "MMAction2 bsn_tem_1xb16-400x100-20e_activitynet-feature",
    "bsn_pem_400x100_1x16_20e_activitynet_feature": "MMAction2 bsn_pem_1xb16-400x100-20e_activitynet-feature",
    "bsn_tem_400x100_1x16_20e_thumos14_feature": "BSN TEM on THUMOS14 400-d features rescaled to 100 (variant)",
    "bsn_pem_400x100_1x16_20e_thumos14_feature": "BSN PEM on the THUMOS14 TEM's proposals (variant)",
}


@hookimpl
def action_register_models(register):
    register(
        "bsn_tem",
        "action_bsn.models:bsn_tem",
        summary="BSN temporal evaluation module (actionness, start, end); stage 1 of `action-run bsn run`",
        params=1_403_395,
        task="localization",
        example_kwargs={"num_classes": 1, "temporal_dim": 8, "tem_feat_dim": 4, "tem_hidden_dim": 4},
        example_input=(2, 4, 8),
        example_output=(2, 3, 8),
    )
    register(
        "bsn_pem",
        "action_bsn.models:bsn_pem",
        summary="BSN proposal evaluation module (confidence of BSP features); stage 3",
        params=8_705,
        task="localization",
        example_kwargs={"num_classes": 1, "pem_feat_dim": 32, "pem_hidden_dim": 8},
        example_input=(5, 32),
        example_output=(5, 1),
    )


@hookimpl
def action_register_datasets(register):
    register(
        "bsn_proposals",
        "action_bsn.dataset:build",
        summary="PGM proposals and BSP features written by `action-run bsn pgm` (the PEM's samples)",
        task="localization",
        example="action_bsn.dataset:example",
    )


@hookimpl
def action_register_converters(register):
    register(
        "mmaction2_bsn_tem",
        "action_bsn.convert:convert_mmaction2_tem",
        summary="MMAction2 BSN TEM checkpoint -> bsn_tem keys",
        source="mmaction2",
        models="bsn_tem",
    )
    register(
        "mmaction2_bsn_pem",
        "action_bsn.convert:convert_mmaction2_pem",
        summary="MMAction2 BSN PEM checkpoint -> bsn_pem keys",
        source="mmaction2",
        models="bsn_pem",
    )


@hookimpl
def action_register_presets(register):
    for name, summary in _PRESETS.items():
        register(name, f"action_bsn:presets/{name}.toml", summary=summary, task="localization")


@hookimpl
def action_register_commands(register):
    register(
        "bsn",
        "action_bsn.cli:main",
        summary="`bsn pgm`: the PEM's proposals from a TEM; `bsn run`: the chain",
    )
