"""`backlog migrate`: copy a whole backlog into an empty store of another backend (disk ↔ S3).

Everything a reader sees moves with it: every transaction since #1 (so `task_history` and
undo reach as far back as before), the doc bodies that any task or transaction refers to,
the archive segments, and a snapshot of the current state. The source is only read. The
target must be empty (a half-copied target from an interrupted run is refused, never mixed
into); it is written in the current format, every record checksummed, the snapshot last, so a
target that has a snapshot is a complete copy. On S3 the history goes into pack objects
(s3pack.py) of PACK_RECORDS records each rather than one object per transaction.
"""

from __future__ import annotations

from backlog import __version__
from backlog.errors import StoreError
from backlog.store.sealed import format_record, seal, seal_snapshot
from backlog.store.store import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from backlog.store.backend import Backend

PACK_RECORDS = 1000


def is_empty(target: Backend) -> bool:
    """True when `target` holds no format, snapshot, transaction or archive segment."""
    return (target.read_format() is None and target.read_snapshot()[0] is None
            and not target.journal_generations() and not target.list_segments())


def migrate(source: Store, target: Backend) -> str:
    """Copy `source` (loaded) into the empty `target`; returns one line saying what moved.

    Raises StoreError when the target is not empty or the source's history has gaps (doctor's business).
    """
    if not is_empty(target):
        raise StoreError(f"{target.root}: is not empty; migrate into a new, empty place "
                         "(another BACKLOG_S3_PREFIX or TASKDATA), or remove what is there first")
    source.refresh()
    records = list(source.records_newest_first())[::-1]
    digests = set(source.docs.values()) | {value for rec in records for op in rec["ops"] if op["k"][0] == "d"
                                           for value in (op["o"], op["n"]) if value}
    copied = 0
    with target.lock():
        for digest in sorted(digests):
            try:
                data = source.backend.get_blob(digest)
            except StoreError:
                continue  # a body collected long ago: its transactions stay, as on the source
            target.put_blob(digest, data)
            copied += 1
        for name in source.segments():
            tasks = source.segment(name)
            if tasks:
                target.write_segment(name, seal({"seq": source.seq, "tasks": list(tasks.values())}))
        target.write_format(format_record(0, __version__))
        _write_history(target, [seal(rec) for rec in records])
        target.write_snapshot(seal_snapshot({"gen": 1, "seq": source.seq, "next_id": source.next_id,
                                             "docs": source.docs}, list(source.tasks.values())))
    return (f"copied {len(source.tasks)} tasks, {len(records)} transactions, {copied} doc bodies and "
            f"{len(source.segments())} archive segments from {source.backend.root} to {target.root}")


def _write_history(target: Backend, lines: list[bytes]) -> None:
    """Every record as generation 0: packs on S3, one journal file on disk."""
    from backlog.store.s3 import S3Backend  # no boto3 import: the client is made elsewhere

    if not lines:
        return
    if not isinstance(target, S3Backend):
        target.replace_journal(0, b"".join(line + b"\n" for line in lines))
        return
    for start in range(0, len(lines), PACK_RECORDS):
        chunk = lines[start:start + PACK_RECORDS]
        if not target.put_pack(start + 1, start + len(chunk), b"".join(line + b"\n" for line in chunk)):
            raise StoreError(f"{target.root}: another migration is writing here; use an empty place")
