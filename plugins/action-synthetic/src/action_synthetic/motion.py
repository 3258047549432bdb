"""Motion classes and the numpy renderer of one synthetic clip.

Every clip shows one textured square among look-alike static distractor squares on a smooth random background,
with per-pixel noise. The square has five attributes (x, y, angle, scale, opacity). A class is one attribute
changing monotonically in one direction over the clip. Every attribute any selected class uses is varied in
every clip over the same set of values, so the frames of each class come from the same distribution: only
*which* attribute changes monotonically (and which way) differs, and that is visible only in the frame order.
"""

from __future__ import annotations

import attrs
import numpy as np

ATTRIBUTES = ("x", "y", "angle", "scale", "alpha")
NUISANCE_MODES = ("smooth", "jitter")

# Per attribute: how far the per-clip base value may lie, and the span the attribute covers in a clip.
# Positions and scale are fractions of the frame side, angle is in radians, alpha is opacity.
_BASE_RANGE = {
    "x": (0.2, 0.3),
    "y": (0.2, 0.3),
    "angle": (0.0, 2 * np.pi),
    "scale": (0.2, 0.25),
    "alpha": (0.1, 0.2),
}
_SPAN = {"x": 0.5, "y": 0.5, "angle": np.pi, "alpha": 0.8}
_SCALE_RATIO = 2.2  # the square grows (or shrinks) by this factor over a clip of an "approach" class
_TEXTURE_CELLS = 4
_DISTRACTOR_ALPHA = 0.6


@attrs.frozen
class MotionClass:
    """A class: ``attribute`` changes monotonically, increasing when ``ascending``."""

    name: str
    attribute: str
    ascending: bool
    summary: str


MOTION_CLASSES: tuple[MotionClass, ...] = (
    MotionClass("move_left", "x", False, "the square moves to the left"),
    MotionClass("move_right", "x", True, "the square moves to the right"),
    MotionClass("move_up", "y", False, "the square moves up"),
    MotionClass("move_down", "y", True, "the square moves down"),
    # Image y points down, so a growing angle turns the square clockwise on screen.
    MotionClass("rotate_clockwise", "angle", True, "the square turns clockwise"),
    MotionClass("rotate_counterclockwise", "angle", False, "the square turns counter-clockwise"),
    MotionClass("approach", "scale", True, "the square grows (comes closer)"),
    MotionClass("recede", "scale", False, "the square shrinks (moves away)"),
    MotionClass("appear", "alpha", True, "the square fades in"),
    MotionClass("disappear", "alpha", False, "the square fades out"),
)
CLASS_NAMES: tuple[str, ...] = tuple(c.name for c in MOTION_CLASSES)
_BY_NAME = {c.name: c for c in MOTION_CLASSES}


def motion_class(name: str) -> MotionClass:
    """The motion class called ``name``; raises ``KeyError`` naming the known classes."""
    try:
        return _BY_NAME[name]
    except KeyError as e:
        raise KeyError(
            f"unknown synthetic motion class {name!r}; known classes: {', '.join(CLASS_NAMES)}"
        ) from e


