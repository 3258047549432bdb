"""The generated video dataset on disk: determinism, list files, decoding, and repair of a damaged cache."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest

from action_synthetic.generate import MotionDatasetConfig, prepare_motion_dataset, render_video_frames

SMALL = MotionDatasetConfig(
    classes=("move_left", "move_right", "rotate_clockwise"),
    videos_per_class=5,
    size=32,
    num_frames=8,
    split_fractions=(0.6, 0.2, 0.2),
)


def _tree(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_byte_identical_files(tmp_path):
    a = prepare_motion_dataset(tmp_path / "a", SMALL)
    b = prepare_motion_dataset(tmp_path / "b", SMALL)
    assert a.folder.name == b.folder.name
    tree_a, tree_b = _tree(a.folder), _tree(b.folder)
    tree_a.pop(".lock")
    tree_b.pop(".lock")
    assert sorted(tree_a) == sorted(tree_b)
    assert len([k for k in tree_a if k.endswith(".mp4")]) == 15
    for name in tree_a:
        assert tree_a[name] == tree_b[name], name


def test_another_seed_gives_other_videos_in_another_folder(tmp_path):
    a = prepare_motion_dataset(tmp_path, SMALL)
    other = MotionDatasetConfig(**{**_fields(SMALL), "seed": 1})
    b = prepare_motion_dataset(tmp_path, other)
    assert a.folder != b.folder
    path = "videos/move_left/move_left_0000.mp4"
    assert (a.folder / path).read_bytes() != (b.folder / path).read_bytes()


def _fields(config):
    import attrs

    return attrs.asdict(config, recurse=False)


def test_class_subset_renders_the_same_clips_for_shared_classes():
    # Seeds depend on the class name, not its position in the chosen subset.
    sub = MotionDatasetConfig(
        **{**_fields(SMALL), "classes": ("rotate_clockwise", "move_right", "move_left")}
    )
    np.testing.assert_array_equal(
        render_video_frames(SMALL, "move_right", 2), render_video_frames(sub, "move_right", 2)
    )


def test_list_files_label_map_and_split_sizes(tmp_path):
    data = prepare_motion_dataset(tmp_path, SMALL)
    assert (data.folder / "classes.txt").read_text().splitlines() == list(SMALL.classes)
    seen = set()
    for split, per_class in {"train": 3, "val": 1, "test": 1}.items():
        lines = data.list_file(split).read_text().splitlines()
        assert len(lines) == per_class * 3
        for line in lines:
            rel, label = line.split(" ")
            assert rel.startswith(f"videos/{SMALL.classes[int(label)]}/") and rel.endswith(".mp4")
            assert (data.folder / rel).is_file()
            assert rel not in seen
            seen.add(rel)
        labels = [label for _, label in data.samples(split)]
        assert sorted(set(labels)) == [0, 1, 2] and all(labels.count(k) == per_class for k in range(3))
    assert len(seen) == 15


def test_videos_decode_to_the_rendered_frames(tmp_path):
    data = prepare_motion_dataset(tmp_path, SMALL)
    path, label = data.samples("val")[1]
    with av.open(path) as container:
        stream = container.streams.video[0]
        assert stream.average_rate == SMALL.fps
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(stream)])
    assert frames.shape == (SMALL.num_frames, SMALL.size, SMALL.size, 3)
    class_name = SMALL.classes[label]
    index = int(path.rsplit("_", 1)[1].split(".")[0])
    rendered = render_video_frames(SMALL, class_name, index)
    # The unavoidable loss is 4:2:0 chroma subsampling; the codec adds little on top of it.
    floor = np.mean(
        [
            np.abs(
                av.VideoFrame.from_ndarray(f, format="rgb24")
                .reformat(format="yuv420p")
                .to_ndarray(format="rgb24")
                - f.astype(np.float64)
            ).mean()
            for f in rendered
        ]
    )
    error = np.abs(frames - rendered.astype(np.float64)).mean()
    assert error < floor + 2.0
    other = render_video_frames(SMALL, class_name, index + 1).astype(np.float64)
    assert np.abs(frames - other).mean() > 3 * error


def test_damaged_files_are_found_and_only_they_regenerated(tmp_path):
    data = prepare_motion_dataset(tmp_path, SMALL)
    original = _tree(data.folder)
    truncated = data.folder / "videos/move_left/move_left_0001.mp4"
    truncated.write_bytes(truncated.read_bytes()[:100])
    flipped = data.folder / "videos/rotate_clockwise/rotate_clockwise_0004.mp4"
    raw = bytearray(flipped.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # same size, different hash
    flipped.write_bytes(bytes(raw))
    (data.folder / "videos/move_right/move_right_0000.mp4").unlink()
    (data.folder / "train.txt").write_text("garbage\n")

    again = prepare_motion_dataset(tmp_path, SMALL)
    assert _tree(again.folder) == original


def test_interrupted_generation_without_manifest_is_redone(tmp_path):
    data = prepare_motion_dataset(tmp_path, SMALL)
    original = _tree(data.folder)
    # What an interrupted first run leaves: some files, a stray temporary file, no manifest.
    (data.folder / "manifest.json").unlink()
    (data.folder / "videos/move_left/move_left_0003.mp4").unlink()
    (data.folder / "videos/move_left/.move_left_0003.mp4.999.tmp").write_bytes(b"partial")
    (data.folder / "videos/move_left/move_left_0002.mp4").write_bytes(b"half a video")

    again = prepare_motion_dataset(tmp_path, SMALL)
    tree = _tree(again.folder)
    tree.pop("videos/move_left/.move_left_0003.mp4.999.tmp")
    assert tree == original


def test_manifest_of_another_config_or_unreadable_is_not_trusted(tmp_path):
    data = prepare_motion_dataset(tmp_path, SMALL)
    video = data.folder / "videos/move_left/move_left_0000.mp4"
    good = video.read_bytes()
    manifest = json.loads((data.folder / "manifest.json").read_text())
    manifest["identity"]["seed"] = 123
    # Pretend a damaged file is fine for that other identity; it must still be redone.
    video.write_bytes(b"x" * len(good))
    manifest["files"]["videos/move_left/move_left_0000.mp4"]["sha256"] = "0" * 64
    (data.folder / "manifest.json").write_text(json.dumps(manifest))
    prepare_motion_dataset(tmp_path, SMALL)
    assert video.read_bytes() == good

    (data.folder / "manifest.json").write_text("{not json")
    prepare_motion_dataset(tmp_path, SMALL)
    assert json.loads((data.folder / "manifest.json").read_text())["identity"]["seed"] == SMALL.seed


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("classes", ("move_left",)),
        ("classes", ("move_left", "jump")),
        ("size", 33),
        ("split_fractions", (0.5, 0.2, 0.2)),
    ],
)
def test_bad_configuration_names_the_field(field, value):
    with pytest.raises(
        (ValueError, KeyError), match=field if field != "classes" or value[-1] != "jump" else "jump"
    ):
        MotionDatasetConfig(**{field: value})
