"""Logits equal MMAction2 1.2.0's for the same weights and input (fixture made by make_fixtures.py).

The fixture holds MMAction2's key names, shapes and eval-mode logits for tiny-input models whose weights
are rebuilt deterministically from the key names (tsm_fixture_weights), so MMAction2 is not needed here.
"""

import importlib
from pathlib import Path

import pytest
import torch
from tsm_fixture_weights import fixture_state_dict

from action_core.api import count_parameters, load_weights
from action_tsm import convert as tsm_convert
from action_tsn import convert as tsn_convert

FIXTURE = torch.load(Path(__file__).parent / "fixtures" / "mmaction_2d_logits.pt", weights_only=True)
CASES = FIXTURE["cases"]
SLOW = {"tsn_r50", "tsm_r101"}  # covered in CI; the fast cases exercise the same code paths


def build(case):
    family = case["builder"].split("_")[0]
    module = importlib.import_module(f"action_{family}.models")
    return getattr(module, case["builder"])(**case["kwargs"])


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(CASES)]
)
def test_mmaction_checkpoint_gives_mmaction_logits_and_exports_back(name):
    case = CASES[name]
    mm_state = fixture_state_dict(dict(zip(case["keys"], case["shapes"], strict=True)))
    model = build(case).eval()
    checkpoint = {"state_dict": mm_state, "meta": {"mmaction2": "1.2.0"}}
    report = load_weights(model, checkpoint, converter=f"{case['builder'].split('_')[0]}_from_mmaction")
    assert report.ok, report.summary()
    assert count_parameters(model) == case["num_params"]
    with torch.no_grad():
        logits = model(FIXTURE["input"])
    torch.testing.assert_close(logits, case["logits"], rtol=0, atol=1e-4)

    exported = tsm_convert.to_mmaction(model) if name.startswith("tsm") else tsn_convert.to_mmaction(model)
    assert sorted(exported) == sorted(case["keys"])
    for key, value in exported.items():
        assert torch.equal(value, mm_state[key]), key
