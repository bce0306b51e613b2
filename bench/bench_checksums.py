"""What format 2's checksums cost: open and add at 10k/100k tasks (not a test).

usage: python bench/bench_checksums.py [--sizes 10000 100000] [--reps 20]
Prints, per size, the median open and durable add, and beside each the part the checksum
takes: checking the snapshot's CRC-32 (open) and one CRC-32 of an add's journal line for
the writer plus one for a reader (add). Checksums of old generations and segments are paid only when read.
"""

from __future__ import annotations

import argparse
import sys
import zlib
import tempfile
from datetime import timezone
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).parent))
from bench_store import NOW, make_tasks, median_ms  # noqa: E402

from backlog.engine.backlog import Backlog  # noqa: E402
from backlog.store.sealed import is_sealed, seal  # noqa: E402
from backlog.store.store import Store  # noqa: E402


def bench(n: int, reps: int) -> None:
    root = Path(tempfile.mkdtemp(prefix=f"bench-crc-{n}-"))
    backlog = Backlog(Store.open(root), tz=timezone.utc, clock=lambda: NOW)
    tasks = make_tasks(n, completed_share=0.2)
    for i in range(0, n, 5000):
        backlog.import_tasks(orjson.dumps(tasks[i:i + 5000]).decode())
    backlog.store.compact()
    snapshot = (root / "tasks.json").read_bytes()
    print(f"n={n} (snapshot {len(snapshot) / 1e6:.1f} MB)")
    open_ms = median_ms(lambda: Store.open(root).close(), reps)
    check_ms = median_ms(lambda: is_sealed(snapshot), reps * 5)
    print(f"  open                  {open_ms:7.2f} ms   of which checksum {check_ms:5.2f} ms ({100 * check_ms / open_ms:.1f} %)")
    counter = iter(range(10**9))
    add_ms = median_ms(lambda: backlog.add(f"bench {next(counter)}", project="p1"), reps * 3)
    record = backlog.store._records[-1]
    line = seal(record)
    seal_ms = median_ms(lambda: zlib.crc32(line), reps * 50) * 2  # sealed by the writer, checked by each reader
    print(f"  durable add           {add_ms:7.2f} ms   of which checksum {seal_ms * 1000:5.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args()
    for n in args.sizes:
        bench(n, args.reps)


if __name__ == "__main__":
    main()
