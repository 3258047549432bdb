import a_module_that_is_not_installed  # noqa: F401

ACTION_PLUGIN_API = "1.0"
