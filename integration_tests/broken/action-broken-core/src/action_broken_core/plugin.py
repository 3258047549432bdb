from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"


@hookimpl
def action_register_models(register):
    register("from_the_future", "action_broken_core.models:m")
