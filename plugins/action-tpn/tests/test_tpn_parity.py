"""Logits and training losses equal MMAction2 1.2.0's for the same weights and input.

The fixture (tools/make_mmaction2_fixtures.py) holds MMAction2's key names and shapes, eval-mode logits and
a training step's ``loss_cls`` / ``loss_aux``; the weights are rebuilt here from the key names
(fixture_weights), converted with our converter and loaded strictly.
"""

from pathlib import Path

import pytest
import torch
from fixture_weights import fixture_state_dict

from action_core.api import count_parameters, load_weights
from action_tpn import convert
from action_tpn.models import tpn_tsm_resnet

FIXTURE = torch.load(Path(__file__).parent / "fixtures" / "mmaction2_tpn.pt", weights_only=True)
CASES = FIXTURE["cases"]
SLOW = {"tpn_tsm_r50"}


def load_case(name):
    case = CASES[name]
    mm_state = fixture_state_dict(dict(zip(case["keys"], case["shapes"], strict=True)))
    kwargs = dict(case["kwargs"])
    model = tpn_tsm_resnet(kwargs.pop("depth"), **kwargs)
    checkpoint = {"state_dict": mm_state, "meta": {"mmaction2": "1.2.0"}}
    report = load_weights(model, checkpoint, converter="tpn_from_mmaction")
    assert report.ok, report.summary()
    return case, mm_state, model


PARAMS = [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(CASES)]


@pytest.mark.parametrize("name", PARAMS)
def test_eval_logits_equal_mmaction2_and_keys_export_back(name):
    case, mm_state, model = load_case(name)
    assert count_parameters(model) == case["num_params"]
    model.eval()
    with torch.no_grad():
        logits = model(FIXTURE["input"])
    assert case["logits"].std() > 0.1
    torch.testing.assert_close(logits, case["logits"], rtol=0, atol=1e-4)

    exported = convert.to_mmaction(model)
    assert sorted(exported) == sorted(case["keys"])
    for key, value in exported.items():
        assert torch.equal(value, mm_state[key]), key


@pytest.mark.parametrize("name", PARAMS)
def test_training_loss_equals_mmaction2_loss_cls_plus_loss_aux(name):
    case, _, model = load_case(name)
    model.train()
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.eval()  # the fixture's step ran without dropout
    labels = FIXTURE["labels"]
    with torch.no_grad():
        logits = model(FIXTURE["input"])
        aux = model.neck.aux_loss(labels)
        total = model.loss(logits, labels)  # aux logits consumed above: head loss only
        torch.testing.assert_close(total, case["loss_cls"], rtol=0, atol=1e-4)
        torch.testing.assert_close(aux, case["loss_aux"], rtol=0, atol=1e-4)

        logits = model(FIXTURE["input"])
        total = model.loss(logits, labels)
    torch.testing.assert_close(total, case["loss_cls"] + case["loss_aux"], rtol=0, atol=1e-4)
