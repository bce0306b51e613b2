"""S3 backend figures against moto's server on 127.0.0.1 (not a test): latency and requests per call.

usage: python bench/bench_s3.py [--tasks 10000] [--reps 20]
Fills a fresh prefix with --tasks tasks (imports of 500, one snapshot), then prints, for add,
list, claim and an open from nothing, the median in ms and the requests each call sent.
Needs `pip install -e '.[s3,s3-test]'`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from s3_support import CREDENTIALS, Place, moto_server  # noqa: E402

from backlog.engine.backlog import Backlog  # noqa: E402

NOW = datetime(2026, 11, 24, 10, 14, 53, tzinfo=timezone.utc)


def measure(label: str, backlog: Backlog, call, reps: int) -> None:
    times, requests = [], []
    for n in range(reps):
        before = backlog.store.backend.requests
        start = time.perf_counter()
        call(n)
        times.append((time.perf_counter() - start) * 1000)
        requests.append(backlog.store.backend.requests - before)
    print(f"{label:<28} {statistics.median(times):8.1f} ms   {statistics.median(requests):4.0f} requests (median of {reps})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=10000)
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args()
    os.environ.update(CREDENTIALS)
    with moto_server() as endpoint:
        place = Place("s3", Path(tempfile.mkdtemp()), endpoint)
        backlog = Backlog(place.open(compact_every=1000), tz=timezone.utc, clock=lambda: NOW, agent="bench")
        for start in range(0, args.tasks, 500):
            batch = [{"description": f"task {n}", "project": f"p{n % 20}"} for n in range(start, min(args.tasks, start + 500))]
            backlog.import_tasks(orjson.dumps(batch).decode())
        backlog.store.compact()
        measure(f"add ({args.tasks} tasks)", backlog, lambda n: backlog.add(f"bench {n}"), args.reps)
        measure("list project:p3", backlog, lambda n: backlog.list("project:p3"), args.reps)
        measure("claim (no race)", backlog, lambda n: backlog.claim("bench-agent"), args.reps)
        for label in ("open, empty cache", "open, warm cache", "open, warm cache"):
            if label.endswith("empty cache"):
                place.env["XDG_CACHE_HOME"] = tempfile.mkdtemp()
            start = time.perf_counter()
            opened = place.open()
            elapsed = (time.perf_counter() - start) * 1000
            print(f"{label:<28} {elapsed:8.1f} ms   {opened.backend.requests:4d} requests "
                  f"({len(opened.tasks)} tasks, {opened.seq - opened.backend._snap_seqs.get(opened.gen, 0)} "
                  "records after the snapshot)")


if __name__ == "__main__":
    main()
