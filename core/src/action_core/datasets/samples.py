"""What a dataset plugin's annotation parser produces: one :class:`Sample` per annotated clip."""

from __future__ import annotations

import os
from importlib import resources

import attrs

from action_core.data.lists import AnnotationError


def _label(value: int | list[int] | tuple[int, ...] | None) -> int | tuple[int, ...] | None:
    if value is None or isinstance(value, int):
        return value
    return tuple(int(v) for v in value)


@attrs.frozen
class Sample:
    """One annotated clip.

    ``video`` is the clip's path relative to its split's media folder as the official annotation names it
    (with extension for video datasets, a folder name for frame datasets). ``label`` is a 0-based class index,
    a tuple of indices (multi-label) or None (unlabelled test split). ``where`` is ``"file:line"`` of the
    annotation row, used in messages. ``start`` / ``end`` (seconds) restrict a video clip to a segment of
    its file.
    """

    video: str
    label: int | tuple[int, ...] | None = attrs.field(default=None, converter=_label)
    where: str = ""
    start: float | None = None
    end: float | None = None

    @property
    def stem(self) -> str:
        """``video`` without its extension: the name of the clip's rawframe folder."""
        root, ext = os.path.splitext(self.video)
        return root if ext else self.video

    @property
    def name(self) -> str:
        """The clip's file name without folders and extension (how Kinetics clips are matched)."""
        return os.path.basename(self.stem)


def read_class_list(package: str, resource: str) -> list[str]:
    """Class names shipped with a plugin: one name per line of ``package``'s data file ``resource``."""
    text = resources.files(package).joinpath(resource).read_text(encoding="utf-8")
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if len(set(names)) != len(names):
        raise AnnotationError("the class list repeats a name", path=f"{package}:{resource}")
    return names


def class_index(classes: list[str], *, path: str) -> dict[str, int]:
    """``{name: index}`` for a class list, refusing duplicates (which would make labels ambiguous)."""
    mapping: dict[str, int] = {}
    for i, name in enumerate(classes):
        if name in mapping:
            raise AnnotationError(
                f"class {name!r} is listed twice (indices {mapping[name]} and {i})", path=path
            )
        mapping[name] = i
    return mapping


def find_file(root: str | os.PathLike[str], candidates: list[str], what: str) -> str:
    """The first of ``candidates`` (paths relative to ``root``) that exists; a clear error when none does."""
    for rel in candidates:
        path = os.path.join(os.fspath(root), rel)
        if os.path.isfile(path):
            return path
    raise AnnotationError(
        f"no {what} found; looked for {', '.join(candidates)}. Point --root/root at the folder holding the "
        "official download (or unpack its archives there)",
        path=os.fspath(root),
    )


def find_dir(root: str | os.PathLike[str], candidates: list[str]) -> str:
    """The first of ``candidates`` (folders relative to ``root``; ``""`` is the root) that exists, else the first."""
    for rel in candidates:
        if os.path.isdir(os.path.join(os.fspath(root), rel)):
            return rel
    return candidates[0]


def text_rows(path: str | os.PathLike[str]) -> list[tuple[int, str]]:
    """Non-blank lines of a text annotation file as ``(1-based line number, stripped line)``.

    Accepts a UTF-8 byte-order mark and Windows line endings (UCF101's lists have both in some copies).
    """
    try:
        with open(path, encoding="utf-8-sig", newline=None) as f:
            return [(i, line.strip()) for i, line in enumerate(f, start=1) if line.strip()]
    except FileNotFoundError as e:
        raise AnnotationError("annotation file not found; check the path", path=os.fspath(path)) from e
    except UnicodeDecodeError as e:
        raise AnnotationError(f"not a UTF-8 text file ({e.reason})", path=os.fspath(path)) from e
