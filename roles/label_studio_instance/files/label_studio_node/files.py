"""Small file helpers the commands share (durable renames: atomic_files.fsync_directory)."""
from __future__ import annotations

import hashlib
import os
import urllib.parse

CHUNK = 1024 * 1024


def ensure_private_dir(path: str) -> None:
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)


def read_only_uri(path: str) -> str:
    """SQLite URI of a file opened read-only. Paths are percent-encoded: SQLite decodes %XX,
    ? and # in URIs, and a backup dir named e.g. "backups%daily" must still work."""
    return "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()
