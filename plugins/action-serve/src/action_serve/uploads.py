"""Receive one uploaded video: the multipart body streamed straight into a file of the request's own folder.

The body is parsed as it arrives (python-multipart's streaming parser), so nothing is buffered in memory or
spooled anywhere else, and the size limit is enforced on the bytes received, not on what the client
declares. The client's file name is checked and echoed in results but never used as a path: the file on
disk is always ``upload`` plus a plain extension.
"""

from __future__ import annotations

import os
import re
import unicodedata
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, BinaryIO

import anyio
import attrs

from action_serve.errors import ServeError

__all__ = ["FIELD", "Upload", "check_file_name", "receive_upload"]

FIELD = "file"
"""The form field that carries the video."""

_OVERHEAD = 64 * 1024  # multipart headers and boundaries around the file, at most
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}$")
# Browsers percent-encode quotes and line breaks in file names and escape nothing with backslashes (HTML's
# form encoding), so a backslash in a name is the name's own character.
_QUOTED = re.compile(rb'filename="([^"]*)"', re.IGNORECASE)
_STARRED = re.compile(rb"filename\*=([\w!#$&+.^`|~-]*)'[\w-]*'([^;\s]*)", re.IGNORECASE)
_PLAIN = re.compile(rb"filename=([^\";\s]+)", re.IGNORECASE)
_NAME = re.compile(rb'\bname="([^"]*)"|\bname=([^";\s]+)', re.IGNORECASE)


@attrs.frozen
class Upload:
    """A received video: where it lies, the client's file name (checked), its size in bytes."""

    path: Path
    name: str
    size: int


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def too_large(limit: int) -> ServeError:
    """The 413 answer for an upload above ``limit`` bytes."""
    return ServeError(
        413,
        "upload_too_large",
        f"the video is larger than this server accepts ({_mb(limit)}); trim or compress it, or ask the "
        "operator to raise --max-upload-mb",
    )


def check_file_name(raw: bytes) -> str:
    """The client's file name as text, or a 400 naming what is wrong with it.

    Refused: names that are not UTF-8, empty names, ``.`` / ``..``, names holding a path separator or a
    control character (what a browser sends is the file's own name, so these come from crafted requests),
    names over 255 bytes. Accepted names are NFC-normalised; any script is fine (``vidéo 動画.mp4``).
    """
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ServeError(
            400, "bad_file_name", "the file name is not valid UTF-8 text; rename the file and try again"
        ) from e
    name = unicodedata.normalize("NFC", name)
    shown = name if len(name) <= 80 else name[:77] + "..."
    if not name.strip():
        raise ServeError(400, "no_file", "no file was chosen: pick or drop a video file")
    if "/" in name or "\\" in name:
        raise ServeError(
            400,
            "bad_file_name",
            f"the file name {shown!r} contains a path separator; send the file under its own name "
            "(like clip.mp4), not a path",
        )
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise ServeError(
            400,
            "bad_file_name",
            f"the file name {shown.encode('unicode_escape').decode()!r} contains control characters; "
            "rename the file",
        )
    if name.strip() in (".", ".."):
        raise ServeError(400, "bad_file_name", f"{name!r} is not a file name; rename the file")
    if len(name.encode("utf-8")) > 255:
        raise ServeError(
            400, "bad_file_name", f"the file name {shown!r} is longer than 255 bytes; give it a shorter name"
        )
    return name


def _disposition(value: bytes) -> tuple[str | None, bytes | None]:
    """The field name and the raw file name (``None`` when the part is not a file) of a Content-Disposition."""
    name_match = _NAME.search(value)
    field = None
    if name_match is not None:
        field = (name_match.group(1) or name_match.group(2) or b"").decode("latin-1")
    starred = _STARRED.search(value)
    if starred is not None:
        charset = starred.group(1).decode("ascii").lower() or "utf-8"
        text = urllib.parse.unquote_to_bytes(starred.group(2))
        if charset not in ("utf-8", "utf8"):
            text = text.decode(charset, errors="replace").encode("utf-8")
        return field, text
    quoted = _QUOTED.search(value)
    if quoted is not None:
        return field, quoted.group(1)
    plain = _PLAIN.search(value)
    return field, (plain.group(1) if plain is not None else None)


