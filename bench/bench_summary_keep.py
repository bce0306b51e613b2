"""What the server's summary keeping (mcp/opening.py `keep`) buys and costs, at 10k and 100k tasks (not a test).

usage: python bench/bench_summary_keep.py [--sizes 10000 100000] [--runs 9] [--cache DIR] [--code DIR ...]

1. The common flow: a server commits (`task_add` over stdio) and exits on end of input
   ("exit"), or stays on until its summary.json is replaced (at most 5 s: "quiet"), then a new
   session's SessionStart runs as a fresh process; median CPU (user + system of the child)
   and wall of --runs such rounds, beside `python -c pass`. Each --code is another
   checkout's `server/` (e.g. `git archive <commit> server | tar -x -C DIR`) whose server
   and hooks run instead, for "before" rows; this checkout's is always measured.
2. What a refresh costs the server, in process through `Opening` itself: how long
   `_fork_summary` holds the engine lock (refresh + fork), the child's CPU, and `task_info`
   while that child builds against the same call with no child (copy-on-write faults and
   the shared cores).
Stores come from bench/scale.py (`build`, cached under --cache), copied fresh, clock pinned,
TZ=UTC, bytecode compiled first.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_hook_summary import fresh_store, payload, run_many  # noqa: E402
from bench_server import Rpc  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
QUIET_S = 5.0  # at most this long for the server's summary (its 1 s idle wait, then the build)


def after_a_server(cache: Path, n: int, runs: int, code: Path | None, flow: str) -> tuple[float, float]:
    """(median CPU ms, median wall ms) of SessionStart after a server's commit: while that server
    stays on, once its summary.json was replaced (at most QUIET_S; flow "quiet"), or after the
    server exited on end of input (flow "exit": a server per round)."""
    tmp, data, env = fresh_store(cache, n)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(code or REPO / "server")], check=True)
    bindir = Path(sys.executable).parent
    summary = data / "summary.json"
    cpus, walls, server = [], [], None
    try:
        for i in range(runs):
            if server is None:
                server = Rpc([str(bindir / "backlog"), "serve"], env)
            before = summary.stat().st_mtime_ns if summary.exists() else None
            server.call("task_add", {"description": f"session work {i}", "priority": "H"})
            if flow == "exit":
                server.proc.stdin.close()
                server.proc.wait(timeout=120)
                server = None
            else:
                deadline = time.monotonic() + QUIET_S
                while time.monotonic() < deadline and (summary.stat().st_mtime_ns if summary.exists() else None) == before:
                    time.sleep(0.05)
            wall, cpu = run_many([str(bindir / "backlog"), "hook", "SessionStart"], env,
                                 [payload("SessionStart", i, source="startup")])
            walls.append(wall)
            cpus.append(cpu)
    finally:
        if server is not None:
            server.proc.stdin.close()
            server.proc.wait(timeout=120)
    if (data / "hooks.log").exists():
        sys.exit(f"hooks logged problems:\n{(data / 'hooks.log').read_text()[:2000]}")
    shutil.rmtree(tmp, ignore_errors=True)
    return round(statistics.median(cpus), 1), round(statistics.median(walls), 1)


class TimedLock:
    """The engine lock, timing how long the thread named `keeper` holds it (the refresh's hold)."""

    def __init__(self, lock: threading.Lock) -> None:
        self.lock, self.holds = lock, []

    def __enter__(self) -> None:
        self.lock.acquire()
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        if threading.current_thread().name == "keeper":
            self.holds.append((time.perf_counter() - self.start) * 1000)
        self.lock.release()


def refresh_cost(cache: Path, n: int, runs: int) -> dict[str, float]:
    """In process: the engine lock's hold by a refresh, the child's CPU, task_info with and without a child building."""
    from backlog.mcp import opening as opening_module
    from backlog.mcp.opening import Opening

    tmp, _, env = fresh_store(cache, n)
    opening = Opening(env, str(tmp / "project"))
    opening._lock = timed = TimedLock(opening._lock)
    with opening.use() as backlog:
        backlog.list("+READY", limit=5)
        backlog.info("1")
    child_cpu, busy_info, idle_info = [], [], []

    def info_ms() -> float:
        start = time.perf_counter()
        with opening.use() as backlog:
            backlog.info(str(n // 2))
        return (time.perf_counter() - start) * 1000

    for i in range(runs):
        with opening.use() as backlog:
            backlog.add(f"work {i}", priority="H")
        idle_info.extend(info_ms() for _ in range(5))
        opening._last -= opening_module.IDLE  # as if quiet for a second
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        keeper = threading.Thread(target=opening._fork_summary, name="keeper")
        keeper.start()
        time.sleep(0.02)
        while keeper.is_alive():  # task_info while the child builds
            busy_info.append(info_ms())
            time.sleep(0.005)
        keeper.join()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        child_cpu.append((after.ru_utime - used.ru_utime + after.ru_stime - used.ru_stime) * 1000)
    opening.close()
    shutil.rmtree(tmp, ignore_errors=True)
    med = statistics.median
    return {"engine lock held by a refresh (refresh + fork)": med(timed.holds),
            "task_info, no child": med(idle_info), "task_info while the child builds": med(busy_info) if busy_info else float("nan"),
            "child CPU (build + save)": med(child_cpu)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "backlog-bench-scale"))
    parser.add_argument("--code", nargs="*", default=[], help="other checkouts' server/ dirs to time as 'before'")
    args = parser.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for n in args.sizes:
        print(f"\n{n} tasks: SessionStart after a server's commit, medians of {args.runs}, ms")
        floor = run_many([sys.executable, "-c", "pass"], env, [b""] * args.runs)
        print(f"{'python -c pass (floor)':52} cpu {floor[1]:>7} wall {floor[0]:>7}")
        for flow in ("exit", "quiet"):
            for code in [*args.code, None]:
                cpu, wall = after_a_server(cache, n, args.runs, Path(code) if code else None, flow)
                print(f"{'SessionStart (' + flow + '), ' + (code or 'this checkout'):52} cpu {cpu:>7} wall {wall:>7}")
        print(f"{n} tasks: a refresh in the server (in process), medians of {args.runs}, ms")
        for name, value in refresh_cost(cache, n, args.runs).items():
            print(f"{name:52} {value:>7.2f}")


if __name__ == "__main__":
    main()
