from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"


@hookimpl
def action_register_models(register):
    register(
        "hello_net",
        "action_hello.models:hello_net",
        summary="a tiny third-party recognizer",
        example_kwargs={"num_classes": 4},
        example_input=(2, 3, 4, 8, 8),
    )
