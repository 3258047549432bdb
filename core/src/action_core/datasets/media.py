"""Look at media files without preparing them: can they be opened, how many frames do they hold, does the
header agree. Also the process-parallel map with a progress bar that ``prepare`` and ``doctor`` share."""

from __future__ import annotations

import concurrent.futures
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import attrs

from action_core.datasets.building import RAWFRAME_TEMPLATE, count_frames

T = TypeVar("T")
R = TypeVar("R")


@attrs.frozen
class Probe:
    """What opening one clip found.

    ``cause`` is None for a readable clip, else one of ``missing``, ``empty``, ``truncated``,
    ``undecodable``, ... as the reader reports it; ``message`` says it in words. ``num_frames`` is the
    number of frames actually present, ``header_frames`` what the container header claims (0 = none).
    ``fallback`` says why the reader could not index the clip and reads it by decoding from the start
    (exact but slower), or is None.
    """

    path: str
    num_frames: int | None = None
    header_frames: int | None = None
    cause: str | None = None
    message: str = ""
    fallback: str | None = None

    @property
    def ok(self) -> bool:
        """True when the clip could be opened."""
        return self.cause is None


_CHUNK = 32  # frames per decode call when every frame is checked (bounds the memory of a long clip)


def _decode_all_or_ends(reader: Any, every_frame: bool) -> None:
    n = int(reader.num_frames)
    if not every_frame:
        reader.get_frames(sorted({0, n // 2, n - 1}))
        return
    for start in range(0, n, _CHUNK):
        reader.get_frames(list(range(start, min(start + _CHUNK, n))))


def probe_video(path: str, *, every_frame: bool = False) -> Probe:
    """Open ``path`` with :class:`~action_core.video.VideoReader`, the reader training uses, and report its
    frame counts or the failure.

    Decoding proves the clip reads as training will read it: ``every_frame`` decodes all of them (what
    ``doctor`` does: damage can sit between any two frames), else the first, the middle and the last.
    """
    from action_core.video import MediaError, VideoReader

    try:
        with VideoReader(path) as reader:
            _decode_all_or_ends(reader, every_frame)
            return Probe(
                path,
                num_frames=int(reader.num_frames),
                header_frames=int(reader.header_num_frames),
                fallback=reader.fallback_reason,
            )
    except MediaError as e:
        return Probe(path, cause=e.cause or "undecodable", message=str(e))
    except Exception as e:  # any decoder failure is a finding about this file, not a crash of the check
        return Probe(path, cause="undecodable", message=f"{type(e).__name__}: {e}")


def probe_frame_dir(
    path: str, template: str = RAWFRAME_TEMPLATE, start_index: int = 1, *, every_frame: bool = False
) -> Probe:
    """Count the frames of a frame folder and decode them with
    :class:`~action_core.video.RawframeReader`, the reader training uses (``every_frame``: all of them,
    else the first, the middle and the last)."""
    from action_core.video import MediaError, RawframeReader

    if not os.path.isdir(path):
        return Probe(path, cause="missing", message=f"frame folder {path!r} does not exist")
    n = count_frames(path, template, start_index)
    if n == 0:
        return Probe(
            path, num_frames=0, cause="empty", message=f"frame folder {path!r} holds no {template!r} frames"
        )
    try:
        with RawframeReader(path, template=template, start_index=start_index, num_frames=n) as reader:
            _decode_all_or_ends(reader, every_frame)
    except MediaError as e:
        return Probe(path, num_frames=n, cause=e.cause or "undecodable", message=str(e))
    except Exception as e:
        return Probe(path, num_frames=n, cause="undecodable", message=f"{type(e).__name__}: {e}")
    return Probe(path, num_frames=n)


def parallel_map(
    func: Callable[[T], R],
    items: Sequence[T],
    *,
    workers: int = 1,
    desc: str = "",
    progress: bool = True,
    on_result: Callable[[T, R], None] | None = None,
) -> list[R]:
    """``[func(x) for x in items]`` across ``workers`` processes, with a tqdm progress bar.

    ``func`` must be a picklable top-level function. ``on_result`` is called in this process as each item
    finishes (in completion order); an exception it raises stops the run (pending items are cancelled).
    """
    results: list[Any] = [None] * len(items)
    bar = _bar(len(items), desc, progress)
    try:
        if workers <= 1 or len(items) <= 1:
            for i, item in enumerate(items):
                results[i] = func(item)
                bar.update(1)
                if on_result is not None:
                    on_result(item, results[i])
            return results
        with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(func, item): i for i, item in enumerate(items)}
            try:
                for future in concurrent.futures.as_completed(futures):
                    i = futures[future]
                    results[i] = future.result()
                    bar.update(1)
                    if on_result is not None:
                        on_result(items[i], results[i])
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
        return results
    finally:
        bar.close()


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(total: int, desc: str, progress: bool) -> Any:
    if not progress:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="clip", dynamic_ncols=True)


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
