"""Safe unpacking of official archives: path traversal, absolute names and outward links are refused."""

from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from action_core.datasets.archive import ArchiveError, UnsafeArchiveError, list_members, safe_extract


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
            elif kind in ("fifo", "chardev", "blockdev"):
                info.type = {
                    "fifo": tarfile.FIFOTYPE,
                    "chardev": tarfile.CHRTYPE,
                    "blockdev": tarfile.BLKTYPE,
                }[kind]
                tf.addfile(info)
            else:
                info.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
                info.linkname = payload
                tf.addfile(info)
    return path


def _zip(
    path: Path,
    members: list[tuple[str, str]],
    symlinks: dict[str, str] | None = None,
    modes: dict[str, int] | None = None,
) -> Path:
    """Regular members, then symlinks (the Unix symlink mode bit, the target as content), in the given order;
    ``modes`` gives other Unix file types (a FIFO, a device) to members by name."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members:
            info = zipfile.ZipInfo(name)
            info.external_attr = ((modes or {}).get(name, stat.S_IFREG) | 0o644) << 16
            zf.writestr(info, content)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
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


def _snapshot(folder: Path) -> dict[str, str]:
    """Every path below ``folder`` (links not followed) with what it holds: file text, link target or 'dir'."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            rel = str(full.relative_to(folder))
            if full.is_symlink():
                out[rel] = "-> " + os.readlink(full)
            elif full.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = full.read_text()
    return out


