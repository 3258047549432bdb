"""The ASGI application: the HTTP API (``/v1/...``, ``/healthz``, ``/openapi.json``) and the web page (``/``).

Every upload is streamed into a fresh folder under the server's temporary folder, checked, worked on
through the Inferencer in a worker thread, and the folder is removed when the request ends, whatever
happened. Errors are JSON: ``{"error": {"code": ..., "message": ...}}`` with a 4xx (or 503) status.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from action_serve import schemas, service
from action_serve.capacity import Capacity
from action_serve.core_timeline import timeline_inferencer
from action_serve.errors import ServeError
from action_serve.settings import ServeSettings
from action_serve.uploads import FIELD, Upload, receive_upload

__all__ = ["create_app"]

STATIC = Path(__file__).parent / "static"
_log = logging.getLogger("action_serve")

# The page loads nothing from elsewhere: everything it needs is served here (it works offline).
_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' data: blob:; "
    "script-src 'self'; style-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FIELD],
                    "properties": {
                        FIELD: {
                            "type": "string",
                            "format": "binary",
                            "description": "the video file (any container and codec FFmpeg reads)",
                        }
                    },
                }
            }
        },
    }
}

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": schemas.ErrorResponse, "description": "no file, an empty file, a bad file name"},
    401: {"model": schemas.ErrorResponse, "description": "the access token is missing or wrong"},
    408: {"model": schemas.ErrorResponse, "description": "the upload stalled (nothing arrived for a while)"},
    413: {"model": schemas.ErrorResponse, "description": "the upload is larger than the server accepts"},
    415: {"model": schemas.ErrorResponse, "description": "not multipart, or not a video"},
    422: {"model": schemas.ErrorResponse, "description": "a truncated or too long video, a bad option"},
    503: {
        "model": schemas.ErrorResponse,
        "description": "every worker and queue place is taken; retry after the Retry-After header's seconds",
    },
}


def _error_response(error: ServeError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def create_app(inferencer: Any, settings: ServeSettings | None = None) -> FastAPI:
    """The application serving ``inferencer`` (an :class:`action_core.api.Inferencer`) under ``settings``.

    A fresh temporary folder is made for it now (inside ``settings.tmp_dir`` when given) and removed when
    the application shuts down; ``app.state.tmp_root`` says where it is.
    """
    settings = settings or ServeSettings()
    if settings.tmp_dir is not None:
        settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp_root = Path(tempfile.mkdtemp(prefix="action-serve-", dir=settings.tmp_dir))
    capacity = Capacity(settings.workers, settings.queue)
    card = service.model_card(inferencer, settings)
    windows = timeline_inferencer(inferencer)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            service.remove_tree(tmp_root)

    app = FastAPI(
        title="action-serve",
        version=_version(),
        summary="Action recognition over HTTP: top-k of a video, and its labels over time.",
        description=(
            "Upload a video as `multipart/form-data` in the field `file`. Errors are JSON "
            '`{"error": {"code", "message"}}`; 503 answers carry `Retry-After`. When the server has an '
            "access token, `/v1` requests need `Authorization: Bearer TOKEN`."
        ),
        docs_url=None,  # the interactive docs load their scripts from a CDN; the page must work offline
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.tmp_root = tmp_root
    app.state.capacity = capacity
    app.state.settings = settings
    app.state.inferencer = inferencer

    bearer = HTTPBearer(auto_error=False, description="the token printed by `action-run serve`")

    async def require_token(
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
    ) -> None:
        if settings.token is None:
            return
        given = credentials.credentials if credentials is not None else ""
        if not hmac.compare_digest(given.encode(), settings.token.encode()):
            raise ServeError(
                401,
                "unauthorized",
                "this server needs its access token: enter the token printed when it started"
                if not given
                else "the access token is wrong: enter the token printed when the server started",
                headers={"WWW-Authenticate": "Bearer"},
            )

    @app.exception_handler(ServeError)
    async def _serve_error(_request: Request, error: ServeError) -> JSONResponse:
        return _error_response(error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: {e.get('msg', '')}"
            for e in error.errors()
        )
        return _error_response(ServeError(422, "bad_request", f"bad request options: {problems}"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return _error_response(ServeError(error.status_code, code, str(error.detail)))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
        _log.exception("request failed")
        return _error_response(
            ServeError(
                500,
                "internal",
                f"the server failed on this request ({type(error).__name__}); it keeps serving, and its log "
                "has the details",
            )
        )

    async def handle(
        request: Request, work: Callable[[Upload, service.VideoFacts], dict[str, Any]]
    ) -> Response:
        async with capacity.admit():
            folder = tmp_root / uuid.uuid4().hex
            folder.mkdir(mode=0o700)
            try:
                try:
                    upload = await receive_upload(
                        request.headers,
                        request.stream(),
                        folder,
                        limit=settings.max_upload_bytes,
                        idle_timeout=settings.upload_idle_timeout,
                    )
                except ClientDisconnect as e:
                    raise ServeError(
                        400, "upload_interrupted", "the upload stopped before it was complete; send it again"
                    ) from e
                facts = await anyio.to_thread.run_sync(
                    service.check_video, upload.path, upload.name, settings
                )
                async with capacity.work():
                    document = await anyio.to_thread.run_sync(work, upload, facts)
                return JSONResponse(document)
            finally:
                await anyio.to_thread.run_sync(service.remove_tree, folder)

    guarded = [Depends(require_token)]

    @app.post(
        "/v1/predict",
        response_model=schemas.PredictResponse,
        responses=_ERRORS,
        dependencies=guarded,
        openapi_extra=_UPLOAD_BODY,
        summary="Top-k classes of an uploaded video",
    )
    async def predict(
        request: Request,
        top_k: int | None = Query(None, ge=1, le=1000, description="classes to list (default: the server's)"),  # noqa: B008
    ) -> Response:
        k = top_k or settings.top_k
        return await handle(
            request, lambda up, facts: service.predict(inferencer, up.path, up.name, facts, top_k=k)
        )

    @app.post(
        "/v1/timeline",
        response_model=schemas.TimelineResponse,
        responses=_ERRORS,
        dependencies=guarded,
        openapi_extra=_UPLOAD_BODY,
        summary="Labels over time of an uploaded video (the action-timeline/1 document)",
    )
    async def timeline(
        request: Request,
        top_k: int | None = Query(None, ge=1, le=1000, description="classes listed per window"),  # noqa: B008
        include: list[str] = Query(  # noqa: B008
            [],
            description="add `prediction` (whole-video top-k), `plot` (PNG) and/or `video` (labelled MP4) "
            "to the document; comma-separated or repeated",
        ),
        window: str | None = Query(
            None, max_length=32, description="window length: frames (16) or seconds (2s)"
        ),  # noqa: B008
        stride: str | None = Query(
            None, max_length=32, description="step between windows: frames or seconds"
        ),  # noqa: B008
        smooth: int | None = Query(None, ge=1, le=1000, description="windows in the moving average"),  # noqa: B008
    ) -> Response:
        from action_core.api import ConfigError

        k = top_k or settings.top_k
        extras = service.parse_include(include)
        options = {"window": window, "stride": stride, "smooth": smooth}

        def work(up: Upload, facts: service.VideoFacts) -> dict[str, Any]:
            try:
                return service.timeline(
                    inferencer, up.path, up.name, facts, settings=settings, top_k=k, include=extras,
                    options=options, window_inferencer=windows,
                )  # fmt: skip
            except ConfigError as e:
                raise ServeError(422, "bad_option", str(e)) from e

        return await handle(request, work)

    @app.get(
        "/v1/models",
        response_model=schemas.ModelsResponse,
        dependencies=guarded,
        responses={401: _ERRORS[401]},
    )
    async def models() -> dict[str, Any]:
        """The loaded model (labels, input spec) and the server's upload limits."""
        return {"models": [card], "limits": settings.limits()}

    @app.get("/healthz", response_model=schemas.HealthResponse)
    async def healthz() -> dict[str, Any]:
        """Liveness and load; needs no token (it tells nothing about the model beyond its name)."""
        return {
            "status": "ok",
            "model": card["name"],
            "token_required": settings.token is not None,
            "capacity": capacity.status(),
        }

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    app.add_middleware(_SecurityHeaders)

    return app


class _SecurityHeaders:
    """Pure ASGI middleware (it leaves request bodies streaming): ``nosniff``, no referrer, and the page's
    content security policy (nothing loads from another origin)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                if not scope["path"].startswith("/v1"):
                    headers.setdefault("Content-Security-Policy", _CSP)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("action-serve")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0"
