from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"


@hookimpl
def action_register_models(register):
    register("never_seen", "action_broken_hook.models:never_seen")
    raise RuntimeError("this registration hook fails on purpose")
