import pytest
import torch
from torch import nn

from action_core.models import I3DHead, Recognizer2D, Recognizer3D, TSMHead, TSNHead


class FrameConv(nn.Module):
    """A tiny 2D backbone: one conv, so features keep a spatial extent."""

    def __init__(self, out_channels: int = 6) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, out_channels, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class ClipConv(nn.Module):
    def __init__(self, out_channels: int = 6) -> None:
        super().__init__()
        self.conv = nn.Conv3d(3, out_channels, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


def test_tsn_head_averages_segment_features_before_classifier():
    torch.manual_seed(0)
    head = TSNHead(5, 6, dropout_ratio=0.0).eval()
    feats = torch.randn(2 * 3, 6, 4, 4)
    logits = head(feats, num_segs=3)
    pooled = feats.mean(dim=(2, 3)).reshape(2, 3, 6).mean(dim=1)
    expected = pooled @ head.fc_cls.weight.T + head.fc_cls.bias
    torch.testing.assert_close(logits, expected)
    assert logits.shape == (2, 5)


def test_tsn_head_without_spatial_pool_takes_vectors():
    head = TSNHead(4, 6, spatial_type=None, dropout_ratio=0.0)
    assert head(torch.randn(8, 6), num_segs=4).shape == (2, 4)


def test_tsm_head_averages_per_segment_scores():
    torch.manual_seed(0)
    head = TSMHead(5, 6, num_segments=4, dropout_ratio=0.0).eval()
    feats = torch.randn(2 * 4, 6, 3, 3)
    per_segment = head.fc_cls(feats.mean(dim=(2, 3)))
    torch.testing.assert_close(head(feats), per_segment.reshape(2, 4, 5).mean(dim=1))


def test_tsm_head_temporal_pool_halves_the_consensus():
    head = TSMHead(5, 6, num_segments=8, temporal_pool=True, dropout_ratio=0.0).eval()
    feats = torch.randn(3 * 4, 6, 2, 2)
    assert head(feats, num_segs=8).shape == (3, 5)


def test_i3d_head_pools_space_and_time():
    torch.manual_seed(0)
    head = I3DHead(7, 6, dropout_ratio=0.0)
    feats = torch.randn(2, 6, 2, 3, 3)
    expected = head.fc_cls(feats.mean(dim=(2, 3, 4)))
    torch.testing.assert_close(head(feats), expected)


def test_head_init_follows_init_std_and_names_fc_cls():
    torch.manual_seed(0)
    head = TSNHead(400, 2048, init_std=0.01)
    assert set(head.state_dict()) == {"fc_cls.weight", "fc_cls.bias"}
    assert abs(head.fc_cls.weight.std().item() - 0.01) < 5e-4
    assert torch.count_nonzero(head.fc_cls.bias) == 0


@pytest.mark.parametrize("bad", [{"dropout_ratio": 1.0}, {"spatial_type": "max"}])
def test_head_rejects_bad_arguments(bad):
    with pytest.raises(ValueError):
        TSNHead(3, 4, **bad)


def test_head_dropout_active_in_training_only():
    torch.manual_seed(0)
    head = TSNHead(3, 64, dropout_ratio=0.5)
    feats = torch.randn(4, 64, 2, 2)
    head.train()
    a, b = head(feats, num_segs=2), head(feats, num_segs=2)
    assert not torch.equal(a, b)
    head.eval()
    torch.testing.assert_close(head(feats, num_segs=2), head(feats, num_segs=2))


def test_recognizer2d_folds_segments_and_matches_manual_pipeline():
    torch.manual_seed(0)
    model = Recognizer2D(FrameConv(), TSNHead(5, 6, dropout_ratio=0.0)).eval()
    assert model.input_format == "NTCHW"
    x = torch.randn(2, 3, 3, 8, 8)
    expected = model.head(model.backbone(x.reshape(6, 3, 8, 8)), num_segs=3)
    torch.testing.assert_close(model(x), expected)
    assert model.num_classes == 5


def test_recognizer2d_batch_items_are_independent():
    torch.manual_seed(0)
    model = Recognizer2D(FrameConv(), TSNHead(5, 6, dropout_ratio=0.0)).eval()
    x = torch.randn(3, 4, 3, 8, 8)
    torch.testing.assert_close(model(x)[1:2], model(x[1:2]))


def test_recognizer3d_and_neck():
    torch.manual_seed(0)
    neck = nn.Conv3d(6, 6, 1)
    model = Recognizer3D(ClipConv(), I3DHead(4, 6, dropout_ratio=0.0), neck=neck).eval()
    assert model.input_format == "NCTHW"
    x = torch.randn(2, 3, 4, 8, 8)
    torch.testing.assert_close(model(x), model.head(neck(model.backbone(x))))


@pytest.mark.parametrize("cls", [Recognizer2D, Recognizer3D])
def test_recognizer_rejects_non_5d_input(cls):
    model = cls(FrameConv(), TSNHead(5, 6))
    with pytest.raises(ValueError, match="5-D"):
        model(torch.randn(2, 3, 8, 8))


def test_recognizer_loss_and_backward():
    torch.manual_seed(0)
    model = Recognizer2D(FrameConv(), TSNHead(5, 6))
    logits = model(torch.randn(2, 2, 3, 8, 8))
    loss = model.loss(logits, torch.tensor([1, 4]))
    loss.backward()
    assert loss.item() > 0
    assert model.backbone.conv.weight.grad is not None
