"""Store and engine figures in process: open, durable add, filtered list (not a test).

usage: python bench/bench_store.py [--sizes 10000 100000] [--reps 20]
Prints one line per figure: the median in ms, with the disk's bare append+fsync beside
the durable add so the floor the hardware sets is visible.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import orjson

from backlog.engine.backlog import Backlog
from backlog.store.store import Store

NOW = datetime(2026, 11, 24, 10, 14, 53, tzinfo=timezone.utc)
PROJECTS = [f"p{i}" for i in range(20)]
TAGS = ["bug", "feature", "docs", "perf", "ui", "api", "infra", "test"]


def make_tasks(n: int, seed: int = 7, completed_share: float = 0.0) -> list[dict]:
    """Tasks shaped like ../shared/bench/mcp_bench.py's: 20 projects, 0-3 tags, 30% priority, 30% due."""
    rnd = random.Random(seed)
    tasks = []
    for i in range(n):
        task = {"description": f"task {i} {rnd.choice(['fix', 'add', 'document'])} {rnd.choice(['auth', 'cache', 'billing'])}",
                "project": rnd.choice(PROJECTS), "tags": rnd.sample(TAGS, rnd.randint(0, 3)),
                "status": "completed" if rnd.random() < completed_share else "pending"}
        if rnd.random() < 0.3:
            task["priority"] = rnd.choice("HML")
        if rnd.random() < 0.3:
            task["due"] = f"2026-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}T12:00:00Z"
        tasks.append(task)
    return tasks


def median_ms(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bare_fsync_ms(folder: Path, reps: int) -> float:
    """Append ~300 bytes and fdatasync: the disk's floor for a durable commit."""
    fd = os.open(folder / "fsync-probe", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    line = b"x" * 300 + b"\n"
    try:
        return median_ms(lambda: (os.write(fd, line), os.fdatasync(fd)), reps)
    finally:
        os.close(fd)


def bench(n: int, reps: int) -> None:
    root = Path(tempfile.mkdtemp(prefix=f"bench-store-{n}-"))
    backlog = Backlog(Store.open(root), tz=timezone.utc, clock=lambda: NOW)
    tasks = make_tasks(n, completed_share=0.2)
    for i in range(0, n, 5000):
        backlog.import_tasks(orjson.dumps(tasks[i:i + 5000]).decode())
    backlog.store.compact()
    print(f"n={n}")
    print(f"  open (snapshot + journal)      {median_ms(lambda: Store.open(root).close(), reps):7.2f} ms")
    counter = iter(range(10**9))
    print(f"  durable add                    {median_ms(lambda: backlog.add(f'bench {next(counter)}', project='p1'), reps * 3):7.2f} ms"
          f"   (bare append+fdatasync {bare_fsync_ms(root, reps * 3):.2f} ms)")
    for label, text in (("project:p3 +bug", "project:p3 +bug"), ("+READY", "+READY"),
                        ("5 terms", "project:p1 +bug priority:H due.before:2026-06-01 -docs")):
        print(f"  list {label:<25} {median_ms(lambda: backlog.list(text), reps):7.2f} ms")
    print(f"  count status:pending           {median_ms(lambda: backlog.count('status:pending'), reps):7.2f} ms")
    print(f"  info 17                        {median_ms(lambda: backlog.info('17'), reps):7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args()
    for n in args.sizes:
        bench(n, args.reps)


if __name__ == "__main__":
    main()
