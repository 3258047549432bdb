"""Logits and the training loss equal MMAction2 1.2.0's for the same weights, input and segment tuples.

The fixture (tools/make_mmaction2_fixtures.py) holds MMAction2's key names and shapes, eval-mode logits and
a training step's ``loss_cls`` with the segment tuples its head drew for each; the weights are rebuilt
here from the key names (fixture_weights), converted with our converter and loaded strictly, and our head
is given the same tuples.
"""

from pathlib import Path

import pytest
import torch
from fixture_weights import fixture_state_dict

from action_core.api import count_parameters, load_weights
from action_trn import convert
from action_trn.models import trn_resnet

FIXTURE = torch.load(Path(__file__).parent / "fixtures" / "mmaction2_trn.pt", weights_only=True)
CASES = FIXTURE["cases"]
PARAMS = [pytest.param(n, marks=pytest.mark.slow) if n == "trn_r50" else n for n in sorted(CASES)]


def load_case(name):
    case = CASES[name]
    mm_state = fixture_state_dict(dict(zip(case["keys"], case["shapes"], strict=True)))
    kwargs = dict(case["kwargs"])
    model = trn_resnet(kwargs.pop("depth"), **kwargs)
    checkpoint = {"state_dict": mm_state, "meta": {"mmaction2": "1.2.0"}}
    report = load_weights(model, checkpoint, converter="trn_from_mmaction")
    assert report.ok, report.summary()
    return case, mm_state, model


def use_relations(model, draws):
    if draws:
        model.head.consensus.set_eval_relations(draws)


@pytest.mark.parametrize("name", PARAMS)
def test_eval_logits_equal_mmaction2_and_keys_export_back(name):
    case, mm_state, model = load_case(name)
    assert count_parameters(model) == case["num_params"]
    use_relations(model, case["eval_relations"])
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
def test_training_loss_with_partial_bn_equals_mmaction2(name):
    case, _, model = load_case(name)
    model.train()
    assert count_parameters(model, trainable_only=True) == case["num_trainable"]
    model.head.dropout.eval()  # the fixture's step ran without dropout
    # MMAction2 drew these tuples in its training forward; evaluate the relation module on the same draw.
    use_relations(model, case["train_relations"])
    model.head.consensus.eval()
    with torch.no_grad():
        loss = model.loss(model(FIXTURE["input"]), FIXTURE["labels"])
    torch.testing.assert_close(loss, case["loss_cls"], rtol=0, atol=1e-4)
