"""Errors raised while reading media."""

from __future__ import annotations

from action_core.errors import ActionError


class MediaError(ActionError):
    """Base class for problems with a media file or frame folder (missing, empty, corrupt, too short)."""

    def __init__(self, message: str, *, path: str | None = None, cause: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.cause = cause


class VideoDecodeError(MediaError):
    """A video (or frame folder) could not be opened or decoded; ``path`` and ``cause`` say which and why."""
