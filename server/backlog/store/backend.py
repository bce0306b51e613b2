"""The seam between the store's logic (store.py) and where its bytes live: what Store needs.

Two backends implement it: `files.FileBackend` (a data dir; one cross-process lock,
appends at a byte offset) and `s3.S3Backend` (a bucket; no lock, each transaction an
object created only if its key is new). Both pass tests/test_backend_conformance.py.

A journal *generation* is the run of committed records after one snapshot; the store
reads it as bytes (one sealed record per line) and remembers how far it has read.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol


class Backend(Protocol):
    """Where a store's bytes live. Every write is atomic (all or nothing) and durable when it returns."""

    root: object  # what error messages name: a Path, or the bucket and prefix
    optimistic: bool  # True: lock() excludes nobody; append_journal may raise Conflict instead
    remote: bool  # True: each refresh is a request over the network (S3), not a few stats

    def describe(self, name: str) -> str:
        """Where a user should look for item `name` (`tasks.json`, `journal/…`, `docs/…`)."""

    def lock(self) -> AbstractContextManager[None]:
        """Exclude other writers while held (reentrant); a no-op context on an optimistic backend.

        Raises StoreError when it cannot be taken in bounded time.
        """

    def close(self) -> None:
        """Release handles; the backend stays usable (it reopens on demand)."""

    # -- format --------------------------------------------------------------------------
    def read_format(self) -> bytes | None:
        """format.json's bytes, or None when the store has none (format 1 or new)."""

    def write_format(self, data: bytes) -> None:
        """Replace format.json atomically."""

    # -- snapshot ------------------------------------------------------------------------
    def read_head(self) -> bytes | None:
        """The head record (`sealed.head_record`: the newest acknowledged transaction), or None."""

    def write_head(self, data: bytes) -> None:
        """Overwrite the head after a durable append; unsynced, so it may lag but never lead."""

    def snapshot_token(self) -> object:
        """A value that changes whenever the current snapshot is replaced; None when there is none."""

    def read_snapshot(self, previous: bool = False) -> tuple[bytes | None, object]:
        """(bytes, token) of the current snapshot, or of the one before it when `previous`."""

    def write_snapshot(self, data: bytes) -> None:
        """Install `data` as the current snapshot atomically, keeping the old one as the previous."""

    # -- journal -------------------------------------------------------------------------
    def journal_generations(self) -> list[int]:
        """The generations that hold records, ascending."""

    def journal_name(self, gen: int) -> str:
        """The name of generation `gen` for messages (`journal/000003.jsonl`)."""

    def journal_size(self, gen: int) -> int:
        """Bytes in generation `gen` so far (0 when it does not exist)."""

    def read_journal(self, gen: int, offset: int = 0) -> bytes:
        """Generation `gen`'s bytes from `offset` on (b"" when it does not exist)."""

    def append_journal(self, gen: int, line: bytes, offset: int) -> None:
        """Commit one record line at byte `offset` of generation `gen`, durably, or raise.

        Conditional: on an optimistic backend it raises Conflict when another writer holds
        that record's sequence number; StoreError when the outcome is a failure or unknown.
        """

    def replace_journal(self, gen: int, data: bytes) -> None:
        """Rewrite a whole closed generation atomically (history merge, doctor)."""

    def delete_journal(self, gen: int) -> None:
        """Remove a closed generation whose records another generation holds."""

    # -- archive segments ----------------------------------------------------------------
    def list_segments(self) -> list[str]:
        """Names (`YYYY-Qn`) of the archive segments that exist, sorted."""

    def read_segment(self, name: str) -> bytes | None:
        """A segment's bytes, or None when it does not exist."""

    def write_segment(self, name: str, data: bytes | None) -> None:
        """Replace a segment atomically (None removes it); never replaces a newer one on an optimistic backend."""

    # -- doc bodies, content-addressed by sha256 -----------------------------------------
    def put_blob(self, digest: str, data: bytes) -> None:
        """Store `data` under its sha256 `digest` (nothing to do when it exists)."""

    def get_blob(self, digest: str) -> bytes:
        """The bytes stored under `digest`; StoreError when they are missing."""

    def blob_size(self, digest: str) -> int:
        """Bytes stored under `digest` (0 when missing)."""

    def list_blobs(self) -> list[str]:
        """Every stored digest."""

    def delete_blob(self, digest: str) -> None:
        """Remove a body no task and no undoable transaction refers to."""
