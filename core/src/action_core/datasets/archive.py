"""Unpack the official archives (zip, tar in any compression, rar when the ``rarfile`` library is installed)
without ever writing outside the target folder.

Every member is checked before anything is written: a name that is absolute, contains ``..``, passes
through a link, or a link (symbolic or hard) whose target lies outside the folder, or a device/FIFO member,
makes the whole archive refused with :class:`UnsafeArchiveError` naming the member. Files are written to
a temporary name and renamed, so an interrupted unpack leaves no half-written file under its real name.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from typing import IO, Any

import attrs

from action_core.errors import ActionError


class UnsafeArchiveError(ActionError):
    """An archive member would land outside the target folder; ``member`` names it."""

    def __init__(self, message: str, *, archive: str, member: str) -> None:
        super().__init__(message)
        self.archive = archive
        self.member = member


class ArchiveError(ActionError):
    """An archive cannot be read (unknown format, corrupt, or rar without the rarfile library)."""


@attrs.frozen
class _Member:
    name: str  # normalised relative POSIX path
    kind: str  # "file", "dir", "symlink", "hardlink"
    link: str = ""  # symlink target as written / hardlink target member name
    open: Callable[[], IO[bytes]] | None = None


def _normalise(archive: str, raw: str) -> str:
    name = raw.replace("\\", "/")
    refuse = None
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        refuse = "it is an absolute path"
    elif ".." in name.split("/"):
        refuse = "it contains '..'"
    if refuse:
        raise UnsafeArchiveError(
            f"{archive}: member {raw!r} would be written outside the target folder ({refuse}); "
            "nothing was extracted. The archive is not an official copy or was tampered with.",
            archive=archive,
            member=raw,
        )
    name = posixpath.normpath(name)
    return "" if name == "." else name


def _inside(path: str) -> bool:
    return path != ".." and not path.startswith("../") and not path.startswith("/")


def _check_links(archive: str, members: list[_Member]) -> None:
    links = {m.name for m in members if m.kind == "symlink"}
    for m in members:
        parts = m.name.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) in links:
                raise UnsafeArchiveError(
                    f"{archive}: member {m.name!r} is written through the link {'/'.join(parts[:i])!r} and could "
                    "land outside the target folder; nothing was extracted",
                    archive=archive,
                    member=m.name,
                )
        if m.kind == "symlink":
            target = m.link.replace("\\", "/")
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(m.name), target))
            if target.startswith("/") or not _inside(resolved):
                raise UnsafeArchiveError(
                    f"{archive}: member {m.name!r} is a link to {m.link!r}, outside the target folder; "
                    "nothing was extracted",
                    archive=archive,
                    member=m.name,
                )
        elif m.kind == "hardlink":
            target = m.link.replace("\\", "/")
            resolved = posixpath.normpath(target)
            if target.startswith("/") or ".." in target.split("/") or not _inside(resolved):
                raise UnsafeArchiveError(
                    f"{archive}: member {m.name!r} is a hard link to {m.link!r}, outside the target folder; "
                    "nothing was extracted",
                    archive=archive,
                    member=m.name,
                )


def _tar_members(archive: str, tf: tarfile.TarFile) -> Iterator[_Member]:
    for info in tf.getmembers():
        name = _normalise(archive, info.name)
        if info.isdir():
            yield _Member(name, "dir")
        elif info.issym():
            yield _Member(name, "symlink", info.linkname)
        elif info.islnk():
            yield _Member(name, "hardlink", info.linkname)
        elif info.isfile():
            yield _Member(name, "file", open=lambda info=info: tf.extractfile(info))  # type: ignore[misc]
        else:
            raise UnsafeArchiveError(
                f"{archive}: member {info.name!r} is a device or FIFO, which a dataset archive never holds; "
                "nothing was extracted",
                archive=archive,
                member=info.name,
            )


def _zip_like_members(archive: str, zf: Any) -> Iterator[_Member]:
    for info in zf.infolist():
        name = _normalise(archive, info.filename)
        mode = (info.external_attr >> 16) & 0xFFFF
        if info.filename.endswith("/") or (hasattr(info, "is_dir") and info.is_dir()):
            yield _Member(name, "dir")
        elif stat.S_ISLNK(mode):
            yield _Member(name, "symlink", zf.read(info).decode("utf-8"))
        else:
            yield _Member(name, "file", open=lambda info=info: zf.open(info))


def _open_archive(path: str) -> tuple[Any, Callable[[str, Any], Iterator[_Member]]]:
    if zipfile.is_zipfile(path):
        return zipfile.ZipFile(path), _zip_like_members
    if path.lower().endswith(".rar"):
        try:
            import rarfile
        except ImportError as e:
            raise ArchiveError(
                f"{path}: reading rar archives needs the rarfile library and an unrar tool: "
                "pip install rarfile (or unpack it yourself and point prepare at the folder)"
            ) from e
        return rarfile.RarFile(path), _zip_like_members
    try:
        return tarfile.open(path), _tar_members
    except tarfile.TarError as e:
        raise ArchiveError(f"{path}: not a zip, tar or rar archive, or corrupt ({e})") from e


def list_members(archive: str | os.PathLike[str]) -> list[str]:
    """Names of the archive's members after the safety checks (raises :class:`UnsafeArchiveError`)."""
    path = os.fspath(archive)
    handle, members_of = _open_archive(path)
    with handle:
        members = list(members_of(path, handle))
        _check_links(path, members)
        return [m.name for m in members if m.name]


def safe_extract(archive: str | os.PathLike[str], target: str | os.PathLike[str]) -> list[str]:
    """Unpack ``archive`` into ``target`` after checking every member; returns the extracted names.

    Raises :class:`UnsafeArchiveError` (naming the member) before writing anything when a member would
    land outside ``target``.
    """
    path = os.fspath(archive)
    root = os.path.realpath(os.fspath(target))
    handle, members_of = _open_archive(path)
    with handle:
        members = list(members_of(path, handle))
        _check_links(path, members)
        os.makedirs(root, exist_ok=True)
        written = []
        for m in members:
            if not m.name:
                continue
            dest = os.path.join(root, *m.name.split("/"))
            parent = os.path.dirname(dest)
            # A link already on disk (from an earlier unpack or the user) must not carry us out either.
            if not os.path.realpath(parent).startswith(root + os.sep) and os.path.realpath(parent) != root:
                raise UnsafeArchiveError(
                    f"{path}: member {m.name!r} would be written through a link on disk that leads outside "
                    f"{root}; remove that link and retry",
                    archive=path,
                    member=m.name,
                )
            if m.kind == "dir":
                os.makedirs(dest, exist_ok=True)
                continue
            os.makedirs(parent, exist_ok=True)
            tmp = os.path.join(parent, f".{os.path.basename(dest)}.partial-{os.getpid()}")
            if m.kind == "symlink":
                os.symlink(m.link, tmp)
            elif m.kind == "hardlink":
                shutil.copyfile(os.path.join(root, *posixpath.normpath(m.link).split("/")), tmp)
            else:
                assert m.open is not None
                with m.open() as src, open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            os.replace(tmp, dest)
            written.append(m.name)
        return written
