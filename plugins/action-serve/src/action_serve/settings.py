"""What a server accepts and how much work it takes on: limits, capacity, the token, timeline options."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import attrs

from action_core.api import ConfigError

__all__ = ["ServeSettings", "is_loopback"]

_MB = 1024 * 1024


def _positive(instance: Any, attribute: attrs.Attribute, value: float) -> None:
    if value <= 0:
        raise ConfigError(f"serve setting {attribute.name} = {value!r} must be greater than 0")


def _at_least_zero(instance: Any, attribute: attrs.Attribute, value: float) -> None:
    if value < 0:
        raise ConfigError(f"serve setting {attribute.name} = {value!r} must be 0 or more")


def _token(instance: Any, attribute: attrs.Attribute, value: str | None) -> None:
    if value is not None and (len(value) < 8 or any(c.isspace() for c in value)):
        raise ConfigError(
            "the access token must be at least 8 characters without spaces; leave it unset to get a random one"
        )


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (``127.0.0.0/8``, ``::1``, ``localhost``)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@attrs.frozen
class ServeSettings:
    """Settings of one server (``action-run serve`` options, or :func:`action_serve.app.create_app`'s).

    - ``max_upload_bytes``: an upload larger than this is refused (413) and its partial file deleted;
    - ``max_duration``: seconds; a longer video is refused (422) before the model runs;
    - ``workers``: requests the model works on at once; ``queue``: requests that may wait for a worker
      (uploading or queued) beyond those; more get 503 with ``Retry-After``;
    - ``upload_idle_timeout``: seconds an upload may send nothing before it is dropped (408);
    - ``token``: when set, every ``/v1`` request needs ``Authorization: Bearer TOKEN``;
    - ``tmp_dir``: the folder uploads and renders go to (a fresh folder of the system's temporary
      directory when ``None``); each request works in its own subfolder, removed when it ends;
    - ``top_k``: classes per result when a request does not say; ``window`` / ``stride`` / ``smooth``:
      the timeline's windows (frames or ``"2s"``; ``None``: the model's defaults) and moving average.
    """

    host: str = "127.0.0.1"
    port: int = attrs.field(default=8000, validator=_at_least_zero)
    max_upload_bytes: int = attrs.field(default=200 * _MB, validator=_positive)
    max_duration: float = attrs.field(default=600.0, validator=_positive)
    workers: int = attrs.field(default=1, validator=_positive)
    queue: int = attrs.field(default=32, validator=_at_least_zero)
    upload_idle_timeout: float = attrs.field(default=60.0, validator=_positive)
    token: str | None = attrs.field(default=None, repr=False, validator=_token)
    tmp_dir: Path | None = attrs.field(default=None, converter=attrs.converters.optional(Path))
    top_k: int = attrs.field(default=5, validator=_positive)
    window: str | None = None
    stride: str | None = None
    smooth: int = attrs.field(default=3, validator=_positive)

    @property
    def capacity(self) -> int:
        """Requests admitted at once: working plus waiting."""
        return self.workers + self.queue

    def limits(self) -> dict[str, Any]:
        """The limits a client should know before uploading (``GET /v1/models``)."""
        return {
            "max_upload_bytes": self.max_upload_bytes,
            "max_duration_seconds": self.max_duration,
            "workers": self.workers,
            "queue": self.queue,
        }