@pytest.fixture
def deep(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(world, root, secret): ``root`` four folders below ``world``; ``secret`` a file in a sibling folder of
    the chain that stands in for /etc/passwd (no test ever points at a real system file)."""
    world = tmp_path / "world"
    root = world / "w1" / "w2" / "w3" / "root"
    root.mkdir(parents=True)
    secret = world / "secret" / "passwd"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0 (a stand-in for the system's password file)")
    return world, root, secret


def test_a_chain_of_links_each_harmless_as_text_is_refused_before_anything_is_written(
    tmp_path: Path, deep: tuple[Path, Path, Path]
) -> None:
    # Each link's target normalises to a path inside the root when read as text, but resolved against the
    # links before it, l2 is the root's parent and l5 is four folders up: the hard link would copy the secret.
    world, root, secret = deep
    before = _snapshot(world)
    chain = [
        ("sub", "dir", ""),
        ("sub/l1", "symlink", ".."),
        ("l2", "symlink", "sub/l1/.."),
        ("l3", "symlink", "l2/.."),
        ("l4", "symlink", "l3/.."),
        ("l5", "symlink", "l4/.."),
        ("passwd", "hardlink", "l5/secret/passwd"),
    ]
    archive = _tar(tmp_path / "chain.tar", chain)
    with pytest.raises(UnsafeArchiveError) as err:
        safe_extract(archive, root)
    assert err.value.member == "l2"
    assert "'l2'" in str(err.value) and "outside" in str(err.value)
    assert _snapshot(world) == before
    assert list(root.iterdir()) == []
    with pytest.raises(UnsafeArchiveError):
        list_members(archive)


def test_a_hard_link_through_a_chain_is_refused_even_when_the_links_were_unpacked_earlier(
    tmp_path: Path, deep: tuple[Path, Path, Path]
) -> None:
    # The links from an earlier (older, unchecked) unpack are on disk; a new archive only holds the hard link.
    world, root, secret = deep
    (root / "sub").mkdir()
    os.symlink("..", root / "sub" / "l1")
    for i, target in enumerate(["sub/l1/..", "l2/..", "l3/..", "l4/.."], start=2):
        os.symlink(target, root / f"l{i}")
    before = _snapshot(world)
    archive = _tar(
        tmp_path / "hard.tar", [("ok.txt", "file", "fine"), ("passwd", "hardlink", "l5/secret/passwd")]
    )
    with pytest.raises(UnsafeArchiveError) as err:
        safe_extract(archive, root)
    assert err.value.member == "passwd"
    assert _snapshot(world) == before


def test_a_zip_chain_of_symlinks_is_refused(tmp_path: Path, deep: tuple[Path, Path, Path]) -> None:
    world, root, _ = deep
    before = _snapshot(world)
    links = {"sub/l1": "..", "l2": "sub/l1/..", "l3": "l2/..", "l4": "l3/..", "l5": "l4/.."}
    archive = _zip(tmp_path / "chain.zip", [("sub/readme.txt", "x")], links)
    with pytest.raises(UnsafeArchiveError) as err:
        safe_extract(archive, root)
    assert err.value.member == "l2"
    assert _snapshot(world) == before


def test_a_link_that_a_later_link_turns_outward_is_refused(tmp_path: Path, layout: tuple[Path, Path]) -> None:
    # 'up -> x/..' is the root itself while x does not exist; once 'x -> .' is unpacked, up is the root's parent.
    sandbox, target = layout
    before = _snapshot(sandbox)
    archive = _tar(tmp_path / "late.tar", [("up", "symlink", "x/.."), ("x", "symlink", ".")])
    with pytest.raises(UnsafeArchiveError) as err:
        safe_extract(archive, target)
    assert err.value.member == "up"
    assert _snapshot(sandbox) == before


def test_a_link_is_resolved_through_the_links_already_on_disk(
    tmp_path: Path, layout: tuple[Path, Path]
) -> None:
    # 'flat -> .' on disk is harmless; 'flat/..' reads as the root as text but is the root's parent on disk.
    sandbox, target = layout
    os.symlink(".", target / "flat")
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, target / "elsewhere")
    before = _snapshot(sandbox)
    for links in ({"up": "flat/.."}, {"into": "elsewhere/file.txt"}):
        archive = _zip(tmp_path / "disk.zip", [("a.txt", "x")], links)
        with pytest.raises(UnsafeArchiveError) as err:
            safe_extract(archive, target)
        assert err.value.member == next(iter(links))
        assert _snapshot(sandbox) == before
        assert list(outside.iterdir()) == []


def test_a_link_loop_is_refused(tmp_path: Path, layout: tuple[Path, Path]) -> None:
    sandbox, target = layout
    archive = _tar(tmp_path / "loop.tar", [("a", "symlink", "b"), ("b", "symlink", "a")])
    with pytest.raises(UnsafeArchiveError) as err:
        safe_extract(archive, target)
    assert err.value.member in ("a", "b")
    assert "loop" in str(err.value)
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("kind", ["fifo", "chardev", "blockdev"])
def test_tar_devices_and_fifos_are_refused(tmp_path: Path, layout: tuple[Path, Path], kind: str) -> None:
    sandbox, target = layout
    archive = _tar(tmp_path / "dev.tar", [("ok.txt", "file", "a"), ("dev/thing", kind, "")])
    with pytest.raises(UnsafeArchiveError) as err:
        safe_extract(archive, target)
    assert err.value.member == "dev/thing"
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("mode", [stat.S_IFIFO, stat.S_IFCHR, stat.S_IFBLK, stat.S_IFSOCK])
def test_zip_devices_and_fifos_are_refused(tmp_path: Path, layout: tuple[Path, Path], mode: int) -> None:
    sandbox, target = layout
    archive = _zip(tmp_path / "dev.zip", [("ok.txt", "a"), ("dev/thing", "")], modes={"dev/thing": mode})
    with pytest.raises(UnsafeArchiveError) as err:
        safe_extract(archive, target)
    assert err.value.member == "dev/thing"
    assert list(target.iterdir()) == []


def test_links_inside_the_root_are_kept_and_an_unpack_can_be_repeated(
    tmp_path: Path, layout: tuple[Path, Path]
) -> None:
    # Links that stay inside work, including a link on disk into the root, and a second unpack over the
    # first (an interrupted one re-run) gives the same tree.
    sandbox, target = layout
    (target / "store").mkdir()
    os.symlink("store", target / "videos")
    members = [
        ("UCF-101", "dir", ""),
        ("UCF-101/a/clip.avi", "file", "clip"),
        ("UCF-101/b", "symlink", "a"),
        ("UCF-101/c", "symlink", "b/../a/clip.avi"),
        ("UCF-101/copy.avi", "hardlink", "UCF-101/c"),
        ("videos/v.mp4", "file", "through a link of the user's that stays inside"),
    ]
    archive = _tar(tmp_path / "ok.tar", members)
    safe_extract(archive, target)
    first = _snapshot(sandbox)
    assert (target / "UCF-101/c").read_text() == "clip"
    assert (target / "UCF-101/copy.avi").read_text() == "clip"
    assert (target / "store/v.mp4").exists()
    safe_extract(archive, target)
    assert _snapshot(sandbox) == first


def test_a_member_that_cannot_replace_what_is_there_is_refused_before_writing(
    tmp_path: Path, layout: tuple[Path, Path]
) -> None:
    sandbox, target = layout
    (target / "UCF-101").mkdir()
    clashes = [
        [("first.txt", "file", "a"), ("UCF-101", "file", "not a folder")],
        [("first.txt", "file", "a"), ("UCF-101", "symlink", "first.txt")],
        [("first.txt", "file", "a"), ("link", "symlink", "nowhere"), ("link", "dir", "")],
        [("first.txt", "file", "a"), ("first.txt/inner", "file", "under a file")],
        [("first.txt", "file", "a"), ("copy", "hardlink", "missing.txt")],
    ]
    for members in clashes:
        archive = _tar(tmp_path / "clash.tar", members)
        with pytest.raises(ArchiveError) as err:
            safe_extract(archive, target)
        assert repr(members[-1][0]) in str(err.value)
        assert not (target / "first.txt").exists() and not (target / "link").is_symlink()


def test_random_archives_of_links_never_write_outside_nor_half_way(tmp_path: Path) -> None:
    # Random mixes of files, folders, symbolic and hard links with '..'-heavy targets, sometimes over a link
    # already on disk: each archive is either refused with the folder untouched, or unpacked with every new
    # link resolving inside it, and the sibling folder holding a secret is never read or changed.
    import random

    names = ["a", "b", "c", "a/b", "a/c", "b/a", "d", "a/b/c"]
    targets = ["..", ".", "a", "b", "a/..", "../..", "b/..", "a/b/..", "c/../..", "../target/a", "d/..", "x"]
    targets += ["a/b/../..", "../outside", "/abs"]
    sources = [*names, "a/secret", "b/outside/secret", "d/secret", "x/../secret"]
    rng = random.Random(0)
    for case in range(300):
        world = tmp_path / str(case)
        root, outside = world / "target", world / "outside"
        root.mkdir(parents=True)
        outside.mkdir()
        (outside / "secret").write_text("S")
        if rng.random() < 0.3:
            os.symlink(rng.choice(targets), root / rng.choice(["a", "b", "d"]))
        members = []
        for _ in range(rng.randint(1, 6)):
            kind = rng.choice(["file", "dir", "symlink", "symlink", "hardlink"])
            link = {"symlink": rng.choice(targets), "hardlink": rng.choice(sources)}.get(kind, "payload")
            members.append((rng.choice(names), kind, link))
        archive = _tar(tmp_path / f"{case}.tar", members)
        before = _snapshot(root)
        try:
            safe_extract(archive, root)
        except (UnsafeArchiveError, ArchiveError):
            assert _snapshot(root) == before, members
        else:
            after = _snapshot(root)
            for rel, what in after.items():
                if before.get(rel) == what:
                    continue  # left as it was
                path = root / rel
                if path.is_symlink():
                    real = os.path.realpath(path)
                    assert real == str(root) or real.startswith(f"{root}{os.sep}"), (members, rel)
                else:
                    assert what != "S", (members, rel)
        assert sorted(p.name for p in world.iterdir()) == ["outside", "target"], members
        assert _snapshot(outside) == {"secret": "S"}, members


def _damaged_archives(tmp_path: Path) -> list[Path]:
    """A truncated tar.gz, a truncated plain tar, a zip whose data fails its CRC, a zip symlink whose target is
    not UTF-8 (all found by fuzzing ``prepare --extract``)."""
    big = "x" * 5000 + "".join(chr(65 + i % 26) for i in range(20000))
    full = _tar(tmp_path / "full.tar.gz", [("data/a.txt", "file", big), ("data/b.txt", "file", big)])
    cut_gz = tmp_path / "cut.tar.gz"
    cut_gz.write_bytes(full.read_bytes()[: len(full.read_bytes()) // 2])
    plain = tmp_path / "plain.tar"
    with tarfile.open(plain, "w") as tf:
        for name in ("data/a.txt", "data/b.txt"):
            info = tarfile.TarInfo(name)
            info.size = len(big)
            tf.addfile(info, io.BytesIO(big.encode()))
    cut_tar = tmp_path / "cut.tar"
    cut_tar.write_bytes(plain.read_bytes()[:700] + b"\x07" * 600)
    crc = tmp_path / "crc.zip"
    with zipfile.ZipFile(crc, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data/a.txt", big)
    data = bytearray(crc.read_bytes())
    data[60:70] = bytes(10)
    crc.write_bytes(bytes(data))
    link = tmp_path / "link.zip"
    with zipfile.ZipFile(link, "w") as zf:
        info = zipfile.ZipInfo("data/link")
        info.external_attr = (0o120777 << 16) | 0x20
        zf.writestr(info, b"\xff\xfe")
    return [cut_gz, cut_tar, crc, link]


def test_a_corrupt_or_truncated_archive_is_an_archive_error_and_leaves_nothing(tmp_path: Path) -> None:
    for archive in _damaged_archives(tmp_path):
        target = tmp_path / f"into_{archive.name}"
        with pytest.raises(ArchiveError, match=archive.name) as info:
            safe_extract(archive, target)
        assert "corrupt" in str(info.value), str(info.value)
        assert not [p for p in _tree(target) if ".partial-" in p], _tree(target)
        if archive.name != "crc.zip":  # listing reads no member data, so a bad CRC shows only on unpacking
            with pytest.raises(ArchiveError, match=archive.name):
                list_members(archive)


def test_a_zip_member_without_a_name_is_skipped(tmp_path: Path) -> None:
    # Found by fuzzing: zipfile's is_dir() raised IndexError on the empty name.
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("data/a.txt", "a")
        zf.writestr(zipfile.ZipInfo(""), "nameless")
    assert safe_extract(archive, tmp_path / "out") == ["data/a.txt"]
    assert _tree(tmp_path / "out") == {"data", "data/a.txt"}
