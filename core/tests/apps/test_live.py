"""Live mode on sources that behave like cameras and network streams, all local: a file played at its
frame rate, and an MPEG-TS stream served on the loopback address that ends, stalls or is not there.
Every wait is bounded: a stalled or missing stream is a clear error within its timeout, never a hang."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from colourparts import CLASSES, ColourRecognizer, config_dict, save_colour_checkpoint, write_colour_video

from action_core.api import ExperimentConfig, FrameStream, Inferencer, LiveSummary, StreamError, run_live


def make_inferencer() -> Inferencer:
    return Inferencer(ColourRecognizer(), ExperimentConfig.from_dict(config_dict()), classes=CLASSES)


@pytest.fixture(scope="module")
def red_then_green(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_colour_video(
        tmp_path_factory.mktemp("live") / "rg.mp4", [("red", 1.5), ("green", 1.5)], fps=10
    )


@pytest.fixture(scope="module")
def transport_stream(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("live") / "blue.ts"
    write_colour_video(path, [("blue", 2.0)], fps=10, container_format="mpegts")
    return path.read_bytes()


class Server:
    """Serves ``data`` to one TCP client on 127.0.0.1, then closes the connection (``then="close"``) or
    keeps it open and silent until the test ends (``then="stall"``)."""

    def __init__(self, data: bytes, then: str) -> None:
        self.data, self.then = data, then
        self.done = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(600)  # a loaded machine may take minutes to start a client process
        self.url = f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            try:
                conn.sendall(self.data)
            except OSError:
                return
            if self.then == "stall":
                self.done.wait(60)

    def close(self) -> None:
        self.done.set()
        self.sock.close()
        self.thread.join(5)


@pytest.fixture
def serve(transport_stream: bytes) -> Iterator:
    servers: list[Server] = []

    def start(then: str, data: bytes | None = None) -> Server:
        servers.append(Server(transport_stream if data is None else data, then))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_file_played_in_real_time_is_labelled_as_it_plays(tmp_path: Path, red_then_green: Path) -> None:
    lines: list[str] = []
    start = time.monotonic()
    summary = run_live(
        make_inferencer(),
        str(red_then_green),
        window="0.5s",
        rate=5,
        realtime=True,
        out_jsonl=tmp_path / "labels.jsonl",
        out_video=tmp_path / "annotated.mp4",
        echo=lines.append,
    )
    took = time.monotonic() - start
    assert isinstance(summary, LiveSummary) and summary.stop == "end of stream" and summary.error is None
    assert summary.frames == 30 and took >= 2.8  # paced: 3 s of video take 3 s
    assert 3 <= summary.predictions <= 16 and len(lines) == summary.predictions
    # Latency from a frame's arrival to the first label that includes it: within a window plus a second.
    assert summary.frame_latency_median is not None and summary.frame_latency_median <= 0.5 + 1.0
    rows = [json.loads(line) for line in (tmp_path / "labels.jsonl").read_text().splitlines()]
    assert len(rows) == summary.predictions
    assert all(set(r) >= {"time", "start", "end", "top_k", "latency", "wall"} for r in rows)
    early = [r["top_k"][0][0] for r in rows if r["end"] <= 1.45]
    late = [r["top_k"][0][0] for r in rows if r["start"] >= 1.55]
    assert early and late and set(early) == {"red"} and set(late) == {"green"}
    with av.open(str(tmp_path / "annotated.mp4")) as container:
        written = sum(1 for _ in container.decode(video=0))
    assert 20 <= written <= 30  # frames may be dropped from the annotated copy, never added


def test_a_loopback_stream_that_ends_stops_cleanly(serve) -> None:
    server = serve("close")
    summary = run_live(make_inferencer(), server.url, window=5, timeout=5, echo=None)
    assert summary.stop == "end of stream" and summary.frames == 20 and summary.predictions >= 1


def test_a_stalled_stream_is_an_error_within_its_timeout_with_the_outputs_closed(
    tmp_path: Path, serve
) -> None:
    server = serve("stall")
    out = tmp_path / "labels.jsonl"
    start = time.monotonic()
    with pytest.raises(StreamError, match=r"no data from 'tcp://127\.0\.0\.1:\d+' for 1\.5 s") as caught:
        run_live(make_inferencer(), server.url, window=5, timeout=1.5, out_jsonl=out, echo=None)
    assert time.monotonic() - start < 20
    assert caught.value.cause == "stalled"
    summary = caught.value.summary
    assert summary.frames >= 15 and summary.predictions >= 1 and "stopped" in summary.stop
    assert len(out.read_text().splitlines()) == summary.predictions  # written and closed


def test_unreachable_streams_and_cameras_are_clear_errors() -> None:
    url = f"tcp://127.0.0.1:{free_port()}"
    start = time.monotonic()
    with pytest.raises(StreamError, match="cannot open .*127.0.0.1") as caught:
        FrameStream(url, timeout=3)
    assert caught.value.cause == "unreachable" and time.monotonic() - start < 10
    with pytest.raises(StreamError, match="camera") as caught:
        FrameStream("/dev/video97", timeout=2)
    assert caught.value.cause == "unreachable"


def test_closing_a_stream_that_another_thread_waits_on_ends_its_iteration_quietly(serve) -> None:
    # FFmpeg cannot be interrupted mid-read from outside, so the read in progress ends at its timeout;
    # then the reading thread closes the input and stops without an error (nothing freed under the read).
    server = serve("stall")
    stream = FrameStream(server.url, timeout=3)
    seen: list[int] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for frame in stream:
                seen.append(frame.index)
        except BaseException as e:
            errors.append(e)

    reader = threading.Thread(target=read)
    reader.start()
    deadline = time.monotonic() + 30
    while len(seen) < 15 and time.monotonic() < deadline:
        time.sleep(0.02)
    stream.close()  # the reader is waiting for data that never comes (or about to)
    reader.join(15)
    assert not reader.is_alive() and errors == [] and 15 <= len(seen) <= 20
    assert list(stream) == []  # closed: nothing more to read


def test_cli_exits_non_zero_on_a_lost_stream_and_cleanly_on_ctrl_c(
    tmp_path: Path, serve, cli_env: dict
) -> None:
    checkpoint = save_colour_checkpoint(tmp_path / "colour.pth")
    base = [sys.executable, "-m", "action_core.cli.main", "live", "--checkpoint", str(checkpoint)]
    unreachable = subprocess.run(
        [*base, "--source", f"tcp://127.0.0.1:{free_port()}", "--timeout", "2"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert unreachable.returncode != 0 and "cannot open 'tcp://127.0.0.1:" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr

    server = serve("stall")
    out = tmp_path / "labels.jsonl"
    process = subprocess.Popen(
        [*base, "--source", server.url, "--window", "5", "--timeout", "120", "--out", str(out)],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 600  # a loaded machine starts Python slowly
        while time.monotonic() < deadline and not (out.exists() and out.read_text().strip()):
            assert process.poll() is None, process.communicate()[1]
            time.sleep(0.2)
        if not (out.exists() and out.read_text().strip()):
            process.kill()
            pytest.fail(f"no label was written: {process.communicate()}")
        process.send_signal(signal.SIGINT)  # the stream is silent now: Ctrl-C must not wait for it
        stdout, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert "stopped (Ctrl-C)" in stderr and "blue" in stdout
