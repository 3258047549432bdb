"""Registration of the synthetic datasets (imports action_core only; the generator is imported on use)."""

from __future__ import annotations

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"


@hookimpl
def action_register_datasets(register) -> None:
    """The motion-only synthetic video classification dataset."""
    register(
        "synthetic_motion",
        "action_synthetic.datasets:synthetic_motion",
        summary="procedurally generated clips whose classes differ only in motion (generated on first use)",
        num_classes=10,
        example="action_synthetic.datasets:conformance_example",
    )


PRESETS = {
    "tsm_r18_synthetic": "TSM R18 on the synthetic motion classes: the demo's temporal model",
    "tsn_r18_synthetic": "TSN R18 on the synthetic motion classes: the demo's frame-averaging baseline",
}


@hookimpl
def action_register_presets(register) -> None:
    """The main job's presets (they need action-tsm and action-tsn for the models)."""
    for name, summary in PRESETS.items():
        register(name, f"action_synthetic:presets/{name}.toml", summary=summary)
