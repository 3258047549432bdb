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
        modality="video",
        example="action_synthetic.datasets:conformance_example",
    )
