"""Keep the number of journal files bounded: closed generations are appended to the history file.

The history file is the oldest checksummed generation. After a compaction leaves more than
MAX_FILES journal files, the records of every closed sealed generation between it and the
newest closed one are appended to it (each line still sealed, only records newer than its
last one) and fsynced, then those generations are deleted. A merge costs what it merges,
never the whole history. The newest closed generation stays: a reader that loaded the
snapshot before this compaction may still be reading it. Generation numbers only order the
files, so readers need no change.

Crash safety, step by step: an append cut short leaves a torn tail on the history file
(readers ignore it there, the next merge cuts it) and the generations it came from intact;
an append done but not all deletions leaves records in two files, which readers skip
(sequence numbers only grow) and the next merge deletes. Format-1 generations (unsealed)
are left as they are.
"""

from __future__ import annotations

from collections.abc import Callable

from backlog.core.value import Value
from backlog.errors import StoreError
from backlog.store.files import FileBackend
from backlog.store.sealed import is_sealed, unseal

MAX_FILES = 16
_WINDOW = 1 << 16


class Merge(Value):
    history: int  # the generation file that holds the history
    offset: int  # where the appended bytes go (a torn tail beyond it is cut)
    data: bytes  # the lines to append
    merged: list[int]  # generations whose every record the history holds once `data` is appended


def history_end(backend: FileBackend, gen: int) -> tuple[int, int, bytes]:
    """(seq of the last record, offset to append at, bytes to put first) of history file `gen`.

    Reads only the file's tail. A final record whose newline is missing or damaged is kept
    (its line gets ended); a checksum-invalid tail is an interrupted append, cut. Raises
    ValueError when the last complete line is unreadable (doctor's business).
    """
    size, window = backend.journal_size(gen), _WINDOW
    while True:
        start = max(0, size - window)
        data = backend.read_journal(gen, start)
        end = data.rfind(b"\n") + 1
        tail = data[end:]
        kept = tail if is_sealed(tail) else tail[:-1] if tail and is_sealed(tail[:-1]) else None
        if kept is not None and (end or not start):
            return unseal(kept, True)["seq"], start + end + len(kept), b"\n"
        line_start = data.rfind(b"\n", 0, end - 1) + 1 if end else 0
        if kept is None and (line_start or not start):
            last = unseal(data[line_start:end - 1], True)["seq"] if end else 0
            return last, start + end, b""
        window *= 4


def plan_merge(backend: FileBackend, old_lines: Callable[[int], list[bytes]], closed: list[int],
               max_files: int = MAX_FILES) -> Merge | None:
    """The merge to make of the closed sealed generations `closed` (ascending), or None when
    there are at most `max_files` journal files or one of them is damaged (doctor's business)."""
    if len(backend.journal_generations()) <= max_files or len(closed) < 3:
        return None
    history, merged = closed[0], closed[1:-1]
    try:
        last, offset, first = history_end(backend, history)
        lines = [first] if first else []
        for gen in merged:
            for line in old_lines(gen):
                seq = unseal(line, True)["seq"]
                if not isinstance(seq, int):
                    return None
                if seq > last:  # records an interrupted merge appended already are not repeated
                    lines.append(line + b"\n")
                    last = seq
    except (StoreError, ValueError, KeyError):
        return None
    return Merge(history, offset, b"".join(lines), merged)


def merge_history(backend: FileBackend, old_lines: Callable[[int], list[bytes]], closed: list[int],
                  max_files: int = MAX_FILES) -> bool:
    """Merge closed generations into the history file when there are too many files.

    `old_lines(gen)` gives a closed generation's lines. Returns True when it merged; a
    merge that cannot be planned or written changes nothing a reader sees and is retried
    by a later compaction.
    """
    merge = plan_merge(backend, old_lines, closed, max_files)
    if merge is None:
        return False
    try:
        backend.append_at(merge.history, merge.data, merge.offset)
        for gen in merge.merged:
            backend.delete_journal(gen)
    except StoreError:
        return False
    return True
