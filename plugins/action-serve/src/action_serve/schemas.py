"""Response shapes of the HTTP API, for its OpenAPI schema (``/openapi.json``) and for clients.

The endpoints return the documents core builds (``Prediction.as_dict``, ``Timeline.to_dict``); these models
describe them. The tests validate real responses against them, so the schema cannot drift from what the
server sends.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ErrorResponse",
    "HealthResponse",
    "ModelsResponse",
    "PredictResponse",
    "TimelineResponse",
]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorDetail(BaseModel):
    code: str = Field(description="stable machine-readable reason, e.g. upload_too_large, not_a_video, busy")
    message: str = Field(description="what went wrong and what to do, for a person")


class ErrorResponse(BaseModel):
    error: ErrorDetail


class VideoInfo(BaseModel):
    duration: float = Field(description="seconds")
    fps: float
    frames: int = Field(description="frames counted from the container's index")
    width: int
    height: int


class ModelRef(_Open):
    name: str = Field(description="file name of the checkpoint, or the published weights' name")
    type: str = Field(description="the registered model (e.g. tsm_r18)")


class PredictResponse(BaseModel):
    source: str = Field(description="the uploaded file's name")
    top_k: list[tuple[str, float]] = Field(description="[label, probability] pairs, best first")
    video: VideoInfo
    model: ModelRef
    seconds: float = Field(description="time the model took on this video")


class TimelineVideo(_Open):
    source: str
    fps: float
    duration: float
    frames: int


class TimelineSegment(BaseModel):
    label: str
    index: int
    start: float
    end: float
    score: float = Field(description="mean smoothed score over the segment")


class TimelineWindow(BaseModel):
    start: float
    end: float
    top_k: list[tuple[str, float]]


class Renders(BaseModel):
    plot: str | None = Field(None, description="data:image/png;base64 URL of the score curves and segments")
    video: str | None = Field(None, description="data:video/mp4;base64 URL of the labelled video (H.264)")


class TimelineResponse(_Open):
    """Core's timeline document (schema ``action-timeline/1``) and what ``include`` added."""

    schema_: Literal["action-timeline/1"] = Field(alias="schema")
    video: TimelineVideo
    model: dict[str, Any]
    classes: list[str]
    window: dict[str, Any]
    smoothing: dict[str, Any]
    segmentation: dict[str, Any]
    segments: list[TimelineSegment]
    windows: list[TimelineWindow]
    prediction: PredictResponse | None = Field(None, description="with include=prediction")
    renders: Renders | None = Field(None, description="with include=plot and/or include=video")
    seconds: float


class InputSpec(BaseModel):
    format: str | None = Field(description="the layout the model takes (NCHW, NCTHW)")
    clips: int
    clip_len: int
    frame_interval: int
    views: str | None
    pipeline: list[dict[str, Any]] = Field(description="the model's test pipeline, step by step")


class ModelCard(BaseModel):
    name: str
    type: str
    task: str
    num_classes: int
    labels: list[str]
    multi_label: bool
    device: str
    precision: str
    top_k: int
    input: InputSpec


class Limits(BaseModel):
    max_upload_bytes: int
    max_duration_seconds: float
    workers: int
    queue: int


class ModelsResponse(BaseModel):
    models: list[ModelCard]
    limits: Limits


class HealthResponse(BaseModel):
    status: Literal["ok"]
    model: str
    token_required: bool
    capacity: dict[str, int]
