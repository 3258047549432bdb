"""What the clips show: the class lives only in the frame order, never in a single frame or an unordered bag."""

from __future__ import annotations

import numpy as np
import pytest

from action_synthetic.motion import (
    ATTRIBUTES,
    CLASS_NAMES,
    MOTION_CLASSES,
    _draw_squares,
    motion_class,
    render_clip,
    sample_states,
    varied_attributes,
)

ALL_VARIED = varied_attributes(CLASS_NAMES)


def _clips(nuisance, per_class, num_frames=8, seed=0):
    """(class index, states as (T, A) array) for ``per_class`` clips of every class."""
    rng = np.random.default_rng(seed)
    out = []
    for label, cls in enumerate(MOTION_CLASSES):
        for _ in range(per_class):
            states = sample_states(rng, cls, num_frames=num_frames, varied=ALL_VARIED, nuisance=nuisance)
            out.append((label, np.stack([states[a] for a in ATTRIBUTES], axis=1)))
    return out


def _read_class_from_order(states):
    """The class an observer of the frame order reads off: the attribute that moves monotonically, and its way."""
    steps = np.sign(np.diff(states, axis=0))
    monotone = np.abs(steps.sum(axis=0))
    k = int(np.argmax(monotone))
    ascending = steps[:, k].sum() > 0
    matches = [
        i for i, c in enumerate(MOTION_CLASSES) if c.attribute == ATTRIBUTES[k] and c.ascending == ascending
    ]
    return matches[0]


_FOURIER = np.random.default_rng(7)
_FOURIER_W = _FOURIER.normal(size=(len(ATTRIBUTES), 256)) * np.array([10.0, 10.0, 2.0, 20.0, 6.0])[:, None]
_FOURIER_B = _FOURIER.uniform(0, 2 * np.pi, size=256)


def _frame_features(states):
    """Random Fourier features of each frame's attributes, (T, F): a stand-in for a per-frame network."""
    return np.cos(states @ _FOURIER_W + _FOURIER_B)


def _sorting_features(states):
    """Order-free but non-linear: how smoothly each attribute's rank moves when frames are sorted by another."""
    ranks = np.argsort(np.argsort(states, axis=0), axis=0)
    out = []
    for a in range(states.shape[1]):
        by_a = ranks[np.argsort(ranks[:, a])]
        out.extend(np.abs(np.diff(by_a, axis=0)).mean(axis=0))
    return np.array(out)


def _nearest_centroid_accuracy(features, labels):
    """Train a standardised nearest-centroid classifier on even items, score it on odd items."""
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels)
    train, test = np.arange(len(y)) % 2 == 0, np.arange(len(y)) % 2 == 1
    mu, sd = x[train].mean(0), x[train].std(0) + 1e-9
    x = (x - mu) / sd
    centroids = np.stack([x[train & (y == k)].mean(0) for k in np.unique(y)])
    predicted = np.argmin(((x[test][:, None] - centroids[None]) ** 2).sum(-1), axis=1)
    return float((predicted == y[test]).mean())


@pytest.mark.parametrize("nuisance", ["smooth", "jitter"])
def test_only_the_class_attribute_is_monotone(nuisance):
    for label, states in _clips(nuisance, per_class=20):
        cls = MOTION_CLASSES[label]
        for k, attribute in enumerate(ATTRIBUTES):
            steps = np.diff(states[:, k])
            if attribute == cls.attribute:
                assert (steps > 0).all() if cls.ascending else (steps < 0).all()
            else:
                assert (steps > 0).any() and (steps < 0).any(), (cls.name, attribute)


@pytest.mark.parametrize("nuisance", ["smooth", "jitter"])
def test_every_attribute_takes_the_same_values_in_every_class(nuisance):
    # Per-frame marginals: the spread of each attribute within a clip and its overall distribution match.
    clips = _clips(nuisance, per_class=300, num_frames=8)
    for k in range(len(ATTRIBUTES)):
        per_class = [
            np.concatenate([s[:, k] for lbl, s in clips if lbl == c]) for c in range(len(CLASS_NAMES))
        ]
        spans = [np.ptp(s[:, k]) for _, s in clips]
        assert np.ptp(spans) < 1e-9 or ATTRIBUTES[k] == "scale"
        means = np.array([v.mean() for v in per_class])
        stds = np.array([v.std() for v in per_class])
        tolerance = 5 * stds.mean() / np.sqrt(300)
        assert np.ptp(means) < 2 * tolerance, ATTRIBUTES[k]
        assert np.ptp(stds) < 0.1 * stds.mean(), ATTRIBUTES[k]


@pytest.mark.parametrize("nuisance", ["smooth", "jitter"])
def test_averaged_frame_scores_carry_no_class_but_frame_order_does(nuisance):
    # TSN's average consensus sees the mean over frames of a per-frame function: in both modes that mean is
    # distributed alike for every class, while the frame order gives the class away.
    clips = _clips(nuisance, per_class=60)
    labels = [label for label, _ in clips]
    chance = 1 / len(CLASS_NAMES)
    averaged = [_frame_features(s).mean(0) for _, s in clips]
    assert _nearest_centroid_accuracy(averaged, labels) < chance + 0.07
    assert np.mean([_read_class_from_order(s) == label for label, s in clips]) == 1.0
    # The same per-frame features do find the class once it is known which frames open and close the clip.
    ends = [
        np.concatenate([_frame_features(s[:2]).mean(0), _frame_features(s[-2:]).mean(0)]) for _, s in clips
    ]
    assert _nearest_centroid_accuracy(ends, labels) > 2.5 * chance


