import pytest
import torch

from action_tsm.shift import TemporalShiftConv2d, temporal_max_pool, temporal_shift


def reference_shift(x, segments, div):
    """Element-by-element statement of TSM's shift, for comparison."""
    nt, c, h, w = x.shape
    out = torch.zeros_like(x)
    fold = c // div
    for n in range(nt // segments):
        for t in range(segments):
            i = n * segments + t
            for ch in range(c):
                if ch < fold:
                    src = t + 1
                elif ch < 2 * fold:
                    src = t - 1
                else:
                    src = t
                if 0 <= src < segments:
                    out[i, ch] = x[n * segments + src, ch]
    return out


@pytest.mark.parametrize(("segments", "div", "channels"), [(4, 8, 16), (3, 4, 10), (8, 8, 8), (2, 3, 7)])
def test_shift_matches_reference(segments, div, channels):
    torch.manual_seed(0)
    x = torch.randn(2 * segments, channels, 2, 3)
    torch.testing.assert_close(temporal_shift(x, segments, div), reference_shift(x, segments, div))


def test_shift_keeps_channels_last_without_a_layout_copy():
    # a channels_last network's next convolution gets its layout directly (no conversion copy), in both
    # directions, with the same values as the contiguous shift
    torch.manual_seed(0)
    x = torch.randn(8, 16, 3, 5).contiguous(memory_format=torch.channels_last).requires_grad_()
    out = temporal_shift(x, 4, 8)
    assert out.is_contiguous(memory_format=torch.channels_last) and not out.is_contiguous()
    torch.testing.assert_close(out, reference_shift(x.detach().contiguous(), 4, 8))
    g = torch.randn(8, 16, 3, 5).contiguous(memory_format=torch.channels_last)
    out.backward(g)
    assert x.grad.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close((out.detach() * g).sum(), (x.detach() * x.grad).sum())
    assert temporal_shift(x.detach().contiguous(), 4, 8).is_contiguous()


def test_shift_gradient_is_the_reverse_shift():
    x = torch.randn(8, 16, 2, 2, requires_grad=True)
    g = torch.randn(8, 16, 2, 2)
    temporal_shift(x, 4, 8).backward(g)
    # the adjoint of shifting is shifting back: <S x, g> == <x, S^T g>
    lhs = (temporal_shift(x.detach(), 4, 8) * g).sum()
    rhs = (x.detach() * x.grad).sum()
    torch.testing.assert_close(lhs, rhs)


def test_shift_rejects_partial_clips():
    with pytest.raises(ValueError, match="num_segments=4"):
        temporal_shift(torch.randn(6, 8, 2, 2), 4, 8)


def test_temporal_max_pool_halves_time():
    x = torch.randn(2 * 8, 3, 2, 2)
    out = temporal_max_pool(x, 8)
    assert out.shape == (2 * 4, 3, 2, 2)
    clip = x[:8]
    # window centred on even t, size 3, padding 1
    expected0 = torch.maximum(clip[0], clip[1])
    expected1 = torch.stack([clip[1], clip[2], clip[3]]).amax(0)
    torch.testing.assert_close(out[0], expected0)
    torch.testing.assert_close(out[1], expected1)


def test_shift_conv_shares_parameters_and_shifts_first():
    conv = torch.nn.Conv2d(8, 4, 1, bias=False)
    shifted = TemporalShiftConv2d.from_conv(conv, num_segments=2, shift_div=4)
    assert shifted.weight is conv.weight
    assert set(shifted.state_dict()) == {"weight"}
    x = torch.randn(4, 8, 3, 3)
    torch.testing.assert_close(shifted(x), conv(temporal_shift(x, 2, 4)))


def test_shift_gradcheck():
    x = torch.randn(6, 8, 2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: temporal_shift(t, 3, 4), (x,))
