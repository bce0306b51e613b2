"""A claiming process for the S3 race test: opens its own store ("machine"), waits for `go`, claims once.

usage: python -m tests.workers.claimer AGENT
Prints `ready` once open; after a line on stdin, `won <id>` or `lost <one-line error>`.
"""

from __future__ import annotations

import os
import sys

from backlog.errors import BacklogError
from backlog.runtime import open_backlog


def main(agent: str) -> None:
    backlog = open_backlog(os.environ, os.getcwd(), channel="cli", agent=agent)
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        print(f"won {backlog.claim(agent)['task']['id']}", flush=True)
    except BacklogError as err:
        print(f"lost {err.line()}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