def test_only_jittered_bags_hide_the_class_from_any_order_free_function():
    # A non-linear function of the unordered set (sort by one attribute, see how smoothly another moves) finds
    # some class information in "smooth" clips; with "jitter" the set itself is class-independent.
    labels = [label for label, _ in _clips("jitter", per_class=60)]
    chance = 1 / len(CLASS_NAMES)
    smooth = _nearest_centroid_accuracy(
        [_sorting_features(s) for _, s in _clips("smooth", per_class=60)], labels
    )
    jitter = _nearest_centroid_accuracy(
        [_sorting_features(s) for _, s in _clips("jitter", per_class=60)], labels
    )
    assert smooth > 0.3
    assert jitter < chance + 0.07


def test_rendered_single_frames_have_class_independent_statistics():
    rng = np.random.default_rng(3)
    per_class, frames = 40, 8

    def stats(frame):
        f = frame.astype(np.float64)
        gx = np.abs(np.diff(f, axis=1)).mean()
        gy = np.abs(np.diff(f, axis=0)).mean()
        return np.concatenate([f.mean((0, 1)), f.std((0, 1)), [gx, gy]])

    by_class = []
    for cls in MOTION_CLASSES:
        clips = [
            render_clip(rng, sample_states(rng, cls, num_frames=frames, varied=ALL_VARIED), size=32)
            for _ in range(per_class)
        ]
        by_class.append(np.array([[stats(f) for f in clip] for clip in clips]))  # (clips, T, S)
    by_class = np.stack(by_class)  # (K, clips, T, S)
    clip_means = by_class.mean(2)
    standard_error = clip_means.std(axis=(0, 1)) / np.sqrt(per_class)
    z = (clip_means.mean(1) - clip_means.mean((0, 1))) / standard_error
    # Averaged over frames, no class stands out beyond the sampling noise of 40 clips.
    assert np.abs(z).max() < 4.5
    # The same statistics taken at the first and the last frame separate "appear" from "disappear"
    # (the faint square has fewer edges): the order is what carries the class.
    appear, disappear = CLASS_NAMES.index("appear"), CLASS_NAMES.index("disappear")
    edges = by_class[..., 6:].sum(-1)  # (K, clips, T)
    change = edges[:, :, -1] - edges[:, :, 0]
    assert (change[appear] > 0).mean() > 0.8 and (change[disappear] < 0).mean() > 0.8


def _centroid(mask):
    ys, xs = np.nonzero(mask)
    return xs.mean(), ys.mean()


def test_renderer_geometry_matches_class_names():
    size = 64
    one = np.ones(1)
    # A texture bright in one cell only: the square's top-right cell.
    texture = np.zeros((4, 4, 3))
    texture[0, 3] = 255.0
    canvas = np.zeros((1, size, size, 3))
    _draw_squares(canvas, texture, 0.5 * one, 0.5 * one, 0.0 * one, 0.5 * one, one)
    x0, y0 = _centroid(canvas[0, ..., 0] > 128)
    assert x0 > size / 2 and y0 < size / 2  # top right
    canvas[:] = 0
    _draw_squares(canvas, texture, 0.5 * one, 0.5 * one, np.pi / 2 * one, 0.5 * one, one)
    x1, y1 = _centroid(canvas[0, ..., 0] > 128)
    # A quarter turn clockwise on screen takes the top-right corner to the bottom-right.
    assert x1 > size / 2 and y1 > size / 2
    assert motion_class("rotate_clockwise").ascending

    plain = np.full((4, 4, 3), 255.0)
    rng = np.random.default_rng(0)
    for name in ("move_right", "move_left", "move_down", "move_up", "approach", "recede"):
        states = sample_states(rng, motion_class(name), num_frames=8, varied=("x", "y", "angle", "scale"))
        canvas = np.zeros((8, size, size, 3))
        _draw_squares(canvas, plain, *(states[a] for a in ATTRIBUTES))
        masks = canvas[..., 0] > 128
        (xa, ya), (xb, yb) = _centroid(masks[0]), _centroid(masks[-1])
        area_change = masks[-1].sum() - masks[0].sum()
        expected = {
            "move_right": xb - xa > 5,
            "move_left": xa - xb > 5,
            "move_down": yb - ya > 5,
            "move_up": ya - yb > 5,
            "approach": area_change > 0,
            "recede": area_change < 0,
        }
        assert expected[name], name


def test_unused_attributes_stay_constant_and_opaque():
    rng = np.random.default_rng(0)
    varied = varied_attributes(["move_left", "move_right"])
    assert varied == ("x",)
    states = sample_states(rng, motion_class("move_left"), num_frames=8, varied=varied)
    for attribute in ("y", "angle", "scale"):
        assert np.ptp(states[attribute]) == 0
    assert (states["alpha"] == 1).all()
    with pytest.raises(ValueError, match="rotate_clockwise"):
        sample_states(rng, motion_class("rotate_clockwise"), num_frames=8, varied=varied)
    with pytest.raises(KeyError, match="move_sideways"):
        motion_class("move_sideways")
