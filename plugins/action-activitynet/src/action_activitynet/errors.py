"""The error raised for malformed annotation and feature files."""

from __future__ import annotations

from action_core.api import ActionError

__all__ = ["AnnotationError"]


class AnnotationError(ActionError, ValueError):
    """An annotation or feature file is missing or malformed; the message names the file, video and field."""

    def __init__(self, message: str, *, path: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line
