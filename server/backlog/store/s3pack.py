"""Packing an S3 store's old transactions, so a bucket's key count stays bounded.

After a compaction, each closed generation that ends at or before the second-newest snapshot
and whose records are all older than the undo window (the `keep` newest records) is written
as one object `hist/<first>-<last>` (its records, one line each, created only if new); then
its `txn/` objects are deleted in batches. Readers list the packs whenever they read old
generations (history, undo, doctor), and one that listed a transaction packed meanwhile finds
it gone, lists the packs and reads again. An interrupted packing leaves the pack and some
`txn/` objects: readers take the pack, the next packing deletes the rest. A generation with
a damaged or missing record is left as it is (doctor's business).
"""

from __future__ import annotations

from backlog.store.sealed import is_sealed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from backlog.store.s3 import S3Backend


def pack(backend: S3Backend, keep: int) -> int:
    """Pack what is old enough; returns how many transaction objects were deleted.

    Raises StoreError when a request fails (nothing a reader sees is lost: a later compaction retries).
    """
    gens = backend.journal_generations()  # lists transactions, snapshots and packs afresh
    snaps = backend.snapshots()
    if len(snaps) < 2 or not gens:
        return 0
    limit = min(backend.snapshot_seq(snaps[-2]), backend.newest_seq() - keep)
    done = []
    for gen in [0, *snaps[:-2]]:
        items = backend.items(gen)
        if not items or any(backend.is_pack(first) for first, _size in items):
            continue
        seqs = [first for first, _size in items]
        if seqs[-1] > limit:
            break
        data = backend.read_journal(gen)
        if not _whole(data, seqs) or not backend.put_pack(seqs[0], seqs[-1], data):
            continue
        done += seqs
    return backend.delete_txns(sorted({*done, *backend.leftovers}))


def _whole(data: bytes, seqs: list[int]) -> bool:
    """True when `data` holds the records `seqs`, in order, each line checksum-valid."""
    lines = data.split(b"\n")
    if lines[-1] != b"" or len(lines) - 1 != len(seqs) or seqs != list(range(seqs[0], seqs[-1] + 1)):
        return False
    return all(is_sealed(line) and line.startswith(b'{"seq":%d,' % seq) for line, seq in zip(lines, seqs))
