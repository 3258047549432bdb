from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"


@hookimpl
def action_register_backbones(register):
    register(
        "tiny_two_stage",
        "action_tinybone.backbones:tiny_two_stage",
        summary="two conv stages of frames, returned per clip (N, C, T, H, W) as a pyramid for a neck",
        example_kwargs={"num_segments": 2},
    )
