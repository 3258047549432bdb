"""Make the real-world encoding corpus the reader is tested on (run by hand; the tests read the committed files).

    python core/tests/video/corpus/make_corpus.py          # needs the ffmpeg command-line tool (with libxvid)

Each file is a second or two of ffmpeg's ``testsrc2`` pattern (every frame differs) in one of the encodings
users meet: UCF101/HMDB51's packed-bitstream XviD and DivX AVIs, webcam MJPEG, DivX 3, cinepak with a header
that lies, MPEG-2 in program and transport streams, H.264 with B-frames and open GOPs, 10-bit HEVC, VP8, VP9,
AV1, full-range and interlaced video, variable frame rate, phone rotations, odd sizes, a stream that starts
late, and the bad files (audio only, zero bytes). ``MANIFEST`` in ``corpus.json`` says what each file is and
what the tests expect of it. PyAV cannot write most of these (packed B-frames, rotation tags, cinepak), hence
the ffmpeg tool.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Files re-muxed after encoding with a display rotation (the mp4 muxer writes it as the track's matrix).
ROTATED = {"rotate_90.mp4": 90, "rotate_180.mp4": 180, "rotate_270.mp4": 270}


def src(size: str = "96x72", rate: str = "25") -> list[str]:
    # testsrc2 rounds its size down to even numbers: odd sizes are scaled to after it.
    w, h = size.split("x")
    return ["-f", "lavfi", "-i", f"testsrc2=size={int(w) + 1}x{int(h) + 1}:rate={rate},scale={w}:{h}"]


# name: (ffmpeg arguments after the input, what it is, expectation)
FILES: dict[str, tuple[list[str], str, str]] = {
    "xvid_packed_bf2.avi": (
        [*src(), "-t", "1.6", "-c:v", "libxvid", "-bf", "2", "-g", "12"],
        "XviD, packed bitstream, 2 B-frames (as UCF101/HMDB51)",
        "exact",
    ),
    "xvid_packed_bf3_gmc_qpel.avi": (
        [*src(), "-t", "1.6", "-c:v", "libxvid", "-bf", "3", "-g", "15", "-gmc", "1", "-flags", "+qpel"],
        "XviD, packed, 3 B-frames, global motion compensation (S-VOPs) and quarter-pel",
        "exact",
    ),
    "divx5_packed.avi": (
        [*src(), "-t", "1.6", "-c:v", "libxvid", "-bf", "1", "-g", "10", "-vtag", "DX50"],
        "DivX 5 (DX50 tag), packed bitstream",
        "exact",
    ),
    "divx_unpacked.avi": (
        [*src(), "-t", "1.6", "-c:v", "mpeg4", "-vtag", "DIVX", "-bf", "2", "-g", "12"],
        "MPEG-4 Part 2 with B-frames, not packed (DIVX tag)",
        "exact",
    ),
    "mjpeg_webcam.avi": (
        [*src(), "-t", "1.2", "-c:v", "mjpeg", "-pix_fmt", "yuvj422p", "-q:v", "5"],
        "Motion JPEG, full-range 4:2:2 (webcams)",
        "exact",
    ),
    "msmpeg4v3.avi": (
        [*src(), "-t", "1.2", "-c:v", "msmpeg4", "-g", "10"],
        "MS MPEG-4 v3 (DivX 3)",
        "exact",
    ),
    "cinepak_lying_header.avi": (
        [*src(), "-t", "0.8", "-c:v", "cinepak"],
        "cinepak whose AVI headers claim 90 frames",
        "exact",
    ),
    "h264_bframes_in_avi.avi": (
        [*src(), "-t", "1.2", "-c:v", "libx264", "-bf", "3", "-g", "12", "-pix_fmt", "yuv420p"],
        "H.264 with B-frames in AVI (no presentation timestamps: read by the fallback)",
        "fallback",
    ),
    "mpeg2_ps.mpg": (
        [*src(), "-t", "1.6", "-c:v", "mpeg2video", "-bf", "2", "-g", "12", "-f", "vob"],
        "MPEG-2 video in a program stream",
        "exact",
    ),
    "mpeg2_ts.ts": (
        [*src(), "-t", "1.6", "-c:v", "mpeg2video", "-bf", "2", "-g", "12", "-f", "mpegts"],
        "MPEG-2 video in a transport stream",
        "exact",
    ),
    "h264_bframes.mp4": (
        [*src(), "-t", "1.6", "-c:v", "libx264", "-bf", "3", "-g", "15", "-pix_fmt", "yuv420p"],
        "H.264, B-pyramid, MP4",
        "exact",
    ),
    "h264_open_gop.mkv": (
        [
            *src(),
            "-t",
            "1.6",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-x264-params",
            "open-gop=1:keyint=10:bframes=3",
        ],
        "H.264, open GOPs, Matroska",
        "exact",
    ),
    "hevc_10bit.mp4": (
        [
            *src(),
            "-t",
            "1.2",
            "-c:v",
            "libx265",
            "-pix_fmt",
            "yuv420p10le",
            "-tag:v",
            "hvc1",
            "-x265-params",
            "keyint=10:bframes=2:log-level=error",
        ],
        "HEVC Main 10, MP4",
        "exact",
    ),
    "vp8.webm": (
        [
            *src(),
            "-t",
            "1.2",
            "-c:v",
            "libvpx",
            "-g",
            "10",
            "-auto-alt-ref",
            "1",
            "-lag-in-frames",
            "8",
            "-b:v",
            "300k",
        ],
        "VP8 with alternate reference frames, WebM",
        "exact",
    ),
    "vp9.webm": (
        [
            *src(),
            "-t",
            "1.2",
            "-c:v",
            "libvpx-vp9",
            "-g",
            "10",
            "-b:v",
            "300k",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
        ],
        "VP9, WebM",
        "exact",
    ),
    "av1.mkv": (
        [*src(), "-t", "1.2", "-c:v", "libaom-av1", "-g", "10", "-cpu-used", "8", "-b:v", "200k"],
        "AV1, Matroska",
        "exact",
    ),
    "yuvj420p_full_range.mp4": (
        [*src(), "-t", "1.2", "-c:v", "libx264", "-pix_fmt", "yuvj420p", "-g", "10"],
        "H.264 in full (JPEG) range",
        "exact",
    ),
    "interlaced.ts": (
        [
            *src("96x72", "25"),
            "-t",
            "1.2",
            "-c:v",
            "mpeg2video",
            "-flags",
            "+ilme+ildct",
            "-top",
            "1",
            "-bf",
            "2",
            "-g",
            "12",
            "-f",
            "mpegts",
        ],
        "interlaced MPEG-2 (field-coded), transport stream",
        "exact",
    ),
    "vfr.mkv": (
        [
            *src(),
            "-t",
            "2",
            "-vf",
            "select='not(mod(n\\,3))+not(mod(n\\,5))'",
            "-fps_mode",
            "vfr",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-g",
            "8",
        ],
        "variable frame rate (irregular gaps), Matroska",
        "exact",
    ),
    "rotate_90.mp4": (
        [*src(), "-t", "1.2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "10"],
        "phone clip, display rotation 90 (portrait)",
        "exact",
    ),
    "rotate_180.mp4": (
        [*src(), "-t", "1.2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "10"],
        "display rotation 180",
        "exact",
    ),
    "rotate_270.mp4": (
        [*src(), "-t", "1.2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "10"],
        "display rotation 270",
        "exact",
    ),
    "odd_175x143.mkv": (
        [*src("175x143"), "-t", "1.2", "-c:v", "libx264", "-pix_fmt", "yuv444p", "-g", "10"],
        "odd frame size 175x143",
        "exact",
    ),
    "odd_175x143_mpeg4.avi": (
        [*src("175x143"), "-t", "1.2", "-c:v", "mpeg4", "-vtag", "XVID", "-bf", "2", "-g", "10"],
        "odd frame size 175x143, MPEG-4 Part 2 with B-frames in AVI",
        "exact",
    ),
    "late_start.mp4": (
        [
            *src(),
            "-t",
            "1.2",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-g",
            "10",
            "-output_ts_offset",
            "7.5",
        ],
        "a stream whose first frame is at 7.5 s",
        "exact",
    ),
    "audio_only.m4a": (
        ["-f", "lavfi", "-i", "sine=frequency=440:duration=0.5", "-c:a", "aac", "-b:a", "32k"],
        "audio only: no video stream",
        "no video stream",
    ),
}


def patch_avi_frame_count(path: Path, claimed: int) -> None:
    """Make an AVI's headers lie: the main header's total frames and the video stream's length."""
    data = bytearray(path.read_bytes())
    avih = data.index(b"avih") + 8
    data[avih + 16 : avih + 20] = claimed.to_bytes(4, "little")
    strh = data.index(b"strh") + 8
    data[strh + 32 : strh + 36] = claimed.to_bytes(4, "little")
    path.write_bytes(bytes(data))


