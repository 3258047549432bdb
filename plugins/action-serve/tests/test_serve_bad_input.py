"""Every kind of bad upload gets a 4xx JSON error whose message says what is wrong and what to do; the
server writes nothing outside its temporary folder, leaves nothing in it, and keeps serving."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from serve_helpers import faststart_copy, files_under, motion_clip, multipart, truncated

KB = 1024


def _post(
    server: Any, body: bytes | Iterator[bytes], headers: dict[str, str], path: str = "/v1/predict"
) -> httpx.Response:
    return httpx.post(f"{server.url}{path}", content=body, headers=headers, timeout=60)


def _refused(response: httpx.Response, status: int, code: str, *words: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    for word in words:
        assert word in error["message"], (word, error["message"])
    return str(error["message"])


def _still_serving_and_clean(server: Any, clip: Path, tmp_path: Path) -> None:
    """A good upload still works afterwards, the server's folder is empty, and the test's folder holds
    nothing but that folder (the server wrote nowhere else)."""
    good = httpx.post(f"{server.url}/v1/predict", files={"file": ("ok.mp4", clip.read_bytes())}, timeout=60)
    assert good.status_code == 200, good.text
    tmp_root = server.app.state.tmp_root
    assert files_under(tmp_root) == []
    assert files_under(tmp_path) == ["serve-tmp", f"serve-tmp/{tmp_root.name}"]


def test_a_file_that_is_not_a_video(serve: Any, clip: Path, tmp_path: Path) -> None:
    server = serve()
    # FFmpeg opens text as video (its tty demuxer draws it): the server must refuse it before FFmpeg does.
    body, headers = multipart(b"notes.mp4", b"these are my notes, not a video\n" * 40)
    _refused(_post(server, body, headers), 415, "not_a_video", "'notes.mp4' is not a video", "choose a video")
    png = io.BytesIO()
    from PIL import Image

    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(png, format="PNG")
    body, headers = multipart(b"picture.mp4", png.getvalue())
    _refused(_post(server, body, headers), 415, "not_a_video", "'picture.mp4'")
    _still_serving_and_clean(server, clip, tmp_path)


def test_a_zero_byte_file(serve: Any, clip: Path, tmp_path: Path) -> None:
    server = serve()
    body, headers = multipart(b"empty.mp4", b"")
    _refused(_post(server, body, headers), 400, "empty_file", "'empty.mp4' is empty (0 bytes)")
    _still_serving_and_clean(server, clip, tmp_path)


def test_a_truncated_file(serve: Any, clip: Path, tmp_path: Path) -> None:
    server = serve()
    # Index at the end (as PyAV and many encoders write it): the cut file has no index at all.
    body, headers = multipart(b"cut.mp4", truncated(clip.read_bytes()))
    _refused(_post(server, body, headers), 422, "unreadable_video", "'cut.mp4'", "damaged or truncated")
    # Index at the front (phones, web exports): it promises frames the cut file no longer holds.
    front = faststart_copy(clip, tmp_path / "front.mp4").read_bytes()
    body, headers = multipart(b"cut-front.mp4", truncated(front, 0.6))
    message = _refused(
        _post(server, body, headers, "/v1/timeline"), 422, "truncated_video", "'cut-front.mp4'"
    )
    assert str(server.app.state.tmp_root) not in message  # details name the client's file, not the server's
    (tmp_path / "front.mp4").unlink()
    _still_serving_and_clean(server, clip, tmp_path)


def test_a_too_large_upload(serve: Any, clip: Path, tmp_path: Path) -> None:
    size = len(clip.read_bytes())
    server = serve(max_upload_bytes=size - 1)
    body, headers = multipart(b"big.mp4", clip.read_bytes())
    _refused(_post(server, body, headers), 413, "upload_too_large", "larger than this server accepts")

    # Without a Content-Length (chunked), the limit holds on the bytes that arrive.
    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 4 * KB):
            yield body[start : start + 4 * KB]

    _refused(_post(server, chunks(), headers), 413, "upload_too_large")
    # Declared far above the limit: refused before the body is read.
    huge, huge_headers = multipart(b"huge.mp4", bytes(3 * size))
    _refused(_post(server, huge, huge_headers), 413, "upload_too_large")
    assert files_under(server.app.state.tmp_root) == []
    assert httpx.get(f"{server.url}/healthz").json()["status"] == "ok"


def test_a_too_long_video(
    serve: Any, clip: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    server = serve(max_duration=3.0)
    body, headers = multipart(b"long.mp4", clip.read_bytes())
    _refused(_post(server, body, headers), 422, "video_too_long", "'long.mp4' is 4.0 s long", "up to 3 s")
    short = motion_clip(tmp_path_factory.mktemp("short") / "short.mp4", seconds=2.0)
    _still_serving_and_clean(server, short, tmp_path)


@pytest.mark.parametrize(
    "name",
    [
        b"../../escape.mp4",
        b"..\\..\\escape.mp4",
        b"/tmp/escape.mp4",
        b"C:\\Users\\me\\escape.mp4",
        b"sub/clip.mp4",
    ],
)
def test_a_file_name_with_path_separators(serve: Any, clip: Path, tmp_path: Path, name: bytes) -> None:
    server = serve()
    body, headers = multipart(name, clip.read_bytes())
    _refused(_post(server, body, headers), 400, "bad_file_name", "path separator", "own name")
    assert not (tmp_path / "escape.mp4").exists() and not (tmp_path.parent / "escape.mp4").exists()
    _still_serving_and_clean(server, clip, tmp_path)


def test_file_names_that_are_not_names(serve: Any, clip: Path, tmp_path: Path) -> None:
    server = serve()
    for name, code in [(b"..", "bad_file_name"), (b"bell\x07.mp4", "bad_file_name"), (b"\xff\xfe.mp4", "bad_file_name"),
                       (b"", "no_file"), (b"x" * 300 + b".mp4", "bad_file_name")]:  # fmt: skip
        body, headers = multipart(name, clip.read_bytes())
        _refused(_post(server, body, headers), 400, code)
    _still_serving_and_clean(server, clip, tmp_path)


def test_a_unicode_file_name_is_served_and_echoed(serve: Any, clip: Path, tmp_path: Path) -> None:
    server = serve()
    name = "vidéo 動画 🎬 «test».mp4"
    body, headers = multipart(name.encode("utf-8"), clip.read_bytes())
    response = _post(server, body, headers, "/v1/timeline")
    assert response.status_code == 200, response.text
    assert response.json()["video"]["source"] == name
    # Decomposed (as macOS writes names) and composed forms are one name.
    decomposed = "vide\u0301o.mp4"
    body, headers = multipart(decomposed.encode("utf-8"), clip.read_bytes())
    assert _post(server, body, headers).json()["source"] == "vidéo.mp4"
    _still_serving_and_clean(server, clip, tmp_path)


def test_requests_that_are_not_uploads(serve: Any, clip: Path, tmp_path: Path) -> None:
    server = serve()
    raw = httpx.post(
        f"{server.url}/v1/predict", content=clip.read_bytes(), headers={"Content-Type": "video/mp4"}
    )
    _refused(raw, 415, "not_multipart", "multipart/form-data", "curl -F file=@clip.mp4")
    body, headers = multipart(b"clip.mp4", clip.read_bytes(), field=b"video")
    _refused(_post(server, body, headers), 400, "no_file", "field named 'file'")
    broken = b"--" + headers["Content-Type"].split("=")[1].encode() + b"\r\nthis is not a part header\r\n"
    _refused(_post(server, broken, headers), 400, "bad_multipart")
    _still_serving_and_clean(server, clip, tmp_path)
