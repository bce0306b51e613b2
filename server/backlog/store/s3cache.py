"""The per-machine cache of an S3 store's immutable objects (transactions and snapshots).

Derived data, never the store: files are named by object key and ETag, so an object that was
replaced in the bucket (same key, new ETag) is never answered from an old copy; each file is
written whole (temp file + rename), so the machine's processes share it without a lock; a
file whose checksum does not hold is deleted and the object fetched again, never reported as
damage. Any OSError simply means "not cached".
"""

from __future__ import annotations

import os
from pathlib import Path

from backlog.store.sealed import is_sealed


class ObjectCache:
    """Sealed object bodies under `root` (None: a cache that keeps nothing)."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.hits = 0

    def _path(self, key: str, etag: str) -> Path:
        return self.root / f"{key.replace('/', '-')}.{etag.strip(chr(34))}"  # type: ignore[operator]

    def get(self, key: str, etag: str | None) -> bytes | None:
        """The cached body of `key` at `etag`, or None."""
        if self.root is None or not etag:
            return None
        path = self._path(key, etag)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if not is_sealed(data):
            path.unlink(missing_ok=True)
            return None
        self.hits += 1
        return data

    def put(self, key: str, etag: str | None, data: bytes) -> None:
        """Keep `data` as `key` at `etag` (sealed bodies only)."""
        if self.root is None or not etag or not is_sealed(data):
            return
        path = self._path(key, etag)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            temp.write_bytes(data)
            os.replace(temp, path)
        except OSError:
            temp.unlink(missing_ok=True)
