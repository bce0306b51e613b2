"""Larger rounds of the S3 conformance checks against moto's server (not a test).

usage: python bench/bench_s3_rounds.py [--writers 8] [--adds 250] [--kills 50] [--light]
Runs --writers processes adding --adds tasks each at once (then checks nothing was lost and no
id repeats), and --kills rounds of a writer killed with SIGKILL after a few acknowledged adds
(then checks every acknowledged add is there). --light: through the hooks' light client.
Prints wall times and adds per second. Needs `pip install -e '.[s3,s3-test]'`.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from s3_support import Place, moto_server  # noqa: E402


def worker(place: Place, name: str, count: int, light: bool) -> subprocess.Popen:
    env = {**os.environ, **place.env, "PYTHONPATH": str(REPO), "WORKER_CHANNEL": "hook:bench" if light else "cli"}
    return subprocess.Popen([sys.executable, "-m", "tests.workers.adder", name, str(count)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def acks(out: str) -> dict[str, int]:
    return {line.split()[1]: int(line.split()[2]) for line in out.splitlines() if line.startswith("ack ")}


def report(store, acked: dict[str, int]) -> None:
    """Fail loudly, with what the bucket holds, when an acknowledged add is missing or an id repeats."""
    lost = [u for u in acked if u not in store.tasks]
    for uuid in lost:
        print(f"LOST {uuid} (id {acked[uuid]}): {len(store.history(uuid))} records name it; "
              f"{store.seq} records for {len(acked)} acknowledged adds")
    assert not lost and len(set(acked.values())) == len(acked)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--adds", type=int, default=250)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--light", action="store_true")
    args = parser.parse_args()
    with moto_server() as endpoint:
        place = Place("s3", Path(tempfile.mkdtemp()), endpoint)
        start = time.perf_counter()
        procs = [worker(place, f"w{n}", args.adds, args.light) for n in range(args.writers)]
        acked: dict[str, int] = {}
        for proc in procs:
            out, err = proc.communicate()
            assert proc.returncode == 0, err
            acked.update(acks(out))
        elapsed = time.perf_counter() - start
        store = place.open()
        report(store, acked)
        print(f"{args.writers} writers x {args.adds} adds: {len(acked)} acknowledged, all present, ids unique; "
              f"{elapsed:.1f} s ({len(acked) / elapsed:.0f} adds/s)")
        start, acked = time.perf_counter(), {}
        for round_ in range(args.kills):
            proc = worker(place, f"k{round_}", 0, args.light)
            for seen, line in enumerate(proc.stdout, 1):
                acked.update(acks(line))
                if seen > 2 + round_ % 5:
                    break
            os.kill(proc.pid, signal.SIGKILL)
            proc.communicate()
        store = place.open()
        report(store, acked)
        print(f"{args.kills} SIGKILL rounds: {len(acked)} acknowledged adds, all present; "
              f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
