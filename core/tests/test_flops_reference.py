"""FLOPs and parameters of the six recognizers against MMAction2's published model-zoo figures (issue 10 bar).

Published figures: MMAction2 1.2.0, ``configs/recognition/<model>/metafile.yml`` (the same numbers as the
model-zoo tables in each README), Kinetics-400 rows. MMAction2 counts multiply-accumulates with mmengine's
analyzer and calls them FLOPs, so they are compared with :attr:`FlopReport.macs`. The metafiles do not record
the input shape; the shapes below are the ones that reproduce the figures (checked by running mmengine's
``FlopAnalyzer`` on MMAction2's own models, see docs/benchmarks-tools.md): 2D rows are one 224x224 view of
the test clip's frames (25 for TSN's 25-segment test, 8 for TSM), 3D rows one 256x256 view. The remaining
gap (< 1 %) is mmengine also counting batch norm (1 per element), which torch's FlopCounterMode does not.

The models come from plugins that the isolated core test environment does not install; each row skips
there and runs in the shared development environment.
"""

from __future__ import annotations

import pytest

from action_core.models.weights import count_parameters
from action_core.tools.flops import count_flops

# (plugin package, model, builder kwargs, input shape, MMAction2 row, published GFLOPs (MACs), published M params)
ROWS = [
    (
        "action_tsn",
        "tsn_r50",
        {"num_segments": 25},
        (1, 25, 3, 224, 224),
        "tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb",
        102.7,
        24.33,
    ),
    (
        "action_tsm",
        "tsm_r50",
        {"num_segments": 8},
        (1, 8, 3, 224, 224),
        "tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb",
        32.88,
        23.87,
    ),
    (
        "action_i3d",
        "i3d_r50",
        {},
        (1, 3, 32, 256, 256),
        "i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb",
        43.5,
        28.0,
    ),
    (
        "action_slowonly",
        "slowonly_r50",
        {},
        (1, 3, 4, 256, 256),
        "slowonly_r50_8xb16-4x16x1-256e_kinetics400-rgb",
        27.38,
        32.45,
    ),
    (
        "action_slowfast",
        "slowfast_r50",
        {},
        (1, 3, 32, 256, 256),
        "slowfast_r50_8xb8-4x16x1-256e_kinetics400-rgb",
        36.3,
        34.5,
    ),
    (
        "action_r2plus1d",
        "r2plus1d_r34",
        {},
        (1, 3, 8, 256, 256),
        "r2plus1d_r34_8xb8-8x8x1-180e_kinetics400-rgb",
        53.1,
        63.8,
    ),
]


def _build(package: str, name: str, **kwargs):
    pytest.importorskip(package)
    import action_core

    return action_core.build_model(name, **kwargs)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("package", "name", "kwargs", "shape", "row", "gflops", "mparams"), ROWS, ids=[r[1] for r in ROWS]
)
def test_flops_and_params_match_mmaction2_model_zoo(
    package, name, kwargs, shape, row, gflops, mparams
) -> None:
    model = _build(package, name, num_classes=400, **kwargs)
    report = count_flops(model, shape)
    macs = report.macs / 1e9
    params = report.params / 1e6
    assert abs(macs - gflops) / gflops <= 0.02, f"{name} ({row}): {macs:.2f} GMACs vs published {gflops} G"
    # torch counts convolutions and matrix products only; mmengine adds batch norm, so ours is a bit lower.
    assert macs < gflops
    assert abs(params - mparams) / mparams <= 0.02, f"{name} ({row}): {params:.2f} M vs published {mparams} M"


@pytest.mark.slow
def test_published_tsm_parameter_count_is_the_174_class_model() -> None:
    # The Kinetics-400 TSM-R50 row lists 23.87 M parameters, 1.9 % below the 24.33 M of the 400-class model
    # (MMAction2's own model has 24,327,632, as ours). 23.87 M is the count with a 174-class head
    # (Something-Something V2 rows): the figure appears to be copied across rows; the network is the same.
    assert count_parameters(_build("action_tsm", "tsm_r50", num_classes=400)) == 24_327_632
    # 23,864,558 with 174 classes: 0.02 % from the published 23.87 M, against 1.9 % with 400.
    assert count_parameters(_build("action_tsm", "tsm_r50", num_classes=174)) == pytest.approx(
        23.87e6, rel=5e-4
    )
