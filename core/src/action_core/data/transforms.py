"""Transforms on a clip: ``results["imgs"]`` is a uint8 tensor (M, C, H, W) until ``Normalize``.

M = crops x clips x frames, crop-major as in MMAction2. Every random parameter is drawn once per call, so all
frames of a sample get the same crop, flip and colour change. Random draws use NumPy's global generator and
Python's ``random`` exactly where MMAction2 1.2.0 does, so a seeded pipeline draws the same parameters.
Pixels are computed with ``torchvision.transforms.v2.functional``; resized pixels differ slightly from
MMAction2's OpenCV resize (see ``docs/data-notes.md``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torchvision.transforms.v2.functional as F
from torchvision.transforms import InterpolationMode

_INTERPOLATION = {
    "nearest": InterpolationMode.NEAREST,
    "bilinear": InterpolationMode.BILINEAR,
    "bicubic": InterpolationMode.BICUBIC,
}


def _pair(value: int | Sequence[int], name: str) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    pair = tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) for v in pair):
        raise TypeError(f"{name} must be an int or a pair of ints (w, h), got {value!r}")
    return pair[0], pair[1]


def _float_pair(value: Sequence[float], name: str) -> tuple[float, float]:
    pair = tuple(float(v) for v in value)
    if len(pair) != 2:
        raise TypeError(f"{name} must be a pair of floats, got {value!r}")
    return pair[0], pair[1]


def _size(results: dict[str, Any]) -> tuple[int, int]:
    imgs = results["imgs"]
    return int(imgs.shape[-2]), int(imgs.shape[-1])


def _crop(results: dict[str, Any], left: int, top: int, width: int, height: int) -> dict[str, Any]:
    img_h, img_w = _size(results)
    if width > img_w or height > img_h or left < 0 or top < 0:
        raise ValueError(f"crop of {width}x{height} at ({left}, {top}) does not fit a {img_w}x{img_h} clip")
    # Slicing gives a view: no copy until a later step writes new pixels.
    results["imgs"] = results["imgs"][..., top : top + height, left : left + width]
    results["crop_bbox"] = np.array([left, top, left + width, top + height])
    results["img_shape"] = (height, width)
    return results


class Resize:
    """Resize every frame, MMAction2 semantics.

    ``scale`` is either a factor (float) or a pair. With ``keep_ratio`` a pair is the largest size that fits
    (long edge <= max, short edge <= min); ``(-1, 256)`` means "shorter side 256". Without ``keep_ratio``
    the pair is the output ``(w, h)``. Output sizes round like ``mmcv.rescale_size`` (``int(x * s + 0.5)``).
    """

    def __init__(
        self,
        scale: float | Sequence[int],
        keep_ratio: bool = True,
        interpolation: str = "bilinear",
        antialias: bool = True,
    ) -> None:
        if isinstance(scale, (int, float)) and not isinstance(scale, bool):
            if scale <= 0:
                raise ValueError(f"Resize scale factor must be positive, got {scale}")
            self.scale: float | tuple[float, float] = float(scale)
        else:
            if isinstance(scale, bool):
                raise TypeError(f"Resize scale must be a factor or a pair (w, h), got {scale!r}")
            pair: tuple[float, ...] = tuple(float(v) for v in scale)
            if len(pair) != 2:
                raise TypeError(f"Resize scale must be a factor or a pair (w, h), got {scale!r}")
            if min(pair) == -1:
                # "-1" leaves the long edge free: only the short edge constrains the size.
                pair = (math.inf, max(pair))
            self.scale = (float(pair[0]), float(pair[1]))
        if not keep_ratio and not isinstance(self.scale, tuple):
            raise ValueError("Resize with keep_ratio=False needs an output size (w, h), not a factor")
        if interpolation not in _INTERPOLATION:
            raise ValueError(f"interpolation must be one of {sorted(_INTERPOLATION)}, got {interpolation!r}")
        self.keep_ratio = bool(keep_ratio)
        self.interpolation = interpolation
        self.antialias = bool(antialias)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """(new_h, new_w) for a frame of ``height`` x ``width``."""
        if not self.keep_ratio:
            w, h = self.scale  # type: ignore[misc]
            return int(h), int(w)
        if isinstance(self.scale, float):
            factor = self.scale
        else:
            factor = min(max(self.scale) / max(height, width), min(self.scale) / min(height, width))
        return int(height * factor + 0.5), int(width * factor + 0.5)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        img_h, img_w = _size(results)
        new_h, new_w = self.output_size(img_h, img_w)
        if (new_h, new_w) != (img_h, img_w):
            results["imgs"] = F.resize(
                results["imgs"],
                [new_h, new_w],
                interpolation=_INTERPOLATION[self.interpolation],
                antialias=self.antialias,
            )
        results["img_shape"] = (new_h, new_w)
        factor = np.array([new_w / img_w, new_h / img_h], dtype=np.float32)
        results["scale_factor"] = results.get("scale_factor", np.ones(2, dtype=np.float32)) * factor
        results["keep_ratio"] = self.keep_ratio
        return results

    def __repr__(self) -> str:
        return (
            f"Resize(scale={self.scale}, keep_ratio={self.keep_ratio}, interpolation={self.interpolation!r})"
        )


class RandomCrop:
    """Square crop of ``size`` at a random position (MMAction2 draws offsets in [0, H - size), y first)."""

    def __init__(self, size: int) -> None:
        if not isinstance(size, int) or size <= 0:
            raise TypeError(f"RandomCrop size must be a positive int, got {size!r}")
        self.size = size

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        img_h, img_w = _size(results)
        if self.size > img_h or self.size > img_w:
            raise ValueError(f"RandomCrop size {self.size} exceeds the {img_w}x{img_h} clip; resize first")
        top = int(np.random.randint(0, img_h - self.size)) if img_h > self.size else 0
        left = int(np.random.randint(0, img_w - self.size)) if img_w > self.size else 0
        return _crop(results, left, top, self.size, self.size)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size})"


class RandomResizedCrop:
    """Crop a random area (fraction ``area_range`` of the frame) with a random aspect ratio; no resize.

    Up to 10 candidates are drawn at once; the first that fits is used, else a centred square. Follow it with
    ``Resize(scale=(224, 224), keep_ratio=False)`` as MMAction2 configs do.
    """

    def __init__(
        self,
        area_range: Sequence[float] = (0.08, 1.0),
        aspect_ratio_range: Sequence[float] = (3 / 4, 4 / 3),
    ) -> None:
        self.area_range = _float_pair(area_range, "area_range")
        self.aspect_ratio_range = _float_pair(aspect_ratio_range, "aspect_ratio_range")
        if not 0 < self.area_range[0] <= self.area_range[1] <= 1:
            raise ValueError(f"area_range must satisfy 0 < min <= max <= 1, got {self.area_range}")
        if not 0 < self.aspect_ratio_range[0] <= self.aspect_ratio_range[1]:
            raise ValueError(f"aspect_ratio_range must satisfy 0 < min <= max, got {self.aspect_ratio_range}")

    def crop_box(self, height: int, width: int, attempts: int = 10) -> tuple[int, int, int, int]:
        """(left, top, w, h) of a crop, drawn as MMAction2 draws it."""
        low, high = self.aspect_ratio_range
        ratios = np.exp(np.random.uniform(np.log(low), np.log(high), size=attempts))
        areas = np.random.uniform(*self.area_range, size=attempts) * height * width
        widths = np.round(np.sqrt(areas * ratios)).astype(np.int32)
        heights = np.round(np.sqrt(areas / ratios)).astype(np.int32)
        for w, h in zip(widths.tolist(), heights.tolist(), strict=True):
            if h <= height and w <= width:
                left = random.randint(0, width - w)
                top = random.randint(0, height - h)
                return left, top, w, h
        side = min(height, width)
        return (width - side) // 2, (height - side) // 2, side, side

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        left, top, w, h = self.crop_box(*_size(results))
        return _crop(results, left, top, w, h)

    def __repr__(self) -> str:
        return (
            f"RandomResizedCrop(area_range={self.area_range}, aspect_ratio_range={self.aspect_ratio_range})"
        )


class MultiScaleCrop:
    """TSN's multi-scale crop: width and height each ``scale x shorter side`` (scales at most
    ``max_wh_scale_gap`` levels apart), placed at one of 5 (or 13) fixed positions, or anywhere with
    ``random_crop``. Sizes within 2 pixels of ``input_size`` snap to it. No resize: follow with ``Resize``.
    """

    def __init__(
        self,
        input_size: int | Sequence[int],
        scales: Sequence[float] = (1,),
        max_wh_scale_gap: int = 1,
        random_crop: bool = False,
        num_fixed_crops: int = 5,
    ) -> None:
        self.input_size = _pair(input_size, "input_size")
        self.scales = tuple(float(s) for s in scales)
        if not self.scales:
            raise ValueError("MultiScaleCrop needs at least one scale")
        if num_fixed_crops not in (5, 13):
            raise ValueError(f"num_fixed_crops must be 5 or 13, got {num_fixed_crops}")
        self.max_wh_scale_gap = int(max_wh_scale_gap)
        self.random_crop = bool(random_crop)
        self.num_fixed_crops = num_fixed_crops

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        img_h, img_w = _size(results)
        base = min(img_h, img_w)
        sizes = [int(base * s) for s in self.scales]
        candidates = [
            [w, h]
            for i, h in enumerate(sizes)
            for j, w in enumerate(sizes)
            if abs(i - j) <= self.max_wh_scale_gap
        ]
        crop_size = random.choice(candidates)
        for k in range(2):
            if abs(crop_size[k] - self.input_size[k]) < 3:
                crop_size[k] = self.input_size[k]
        crop_w, crop_h = crop_size
        if self.random_crop:
            left = random.randint(0, img_w - crop_w)
            top = random.randint(0, img_h - crop_h)
        else:
            ws, hs = (img_w - crop_w) // 4, (img_h - crop_h) // 4
            grid = [(0, 0), (4, 0), (0, 4), (4, 4), (2, 2)]
            if self.num_fixed_crops == 13:
                grid += [(0, 2), (4, 2), (2, 4), (2, 0), (1, 1), (3, 1), (1, 3), (3, 3)]
            gx, gy = random.choice(grid)
            left, top = gx * ws, gy * hs
        results["scales"] = self.scales
        return _crop(results, left, top, crop_w, crop_h)

    def __repr__(self) -> str:
        return (
            f"MultiScaleCrop(input_size={self.input_size}, scales={self.scales}, "
            f"max_wh_scale_gap={self.max_wh_scale_gap}, random_crop={self.random_crop}, "
            f"num_fixed_crops={self.num_fixed_crops})"
        )


class CenterCrop:
    """Crop ``crop_size`` (int or (w, h)) from the centre."""

    def __init__(self, crop_size: int | Sequence[int]) -> None:
        self.crop_size = _pair(crop_size, "crop_size")

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        img_h, img_w = _size(results)
        crop_w, crop_h = self.crop_size
        if crop_w > img_w or crop_h > img_h:
            raise ValueError(f"CenterCrop {crop_w}x{crop_h} exceeds the {img_w}x{img_h} clip; resize first")
        return _crop(results, (img_w - crop_w) // 2, (img_h - crop_h) // 2, crop_w, crop_h)

    def __repr__(self) -> str:
        return f"CenterCrop(crop_size={self.crop_size})"


def _multi_crop(
    results: dict[str, Any], boxes: list[tuple[int, int]], size: tuple[int, int], flip: bool
) -> None:
    imgs = results["imgs"]
    crop_w, crop_h = size
    pieces = []
    for left, top in boxes:
        piece = imgs[..., top : top + crop_h, left : left + crop_w]
        pieces.append(piece)
        if flip:
            pieces.append(piece.flip(-1))
    results["imgs"] = torch.cat(pieces, dim=0)
    results["img_shape"] = (crop_h, crop_w)
    results["num_crops"] = results.get("num_crops", 1) * len(pieces)
    results["crop_bbox"] = np.array([[x, y, x + crop_w, y + crop_h] for x, y in boxes])


class ThreeCrop:
    """Three crops along the longer side (start, end, middle); the crop must span the shorter side."""

    def __init__(self, crop_size: int | Sequence[int]) -> None:
        self.crop_size = _pair(crop_size, "crop_size")

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        img_h, img_w = _size(results)
        crop_w, crop_h = self.crop_size
        if crop_h == img_h and crop_w <= img_w:
            step = (img_w - crop_w) // 2
            boxes = [(0, 0), (2 * step, 0), (step, 0)]
        elif crop_w == img_w and crop_h <= img_h:
            step = (img_h - crop_h) // 2
            boxes = [(0, 0), (0, 2 * step), (0, step)]
        else:
            raise ValueError(
                f"ThreeCrop {crop_w}x{crop_h} must span the shorter side of the {img_w}x{img_h} clip; "
                f"resize the shorter side to {min(crop_w, crop_h)} first"
            )
        _multi_crop(results, boxes, (crop_w, crop_h), flip=False)
        return results

    def __repr__(self) -> str:
        return f"ThreeCrop(crop_size={self.crop_size})"


class TenCrop:
    """Four corners and the centre, each followed by its horizontal flip (10 crops)."""

    def __init__(self, crop_size: int | Sequence[int]) -> None:
        self.crop_size = _pair(crop_size, "crop_size")

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        img_h, img_w = _size(results)
        crop_w, crop_h = self.crop_size
        if crop_w > img_w or crop_h > img_h:
            raise ValueError(f"TenCrop {crop_w}x{crop_h} exceeds the {img_w}x{img_h} clip; resize first")
        ws, hs = (img_w - crop_w) // 4, (img_h - crop_h) // 4
        boxes = [(0, 0), (4 * ws, 0), (0, 4 * hs), (4 * ws, 4 * hs), (2 * ws, 2 * hs)]
        _multi_crop(results, boxes, (crop_w, crop_h), flip=True)
        return results

    def __repr__(self) -> str:
        return f"TenCrop(crop_size={self.crop_size})"


class Flip:
    """Flip the clip with probability ``flip_ratio``.

    ``flip_label_map`` ({label: flipped label}) swaps direction classes such as Something-Something's
    "pushing something from left to right" when the clip is flipped. For optical flow (``modality == "Flow"``)
    a horizontal flip also inverts the x component.
    """

    def __init__(
        self,
        flip_ratio: float = 0.5,
        direction: str = "horizontal",
        flip_label_map: Mapping[int | str, int] | None = None,
    ) -> None:
        if direction not in ("horizontal", "vertical"):
            raise ValueError(f"direction must be 'horizontal' or 'vertical', got {direction!r}")
        self.flip_ratio = float(flip_ratio)
        self.direction = direction
        # TOML and JSON keys are strings: accept "86" as well as 86.
        self.flip_label_map = (
            None if flip_label_map is None else {int(k): int(v) for k, v in flip_label_map.items()}
        )

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        flip = bool(np.random.rand() < self.flip_ratio)
        results["flip"] = flip
        results["flip_direction"] = self.direction
        if not flip:
            return results
        if self.flip_label_map is not None and isinstance(results.get("label"), (int, np.integer)):
            results["label"] = self.flip_label_map.get(int(results["label"]), results["label"])
        imgs = results["imgs"]
        imgs = imgs.flip(-1) if self.direction == "horizontal" else imgs.flip(-2)
        if results.get("modality") == "Flow" and self.direction == "horizontal":
            imgs[:, 0] = 255 - imgs[:, 0]
        results["imgs"] = imgs
        return results

    def __repr__(self) -> str:
        return f"Flip(flip_ratio={self.flip_ratio}, direction={self.direction!r})"


def _jitter_range(
    value: float | Sequence[float], bound: float, centre: float, name: str
) -> tuple[float, float]:
    if isinstance(value, (int, float)):
        if not 0 <= value <= bound:
            raise ValueError(f"ColorJitter {name} must be in [0, {bound}], got {value}")
        return centre - value, centre + value
    low, high = _float_pair(value, name)
    if not centre - bound <= low <= high <= centre + bound:
        raise ValueError(
            f"ColorJitter {name} range must lie in [{centre - bound}, {centre + bound}], got {value!r}"
        )
    return low, high


class ColorJitter:
    """Random brightness, contrast, saturation and hue, the same for every frame (MMAction2 ranges).

    Factors are drawn per call in the order brightness, contrast, saturation, hue; the order in which they
    are applied is drawn once when the transform is built, as in MMAction2.
    """

    def __init__(
        self,
        brightness: float | Sequence[float] = 0.5,
        contrast: float | Sequence[float] = 0.5,
        saturation: float | Sequence[float] = 0.5,
        hue: float | Sequence[float] = 0.1,
    ) -> None:
        self.brightness = _jitter_range(brightness, 1, 1, "brightness")
        self.contrast = _jitter_range(contrast, 1, 1, "contrast")
        self.saturation = _jitter_range(saturation, 1, 1, "saturation")
        self.hue = _jitter_range(hue, 0.5, 0, "hue")
        self.order = np.random.permutation(4).tolist()

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        factors = [
            np.random.uniform(*self.brightness),
            np.random.uniform(*self.contrast),
            np.random.uniform(*self.saturation),
            np.random.uniform(*self.hue),
        ]
        imgs = results["imgs"]
        ops = (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue)
        neutral = (1.0, 1.0, 1.0, 0.0)
        for k in self.order:
            if factors[k] != neutral[k]:
                imgs = ops[k](imgs, float(factors[k]))
        results["imgs"] = imgs
        return results

    def __repr__(self) -> str:
        return (
            f"ColorJitter(brightness={self.brightness}, contrast={self.contrast}, "
            f"saturation={self.saturation}, hue={self.hue})"
        )


class Normalize:
    """Convert to float32 and normalise per channel: ``(x - mean) / std`` with mean/std on the 0..255 scale
    (MMAction2 configs give e.g. ``mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]``).
    ``to_bgr`` reverses the channel order first (for models trained on BGR input).

    ``on_device=True`` leaves the frames uint8 and attaches ``results["norm"]`` (mean and std, shaped to
    broadcast over one view) instead; the engine then normalises each batch after copying it to the
    device, with the same arithmetic (``normalize_batch``), as MMAction2 1.x's data preprocessor does.
    The pipeline workers then skip the float conversion, and 4x fewer bytes cross worker queues, pinned
    memory and the host-to-device copy. Dataset items carry the ``norm`` entry; code that feeds items to
    a model itself must apply ``normalize_batch``.
    """

    def __init__(
        self, mean: Sequence[float], std: Sequence[float], to_bgr: bool = False, on_device: bool = False
    ) -> None:
        self.mean = torch.tensor([float(m) for m in mean], dtype=torch.float32).view(-1, 1, 1)
        self.std = torch.tensor([float(s) for s in std], dtype=torch.float32).view(-1, 1, 1)
        if self.mean.numel() != self.std.numel():
            raise ValueError(f"mean has {self.mean.numel()} values but std has {self.std.numel()}")
        if bool((self.std == 0).any()):
            raise ValueError(f"std must not contain 0, got {std!r}")
        self.to_bgr = bool(to_bgr)
        self.on_device = bool(on_device)
        self._scale = 1.0 / self.std
        self._shift = -self.mean / self.std

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        imgs = results["imgs"]
        if imgs.shape[-3] != self.mean.numel():
            raise ValueError(
                f"Normalize has {self.mean.numel()} channel means but the clip has {imgs.shape[-3]}"
            )
        if self.to_bgr:
            imgs = imgs.flip(-3)
        results["img_norm_cfg"] = {"mean": self.mean.flatten().tolist(), "std": self.std.flatten().tolist()}
        if self.on_device:
            if imgs.dtype != torch.uint8:
                raise ValueError(f"Normalize(on_device=True) expects uint8 frames, got {imgs.dtype}")
            results["imgs"] = imgs
            results["norm"] = torch.stack([self.mean, self.std])  # (2, C, 1, 1): broadcasts over (C, H, W)
            return results
        # One pass: x * (1 / std) - mean / std, read as uint8 in whatever strides the decoder and crops left,
        # written as a contiguous float (M, C, H, W). Several times faster than .float() then sub_ and div_.
        out = torch.empty(imgs.shape, dtype=torch.float32)
        if imgs.dim() == 4 and imgs.stride(1) == 1 and imgs.shape[1] > 1:
            # Channels-last strides (the decoder's frames and crops of them): iterate with channels innermost
            # on both sides; about 3x faster than letting the op gather across strides.
            torch.addcmul(
                self._shift.view(-1),
                imgs.permute(0, 2, 3, 1),
                self._scale.view(-1),
                out=out.permute(0, 2, 3, 1),
            )
        else:
            torch.addcmul(self._shift, imgs.contiguous(), self._scale, out=out)
        results["imgs"] = out
        return results

    def __repr__(self) -> str:
        where = ", on_device=True" if self.on_device else ""
        return f"Normalize(mean={self.mean.flatten().tolist()}, std={self.std.flatten().tolist()}{where})"


def normalize_batch(inputs: torch.Tensor, norm: torch.Tensor | None) -> torch.Tensor:
    """Apply a deferred ``Normalize(on_device=True)`` to ``inputs`` where they are (on the device).

    ``norm`` is a collated batch's ``norm`` entry (N, 2, C, 1, ...): per sample, mean and std shaped to
    broadcast over the trailing dimensions of ``inputs`` (one view); for a single dataset item pass
    ``item["norm"][None]``. Every sample of a batch must share them. Same arithmetic as the pipeline's
    ``Normalize`` (``x * (1 / std) - mean / std`` in float32), so both give the same values on the CPU.
    ``norm=None`` returns ``inputs`` unchanged."""
    if norm is None:
        return inputs
    if norm.ndim < 3 or norm.shape[1] != 2:
        raise ValueError(
            f"norm must be a batch of (mean, std) pairs (N, 2, C, ...), got shape {tuple(norm.shape)}"
        )
    if norm.shape[0] > 1 and not bool((norm == norm[:1]).all()):
        raise ValueError("the samples of this batch were normalised with different mean/std")
    norm = norm[0].to(inputs.device, torch.float32, non_blocking=True)
    return torch.addcmul(-norm[0] / norm[1], inputs, 1.0 / norm[1])


class FormatShape:
    """Arrange ``imgs`` (M, C, H, W) into views for the model (float32; uint8 when ``Normalize(on_device=True)``
    came before, whose ``norm`` entry is reshaped to broadcast over one view).

    - ``"NCHW"`` (2D models): (V, T, C, H, W), V = views x crops; T = the frames of one view.
    - ``"NCTHW"`` (3D models): (V, C, T, H, W), V = clips x crops; T = ``clip_len``.

    V is 1 in training. ``collapse`` drops V when it is 1. The result may be a strided view (no copy here):
    collating a batch copies it into one contiguous tensor anyway.
    """

    def __init__(self, input_format: str, collapse: bool = False) -> None:
        if input_format not in ("NCHW", "NCTHW"):
            raise ValueError(
                f"input_format must be 'NCHW' (2D models) or 'NCTHW' (3D models), got {input_format!r}"
            )
        self.input_format = input_format
        self.collapse = bool(collapse)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        imgs = results["imgs"]
        m, c, h, w = imgs.shape
        crops = int(results.get("num_crops", 1))
        if self.input_format == "NCTHW":
            t = int(results.get("clip_len", m))
            if m % t:
                raise ValueError(f"FormatShape: {m} frames do not split into clips of clip_len={t}")
            out = imgs.reshape(m // t, t, c, h, w).transpose(1, 2)
        else:
            views = int(results.get("num_views", 1)) * crops
            if m % views:
                raise ValueError(f"FormatShape: {m} frames do not split into {views} views")
            out = imgs.reshape(views, m // views, c, h, w)
        norm = results.get("norm")
        if norm is not None:
            if self.input_format == "NCTHW":  # a view is (C, T, H, W)
                results["norm"] = norm.reshape(2, c, 1, 1, 1)
        elif out.dtype != torch.float32:
            dense = torch.empty(out.shape, dtype=torch.float32)
            dense.copy_(out)
            out = dense
        if self.collapse:
            if out.shape[0] != 1:
                raise ValueError(f"FormatShape(collapse=True) needs one view, got {out.shape[0]}")
            out = out[0]
        results["imgs"] = out
        results["input_shape"] = tuple(out.shape)
        return results

    def __repr__(self) -> str:
        return f"FormatShape(input_format={self.input_format!r})"
