"""Unpack the official archives (zip, tar in any compression, rar when the ``rarfile`` library is installed)
without ever writing outside the target folder.

Before anything is written, the whole unpack is played out on a model of the target folder: what is already on
disk below it, overlaid with each member in archive order. Every member's final path is resolved in that model,
following links (the archive's own, chains of them, and links already on disk) the way the operating system
will. The whole archive is refused with :class:`UnsafeArchiveError`, naming the member and why, when a member's
name is absolute or contains ``..``, when it would be written through a link the archive itself made, when a
link (symbolic or hard) resolves outside the folder or into a loop, including a link that only leads out once
later members are in place, and when a member is a device, FIFO or socket. A member that cannot replace what is
already there (a file where a folder is) is refused with :class:`ArchiveError`, also before anything is written.
Files are written to a temporary name and renamed, so an interrupted unpack leaves no half-written file under
its real name, and unpacking the same archive again over an interrupted one gives the same tree.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import lzma
import os
import posixpath
import shutil
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import IO, Any

import attrs

from action_core.errors import ActionError

# The operating system gives up after 40 links in one lookup (Linux's MAXSYMLINKS); so do we.
_MAX_LINK_HOPS = 40

_Parts = tuple[str, ...]


class UnsafeArchiveError(ActionError):
    """An archive member would land outside the target folder; ``member`` names it."""

    def __init__(self, message: str, *, archive: str, member: str) -> None:
        super().__init__(message)
        self.archive = archive
        self.member = member


class ArchiveError(ActionError):
    """An archive cannot be read or unpacked (unknown format, corrupt, a member that clashes with the folder)."""


# What the standard library's readers raise on a damaged or truncated archive (bz2 raises OSError).
_DAMAGED = (
    tarfile.TarError,
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    gzip.BadGzipFile,
    EOFError,
    UnicodeDecodeError,
    NotImplementedError,  # a zip compression method the zipfile module lacks
)


@contextlib.contextmanager
def _reading(path: str) -> Iterator[None]:
    """Turn a damaged archive's reader errors into one :class:`ArchiveError` naming the file."""
    try:
        yield
    except _DAMAGED as e:
        raise ArchiveError(
            f"{path}: the archive is corrupt or truncated ({type(e).__name__}: {e}); download it again"
        ) from e


@attrs.frozen
class _Member:
    name: str  # normalised relative POSIX path
    kind: str  # "file", "dir", "symlink", "hardlink"
    link: str = ""  # symlink target as written / hardlink target member name
    open: Callable[[], IO[bytes]] | None = None


@attrs.frozen
class _Node:
    kind: str  # "dir", "file", "symlink", "other" (a device or FIFO already on disk)
    link: str = ""
    from_archive: bool = False


_ROOT_NODE = _Node("dir")


class _Outside(Exception):
    """A lookup left the target folder; the message says through which link."""


class _Loop(_Outside):
    """A lookup went round a loop of links."""


class _NotAFolder(Exception):
    """A lookup needs a folder where the model holds a file."""


@attrs.frozen
class _Resolved:
    parts: _Parts  # the physical path below the root, links resolved
    node: _Node | None  # what is there (None: nothing yet)
    archive_link: str = ""  # the first link of the archive's own that the lookup went through
    # The operating system's lookup would fail now: it takes '..' out of a folder that does not exist (yet).
    broken: bool = False


@attrs.frozen
class _Step:
    member: _Member
    dest: _Parts  # physical destination below the root
    source: _Parts = ()  # hard links: the physical file copied


