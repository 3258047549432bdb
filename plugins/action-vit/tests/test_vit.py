import pytest
import torch
from torch import nn

from action_core.api import count_flops
from action_testkit import PluginConformance
from action_vit import (
    DropPath,
    Mlp,
    MultiheadSelfAttention,
    VisionTransformer3D,
    convert_mmaction2_vit3d,
    is_fixed_sinusoid_table,
    sinusoid_position_encoding,
)

NARROW = {"img_size": 32, "patch_size": 8, "embed_dims": 32, "depth": 2, "num_heads": 4, "num_frames": 4}


def test_attention_equals_nn_multihead_attention():
    torch.manual_seed(0)
    reference = nn.MultiheadAttention(32, 4, batch_first=True).eval()
    ours = MultiheadSelfAttention(32, 4).eval()
    with torch.no_grad():
        for p in reference.parameters():
            p.normal_(std=0.2)
        ours.qkv.weight.copy_(reference.in_proj_weight)
        ours.qkv.bias.copy_(reference.in_proj_bias)
        ours.proj.load_state_dict(reference.out_proj.state_dict())
        x = torch.randn(3, 10, 32)
        torch.testing.assert_close(ours(x), reference(x, x, x)[0], rtol=0, atol=1e-5)


def test_attention_runs_through_scaled_dot_product_attention(monkeypatch):
    calls = []
    sdpa = torch.nn.functional.scaled_dot_product_attention

    def spy(*args, **kwargs):
        calls.append(args[0].shape)
        return sdpa(*args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", spy)
    MultiheadSelfAttention(32, 4)(torch.randn(2, 5, 32))
    assert calls == [torch.Size([2, 4, 5, 8])]


def test_qv_bias_attention_is_the_explicit_computation():
    torch.manual_seed(1)
    attn = MultiheadSelfAttention(16, 2, bias="qv", scale=0.3).eval()
    assert attn.qkv.bias is None and {n for n, _ in attn.named_parameters()} == {
        "q_bias",
        "v_bias",
        "qkv.weight",
        "proj.weight",
        "proj.bias",
    }
    with torch.no_grad():
        attn.q_bias.normal_()
        attn.v_bias.normal_()
        x = torch.randn(2, 7, 16)
        q, k, v = (x @ attn.qkv.weight.T).chunk(3, dim=-1)
        q, v = q + attn.q_bias, v + attn.v_bias
        heads = [t.reshape(2, 7, 2, 8).transpose(1, 2) for t in (q, k, v)]
        weights = (heads[0] @ heads[1].transpose(-1, -2) * 0.3).softmax(-1)
        expected = attn.proj((weights @ heads[2]).transpose(1, 2).reshape(2, 7, 16))
        torch.testing.assert_close(attn(x), expected, rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="multiple of num_heads"):
        MultiheadSelfAttention(30, 4)
    with pytest.raises(ValueError, match="bias must be one of"):
        MultiheadSelfAttention(32, 4, bias="k")


def test_sinusoid_table_follows_the_formula():
    table = sinusoid_position_encoding(50, 12)
    assert table.shape == (1, 50, 12) and table.dtype == torch.float32
    p, i = 17, 5  # odd channel: cosine of the angle of channel i - 1
    assert table[0, p, i].item() == pytest.approx(torch.cos(torch.tensor(p / 10000 ** (4 / 12))).item())
    assert table[0, p, 4].item() == pytest.approx(torch.sin(torch.tensor(p / 10000 ** (4 / 12))).item())
    assert is_fixed_sinusoid_table(table) and not is_fixed_sinusoid_table(table + 0.01)


def test_drop_path_drops_whole_samples_in_training_only():
    x = torch.ones(1000, 3, 4)
    layer = DropPath(0.25)
    kept = layer.train()(x)
    per_sample = kept.flatten(1)
    assert set(per_sample.unique().tolist()) <= {0.0, torch.tensor(1.0 / 0.75).item()}
    assert bool((per_sample == per_sample[:, :1]).all())
    assert 0.15 < (per_sample[:, 0] == 0).float().mean() < 0.35
    assert torch.equal(layer.eval()(x), x)


def test_mlp_may_change_the_width_under_the_same_parameter_names():
    widening = Mlp(8, 32, 16)
    assert [(n, tuple(p.shape)) for n, p in widening.named_parameters()] == [
        ("fc1.weight", (32, 8)),
        ("fc1.bias", (32,)),
        ("fc2.weight", (16, 32)),
        ("fc2.bias", (16,)),
    ]
    assert widening(torch.randn(2, 5, 8)).shape == (2, 5, 16)
    assert Mlp(8, 32)(torch.randn(3, 8)).shape == (3, 8)


def test_backbone_resizes_positions_for_other_frame_sizes_and_refuses_other_lengths():
    backbone = VisionTransformer3D(**NARROW).eval()
    assert "pos_embed" not in backbone.state_dict()  # the fixed table is recomputed, never stored
    with torch.no_grad():
        assert backbone(torch.randn(1, 3, 4, 48, 40)).shape == (1, 32)
        with pytest.raises(ValueError, match="num_frames=4"):
            backbone(torch.randn(1, 3, 6, 32, 32))
    learned = VisionTransformer3D(**NARROW, use_learnable_pos_emb=True)
    assert learned.state_dict()["pos_embed"].shape == (1, 2 * 4 * 4, 32)


def test_mmaction2_position_table_is_consumed_only_when_it_is_the_fixed_table():
    table = sinusoid_position_encoding(32, 32)
    state, unconverted = convert_mmaction2_vit3d({"state_dict": {"backbone.pos_embed": table}})
    assert state == {} and unconverted == ()
    state, unconverted = convert_mmaction2_vit3d({"backbone.pos_embed": table * 2, "backbone.extra": table})
    assert list(state) == ["backbone.pos_embed"] and unconverted == ("backbone.extra",)


def test_cpu_flop_count_includes_attention():
    # core's counter gives the fused CPU attention kernel a formula, so counting on the CPU equals counting on
    # the meta device (where attention runs as plain matrix products).
    with torch.device("meta"):
        on_meta = count_flops(VisionTransformer3D(**NARROW), (1, 3, 4, 32, 32)).flops
    on_cpu = count_flops(VisionTransformer3D(**NARROW), (1, 3, 4, 32, 32)).flops
    assert on_cpu == on_meta
    attention = 2 * 2 * 2 * 32**3  # 2 blocks x (QK^T, AV) x 2 FLOPs/MAC x 32 tokens^2 x 32 channels
    assert on_meta > attention


class TestConformance(PluginConformance):
    plugin = "vit"
