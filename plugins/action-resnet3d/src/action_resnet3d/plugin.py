"""Registrations of the action-resnet3d plugin (imports action_core only; model code loads on first use)."""

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"


@hookimpl
def action_register_backbones(register) -> None:
    register(
        "resnet3d",
        "action_resnet3d.resnet3d:resnet3d_backbone",
        summary="3D ResNet 18/34/50/101/152 (MMAction2 ResNet3d options), optional ImageNet inflation",
    )


@hookimpl
def action_register_converters(register) -> None:
    register(
        "mmaction2_resnet3d",
        "action_resnet3d.convert:convert_mmaction2",
        summary="MMAction2 1.x/0.x 3D ResNet recognizer checkpoint -> action keys (backbone.*, head.fc_cls.*)",
        source="mmaction2",
    )
