"""The one error type of the HTTP API: a status, a stable code and a message a person can act on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ServeError"]


class ServeError(Exception):
    """A request the server refuses or cannot complete; answered as
    ``{"error": {"code": CODE, "message": MESSAGE}}`` with ``status`` (and ``headers``, e.g. ``Retry-After``)."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = int(status)
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The JSON body of the error response."""
        return {"error": {"code": self.code, "message": self.message}}
