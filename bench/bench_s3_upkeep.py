"""S3 upkeep figures against moto's server on 127.0.0.1 (not a test): packing, doctor, migrate.

usage: python bench/bench_s3_upkeep.py [--commits 3000]
Commits --commits adds one by one (a compaction every 1,000), printing the time and requests
of each commit that compacted and packed, then the bucket's key count by kind, the time and
requests of `doctor.check` from an empty cache, and of migrating a data dir of the same
size into a fresh prefix. Needs `pip install -e '.[s3,s3-test]'`.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from s3_support import BUCKET, CREDENTIALS, Place, client, moto_server  # noqa: E402

from backlog.store import doctor  # noqa: E402
from backlog.store.migrate import migrate  # noqa: E402
from backlog.store.store import Store  # noqa: E402

AT = "2026-11-24T10:00:00Z"


def commit(store: Store, n: int) -> None:
    with store.transaction(at=AT, agent="bench", tool="bench") as tx:
        tx.put({"uuid": f"00000000-0000-4000-8000-{n:012d}", "id": tx.new_id(), "description": f"task {n}",
                "status": "pending"})


def keys_by_kind(endpoint: str, prefix: str) -> dict[str, int]:
    s3, counts, token = client(endpoint), collections.Counter(), None
    while True:
        page = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/", **({"ContinuationToken": token} if token else {}))
        counts.update(o["Key"][len(prefix) + 1:].split("/")[0] for o in page.get("Contents", ()))
        if not page.get("IsTruncated"):
            return dict(sorted(counts.items()))
        token = page["NextContinuationToken"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=3000)
    args = parser.parse_args()
    os.environ.update(CREDENTIALS)
    with moto_server() as endpoint:
        place = Place("s3", Path(tempfile.mkdtemp()), endpoint)
        store = place.open()
        for n in range(args.commits):
            before, start, gen = store.backend.requests, time.perf_counter(), store.gen
            commit(store, n)
            if store.gen != gen:
                print(f"commit #{store.seq} compacted and packed: {(time.perf_counter() - start) * 1000:7.0f} ms, "
                      f"{store.backend.requests - before} requests")
        print(f"keys after {args.commits} commits: {keys_by_kind(endpoint, place.prefix)}")
        place.env["XDG_CACHE_HOME"] = tempfile.mkdtemp()
        fresh = place.open().backend
        before, start = fresh.requests, time.perf_counter()
        problems = doctor.check(fresh)
        print(f"doctor check, empty cache: {time.perf_counter() - start:6.1f} s, {fresh.requests - before} requests, "
              f"{len(problems)} problems")
        disk = Store.open(Path(tempfile.mkdtemp()) / "data")
        for n in range(args.commits):
            commit(disk, n)
        target = Place("s3", Path(tempfile.mkdtemp()), endpoint)
        backend = target.open().backend
        before, start = backend.requests, time.perf_counter()
        line = migrate(disk, backend)
        print(f"migrate a data dir of {args.commits} transactions: {time.perf_counter() - start:6.1f} s, "
              f"{backend.requests - before} requests ({line.split(' from ')[0]})")
        print(f"keys after the migration: {keys_by_kind(endpoint, target.prefix)}")


if __name__ == "__main__":
    main()
