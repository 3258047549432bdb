"""One timeline run for ``bench_timeline.py memory``: CHECKPOINT VIDEO OUT_JSON STRIDE; prints a JSON line
with the video's duration and frames, the windows and the seconds the timeline took."""

from __future__ import annotations

import json
import sys
import time

from action_core.api import Inferencer, auto_views, make_timeline


def main() -> None:
    checkpoint, video, out, stride = sys.argv[1:5]
    inferencer = Inferencer.load(checkpoint, device="cpu")
    inferencer = inferencer.with_views(auto_views(inferencer.pipeline_steps))
    start = time.perf_counter()
    timeline = make_timeline(inferencer, video, stride=stride)
    seconds = time.perf_counter() - start
    timeline.write_json(out)
    report = {
        "duration": timeline.duration,
        "frames": timeline.num_frames,
        "windows": len(timeline.starts),
        "seconds": seconds,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