class _TargetModel:
    """The target folder as it will be once the members seen so far are unpacked: the archive's members
    over what is on disk below ``root`` (``None``: nothing on disk, as for :func:`list_members`)."""

    def __init__(self, root: str | None) -> None:
        self.root = root
        self.nodes: dict[_Parts, _Node] = {}

    def lookup(self, parts: _Parts) -> _Node | None:
        if not parts:
            return _ROOT_NODE
        if parts in self.nodes:
            return self.nodes[parts]
        if self.root is None:
            return None
        try:
            st = os.lstat(os.path.join(self.root, *parts))
        except (FileNotFoundError, NotADirectoryError):
            return None
        if stat.S_ISLNK(st.st_mode):
            return _Node("symlink", os.readlink(os.path.join(self.root, *parts)))
        if stat.S_ISDIR(st.st_mode):
            return _Node("dir")
        return _Node("file" if stat.S_ISREG(st.st_mode) else "other")

    def resolve(self, path: str, *, base: _Parts = (), follow_last: bool = True) -> _Resolved:
        """Look ``path`` up from the folder ``base`` as the operating system would, following links."""
        cur: list[str] = list(base)
        todo = list(reversed(path.split("/")))
        node: _Node | None = _ROOT_NODE if not cur else self.lookup(tuple(cur))
        followed: list[str] = []
        archive_link = ""
        broken = False
        while todo:
            part = todo.pop()
            if part in ("", "."):
                continue
            if node is not None and node.kind not in ("dir", "symlink"):
                raise _NotAFolder("/".join(cur))
            if part == "..":
                if not cur:
                    via = f" following {', '.join(followed)}" if followed else ""
                    raise _Outside(f"it climbs above the target folder{via}")
                broken = broken or node is None
                cur.pop()
                node = self.lookup(tuple(cur))
                continue
            here = (*cur, part)
            node = self.lookup(here)
            if node is not None and node.kind == "symlink" and (todo or follow_last):
                followed.append(f"{'/'.join(here)} -> {node.link}")
                if len(followed) > _MAX_LINK_HOPS:
                    raise _Loop(f"the links {', '.join(dict.fromkeys(followed))} form a loop")
                if node.from_archive and not archive_link:
                    archive_link = "/".join(here)
                target = node.link
                if target.startswith("/"):
                    inside = self._inside_absolute(target)
                    if inside is None:
                        raise _Outside(f"the link {'/'.join(here)!r} points to {target!r}")
                    cur = list(inside)
                    target = ""
                todo.extend(reversed(target.split("/")))
                node = self.lookup(tuple(cur))
                continue
            cur.append(part)
        return _Resolved(tuple(cur), None if broken else node, archive_link, broken)

    def _inside_absolute(self, target: str) -> _Parts | None:
        """A link already on disk with an absolute target: the path below the root it points to, if any."""
        if self.root is None:
            return None
        for candidate in (os.path.normpath(target), os.path.realpath(target)):
            if candidate == self.root:
                return ()
            if candidate.startswith(self.root + os.sep):
                return tuple(candidate[len(self.root) + 1 :].split(os.sep))
        return None

    def add_folders(self, parts: _Parts) -> None:
        """The folders ``os.makedirs`` creates for ``parts``."""
        for i in range(1, len(parts) + 1):
            if self.lookup(parts[:i]) is None:
                self.nodes[parts[:i]] = _Node("dir")


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


def _plan(archive: str, members: list[_Member], root: str | None) -> list[_Step]:
    """Play the unpack out on a model of the target folder; refuse it (nothing written) if any member is unsafe."""
    model = _TargetModel(root)
    steps: list[_Step] = []
    links: list[tuple[_Parts, _Member]] = []

    def unsafe(m: _Member, why: str) -> UnsafeArchiveError:
        return UnsafeArchiveError(
            f"{archive}: member {m.name!r} {why}; nothing was extracted. "
            "The archive is not an official copy or was tampered with.",
            archive=archive,
            member=m.name,
        )

    def clash(m: _Member, why: str) -> ArchiveError:
        return ArchiveError(
            f"{archive}: member {m.name!r} cannot be unpacked: {why}; nothing was extracted. "
            "Move that away (or unpack into an empty folder) and retry."
        )

    def resolve(m: _Member, path: str, *, base: _Parts = (), follow_last: bool = True) -> _Resolved:
        try:
            return model.resolve(path, base=base, follow_last=follow_last)
        except _Loop as e:
            raise unsafe(m, f"cannot be looked up: {e}") from None
        except _Outside as e:
            raise unsafe(m, f"leads outside the target folder: {e}") from None
        except _NotAFolder as e:
            raise clash(m, f"{str(e)!r} is a file, not a folder") from None

    for m in members:
        if not m.name:
            continue
        folder, _, base_name = m.name.rpartition("/")
        parent = resolve(m, folder)
        if parent.archive_link:
            raise unsafe(
                m,
                f"would be written through {parent.archive_link!r}, a link the archive itself makes, "
                "and could land outside the target folder",
            )
        if parent.node is not None and parent.node.kind != "dir":
            raise clash(m, f"{folder!r} is not a folder")
        if parent.broken:
            raise clash(m, f"{folder!r} leads through a link into a folder that does not exist")
        dest = (*parent.parts, base_name)
        there = model.lookup(dest)
        if m.kind == "dir":
            if there is not None and there.kind == "symlink":
                there = resolve(m, m.name).node
                if there is None:
                    raise clash(m, f"{m.name!r} is already there as a link to nothing")
            if there is not None and there.kind != "dir":
                raise clash(m, f"{m.name!r} is already there and is not a folder")
            model.add_folders(dest)
            steps.append(_Step(m, dest))
            continue
        if there is not None and there.kind == "dir":
            raise clash(m, f"a folder {m.name!r} is already there")
        model.add_folders(parent.parts)
        if m.kind == "symlink":
            target = m.link.replace("\\", "/")
            if target.startswith("/") or (len(target) > 1 and target[1] == ":"):
                raise unsafe(m, f"is a link to the absolute path {m.link!r}, outside the target folder")
            resolve(m, target, base=parent.parts)
            model.nodes[dest] = _Node("symlink", target, from_archive=True)
            links.append((dest, m))
            steps.append(_Step(m, dest))
        elif m.kind == "hardlink":
            target = m.link.replace("\\", "/")
            if target.startswith("/") or ".." in target.split("/"):
                raise unsafe(m, f"is a hard link to {m.link!r}, outside the target folder")
            source = resolve(m, target)
            if source.node is None or source.node.kind != "file":
                raise clash(m, f"it is a hard link to {m.link!r}, which is not a file unpacked before it")
            model.nodes[dest] = _Node("file")
            steps.append(_Step(m, dest, source.parts))
        else:
            model.nodes[dest] = _Node("file")
            steps.append(_Step(m, dest))
    # A link checked when it was made can lead out once later members are in place ('up -> x/..', then 'x -> .').
    for dest, m in links:
        if model.nodes.get(dest) == _Node("symlink", m.link.replace("\\", "/"), from_archive=True):
            try:
                model.resolve(m.link.replace("\\", "/"), base=dest[:-1])
            except _Outside as e:
                what = "cannot be looked up" if isinstance(e, _Loop) else "leads outside the target folder"
                raise unsafe(m, f"{what} once the archive's later members are in place: {e}") from None
            except _NotAFolder:
                pass  # a dangling link (through a file) never leads anywhere
    return steps


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
            yield _Member(name, "file", open=functools.partial(_tar_file, tf, info))
        else:
            raise _special(archive, info.name)


