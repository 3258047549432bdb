"""Frame samplers: which frame indices a sample reads.

The samplers follow MMAction2 1.2.0 (``mmaction/datasets/transforms/loading.py`` and ``UniformSampleFrames`` in
``pose_transforms.py``): for the same state of NumPy's global random generator they return the same indices
(checked against indices MMAction2 computed, by ``core/tests/data/test_mmaction2_parity.py``). Differences are deliberate and listed in
``docs/data-notes.md``.

Each sampler is a callable on a results dict. It reads ``total_frames`` (opening the media when it is not known
yet) and ``start_index``, and adds

- ``frame_inds``: int64 array, clip after clip, each clip ``clip_len`` frames, ``start_index`` added;
- ``clip_len``, ``frame_interval``;
- ``num_clips``: how many clips ``frame_inds`` holds;
- ``num_views``: how many temporal views those clips form for a 2D model (1 in training; 2 with
  ``twice_sample``); ``FormatShape("NCHW")`` stacks ``num_clips // num_views`` clips per view along time.
  ``FormatShape("NCTHW")`` makes every clip a view and ignores it.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from action_core.data.decode import media_num_frames, start_index_of

OutOfBound = Literal["loop", "repeat_last"]


def _check_positive(name: str, value: int) -> int:
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _bound(frame_inds: np.ndarray, total: int, option: str) -> np.ndarray:
    """Bring indices past the end back into the video, clip by clip (``frame_inds`` is (clips, clip_len))."""
    if option == "loop":
        return np.mod(frame_inds, total)
    inside = frame_inds < total
    last_inside = np.max(np.where(inside, frame_inds, 0), axis=1, keepdims=True)
    return np.where(inside, frame_inds, last_inside)


def _finish(results: dict[str, Any], frame_inds: np.ndarray, **info: Any) -> dict[str, Any]:
    start_index = start_index_of(results)
    results["frame_inds"] = (frame_inds.reshape(-1) + start_index).astype(np.int64)
    results.update(info)
    return results


class SampleFrames:
    """MMAction2's ``SampleFrames``: ``num_clips`` clips of ``clip_len`` frames, ``frame_interval`` apart.

    Training picks a random clip start in each of ``num_clips`` equal stretches of the video; test mode spreads
    the clips evenly (2D, ``clip_len == 1``: the centre of each segment; 3D: evenly spaced starts).
    ``twice_sample`` (test mode) adds a second set of clips (TSM's test protocol). ``keep_tail_frames`` lets the
    last stretch reach the end of the video. ``target_fps`` resamples videos of any frame rate to that rate
    before sampling (needs ``avg_fps`` in the results). ``out_of_bound_opt``: ``"loop"`` wraps indices past
    the end, ``"repeat_last"`` repeats the clip's last valid frame.

    ``num_views`` (test mode, ``clip_len == 1``): the ``num_clips`` frames form that many views of
    ``num_clips // num_views`` consecutive frames each, so a 2D model trained on S segments can be tested on
    C clips of S segments (``num_clips = C * S``; what ``--views CxK`` asks for). The indices are
    MMAction2's for ``num_clips`` clips; MMAction2's TSM groups them the same way.

    ``fast`` (training, ``clip_len == 1`` only): an explicit speed mode that is *not* MMAction2's sampling.
    The segments are the same, but the frame taken from each is chosen by the decoder among the frames that
    are cheap to reach (reference frames of H.264), so about half the frames need no decoding. The frames
    returned are still exact; ``frame_inds`` says which were taken. Test mode ignores it.
    """

    def __init__(
        self,
        clip_len: int,
        frame_interval: int = 1,
        num_clips: int = 1,
        test_mode: bool = False,
        out_of_bound_opt: OutOfBound = "loop",
        twice_sample: bool = False,
        keep_tail_frames: bool = False,
        target_fps: float | None = None,
        temporal_jitter: bool = False,
        fast: bool = False,
        num_views: int | None = None,
    ) -> None:
        self.clip_len = _check_positive("clip_len", clip_len)
        self.frame_interval = _check_positive("frame_interval", frame_interval)
        self.num_clips = _check_positive("num_clips", num_clips)
        self.num_views = None if num_views is None else _check_positive("num_views", num_views)
        if self.num_views is not None:
            if self.clip_len != 1 or twice_sample:
                raise ValueError(
                    "num_views groups the frames of segment sampling (clip_len=1, no twice_sample) into views; "
                    f"got clip_len={clip_len}, twice_sample={twice_sample}"
                )
            if self.num_clips % self.num_views:
                raise ValueError(
                    f"num_clips={num_clips} frames do not split into num_views={num_views} views of equal length"
                )
        if out_of_bound_opt not in ("loop", "repeat_last"):
            raise ValueError(f"out_of_bound_opt must be 'loop' or 'repeat_last', got {out_of_bound_opt!r}")
        self.test_mode = bool(test_mode)
        self.out_of_bound_opt = out_of_bound_opt
        self.twice_sample = bool(twice_sample)
        self.keep_tail_frames = bool(keep_tail_frames)
        self.target_fps = target_fps
        self.temporal_jitter = bool(temporal_jitter)
        self.fast = bool(fast)

    # MMAction2 measures a clip's extent differently in training (clip_len * interval) and test mode
    # ((clip_len - 1) * interval + 1); with target_fps the extent is scaled by the fps ratio.
    def _clip_extent(self, fps_ratio: float) -> float:
        if self.target_fps is not None:
            return float(np.maximum(1, self.clip_len * self.frame_interval * fps_ratio))
        if self.test_mode:
            return (self.clip_len - 1) * self.frame_interval + 1
        return self.clip_len * self.frame_interval

    def _train_offsets(self, total: int, extent: float) -> np.ndarray:
        n = self.num_clips
        if self.keep_tail_frames:
            stretch = (total - extent + 1) / float(n)
            if total > extent - 1:
                return (np.arange(n) * stretch + np.random.uniform(0, stretch, n)).astype(np.int32)
            return np.zeros(n, dtype=np.int32)
        stretch = (total - extent + 1) // n
        if stretch > 0:
            return np.arange(n) * stretch + np.random.randint(int(stretch), size=n)
        if total > max(n, extent):
            return np.sort(np.random.randint(int(total - extent + 1), size=n))
        if stretch == 0:
            return np.around(np.arange(n) * ((total - extent + 1.0) / n))
        return np.zeros(n, dtype=np.int32)

    def _test_offsets(self, total: int, extent: float) -> np.ndarray:
        n = self.num_clips
        if self.clip_len == 1:
            stretch = total / float(n)
            starts = np.arange(n) * stretch
            centres = starts + stretch / 2.0
            return np.concatenate([centres, starts]) if self.twice_sample else centres
        last_start = max(total - extent, 0)
        count = 2 * n if self.twice_sample else n
        if count == 1:
            return np.array([last_start // 2])
        # MMAction2 divides by num_clips - 1 even when twice_sample doubles the clips (so the second half
        # runs past the end and wraps); that is kept. With a single clip it would divide by zero: we use 1.
        gaps = max(n - 1, 1)
        if self.target_fps is not None:
            return np.arange(count) * np.floor(last_start / float(gaps))
        return np.round(np.arange(count) * (last_start / float(gaps)))

    def _fast_segments(self, results: dict[str, Any], total: int) -> dict[str, Any] | None:
        # Fast training mode for segment sampling: hand DecodeFrames the segments, let the reader pick a
        # cheap-to-decode frame in each. Only where MMAction2 would draw one frame per equal segment.
        plain = self.clip_len == 1 and not (self.keep_tail_frames or self.target_fps or self.temporal_jitter)
        stretch = (total - self.frame_interval + 1) // self.num_clips
        if self.test_mode or not plain or stretch <= 0:
            return None
        starts = np.arange(self.num_clips) * stretch
        results["segment_bounds"] = np.stack([starts, starts + stretch], axis=1)
        results["segment_seed"] = int(np.random.randint(2**31 - 1))
        # Provisional indices (segment starts); DecodeFrames replaces them with the frames it chose.
        return _finish(
            results,
            starts[:, None],
            clip_len=1,
            frame_interval=self.frame_interval,
            num_clips=self.num_clips,
            num_views=1,
        )

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        total = media_num_frames(results)
        if self.fast:
            out = self._fast_segments(results, total)
            if out is not None:
                return out
        fps = results.get("avg_fps")
        fps_ratio = fps / self.target_fps if self.target_fps and fps else 1.0
        extent = self._clip_extent(fps_ratio)
        offsets = self._test_offsets(total, extent) if self.test_mode else self._train_offsets(total, extent)
        steps: np.ndarray
        if self.target_fps:
            steps = np.linspace(0, extent - 1, self.clip_len).astype(np.int32)
        else:
            steps = np.arange(self.clip_len) * self.frame_interval
        frame_inds = offsets[:, None] + steps[None, :]
        if self.temporal_jitter:
            frame_inds = frame_inds + np.random.randint(self.frame_interval, size=frame_inds.shape)
        frame_inds = _bound(frame_inds, total, self.out_of_bound_opt)
        if not self.test_mode:
            views = 1
        elif self.clip_len == 1:
            views = 2 if self.twice_sample else (self.num_views or 1)
        else:
            views = len(offsets)
        return _finish(
            results,
            frame_inds,
            clip_len=self.clip_len,
            frame_interval=self.frame_interval,
            num_clips=len(offsets),
            num_views=views,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(clip_len={self.clip_len}, frame_interval={self.frame_interval}, "
            f"num_clips={self.num_clips}, test_mode={self.test_mode}, out_of_bound_opt={self.out_of_bound_opt!r}, "
            f"twice_sample={self.twice_sample}, keep_tail_frames={self.keep_tail_frames}, "
            f"target_fps={self.target_fps}"
            + (f", num_views={self.num_views})" if self.num_views is not None else ")")
        )


class SegmentSampleFrames(SampleFrames):
    """TSN/TSM segment sampling: one frame from each of ``num_segments`` equal segments.

    The same as ``SampleFrames(clip_len=1, num_clips=num_segments)``, which is how MMAction2 1.x configures it.
    """

    def __init__(
        self,
        num_segments: int = 8,
        test_mode: bool = False,
        twice_sample: bool = False,
        out_of_bound_opt: OutOfBound = "loop",
        num_views: int | None = None,
    ) -> None:
        super().__init__(
            clip_len=1,
            num_clips=num_segments,
            test_mode=test_mode,
            twice_sample=twice_sample,
            out_of_bound_opt=out_of_bound_opt,
            num_views=num_views,
        )


class DenseSampleFrames(SampleFrames):
    """MMAction2's ``DenseSampleFrames``: clips packed into a window of ``sample_range`` frames.

    Training draws one window start; test mode uses ``num_sample_positions`` evenly spaced window starts,
    each one a view.
    """

    def __init__(
        self,
        clip_len: int,
        frame_interval: int = 1,
        num_clips: int = 1,
        sample_range: int = 64,
        num_sample_positions: int = 10,
        test_mode: bool = False,
        out_of_bound_opt: OutOfBound = "loop",
        temporal_jitter: bool = False,
    ) -> None:
        super().__init__(
            clip_len,
            frame_interval=frame_interval,
            num_clips=num_clips,
            test_mode=test_mode,
            out_of_bound_opt=out_of_bound_opt,
            temporal_jitter=temporal_jitter,
        )
        self.sample_range = _check_positive("sample_range", sample_range)
        self.num_sample_positions = _check_positive("num_sample_positions", num_sample_positions)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        total = media_num_frames(results)
        positions = max(1, 1 + total - self.sample_range)
        spacing = self.sample_range // self.num_clips
        base = np.arange(self.num_clips) * spacing
        if self.test_mode:
            starts = np.linspace(0, positions - 1, num=self.num_sample_positions, dtype=int)
        else:
            starts = np.array([0 if positions == 1 else np.random.randint(0, positions - 1)])
        offsets = np.concatenate([(base + s) % total for s in starts])
        frame_inds = offsets[:, None] + np.arange(self.clip_len)[None, :] * self.frame_interval
        if self.temporal_jitter:
            frame_inds = frame_inds + np.random.randint(self.frame_interval, size=frame_inds.shape)
        frame_inds = _bound(frame_inds, total, self.out_of_bound_opt)
        if not self.test_mode:
            views = 1
        else:
            views = len(starts) if self.clip_len == 1 else len(offsets)
        return _finish(
            results,
            frame_inds,
            clip_len=self.clip_len,
            frame_interval=self.frame_interval,
            num_clips=len(offsets),
            num_views=views,
        )


class UniformSample:
    """MMAction2's ``UniformSample`` (PySlowFast's SSv2 sampling): ``clip_len`` equal segments, one frame each.

    Training picks a random frame per segment (one clip; ``num_clips`` is ignored, as in MMAction2). Test mode
    returns ``num_clips`` clips, the k-th taking the frame at ``(k + 1) / (num_clips + 1)`` of each segment.
    """

    def __init__(self, clip_len: int, num_clips: int = 1, test_mode: bool = False) -> None:
        self.clip_len = _check_positive("clip_len", clip_len)
        self.num_clips = _check_positive("num_clips", num_clips)
        self.test_mode = bool(test_mode)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        total = media_num_frames(results)
        segment = float(total - 1) / self.clip_len
        starts = [int(np.round(segment * i)) for i in range(self.clip_len)]
        if self.test_mode:
            step = segment / (self.num_clips + 1)
            inds = [s + int(step * (k + 1)) for k in range(self.num_clips) for s in starts]
            clips = self.num_clips
        else:
            ends = [int(np.round(segment * (i + 1))) for i in range(self.clip_len)]
            inds = [np.random.randint(s, e + 1) for s, e in zip(starts, ends, strict=True)]
            clips = 1
        return _finish(
            results,
            np.asarray(inds),
            clip_len=self.clip_len,
            frame_interval=None,
            num_clips=clips,
            num_views=clips,
        )

    def __repr__(self) -> str:
        return (
            f"UniformSample(clip_len={self.clip_len}, num_clips={self.num_clips}, test_mode={self.test_mode})"
        )


class UniformSampleFrames:
    """MMAction2's ``UniformSampleFrames`` (PoseC3D): ``num_clips`` clips, each one frame from each of
    ``clip_len`` equal segments; short videos get consecutive frames (wrapped).

    Test mode is reproducible: it draws from its own generator seeded with ``seed`` (MMAction2 re-seeds the
    global generator instead; the indices are the same, but ours leaves the global state alone).
    """

    def __init__(self, clip_len: int, num_clips: int = 1, test_mode: bool = False, seed: int = 255) -> None:
        self.clip_len = _check_positive("clip_len", clip_len)
        self.num_clips = _check_positive("num_clips", num_clips)
        self.test_mode = bool(test_mode)
        self.seed = int(seed)

    def _clip(self, total: int, k: int, rng: Any) -> np.ndarray:
        n = self.clip_len
        if total < n:
            if self.test_mode:
                first = k if total < self.num_clips else k * total // self.num_clips
            else:
                first = rng.randint(0, total)
            return np.arange(first, first + n)
        if total < 2 * n:
            # Spread the total - n spare frames as single-frame skips between the n picked frames.
            skips = np.zeros(n + 1, dtype=np.int64)
            skips[rng.choice(n + 1, total - n, replace=False)] = 1
            return np.arange(n) + np.cumsum(skips)[:-1]
        bounds = np.array([i * total // n for i in range(n + 1)])
        return bounds[:n] + rng.randint(np.diff(bounds))

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        total = media_num_frames(results)
        rng = np.random.RandomState(self.seed) if self.test_mode else np.random
        inds = np.concatenate([self._clip(total, k, rng) for k in range(self.num_clips)])
        return _finish(
            results,
            np.mod(inds, total),
            clip_len=self.clip_len,
            frame_interval=None,
            num_clips=self.num_clips,
            num_views=self.num_clips,
        )

    def __repr__(self) -> str:
        return (
            f"UniformSampleFrames(clip_len={self.clip_len}, num_clips={self.num_clips}, "
            f"test_mode={self.test_mode}, seed={self.seed})"
        )
