"""Safe unpacking of official archives: path traversal, absolute names and outward links are refused."""

from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from action_core.datasets.archive import UnsafeArchiveError, list_members, safe_extract


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.exists() else set()


def _tar(path: Path, members: list[tuple[str, str, str]]) -> Path:
    """members: (name, kind, payload) with kind file (payload = content), symlink/hardlink (payload = target)."""
    with tarfile.open(path, "w:gz") as tf:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                data = payload.encode()
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
                tf.addfile(info)
            else:
                info.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
                info.linkname = payload
                tf.addfile(info)
    return path


def _zip(path: Path, members: list[tuple[str, str]], symlinks: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members:
            zf.writestr(name, content)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """(sandbox, target): the target folder inside a sandbox whose other contents must stay untouched."""
    sandbox = tmp_path / "sandbox"
    (sandbox / "target").mkdir(parents=True)
    (sandbox / "keep.txt").write_text("untouched")
    return sandbox, sandbox / "target"


def test_valid_tar_and_zip_extract_everything(tmp_path: Path, layout: tuple[Path, Path]) -> None:
    sandbox, target = layout
    tar = _tar(
        tmp_path / "ok.tar.gz",
        [
            ("UCF-101", "dir", ""),
            ("UCF-101/Archery/v_Archery_g01_c01.avi", "file", "video-bytes"),
            ("UCF-101/latest", "symlink", "Archery/v_Archery_g01_c01.avi"),
            ("UCF-101/copy.avi", "hardlink", "UCF-101/Archery/v_Archery_g01_c01.avi"),
        ],
    )
    names = safe_extract(tar, target)
    assert "UCF-101/Archery/v_Archery_g01_c01.avi" in names
    assert (target / "UCF-101/latest").read_text() == "video-bytes"
    assert (target / "UCF-101/copy.avi").read_text() == "video-bytes"
    zipped = _zip(tmp_path / "ok.zip", [("ucfTrainTestlist/classInd.txt", "1 ApplyEyeMakeup\r\n")])
    safe_extract(zipped, target)
    assert (target / "ucfTrainTestlist/classInd.txt").read_bytes() == b"1 ApplyEyeMakeup\r\n"
    assert not [p for p in _tree(target) if ".partial-" in p]


@pytest.mark.parametrize(
    ("members", "bad"),
    [
        ([("ok.txt", "file", "a"), ("../evil.txt", "file", "pwned")], "../evil.txt"),
        ([("ok.txt", "file", "a"), ("sub/../../evil.txt", "file", "pwned")], "sub/../../evil.txt"),
        ([("/tmp/evil-absolute.txt", "file", "pwned")], "/tmp/evil-absolute.txt"),
        ([("ok.txt", "file", "a"), ("link", "symlink", "../../")], "link"),
        ([("abs-link", "symlink", "/etc/passwd")], "abs-link"),
        ([("hard", "hardlink", "../keep.txt")], "hard"),
        ([("d", "symlink", "."), ("d/x.txt", "file", "through a link")], "d/x.txt"),
    ],
)
def test_tar_with_an_escaping_member_is_refused_and_nothing_is_written(
    tmp_path: Path, layout: tuple[Path, Path], members: list[tuple[str, str, str]], bad: str
) -> None:
    sandbox, target = layout
    before = _tree(sandbox)
    archive = _tar(tmp_path / "evil.tar.gz", members)
    with pytest.raises(UnsafeArchiveError) as err:
        safe_extract(archive, target)
    assert err.value.member == bad
    assert repr(bad) in str(err.value)
    assert _tree(sandbox) == before
    assert (sandbox / "keep.txt").read_text() == "untouched"
    assert not os.path.exists("/tmp/evil-absolute.txt")
    with pytest.raises(UnsafeArchiveError):
        list_members(archive)


@pytest.mark.parametrize(
    ("members", "links", "bad"),
    [
        ([("a.txt", "x"), ("../../zip-evil.txt", "pwned")], {}, "../../zip-evil.txt"),
        ([("a.txt", "x"), ("C:/windows/evil.txt", "pwned")], {}, "C:/windows/evil.txt"),
        ([("a.txt", "x"), ("dir\\..\\..\\evil.txt", "pwned")], {}, "dir\\..\\..\\evil.txt"),
        ([("a.txt", "x")], {"out": "../../outside"}, "out"),
    ],
)
def test_zip_with_an_escaping_member_is_refused_and_nothing_is_written(
    tmp_path: Path, layout: tuple[Path, Path], members: list[tuple[str, str]], links: dict[str, str], bad: str
) -> None:
    sandbox, target = layout
    before = _tree(sandbox)
    archive = _zip(tmp_path / "evil.zip", members, links)
    with pytest.raises(UnsafeArchiveError) as err:
        safe_extract(archive, target)
    assert err.value.member == bad
    assert _tree(sandbox) == before


def test_an_existing_link_on_disk_pointing_out_is_not_followed(
    tmp_path: Path, layout: tuple[Path, Path]
) -> None:
    sandbox, target = layout
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, target / "videos")
    archive = _tar(tmp_path / "a.tar", [("videos/clip.mp4", "file", "data")])
    with pytest.raises(UnsafeArchiveError) as err:
        safe_extract(archive, target)
    assert err.value.member == "videos/clip.mp4"
    assert list(outside.iterdir()) == []