def _special(archive: str, member: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(
        f"{archive}: member {member!r} is a device, FIFO or socket, which a dataset archive never holds; "
        "nothing was extracted",
        archive=archive,
        member=member,
    )


def _zip_like_members(archive: str, zf: Any) -> Iterator[_Member]:
    for info in zf.infolist():
        name = _normalise(archive, info.filename)
        # Zip (and rar) keep the Unix file type in the high bits of the external attributes.
        mode = (getattr(info, "external_attr", 0) >> 16) & 0xFFFF
        # zipfile's is_dir() fails on an empty name (a damaged directory entry); such a member is skipped.
        if info.filename.endswith("/") or (info.filename and hasattr(info, "is_dir") and info.is_dir()):
            yield _Member(name, "dir")
        elif stat.S_ISLNK(mode) or (hasattr(info, "is_symlink") and info.is_symlink()):
            yield _Member(name, "symlink", zf.read(info).decode("utf-8"))
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
            raise _special(archive, info.filename)
        else:
            yield _Member(name, "file", open=functools.partial(zf.open, info))


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
    """Names of the archive's members after the safety checks (raises :class:`UnsafeArchiveError`).

    The checks see the archive alone, as if unpacked into an empty folder; :func:`safe_extract` also takes
    what is already on disk into account.
    """
    path = os.fspath(archive)
    with _reading(path):
        handle, members_of = _open_archive(path)
        with handle:
            members = list(members_of(path, handle))
    _plan(path, members, None)
    return [m.name for m in members if m.name]


def safe_extract(archive: str | os.PathLike[str], target: str | os.PathLike[str]) -> list[str]:
    """Unpack ``archive`` into ``target`` after checking every member; returns the extracted names.

    Raises :class:`UnsafeArchiveError` (naming the member) before writing anything when a member would
    land outside ``target``, and :class:`ArchiveError` when one cannot replace what is already there.
    """
    path = os.fspath(archive)
    root = os.path.realpath(os.fspath(target))
    with _reading(path):
        handle, members_of = _open_archive(path)
    with handle:
        with _reading(path):
            members = list(members_of(path, handle))
        steps = _plan(path, members, root if os.path.isdir(root) else None)
        os.makedirs(root, exist_ok=True)
        written = []
        for step in steps:
            m = step.member
            dest = os.path.join(root, *step.dest)
            parent = os.path.dirname(dest)
            os.makedirs(dest if m.kind == "dir" else parent, exist_ok=True)
            # The plan wrote physical paths; this only catches the folder being changed under us meanwhile.
            real_parent = os.path.realpath(parent)
            if real_parent != root and not real_parent.startswith(root + os.sep):
                raise UnsafeArchiveError(
                    f"{path}: member {m.name!r} would be written to {real_parent}, outside {root}: the folder "
                    "changed while it was being unpacked; check it and retry",
                    archive=path,
                    member=m.name,
                )
            if m.kind == "dir":
                continue
            tmp = os.path.join(parent, f".{os.path.basename(dest)}.partial-{os.getpid()}")
            try:
                if m.kind == "symlink":
                    os.symlink(m.link, tmp)
                elif m.kind == "hardlink":
                    shutil.copyfile(os.path.join(root, *step.source), tmp)
                else:
                    assert m.open is not None
                    with _reading(path), m.open() as src, open(tmp, "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
                os.replace(tmp, dest)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(tmp)
                raise
            written.append(m.name)
        return written


def _tar_file(tf: tarfile.TarFile, info: tarfile.TarInfo) -> IO[bytes]:
    handle = tf.extractfile(info)
    if handle is None:
        raise ArchiveError(f"tar member {info.name!r} has no data to read")
    return handle
