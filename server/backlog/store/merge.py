"""Keep the number of journal files bounded: closed generations merge into one history file.

After a compaction leaves more than MAX_FILES journal files, every closed, checksummed
generation is rewritten as one file named after the newest of them (its lines in order,
each still sealed) and the others are deleted. Generation numbers only order the files,
so readers need no change; a crash between the rewrite and the deletions leaves older
files whose records the merged file also holds, which readers skip (sequence numbers
only grow) and the next merge drops. Format-1 generations (unsealed) are left as they are.
"""

from __future__ import annotations

from collections.abc import Callable

from backlog.errors import StoreError
from backlog.store.files import FileBackend
from backlog.store.sealed import unseal

MAX_FILES = 16


def merge_history(backend: FileBackend, old_lines: Callable[[int], list[bytes]], closed: list[int]) -> bool:
    """Merge the closed sealed generations `closed` (ascending) when there are too many files.

    `old_lines(gen)` gives a closed generation's lines. Returns True when it merged; a
    damaged generation stops the merge (doctor's business) and changes nothing.
    """
    if len(backend.journal_generations()) <= MAX_FILES or len(closed) < 2:
        return False
    merged, last = [], 0
    try:
        for gen in closed:
            for line in old_lines(gen):
                seq = unseal(line, True)["seq"]
                if not isinstance(seq, int):
                    return False
                if seq > last:  # a leftover of an interrupted merge holds records twice
                    merged.append(line)
                    last = seq
    except (StoreError, ValueError, KeyError):
        return False
    backend.replace_journal(closed[-1], b"".join(line + b"\n" for line in merged))
    for gen in closed[:-1]:
        backend.delete_journal(gen)
    return True