class _Receiver:
    """Callbacks of the multipart parser: the ``file`` part into ``folder``, other parts dropped."""

    def __init__(self, folder: Path, limit: int) -> None:
        self.folder = folder
        self.limit = limit
        self.header_field = b""
        self.header_value = b""
        self.headers: dict[bytes, bytes] = {}
        self.handle: BinaryIO | None = None
        self.in_file = False
        self.path: Path | None = None
        self.name: str | None = None
        self.size = 0
        self.over = False
        self.error: ServeError | None = None

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": self.header_field_data,
            "on_header_value": self.header_value_data,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
        }

    def part_begin(self) -> None:
        self.headers = {}
        self.header_field = self.header_value = b""
        self.in_file = False

    def header_field_data(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def header_value_data(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def header_end(self) -> None:
        self.headers[self.header_field.strip().lower()] = self.header_value.strip()
        self.header_field = self.header_value = b""

    def headers_finished(self) -> None:
        if self.error is not None:
            return
        field, raw_name = _disposition(self.headers.get(b"content-disposition", b""))
        if field != FIELD:
            return
        if raw_name is None:
            self.error = ServeError(
                400, "no_file", f"the form field {FIELD!r} holds text, not a file: send the video as a file"
            )
            return
        if self.path is not None:
            self.error = ServeError(400, "several_files", "send one video per request")
            return
        try:
            self.name = check_file_name(raw_name)
        except ServeError as e:
            self.error = e
            return
        match = _EXTENSION.search(self.name)
        suffix = match.group(0).lower() if match else ".bin"
        self.path = self.folder / f"upload{suffix}"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.handle = os.fdopen(fd, "wb")
        self.in_file = True

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if not self.in_file or self.over:
            return
        self.size += end - start
        if self.size > self.limit:
            self.over = True
            self.close()
            return
        assert self.handle is not None
        self.handle.write(data[start:end])

    def part_end(self) -> None:
        if self.in_file:
            self.close()
        self.in_file = False

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


async def _chunks(body: AsyncIterator[bytes], idle_timeout: float) -> AsyncIterator[bytes]:
    """The body's chunks; 408 when none arrives for ``idle_timeout`` seconds (a stalled client would
    otherwise hold its place in the queue for ever)."""
    iterator = body.__aiter__()
    while True:
        try:
            with anyio.fail_after(idle_timeout):
                chunk = await iterator.__anext__()
        except StopAsyncIteration:
            return
        except TimeoutError as e:
            raise ServeError(
                408,
                "upload_stalled",
                f"the upload stalled: nothing arrived for {idle_timeout:g} s; check the connection and send it again",
            ) from e
        yield chunk


async def receive_upload(
    headers: Any, body: AsyncIterator[bytes], folder: Path, *, limit: int, idle_timeout: float = 60.0
) -> Upload:
    """Stream a ``multipart/form-data`` body whose field ``file`` holds the video into ``folder``.

    ``headers``: the request's headers (a mapping with lower-case keys); ``body``: its chunks. Raises
    :class:`ServeError`: 415 for another content type, 413 above ``limit`` bytes (the rest of a body up
    to ``limit`` bytes more is read and dropped, so that the client can read the answer), 408 when no
    byte arrives for ``idle_timeout`` seconds, 400 for a malformed body, a missing, empty or badly named
    file. The caller removes ``folder``.
    """
    from python_multipart.exceptions import MultipartParseError
    from python_multipart.multipart import MultipartParser, parse_options_header

    kind, options = parse_options_header(headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise ServeError(
            415,
            "not_multipart",
            f"send the video as multipart/form-data in a field named {FIELD!r} (for example "
            f"`curl -F {FIELD}=@clip.mp4 URL`)",
        )
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > 2 * limit + _OVERHEAD:
        raise too_large(limit)
    receiver = _Receiver(folder, limit)
    parser = MultipartParser(boundary, receiver.callbacks())
    received = 0
    try:
        async for chunk in _chunks(body, idle_timeout):
            received += len(chunk)
            if (receiver.over or receiver.error is not None) and received > 2 * limit + _OVERHEAD:
                break
            if receiver.error is None:
                parser.write(chunk)
        else:
            if receiver.error is None and not receiver.over:
                parser.finalize()
    except MultipartParseError as e:
        raise ServeError(
            400, "bad_multipart", f"the upload is not well-formed multipart/form-data ({e}); send it again"
        ) from e
    finally:
        receiver.close()
    if receiver.over:
        if receiver.path is not None:
            receiver.path.unlink(missing_ok=True)
        raise too_large(limit)
    if receiver.error is not None:
        raise receiver.error
    if receiver.path is None or receiver.name is None:
        raise ServeError(
            400, "no_file", f"no file in the upload: send the video in a form field named {FIELD!r}"
        )
    if receiver.size == 0:
        raise ServeError(
            400, "empty_file", f"{receiver.name!r} is empty (0 bytes); choose the video file itself"
        )
    return Upload(receiver.path, receiver.name, receiver.size)
