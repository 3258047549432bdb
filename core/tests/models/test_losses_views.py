import math

import pytest
import torch

from action_core.models import BCELossWithLogits, CrossEntropyLoss, TSNHead, average_views


def test_cross_entropy_label_smoothing_matches_smoothed_onehot():
    torch.manual_seed(0)
    logits, target, eps = torch.randn(4, 5), torch.tensor([0, 3, 2, 4]), 0.1
    smoothed = (1 - eps) * torch.nn.functional.one_hot(target, 5).float() + eps / 5
    expected = -(smoothed * logits.log_softmax(1)).sum(1).mean()
    torch.testing.assert_close(CrossEntropyLoss(label_smoothing=eps)(logits, target), expected)


def test_cross_entropy_soft_targets_and_weight():
    torch.manual_seed(0)
    logits = torch.randn(3, 4)
    soft = torch.softmax(torch.randn(3, 4), 1)
    expected = -(soft * logits.log_softmax(1)).sum(1).mean() * 2.0
    torch.testing.assert_close(CrossEntropyLoss(loss_weight=2.0)(logits, soft), expected)
    with pytest.raises(ValueError, match="shape"):
        CrossEntropyLoss()(logits, torch.rand(3, 5))


def test_cross_entropy_class_weight():
    logits = torch.zeros(2, 2)
    loss = CrossEntropyLoss(class_weight=[1.0, 3.0])(logits, torch.tensor([0, 1]))
    torch.testing.assert_close(loss, torch.tensor(math.log(2.0)))


def test_bce_multilabel():
    torch.manual_seed(0)
    logits = torch.randn(3, 4)
    target = (torch.rand(3, 4) > 0.5).float()
    p = logits.sigmoid()
    expected = -(target * p.log() + (1 - target) * (1 - p).log()).mean()
    torch.testing.assert_close(BCELossWithLogits()(logits, target), expected)
    with pytest.raises(ValueError, match="multi-hot"):
        BCELossWithLogits()(logits, torch.tensor([0, 1, 2]))


def test_head_uses_given_loss():
    head = TSNHead(4, 6, loss=BCELossWithLogits())
    logits = torch.randn(2, 4)
    target = torch.tensor([[1.0, 0, 0, 1], [0, 1, 0, 0]])
    torch.testing.assert_close(head.loss(logits, target), BCELossWithLogits()(logits, target))


def test_average_views_modes():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 5)
    torch.testing.assert_close(
        average_views(logits, "score"), (logits[:, 0] + logits[:, 1] + logits[:, 2]) / 3
    )
    probs = average_views(logits, "prob")
    torch.testing.assert_close(probs.sum(1), torch.ones(2))
    torch.testing.assert_close(probs[0], sum(torch.softmax(logits[0, v], 0) for v in range(3)) / 3)
    with pytest.raises(ValueError, match="mode"):
        average_views(logits, "max")
    with pytest.raises(ValueError, match=r"\(N, V, K\)"):
        average_views(logits[0])
