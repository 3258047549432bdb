"""A folder of generated files that is either complete or detectably not.

Each file is written to a temporary name and renamed into place, and ``manifest.json`` (sizes and SHA-256 of
every file) is written last. A folder without a readable manifest, or with a file whose size or hash disagrees,
is repaired by regenerating the files that are missing or wrong. A lock file serialises processes (data loader
workers, distributed ranks) that prepare the same folder at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not available on Windows; there the lock is advisory only
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def file_digest(path: Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def encode_json(obj: object) -> bytes:
    """Deterministic JSON bytes (sorted keys, fixed indentation, trailing newline)."""
    return (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode()


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder/.lock`` while the body runs."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a") as f:
        if fcntl is not None:
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(f, fcntl.LOCK_UN)


def read_manifest(folder: Path, identity: Mapping[str, object]) -> dict[str, dict] | None:
    """The ``files`` table of ``folder``'s manifest, or None if it is missing, unreadable or for another config."""
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        log.warning("ignoring unreadable cache manifest %s (%s); regenerating", path, e)
        return None
    if manifest.get("format") != MANIFEST_FORMAT or manifest.get("identity") != json.loads(
        encode_json(identity)
    ):
        log.warning("cache manifest %s was written for another configuration; regenerating", path)
        return None
    return manifest.get("files", {})


def _intact(path: Path, entry: Mapping[str, object] | None) -> bool:
    if entry is None or not path.is_file() or path.stat().st_size != entry.get("size"):
        return False
    return file_digest(path) == entry.get("sha256")


def ensure_files(
    folder: Path,
    producers: Mapping[str, Callable[[], bytes]],
    identity: Mapping[str, object],
) -> list[str]:
    """Make ``folder`` hold exactly the files of ``producers`` (relative path → bytes), intact.

    Files recorded in a valid manifest with matching size and hash are kept; every other file is produced and
    written, then the manifest is rewritten. ``identity`` (JSON-able) names what the folder was made for, so a
    manifest from another configuration is not trusted. Returns the relative paths that were (re)written.
    """
    with folder_lock(folder):
        recorded = read_manifest(folder, identity) or {}
        entries: dict[str, dict] = {}
        written = []
        for rel, produce in producers.items():
            path = folder / rel
            if _intact(path, recorded.get(rel)):
                entries[rel] = recorded[rel]
                continue
            data = produce()
            write_atomic(path, data)
            entries[rel] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            written.append(rel)
        if written or len(recorded) != len(entries):
            if recorded and written:
                log.warning("regenerated %d missing or damaged files in %s", len(written), folder)
            manifest = {"format": MANIFEST_FORMAT, "identity": identity, "files": entries}
            write_atomic(folder / MANIFEST, encode_json(manifest))
        return written