def main() -> int:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        print("needs the ffmpeg command-line tool (Debian: apt-get install ffmpeg)", file=sys.stderr)
        return 2
    manifest = {}
    for name, (args, what, expect) in FILES.items():
        out = HERE / name
        subprocess.run(
            [ffmpeg, "-v", "error", "-y", "-nostdin", *args, str(out)],
            check=True,
        )
        manifest[name] = {"what": what, "expect": expect}
    for name, degrees in ROTATED.items():
        plain = HERE / f"plain_{name}"
        (HERE / name).rename(plain)
        subprocess.run(
            [
                ffmpeg,
                "-v",
                "error",
                "-y",
                "-nostdin",
                "-i",
                str(plain),
                "-c",
                "copy",
                "-metadata:s:v",
                f"rotate={degrees}",
                str(HERE / name),
            ],
            check=True,
        )
        plain.unlink()
        # What the ffmpeg tool shows (it applies the rotation by default): the tests' independent check.
        subprocess.run(
            [
                ffmpeg,
                "-v",
                "error",
                "-y",
                "-nostdin",
                "-i",
                str(HERE / name),
                "-frames:v",
                "1",
                "-pix_fmt",
                "rgb24",
                str(HERE / f"{Path(name).stem}.ffmpeg_first_frame.png"),
            ],
            check=True,
        )
    patch_avi_frame_count(HERE / "cinepak_lying_header.avi", 90)
    (HERE / "zero_bytes.mp4").write_bytes(b"")
    manifest["zero_bytes.mp4"] = {"what": "an empty file", "expect": "empty"}
    (HERE / "corpus.json").write_text(json.dumps(manifest, indent=2) + "\n")
    total = sum(p.stat().st_size for p in HERE.iterdir() if p.is_file())
    print(f"{len(manifest)} files, {total / 1e6:.2f} MB in {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
