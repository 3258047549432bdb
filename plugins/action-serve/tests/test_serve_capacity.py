"""Capacity: requests beyond the workers wait in a bounded queue, the ones beyond that get 503 with
Retry-After at once; concurrent uploads all complete and leave no temporary file behind."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from serve_helpers import files_under, multipart


class HeldUpload:
    """An upload sent in two halves, the second only when released: it holds its place in the server (an
    upload in progress is admitted) for as long as the test wants."""

    def __init__(self, url: str, clip: Path, name: str) -> None:
        self.body, self.headers = multipart(name.encode(), clip.read_bytes())
        self.first_half_sent = threading.Event()
        self.release = threading.Event()
        self.response: httpx.Response | None = None
        self.error: httpx.TransportError | None = None
        self.thread = threading.Thread(target=self._send, args=(url,), daemon=True)
        self.thread.start()
        assert self.first_half_sent.wait(10)

    def _chunks(self) -> Iterator[bytes]:
        half = len(self.body) // 2
        yield self.body[:half]
        self.first_half_sent.set()
        self.release.wait(30)
        yield self.body[half:]

    def _send(self, url: str) -> None:
        try:
            self.response = httpx.post(url, content=self._chunks(), headers=self.headers, timeout=60)
        except httpx.TransportError as e:
            self.error = e

    def finish(self) -> httpx.Response:
        self.release.set()
        self.thread.join(60)
        if self.error is not None:
            raise self.error
        assert self.response is not None
        return self.response


def _wait_admitted(server: Any, count: int) -> None:
    for _ in range(500):
        if server.app.state.capacity.admitted == count:
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"expected {count} admitted requests, have {server.app.state.capacity.admitted}")


def test_beyond_workers_and_queue_the_answer_is_503_with_retry_after(serve: Any, clip: Path) -> None:
    server = serve(workers=1, queue=1)
    url = f"{server.url}/v1/predict"
    held = [HeldUpload(url, clip, "first.mp4"), HeldUpload(url, clip, "second.mp4")]
    _wait_admitted(server, 2)
    refused = httpx.post(url, files={"file": ("third.mp4", clip.read_bytes())}, timeout=60)
    assert refused.status_code == 503
    assert int(refused.headers["retry-after"]) >= 1
    error = refused.json()["error"]
    assert error["code"] == "busy" and "try again in about" in error["message"]
    assert httpx.get(f"{server.url}/healthz").json()["capacity"]["refused_busy"] == 1
    # The queued requests are served once their uploads finish; then there is room again.
    assert [h.finish().status_code for h in held] == [200, 200]
    again = httpx.post(url, files={"file": ("third.mp4", clip.read_bytes())}, timeout=60)
    assert again.status_code == 200
    assert files_under(server.app.state.tmp_root) == []


def test_with_no_queue_one_request_at_a_time(serve: Any, clip: Path) -> None:
    server = serve(workers=1, queue=0)
    held = HeldUpload(f"{server.url}/v1/timeline", clip, "first.mp4")
    _wait_admitted(server, 1)
    refused = httpx.post(f"{server.url}/v1/predict", files={"file": ("b.mp4", clip.read_bytes())}, timeout=60)
    assert refused.status_code == 503 and "retry-after" in refused.headers
    assert held.finish().status_code == 200
    assert files_under(server.app.state.tmp_root) == []


def test_concurrent_uploads_complete_and_leave_no_file(
    serve: Any, inferencer: Any, clip: Path, tmp_path: Path
) -> None:
    server = serve(workers=2, queue=8)
    data = clip.read_bytes()
    expected = inferencer.predict_video(clip).label

    def one(i: int) -> httpx.Response:
        path = "/v1/timeline" if i % 3 == 0 else "/v1/predict"
        return httpx.post(f"{server.url}{path}", files={"file": (f"clip-{i}.mp4", data)}, timeout=120)

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(one, range(8)))
    assert [r.status_code for r in responses] == [200] * 8
    for i, r in enumerate(responses):
        body = r.json()
        if i % 3 == 0:
            assert body["video"]["source"] == f"clip-{i}.mp4" and body["schema"] == "action-timeline/1"
        else:
            assert body["source"] == f"clip-{i}.mp4" and body["top_k"][0][0] == expected
    assert files_under(server.app.state.tmp_root) == []
    assert files_under(tmp_path) == ["serve-tmp", f"serve-tmp/{server.app.state.tmp_root.name}"]


def test_shutdown_removes_the_temporary_folder(serve: Any, clip: Path) -> None:
    server = serve()
    root = server.app.state.tmp_root
    assert root.is_dir()
    httpx.post(
        f"{server.url}/v1/predict", files={"file": ("a.mp4", clip.read_bytes())}, timeout=60
    ).raise_for_status()
    server.stop()
    assert not root.exists()


def test_a_stalled_upload_is_dropped_and_frees_its_place(serve: Any, clip: Path) -> None:
    server = serve(workers=1, queue=0, upload_idle_timeout=0.5)
    held = HeldUpload(f"{server.url}/v1/predict", clip, "stalled.mp4")
    _wait_admitted(server, 1)
    _wait_admitted(server, 0)  # dropped after half a second of silence
    assert files_under(server.app.state.tmp_root) == []
    fresh = httpx.post(f"{server.url}/v1/predict", files={"file": ("b.mp4", clip.read_bytes())}, timeout=60)
    assert fresh.status_code == 200
    try:
        response = held.finish()
    except httpx.TransportError:  # the server may close before the client gets to read its answer
        return
    assert response.status_code == 408 and response.json()["error"]["code"] == "upload_stalled"
