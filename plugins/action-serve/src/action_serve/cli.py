"""``action-run serve CHECKPOINT_OR_PRESET``: the web page and HTTP API over one recognizer."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from action_serve.settings import ServeSettings, is_loopback

__all__ = ["load_inferencer", "main"]

TOKEN_ENV = "ACTION_SERVE_TOKEN"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="action-run serve",
        description="Serve a recognizer: a web page at / (drop a video, see the top-k, the labels over time "
        "and the labelled video) and an HTTP API (/v1/predict, /v1/timeline, /v1/models, /healthz, "
        "/openapi.json).",
    )
    p.add_argument(
        "source",
        metavar="CHECKPOINT_OR_PRESET",
        help="a checkpoint written by `action-run train` (it carries its config), a published weights name, "
        "or a preset that names published weights",
    )
    p.add_argument("--config", help="preset or config file, for a checkpoint that does not carry its config")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="config override (repeatable)")  # fmt: skip
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; another address gets an "
                        "access token)")  # fmt: skip
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free port)")
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: the GPU when there is one)")
    p.add_argument(
        "--top-k", type=int, default=5, help="classes per result unless a request says (default 5)"
    )
    p.add_argument("--max-upload-mb", type=float, default=200.0, help="largest upload in MB (default 200)")
    p.add_argument("--max-duration", type=float, default=600.0,
                   help="longest video in seconds (default 600)")  # fmt: skip
    p.add_argument("--workers", type=int, default=1,
                   help="videos the model works on at once (default 1; the model uses every core already)")  # fmt: skip
    p.add_argument("--queue", type=int, default=32,
                   help="requests that may wait beyond the workers before 503 (default 32)")  # fmt: skip
    p.add_argument("--upload-timeout", type=float, default=60.0,
                   help="seconds an upload may send nothing before it is dropped with 408 (default 60)")  # fmt: skip
    p.add_argument("--tmp-dir", help="folder for uploads (default: the system's temporary folder)")
    p.add_argument("--token-file", help=f"file holding the access token (or set ${TOKEN_ENV})")
    p.add_argument("--no-token", action="store_true",
                   help="serve another address without a token (anyone who reaches it can use it)")  # fmt: skip
    p.add_argument("--window", help="timeline window: frames (16) or seconds (2s); default the model's clip")
    p.add_argument("--stride", help="timeline step between windows (default a quarter of the window)")
    p.add_argument("--smooth", type=int, default=3, help="timeline moving average, in windows (default 3)")
    p.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="how much uvicorn logs (default: info)",
    )
    return p


def load_inferencer(
    source: str,
    *,
    config: str | None = None,
    overrides: Iterable[str] = (),
    **options: Any,
) -> Any:
    """The Inferencer of ``source``: a checkpoint file (with ``config`` or the config it carries), a published
    weights name, or a registered preset whose ``weights`` names published weights."""
    from action_core.api import ConfigError, Inferencer, get_host

    if os.path.exists(source) or config is not None:
        return Inferencer.load(source, config=config, overrides=overrides, **options)
    host = get_host()
    host.load_all()
    presets = {entry.name: entry for entry in host.registry.entries("preset")}
    if source in presets:
        weights = getattr(presets[source].spec, "weights", "")
        if not weights:
            raise ConfigError(
                f"preset {source!r} names no published weights, so there is nothing trained to serve; train it "
                f"(`action-run train {source}`) and serve the checkpoint: "
                f"`action-run serve work_dirs/{source}/best.pth`"
            )
        return Inferencer.from_pretrained(weights, overrides=overrides, **options)
    return Inferencer.load(source, overrides=overrides, **options)


def _token(ns: argparse.Namespace) -> tuple[str | None, bool]:
    """The access token and whether it was generated here."""
    if ns.token_file:
        try:
            token = Path(ns.token_file).read_text(encoding="utf-8").strip()
        except OSError as e:
            raise OSError(e.errno, f"cannot read the token file {ns.token_file!r}: {e.strerror}") from e
        return token, False
    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV].strip(), False
    if is_loopback(ns.host) or ns.no_token:
        return None, False
    return secrets.token_urlsafe(24), True


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``action-run serve``."""
    ns = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    token, generated = _token(ns)
    settings = ServeSettings(
        host=ns.host,
        port=ns.port,
        max_upload_bytes=int(ns.max_upload_mb * 1024 * 1024),
        max_duration=ns.max_duration,
        workers=ns.workers,
        queue=ns.queue,
        upload_idle_timeout=ns.upload_timeout,
        token=token,
        tmp_dir=ns.tmp_dir,
        top_k=ns.top_k,
        window=ns.window,
        stride=ns.stride,
        smooth=ns.smooth,
    )
    from action_serve.server import bind, run

    sock = bind(settings.host, settings.port)  # before loading the model: a taken port fails at once
    inferencer = load_inferencer(
        ns.source, config=ns.config, overrides=ns.overrides, device=ns.device, top_k=settings.top_k
    )
    from action_serve.app import create_app

    app = create_app(inferencer, settings)
    name = sock.getsockname()
    shown = f"[{name[0]}]" if ":" in name[0] else name[0]
    url = f"http://{shown}:{name[1]}/"
    print(f"serving {inferencer!r}", file=sys.stderr)
    if token is not None:
        print(
            f"open {url}#token={token}" + ("  (a new token: keep it secret)" if generated else ""),
            file=sys.stderr,
        )
    else:
        if not is_loopback(settings.host):
            print(f"warning: {settings.host} is served without a token (--no-token)", file=sys.stderr)
        print(f"open {url}", file=sys.stderr)
    run(app, sock, log_level=ns.log_level)
    return 0
