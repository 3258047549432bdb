"""Registration of ``action-run serve`` (imports action_core only; the server loads on first use)."""

from __future__ import annotations

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"


@hookimpl
def action_register_commands(register) -> None:
    """The web page and HTTP API over one recognizer."""
    register(
        "serve",
        "action_serve.cli:main",
        summary="a web page and HTTP API over a recognizer: drop a video, see the top-k and labels over time",
    )