def varied_attributes(class_names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Attributes varied in every clip of a dataset with these classes (those some class moves)."""
    used = {motion_class(n).attribute for n in class_names}
    return tuple(a for a in ATTRIBUTES if a in used)


def _attribute_values(rng: np.random.Generator, attribute: str, num_frames: int) -> np.ndarray:
    """The sorted values one attribute takes over a clip: a random base plus a fixed span."""
    lo, hi = _BASE_RANGE[attribute]
    base = rng.uniform(lo, hi)
    steps = np.arange(num_frames) / (num_frames - 1)
    if attribute == "scale":
        return base * _SCALE_RATIO**steps
    return base + _SPAN[attribute] * steps


def _loop_order(rng: np.random.Generator, n: int) -> np.ndarray:
    """Ranks ``0..n-1`` visited along a closed loop (up through the even ranks, down through the odd ones),
    entered at a random point and in a random direction.

    The rank at any given frame is uniform over ``0..n-1`` whatever the frame, so a single frame does not tell
    where in the clip it is, and the path always goes both up and down.
    """
    loop = np.concatenate([np.arange(0, n, 2), np.arange(1, n, 2)[::-1]])
    if rng.random() < 0.5:
        loop = loop[::-1]
    return np.roll(loop, -int(rng.integers(n)))


def _shuffled_order(rng: np.random.Generator, n: int) -> np.ndarray:
    """A uniformly random non-monotone ordering of ``0..n-1``."""
    while True:
        order = rng.permutation(n)
        steps = np.diff(order)
        if (steps > 0).any() and (steps < 0).any():
            return order


def sample_states(
    rng: np.random.Generator,
    cls: MotionClass,
    *,
    num_frames: int,
    varied: tuple[str, ...],
    nuisance: str = "smooth",
) -> dict[str, np.ndarray]:
    """Per-frame attribute values ``{attribute: (num_frames,) float array}`` of one clip of class ``cls``.

    The class attribute runs through its values in order; each other attribute in ``varied`` runs through the
    same kind of value set in a class-independent, never monotone order: along a loop entered at a random point
    (``"smooth"``: single frames are class-independent) or a random permutation (``"jitter"``: the unordered set
    of frames is class-independent too). Attributes not in
    ``varied`` stay constant (opacity at 1).
    """
    if nuisance not in NUISANCE_MODES:
        raise ValueError(f"nuisance must be one of {NUISANCE_MODES}, got {nuisance!r}")
    if cls.attribute not in varied:
        raise ValueError(f"class {cls.name!r} moves {cls.attribute!r}, which is not among varied {varied}")
    states = {}
    for attribute in ATTRIBUTES:
        values = _attribute_values(rng, attribute, num_frames)
        if attribute == cls.attribute:
            order = np.arange(num_frames) if cls.ascending else np.arange(num_frames)[::-1]
        elif attribute not in varied:
            order = np.full(num_frames, rng.integers(num_frames))
        elif nuisance == "smooth":
            order = _loop_order(rng, num_frames)
        else:
            order = _shuffled_order(rng, num_frames)
        states[attribute] = values[order]
    if "alpha" not in varied:
        states["alpha"] = np.ones(num_frames)
    return states


def _smooth_field(rng: np.random.Generator, size: int, cells: int = 3) -> np.ndarray:
    """A (size, size, 3) low-frequency colour field: random colours on a coarse grid, bilinearly upsampled."""
    grid = rng.uniform(30.0, 225.0, size=(cells + 1, cells + 1, 3))
    pos = (np.arange(size) + 0.5) / size * cells
    i0 = np.minimum(pos.astype(np.int64), cells - 1)
    f = (pos - i0)[:, None]
    rows = grid[i0] * (1 - f[:, :, None]) + grid[i0 + 1] * f[:, :, None]  # (size, cells+1, 3)
    fc = f[None, :, :]
    return rows[:, i0] * (1 - fc) + rows[:, i0 + 1] * fc


def _draw_squares(
    canvas: np.ndarray,
    texture: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    angle: np.ndarray,
    scale: np.ndarray,
    alpha: np.ndarray,
) -> None:
    """Composite a textured square into every frame of ``canvas`` (T, S, S, 3) in place, one pose per frame."""
    size = canvas.shape[1]
    cells = texture.shape[0]
    coords = (np.arange(size) + 0.5) / size
    u = coords[None, None, :] - x[:, None, None]
    v = coords[None, :, None] - y[:, None, None]
    cos = np.cos(angle)[:, None, None]
    sin = np.sin(angle)[:, None, None]
    side = scale[:, None, None]
    # Square-local coordinates in [-0.5, 0.5]: undo the rotation, then the scale.
    lu = (cos * u + sin * v) / side
    lv = (-sin * u + cos * v) / side
    inside = 0.5 - np.maximum(np.abs(lu), np.abs(lv))
    mask = np.clip(inside * side * size + 0.5, 0.0, 1.0)  # about one pixel of soft edge
    iu = np.clip(np.floor((lu + 0.5) * cells), 0, cells - 1).astype(np.int64)
    iv = np.clip(np.floor((lv + 0.5) * cells), 0, cells - 1).astype(np.int64)
    weight = (alpha[:, None, None] * mask)[..., None]
    canvas *= 1.0 - weight
    canvas += weight * texture[iv, iu]


def render_clip(
    rng: np.random.Generator,
    states: dict[str, np.ndarray],
    *,
    size: int,
    noise_std: float = 6.0,
    distractors: int = 2,
) -> np.ndarray:
    """Render one clip as uint8 (T, size, size, 3) RGB frames from per-frame ``states`` (see ``sample_states``),
    with ``distractors`` static half-transparent look-alike squares and Gaussian pixel noise of ``noise_std``."""
    num_frames = len(states["x"])
    background = _smooth_field(rng, size)[None]
    for _ in range(distractors):
        # Static, half-transparent look-alikes anywhere in the frame; the same in every class.
        pose = {a: _attribute_values(rng, a, 33)[rng.integers(33), None] for a in ("angle", "scale")}
        x, y = rng.uniform(0.1, 0.9, size=(2, 1))
        texture = rng.uniform(0.0, 255.0, size=(_TEXTURE_CELLS, _TEXTURE_CELLS, 3))
        _draw_squares(background, texture, x, y, alpha=np.full(1, _DISTRACTOR_ALPHA), **pose)
    texture = rng.uniform(0.0, 255.0, size=(_TEXTURE_CELLS, _TEXTURE_CELLS, 3))
    canvas = np.repeat(background, num_frames, axis=0)
    _draw_squares(
        canvas, texture, states["x"], states["y"], states["angle"], states["scale"], states["alpha"]
    )
    canvas += rng.normal(0.0, noise_std, size=canvas.shape)
    return np.clip(np.rint(canvas), 0, 255).astype(np.uint8)
