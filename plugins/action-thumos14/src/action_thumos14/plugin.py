"""Registrations of the action-thumos14 plugin (imports action_core only; code loads on first use)."""

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"


@hookimpl
def action_register_datasets(register):
    register(
        "thumos14_features",
        "action_thumos14.dataset:build",
        summary="THUMOS14 snippet features with per-class temporal annotations (Ambiguous kept aside); localization samples",
        task="localization",
        num_classes=20,
        example="action_thumos14.dataset:example",
    )
