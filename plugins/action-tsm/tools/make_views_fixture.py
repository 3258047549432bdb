"""Write the multi-view reference of ``tests/test_views_mmaction_parity.py`` (run by hand, never by pytest).

Run with a Python that has MMAction2 1.2.0 and PyAV installed (a side environment, never a project
dependency):

    python plugins/action-tsm/tools/make_views_fixture.py

It writes a small video (``tests/fixtures/views_clip.mp4``: 24 frames of 80x56, MPEG-4 Part 2, whose encoder
gives the same bytes every run) and runs MMAction2's own test pipeline and TSM-R50 on it: 10 clips x 3 crops,
the views ``action-run test --views 10x3`` takes on a TSM-R50 preset whose test crop is 56 (``SampleFrames``
with ``num_clips = 10 x 8`` in test mode, which MMAction2's TSM groups into 10 clips of 8 segments;
``Resize(-1, 56)``; ``ThreeCrop(56)``; average of the 30 views' softmax, ``average_clips='prob'``). The model's
weights are the deterministic stand-ins of ``tests/tsm_fixture_weights.py`` (rebuilt from the key names by
the test, so no weights are stored). Stored in ``tests/fixtures/views_tsm_r50.json``: the probabilities, the
frame indices MMAction2 sampled, and how they were made.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import av
import numpy as np
import torch

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent / "tests"
FIXTURES = TESTS / "fixtures"
VIDEO = FIXTURES / "views_clip.mp4"
NUM_CLASSES = 5
SEGMENTS = 8
CLIPS, CROPS = 10, 3
CROP = 56

sys.path.insert(0, str(TESTS))
from tsm_fixture_weights import fixture_state_dict  # noqa: E402


def write_clip(path: Path) -> None:
    """24 frames of 80x56: a gradient moving right plus seeded noise, so every frame and crop differs."""
    rng = np.random.default_rng(0)
    height, width, frames = 56, 80, 24
    ys, xs = np.mgrid[0:height, 0:width]
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=8)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.thread_count = 1
        stream.codec_context.qmin = 1
        stream.codec_context.qmax = 2
        for t in range(frames):
            base = (xs * 3 + ys * 2 + t * 9) % 256
            img = np.stack([base, (base * 2 + 40) % 256, 255 - base], axis=-1).astype(np.int16)
            img += rng.integers(-20, 21, size=img.shape, dtype=np.int16)
            frame = av.VideoFrame.from_ndarray(np.clip(img, 0, 255).astype(np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def main() -> None:
    sys.modules.setdefault("mmaction.models.multimodal", types.ModuleType("mmaction.models.multimodal"))
    import mmaction
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    from mmengine.config import Config
    from mmengine.dataset import Compose, pseudo_collate

    register_all_modules()
    FIXTURES.mkdir(parents=True, exist_ok=True)
    write_clip(VIDEO)

    base = Path(mmaction.__file__).parent / ".mim" / "configs" / "_base_" / "models" / "tsm_r50.py"
    model_cfg = Config.fromfile(str(base)).model
    model_cfg.backbone.pretrained = None
    model_cfg.cls_head.update(num_classes=NUM_CLASSES, average_clips="prob")
    model = MODELS.build(model_cfg)
    shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
    model.load_state_dict(fixture_state_dict(shapes), strict=True)
    model.eval()

    steps = [
        dict(type="PyAVInit"),
        dict(type="SampleFrames", clip_len=1, frame_interval=1, num_clips=CLIPS * SEGMENTS, test_mode=True),
        dict(type="PyAVDecode"),
        dict(type="Resize", scale=(-1, CROP)),
        dict(type="ThreeCrop", crop_size=CROP),
        dict(type="FormatShape", input_format="NCHW"),
        dict(type="PackActionInputs"),
    ]
    results = Compose(steps[:2])(dict(filename=str(VIDEO), label=0, start_index=0, modality="RGB"))
    frame_inds = np.asarray(results["frame_inds"]).astype(int).tolist()
    data = Compose(steps)(dict(filename=str(VIDEO), label=0, start_index=0, modality="RGB"))
    assert tuple(data["inputs"].shape) == (CROPS * CLIPS * SEGMENTS, 3, CROP, CROP), data["inputs"].shape
    with torch.no_grad():
        (sample,) = model.test_step(pseudo_collate([data]))
    probs = sample.pred_score.float().tolist()
    document = {
        "made_by": "plugins/action-tsm/tools/make_views_fixture.py",
        "mmaction": mmaction.__version__,
        "pyav": av.__version__,
        "video": VIDEO.name,
        "views": f"{CLIPS}x{CROPS}",
        "num_classes": NUM_CLASSES,
        "pipeline": [{k: list(v) if isinstance(v, tuple) else v for k, v in s.items()} for s in steps],
        "frame_inds": frame_inds,
        "probs": probs,
    }
    out = FIXTURES / "views_tsm_r50.json"
    out.write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {out} and {VIDEO} ({VIDEO.stat().st_size} bytes); probs {probs}")


if __name__ == "__main__":
    main()
