"""The HTTP API on a real server (uvicorn on 127.0.0.1): answers are the Inferencer's and core's timeline's,
shaped as the OpenAPI schema says, and every upload's folder is gone when the request ends."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from serve_helpers import CLASSES, files_under

from action_serve import schemas


def _upload(path: Path, name: str | None = None) -> dict[str, Any]:
    return {"file": (name or path.name, path.read_bytes(), "video/mp4")}


def test_predict_answers_what_the_inferencer_says(serve: Any, inferencer: Any, clip: Path) -> None:
    server = serve()
    response = httpx.post(f"{server.url}/v1/predict?top_k=3", files=_upload(clip), timeout=60)
    assert response.status_code == 200, response.text
    body = response.json()
    schemas.PredictResponse.model_validate(body)
    expected = inferencer.predict_video(clip, top_k=3)
    assert [label for label, _ in body["top_k"]] == [c.label for c in expected.top_k]
    assert [score for _, score in body["top_k"]] == pytest.approx([c.score for c in expected.top_k], abs=1e-6)
    assert body["source"] == "move_left.mp4"  # the client's name, never the server's path
    assert body["video"] == {"duration": 4.0, "fps": 8.0, "frames": 32, "width": 64, "height": 64}
    assert body["model"] == {"name": "tsm.pth", "type": "tsm_r18"}
    assert files_under(server.app.state.tmp_root) == []


def test_timeline_is_cores_document_with_the_renders_asked_for(
    serve: Any, inferencer: Any, clip: Path
) -> None:
    from action_serve.core_timeline import timeline_functions, timeline_inferencer

    server = serve()
    response = httpx.post(
        f"{server.url}/v1/timeline",
        params={"include": "prediction,plot,video"},
        files=_upload(clip),
        timeout=120,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    schemas.TimelineResponse.model_validate(body)

    core = timeline_functions().make_timeline(timeline_inferencer(inferencer), clip, top_k=5).to_dict()
    assert body["schema"] == core["schema"] == "action-timeline/1"
    for key in ("classes", "window", "smoothing", "segmentation", "segments"):
        assert body[key] == core[key], key
    assert [(w["start"], w["end"]) for w in body["windows"]] == [
        (w["start"], w["end"]) for w in core["windows"]
    ]
    for mine, theirs in zip(body["windows"], core["windows"], strict=True):
        assert [label for label, _ in mine["top_k"]] == [label for label, _ in theirs["top_k"]]
    assert body["video"]["source"] == "move_left.mp4"
    assert body["video"]["duration"] == pytest.approx(4.0)
    assert "source" not in body["model"]  # the checkpoint's path on the server stays there

    assert body["prediction"]["top_k"][0][0] == inferencer.predict_video(clip).label
    plot = body["renders"]["plot"]
    assert plot.startswith("data:image/png;base64,")
    assert base64.b64decode(plot.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    video = body["renders"]["video"]
    assert video.startswith("data:video/mp4;base64,")
    with av.open(io.BytesIO(base64.b64decode(video.split(",", 1)[1]))) as labelled:
        stream = labelled.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert sum(1 for _ in labelled.decode(stream)) == 32
    assert files_under(server.app.state.tmp_root) == []


def test_timeline_without_include_is_the_plain_document(serve: Any, clip: Path) -> None:
    server = serve()
    body = httpx.post(f"{server.url}/v1/timeline?window=8&stride=8", files=_upload(clip), timeout=60).json()
    assert "renders" not in body and "prediction" not in body
    assert body["window"]["frames"] == 8 and body["window"]["stride_frames"] == 8
    assert len(body["windows"]) == 4


def test_bad_options_are_422_with_the_reason(serve: Any, clip: Path) -> None:
    server = serve()
    bad = {
        "top_k=0": "top_k",
        "include=everything": "include=everything",
        "window=forever": "forever",
    }
    for query, words in bad.items():
        response = httpx.post(f"{server.url}/v1/timeline?{query}", files=_upload(clip), timeout=60)
        assert response.status_code == 422, query
        assert words in response.json()["error"]["message"], query
    assert files_under(server.app.state.tmp_root) == []


def test_models_describes_the_model_and_the_limits(serve: Any, inferencer: Any) -> None:
    server = serve(max_upload_bytes=12345, max_duration=7.5, workers=2, queue=3)
    body = httpx.get(f"{server.url}/v1/models").json()
    schemas.ModelsResponse.model_validate(body)
    (card,) = body["models"]
    assert card["labels"] == CLASSES and card["num_classes"] == 4 and card["type"] == "tsm_r18"
    assert card["input"]["pipeline"] == [dict(s) for s in inferencer.pipeline_steps]
    assert (card["input"]["format"], card["input"]["clips"], card["input"]["clip_len"]) == ("NCHW", 8, 1)
    assert body["limits"] == {
        "max_upload_bytes": 12345,
        "max_duration_seconds": 7.5,
        "workers": 2,
        "queue": 3,
    }


def test_healthz_counts_the_work(serve: Any, clip: Path) -> None:
    server = serve()
    before = httpx.get(f"{server.url}/healthz").json()
    schemas.HealthResponse.model_validate(before)
    assert before["status"] == "ok" and before["token_required"] is False
    assert before["capacity"]["served"] == 0
    httpx.post(f"{server.url}/v1/predict", files=_upload(clip), timeout=60).raise_for_status()
    after = httpx.get(f"{server.url}/healthz").json()
    assert after["capacity"] == {**before["capacity"], "served": 1}


def test_openapi_schema_documents_every_endpoint(serve: Any) -> None:
    server = serve()
    schema = httpx.get(f"{server.url}/openapi.json").json()
    assert set(schema["paths"]) == {"/v1/predict", "/v1/timeline", "/v1/models", "/healthz"}
    for path in ("/v1/predict", "/v1/timeline"):
        operation = schema["paths"][path]["post"]
        body = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
        assert body["required"] == ["file"] and body["properties"]["file"]["format"] == "binary"
        assert {"200", "400", "401", "413", "415", "422", "503"} <= set(operation["responses"])
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    # The routes the application has are the ones the schema lists (plus the page and its files).
    routes = {getattr(r, "path", "") for r in server.app.routes}
    assert routes - set(schema["paths"]) == {"/", "/static", "/openapi.json"}


def test_a_token_guards_the_api_but_not_the_page_or_health(serve: Any) -> None:
    server = serve(token="s3cret-token")
    missing = httpx.get(f"{server.url}/v1/models")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert "needs its access token" in missing.json()["error"]["message"]
    wrong = httpx.get(f"{server.url}/v1/models", headers={"Authorization": "Bearer nope-nope-nope"})
    assert wrong.status_code == 401 and "wrong" in wrong.json()["error"]["message"]
    upload = httpx.post(f"{server.url}/v1/predict", files={"file": ("a.mp4", b"x", "video/mp4")})
    assert upload.status_code == 401
    assert (
        httpx.get(f"{server.url}/v1/models", headers={"Authorization": "Bearer s3cret-token"}).status_code
        == 200
    )
    assert httpx.get(f"{server.url}/healthz").json()["token_required"] is True
    assert httpx.get(f"{server.url}/").status_code == 200


def test_unknown_paths_and_methods_are_json_errors(serve: Any) -> None:
    server = serve()
    missing = httpx.get(f"{server.url}/v1/nothing")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = httpx.get(f"{server.url}/v1/predict")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
