"""A writer process for the concurrency and crash tests: prints `ack N` after each commit.

usage: python -m tests.workers.writer DATA_DIR NAME MODE COUNT COMPACT_EVERY
MODE mixed: COUNT changes, alternating task_add and task_modify of its own last task.
MODE groups: COUNT (0 = forever) rounds of importing 3 tasks then modifying all three at once.
It prints `ready` once the store is open, before the first change.
The clock is the entry points' (BACKLOG_NOW when set).
"""

from __future__ import annotations

import os
import sys
import uuid
from datetime import timezone

import orjson

from backlog.engine.backlog import Backlog
from backlog.runtime import clock_from_env
from backlog.store.store import Store


def group_uuid(name: str, round_: int, k: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{name}/{round_}/{k}"))


def main(root: str, name: str, mode: str, count: int, compact_every: int) -> None:
    store = Store.open(root, compact_every=compact_every)
    backlog = Backlog(store, tz=timezone.utc, clock=clock_from_env(os.environ), agent=name)
    out = sys.stdout
    out.write("ready\n")  # imports and opening done: from here on it writes
    out.flush()
    if mode == "mixed":
        last = None
        for n in range(count):
            if n % 2 == 0:
                last = backlog.add(f"{name} task {n}", tags=name)["task"]["id"]
            else:
                backlog.modify(str(last), extra=f"+m{n}")
            out.write(f"ack {n}\n")
            out.flush()
        return
    n = 0
    while count == 0 or n < count:
        batch = [{"uuid": group_uuid(name, n, k), "description": f"{name} round {n} part {k}"} for k in range(3)]
        backlog.import_tasks(orjson.dumps(batch).decode())
        backlog.modify(",".join(b["uuid"] for b in batch), priority="H")
        out.write(f"ack {n}\n")
        out.flush()
        n += 1


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
