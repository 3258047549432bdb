"""Registrations of the action-activitynet plugin (imports action_core only; code loads on first use)."""

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"


@hookimpl
def action_register_datasets(register) -> None:
    register(
        "activitynet_features",
        "action_activitynet.dataset:build",
        summary="ActivityNet v1.3 snippet features (CSV/NPY, T x C) rescaled to a temporal scale; localization samples",
        task="localization",
        example="action_activitynet.dataset:example",
    )


@hookimpl
def action_register_commands(register) -> None:
    register(
        "activitynet",
        "action_activitynet.prepare:main",
        summary="`activitynet prepare`: official annotations -> MMAction2 BSN/BMN form, features checked",
    )
