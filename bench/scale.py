"""Issue 14's table: per-call cost at 10k and 100k tasks, each figure beside its floor (not a test).

usage: python bench/scale.py [--sizes 10000 100000] [--reps 15] [--runs 9] [--cache DIR] [--cpu | --lists]

Builds each store once, deterministically (seeded; 20 projects, 0-3 tags, priorities, due
dates, ~10% dependencies, ~25% completed, a few active), under --cache (reused when present)
and measures a fresh copy of it:
- over stdio, `backlog serve` against the SDK floor (bench_server's minimal MCPServer answering
  the very result object ours answered): task_info, task_add, task_done, task_modify, a
  selective filtered list, `+READY` (100 rows) and `limit=0` over all pending tasks; for the
  writes the floor adds one fdatasync'ed append of the journal line's size, measured here;
- each hook as a fresh process, beside `python -c pass`;
- opening the store in process (Store.open), beside orjson parsing the snapshot alone;
- spawn → first `tools/list` answer, beside the same for the floor server;
- peak RSS of the server after the calls above (VmHWM).
The clock is pinned (BACKLOG_NOW) so every run sees the same READY/OVERDUE sets.
Ends with one ratio line per size: ours / floor. With --cpu, only the engine calls in
process as CPU time (no floors): wall times mean little while other jobs share the cores.
With --lists, only the two big lists over stdio beside the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_hooks import EVENTS, payload, timed  # noqa: E402
from bench_server import FLOOR_SERVER, Rpc  # noqa: E402

from backlog.engine.backlog import Backlog, import_all  # noqa: E402
from backlog.store.files import SNAPSHOT  # noqa: E402
from backlog.store.store import Store  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 24, 10, 14, 53, tzinfo=timezone.utc)
NOW_ISO = "2026-11-24T10:14:53Z"
PROJECTS = [f"p{i}" for i in range(20)]
TAGS = ["bug", "feature", "docs", "perf", "ui", "api", "infra", "test"]


def make_tasks(n: int, seed: int = 14) -> list[dict]:
    """`n` tasks with fixed uuids and entries: ~25% completed, ~10% depending on an earlier task."""
    rnd = random.Random(seed)
    tasks = []
    for i in range(n):
        task = {"uuid": f"{i:08x}-0000-4000-8000-{rnd.getrandbits(48):012x}",
                "description": f"task {i} {rnd.choice(['fix', 'add', 'document'])} {rnd.choice(['auth', 'cache', 'billing'])}",
                "project": rnd.choice(PROJECTS), "tags": rnd.sample(TAGS, rnd.randint(0, 3)),
                "entry": f"2026-{rnd.randint(1, 11):02d}-{rnd.randint(1, 20):02d}T08:00:00Z",
                "status": "completed" if rnd.random() < 0.25 else "pending"}
        if task["status"] == "completed":
            task["end"] = "2026-11-21T08:00:00Z"
        if not task["tags"]:
            del task["tags"]
        if rnd.random() < 0.3:
            task["priority"] = rnd.choice("HML")
        if rnd.random() < 0.3:
            task["due"] = f"2026-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}T12:00:00Z"
        if task["status"] == "pending" and rnd.random() < 0.01:
            task["start"] = "2026-11-20T09:00:00Z"
        if i and rnd.random() < 0.1:
            task["depends"] = [tasks[rnd.randrange(i)]["uuid"]]
        tasks.append(task)
    return tasks


def build(cache: Path, n: int) -> Path:
    """The store of `n` tasks under `cache` (built once, compacted)."""
    root = cache / f"store-{n}"
    if (root / "done").exists() and b'"lines":' in (root / "tasks.json").read_bytes()[:4096]:
        return root  # (a store cached before the snapshot's lines layout is built again)
    shutil.rmtree(root, ignore_errors=True)
    backlog = Backlog(Store.open(root), tz=timezone.utc, clock=lambda: NOW, agent="bench")
    tasks = make_tasks(n)
    for i in range(0, n, 5000):
        backlog.import_tasks(orjson.dumps(tasks[i:i + 5000]).decode())
    backlog.store.compact()
    backlog.store.close()
    (root / "done").write_text("")
    return root


def median_ms(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def fsync_ms(folder: Path, size: int, reps: int) -> float:
    """One append of `size` bytes + fdatasync: the disk's part of a durable commit."""
    fd = os.open(folder / "fsync-probe", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    line = b"x" * (size - 1) + b"\n"
    try:
        return median_ms(lambda: (os.write(fd, line), os.fdatasync(fd)), reps)
    finally:
        os.close(fd)
        os.unlink(folder / "fsync-probe")


def to_list_ms(command: list[str], env: dict, reps: int) -> float:
    """Median ms from spawn to the answer of the first `tools/list`."""
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        rpc = Rpc(command, env)
        rpc.request("tools/list", {})
        times.append((time.perf_counter() - started) * 1000)
        rpc.close()
    return round(statistics.median(times), 1)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def measure(cache: Path, n: int, reps: int, runs: int) -> list[tuple[str, float, float]]:
    """(measure, ours, floor) rows for the store of `n` tasks."""
    built = build(cache, n)
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-scale-{n}-"))
    data, saved, project = tmp / "data", tmp / "floor", tmp / "project"
    shutil.copytree(built, data)
    saved.mkdir()
    project.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TASKDATA", "BACKLOG_", "CLAUDE_")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(TASKDATA=str(data), FLOOR_DIR=str(saved), BACKLOG_NOW=NOW_ISO, TZ="UTC",
               CLAUDE_PROJECT_DIR=str(project), PYTHONPATH=str(REPO / "server"))
    ours_cmd, floor_cmd = [sys.executable, "-m", "backlog", "serve"], [sys.executable, "-c", FLOOR_SERVER]
    rows: list[tuple[str, float, float]] = []

    snapshot = data / SNAPSHOT
    rows.append(("open store in process (floor: orjson of the snapshot)",
                 median_ms(lambda: Store.open(data).close(), reps),
                 median_ms(lambda: orjson.loads(snapshot.read_bytes()), reps) if snapshot.exists() else 0.0))

    ours, floor = Rpc(ours_cmd, env), Rpc(floor_cmd, env)

    def both(key: str, tool: str, arguments: dict, k: int = reps, each=None) -> tuple[float, float, dict]:
        result = ours.call(tool, each(0) if each else arguments)["structuredContent"]
        Path(saved, key + ".json").write_bytes(json.dumps(result).encode())
        if each:
            times = []
            for i in range(1, k + 1):
                started = time.perf_counter()
                ours.call(tool, each(i))
                times.append((time.perf_counter() - started) * 1000)
            mine = round(statistics.median(times), 2)
        else:
            mine = ours.median_ms(tool, arguments, k)
        return mine, floor.median_ms("replay", {"key": key}, k), result

    pending = [t["id"] for t in ours.call("task_list", {"filter": "status:pending", "limit": 0, "fields": "id"})
               ["structuredContent"]["tasks"]]
    some = pending[len(pending) // 2]
    journal_before = sum(p.stat().st_size for p in data.glob("journal/*"))
    info = both("info", "task_info", {"id": str(some)})
    add = both("add", "task_add", {}, each=lambda i: {"description": f"bench add {i}", "project": "p1", "tags": "bench"})
    done = both("done", "task_done", {}, each=lambda i: {"id": str(pending[i * 7 % len(pending)])})
    modify = both("modify", "task_modify", {}, each=lambda i: {"filter": str(some), "priority": "HML"[i % 3]})
    journal_after = sum(p.stat().st_size for p in data.glob("journal/*"))
    line = max(200, (journal_after - journal_before) // (3 * (reps + 1)))
    disk = fsync_ms(tmp, line, reps * 2)
    rows += [("task_info", info[0], info[1])]
    rows += [(f"task_{name} (floor: SDK + {disk} ms append+fdatasync of {line} B)", got[0], round(got[1] + disk, 2))
             for name, got in (("add", add), ("done", done), ("modify", modify))]
    selective = both("filtered", "task_list", {"filter": "project:p3 +bug"})
    ready = both("ready", "task_list", {"filter": "+READY"})
    everything = both("all", "task_list", {"filter": "", "limit": 0}, k=max(3, reps // 3))
    rows += [("task_list project:p3 +bug", selective[0], selective[1]),
             ("task_list +READY (100 rows)", ready[0], ready[1]),
             (f"task_list limit=0 ({everything[2]['total']} rows)", everything[0], everything[1])]
    rss = peak_rss_mb(ours.proc.pid)
    ours.close()
    floor.close()

    origin_backlog = Backlog(Store.open(data), tz=timezone.utc, clock=lambda: NOW, agent="bench")
    for i in range(runs):
        origin_backlog.add(f"Bench done {i}", origin=f"claude:bench:done-{i}")
    origin_backlog.store.close()
    hook_cmd = [sys.executable, "-m", "backlog", "hook"]
    base = timed([sys.executable, "-c", "pass"], env, [b""] * runs, str(project))[0]
    for event in EVENTS:
        stdins = [payload(event, i, str(project)) for i in range(runs)]
        answers = event in ("SessionStart", "SubagentStart")
        rows.append((f"hook {event} (floor: python -c pass)",
                     round(timed([*hook_cmd, event], env, stdins, str(project), answers)[0], 1), round(base, 1)))
    if (data / "hooks.log").exists():
        sys.exit(f"hooks logged problems, the figures mean nothing:\n{(data / 'hooks.log').read_text()[:2000]}")
    rows.append(("spawn -> first tools/list", to_list_ms(ours_cmd, env, 5), to_list_ms(floor_cmd, env, 5)))
    rows.append(("peak RSS of the server, MB (floor: none)", rss, 0.0))
    shutil.rmtree(tmp, ignore_errors=True)
    return rows


def lists(cache: Path, n: int, reps: int) -> list[tuple[str, float, float]]:
    """(measure, ours, floor) over stdio for the two big lists only: `+READY` and `limit=0`."""
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-lists-{n}-"))
    data, saved = tmp / "data", tmp / "floor"
    shutil.copytree(build(cache, n), data)
    saved.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TASKDATA", "BACKLOG_", "CLAUDE_")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(TASKDATA=str(data), FLOOR_DIR=str(saved), BACKLOG_NOW=NOW_ISO, TZ="UTC", CLAUDE_PROJECT_DIR=str(tmp),
               PYTHONPATH=str(REPO / "server"))
    ours, floor = Rpc([sys.executable, "-m", "backlog", "serve"], env), Rpc([sys.executable, "-c", FLOOR_SERVER], env)
    rows = []
    for key, arguments, k in (("ready", {"filter": "+READY"}, reps), ("all", {"filter": "", "limit": 0}, max(3, reps // 3))):
        result = ours.call("task_list", arguments)["structuredContent"]
        Path(saved, key + ".json").write_bytes(json.dumps(result).encode())
        rows.append((f"task_list {arguments} ({len(result['tasks'])} rows)", ours.median_ms("task_list", arguments, k),
                     floor.median_ms("replay", {"key": key}, k)))
    ours.close()
    floor.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return rows


def cpu_ms(fn, reps: int) -> float:
    """Median CPU ms of `fn(i)` for i = 1 … reps (process time: steadier than wall time on a busy machine)."""
    times = []
    for i in range(1, reps + 1):
        start = time.process_time()
        fn(i)
        times.append((time.process_time() - start) * 1000)
    return round(statistics.median(times), 2)


def open_cpu_ms(root: Path, reps: int) -> float:
    """Median CPU ms of Store.open(root) alone: each store is closed and let go of after the clock
    stops (freeing 100k tasks costs ~50-100 ms more, which opening does not pay)."""
    times = []
    for _ in range(reps):
        start = time.process_time()
        store = Store.open(root)
        times.append((time.process_time() - start) * 1000)
        store.close()
        del store
    return round(statistics.median(times), 2)


def in_process(cache: Path, n: int, reps: int) -> list[tuple[str, float]]:
    """(measure, CPU ms) of the engine calls behind the table, in this process, on a copy of the store."""
    root = Path(tempfile.mkdtemp(prefix=f"bench-scale-cpu-{n}-"))
    shutil.copytree(build(cache, n), root / "data")
    rows = [("open store", open_cpu_ms(root / "data", reps))]
    listed = Store.open(root / "data")  # (another store: the measured one opens with nothing decoded)
    pending = [t["id"] for t in listed.tasks.values() if t["status"] == "pending"]
    listed.close()
    some = str(pending[len(pending) // 2])
    import_all()  # as `backlog serve` does while its store opens: the first call imports nothing
    backlog = Backlog(Store.open(root / "data"), tz=timezone.utc, clock=lambda: NOW, agent="bench")
    start = time.process_time()
    backlog.info(some)
    rows.append(("first call (decodes the tasks, builds what the server keeps)", round((time.process_time() - start) * 1000, 2)))
    rows += [
        ("info", cpu_ms(lambda i: backlog.info(some), reps)),
        ("add", cpu_ms(lambda i: backlog.add(f"bench add {i}", project="p1", tags="bench"), reps)),
        ("done", cpu_ms(lambda i: backlog.done(str(pending[i * 7 % len(pending)])), reps)),
        ("modify", cpu_ms(lambda i: backlog.modify(some, priority="HML"[i % 3]), reps)),
        ("list project:p3 +bug", cpu_ms(lambda i: backlog.list("project:p3 +bug"), reps)),
    ]
    for name, call in (("list +READY (100 rows)", lambda i: backlog.list("+READY")),
                       ("list limit=0", lambda i: backlog.list("", limit=0))):
        start = time.process_time()
        call(0)  # what the store keeps for this list (ranking, scores, rows) is made here
        rows.append((f"{name}, first", round((time.process_time() - start) * 1000, 2)))
        rows.append((f"{name}, then", cpu_ms(call, reps if "READY" in name else max(5, reps // 3))))
    backlog.store.close()
    shutil.rmtree(root, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--runs", type=int, default=9, help="fresh processes per hook")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "backlog-bench-scale"))
    parser.add_argument("--lists", action="store_true",
                        help="only the +READY and limit=0 lists over stdio, beside the SDK floor")
    parser.add_argument("--cpu", action="store_true",
                        help="only the engine calls in process, as CPU ms (for before/after on a busy machine)")
    args = parser.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    if args.cpu:
        for n in args.sizes:
            print(f"\n{n} tasks, in process, median CPU ms")
            for name, ms in in_process(cache, n, args.reps):
                print(f"  {name:44} {ms:>9}")
        return
    summary = []
    for n in args.sizes:
        rows = lists(cache, n, args.reps) if args.lists else measure(cache, n, args.reps, args.runs)
        print(f"\n{n} tasks, medians in ms")
        print(f"{'measure':66} {'ours':>9} {'floor':>9} {'ratio':>6}")
        for name, ms, base in rows:
            ratio = f"{ms / base:.2f}" if base else ""
            print(f"{name:66} {ms:>9} {base:>9} {ratio:>6}")
        summary.append(f"{n}: " + ", ".join(f"{name.split(' (')[0]} {ms / base:.1f}x" for name, ms, base in rows if base))
    print("\nratios ours/floor:")
    for line in summary:
        print(" ", line)


if __name__ == "__main__":
    main()
