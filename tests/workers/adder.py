"""A writer process for the conformance suite: adds tasks through the entry points' runtime.

usage: python -m tests.workers.adder NAME COUNT   (COUNT 0 = until killed)
The store is the one the environment names (TASKDATA, or BACKLOG_BACKEND=s3 and its
variables; WORKER_CHANNEL `hook:…` opens S3 through the hooks' light client). Prints `ready` once open, then `ack <uuid> <id>` after each committed add.
"""

from __future__ import annotations

import os
import sys

from backlog.runtime import open_backlog


def main(name: str, count: int) -> None:
    backlog = open_backlog(os.environ, os.getcwd(), channel=os.environ.get("WORKER_CHANNEL", "cli"), agent=name)
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    n = 0
    while count == 0 or n < count:
        task = backlog.add(f"{name} task {n}", tags=name)["task"]
        out.write(f"ack {task['uuid']} {task['id']}\n")
        out.flush()
        n += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
