"""The reader on the encodings users really have (the committed corpus, see corpus/make_corpus.py).

For every readable file: the frame count equals a sequential decode's; random index sets (sorted, unsorted,
repeated, single) give the sequential decode's frames after the same display rotation, byte for byte, whether
packets are kept in memory or read back from the container; the fast training mode returns exact frames; and
only the files the manifest marks ``fallback`` are read by counting frames. Bad files raise the documented error.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import av
import numpy as np
import pytest

from action_core.video import VideoDecodeError, VideoReader
from action_core.video import reader as reader_module

CORPUS = Path(__file__).resolve().parent / "corpus"
MANIFEST: dict[str, dict[str, str]] = json.loads((CORPUS / "corpus.json").read_text())
READABLE = sorted(n for n, m in MANIFEST.items() if m["expect"] in ("exact", "fallback"))
BAD = sorted(n for n, m in MANIFEST.items() if n not in READABLE)


def displayed(frame: av.VideoFrame) -> np.ndarray:
    rgb = frame.to_ndarray(format="rgb24")
    return np.rot90(rgb, round(frame.rotation) // 90 % 4)


@pytest.fixture(scope="module")
def reference() -> dict[str, list[np.ndarray]]:
    """Every frame of a plain sequential PyAV decode of each file, shown as the file asks."""
    out = {}
    for name in READABLE:
        with av.open(str(CORPUS / name)) as c:
            out[name] = [displayed(f) for f in c.decode(video=0)]
    return out


def index_sets(n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    sets = [np.array([n - 1]), np.array([0]), np.array([n // 2] * 3), np.arange(n)[::-1].copy()]
    for _ in range(6):
        idx = rng.integers(0, n, size=int(rng.integers(2, 9)))
        sets += [idx, np.sort(idx)]
    return sets


def test_manifest_covers_the_issue_list():
    assert len(MANIFEST) >= 25
    assert sum(p.stat().st_size for p in CORPUS.iterdir()) <= 3_000_000


@pytest.mark.parametrize("cached", [True, False], ids=["packets-kept", "container-reads"])
@pytest.mark.parametrize("name", READABLE)
def test_frames_equal_a_sequential_decode(name, cached, reference, monkeypatch):
    if not cached:
        monkeypatch.setattr(reader_module, "PACKET_CACHE_BYTES", 0)
    ref = reference[name]
    with VideoReader(CORPUS / name) as r:
        assert r.num_frames == len(ref)
        assert (r.height, r.width, 3) == ref[0].shape
        assert (r.fallback_reason is not None) == (MANIFEST[name]["expect"] == "fallback")
        for idx in index_sets(len(ref), zlib.crc32(name.encode())):
            out = r.get_frames(idx, layout="THWC").numpy()
            for row, i in enumerate(idx):
                assert np.array_equal(out[row], ref[int(i)]), f"{name}: frame {i} differs"
        imgs, chosen = r.sample_segments(8, rng=np.random.default_rng(0), layout="THWC")
        for row, i in enumerate(chosen):
            assert np.array_equal(imgs[row].numpy(), ref[int(i)]), f"{name}: fast-mode frame {i} differs"


@pytest.mark.parametrize("name", [n for n in READABLE if n.endswith(".avi")])
def test_two_decoder_threads_agree(name, reference):
    ref = reference[name]
    with VideoReader(CORPUS / name, num_threads=2) as r:
        idx = np.arange(len(ref))[::3]
        out = r.get_frames(idx, layout="THWC").numpy()
        for row, i in enumerate(idx):
            assert np.array_equal(out[row], ref[int(i)])


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_rotation_is_what_the_ffmpeg_tool_shows(degrees):
    path = CORPUS / f"rotate_{degrees}.mp4"
    with av.open(str(CORPUS / f"rotate_{degrees}.ffmpeg_first_frame.png")) as c:
        shown = next(c.decode(video=0)).to_ndarray(format="rgb24")
    with VideoReader(path) as r:
        assert r.rotation == degrees
        assert (r.height, r.width) == shown.shape[:2]  # known at open, before any decoding
        assert np.array_equal(r.get_frames([0], layout="THWC")[0].numpy(), shown)
    with VideoReader(path, autorotate=False) as r, av.open(str(path)) as c:
        assert r.rotation == 0
        coded = next(c.decode(video=0)).to_ndarray(format="rgb24")
        assert np.array_equal(r.get_frames([0], layout="THWC")[0].numpy(), coded)


def test_rotation_with_short_side_scaling():
    with VideoReader(CORPUS / "rotate_90.mp4", short_side=36) as r:
        assert (r.height, r.width) == (48, 36)
        assert r.get_frames([0, 5], layout="THWC").shape == (2, 48, 36, 3)


@pytest.mark.parametrize("name", BAD)
def test_bad_files_get_the_documented_error(name):
    with pytest.raises(VideoDecodeError) as e:
        VideoReader(CORPUS / name)
    assert e.value.cause == MANIFEST[name]["expect"]
    assert name in str(e.value)


def test_fallback_is_logged_once_per_file(caplog):
    name = next(n for n in READABLE if MANIFEST[n]["expect"] == "fallback")
    reader_module._REPORTED_FALLBACKS.discard(str(CORPUS / name))
    with caplog.at_level("WARNING", logger="action_core.video"):
        for _ in range(3):
            VideoReader(CORPUS / name).close()
    lines = [r for r in caplog.records if "cannot be indexed exactly" in r.getMessage()]
    assert len(lines) == 1 and name in lines[0].getMessage()
