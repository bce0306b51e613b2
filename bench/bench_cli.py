"""CLI wall times as whole processes, next to Taskwarrior's, on 10k and 100k tasks (not a test).

usage: python bench/bench_cli.py [--tasks 10000 100000] [--runs 11] [--tw-runs 5] [--no-taskwarrior]

For each size: bench_hooks.make_store fills a temp TASKDATA (80% pending, some due, active,
blocked), `backlog export` feeds the same tasks to `task import` (own TASKRC and data).
Each command is the median of fresh processes with stdout to a pipe: `python3 -c pass` (the
floor), `backlog --version`, `backlog list` / `next` / `info <id>` / `add …`, and Taskwarrior's
`task list` / `next` / `<id> info` / `add …` (rc.gc=off so ids stay put between runs, hooks
and confirmation off). Issue 16's target: list/next/info within the floor + 45 ms, add within
that plus one fsync. The machine's load shows in wall times; CPU times (user + system of the
child) are printed beside them. Taskwarrior runs only up to --tw-max tasks.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_hooks import make_store  # noqa: E402

TW_RC = ("rc.gc=off", "rc.confirmation=off", "rc.verbose=nothing", "rc.hooks=off", "rc.color=off")


def median_ms(command: list[str], env: dict, runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system) of `runs` fresh processes of
    `command`, stdout to a pipe; CPU time is the fairer figure on a busy machine."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        walls.append((time.perf_counter() - start) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode()[-500:]}")
    return statistics.median(walls), statistics.median(cpus)


def measure(n: int, runs: int, tw_runs: int, taskwarrior: str | None) -> list[tuple[str, tuple[float, float]]]:
    """(label, (wall ms, cpu ms)) rows for one store of `n` tasks."""
    backlog = shutil.which("backlog", path=str(Path(sys.executable).parent)) or "backlog"
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as folder:
        root = Path(folder)
        started = time.perf_counter()
        make_store(root / "ours", n)
        print(f"  ({n} tasks stored in {time.perf_counter() - started:.0f} s)", file=sys.stderr)
        env = {**os.environ, "TASKDATA": str(root / "ours"), "NO_COLOR": "1"}
        env.pop("BACKLOG_NOW", None)
        some_id = str(n // 2)
        rows = [("python3 -c pass", median_ms([sys.executable, "-c", "pass"], env, runs)),
                ("backlog --version", median_ms([backlog, "--version"], env, runs))]
        for label, args in (("list", ["list"]), ("next", ["next"]), ("info", [some_id]),
                            ("add", ["add", "bench", "task", "project:bench"])):
            rows.append((f"backlog {label}", median_ms([backlog, *args], env, runs)))
        if taskwarrior:
            export = root / "export.json"
            export.write_bytes(subprocess.run([backlog, "export", "status.any:"], env=env, capture_output=True,
                                              check=True).stdout)
            (root / "taskrc").write_text("")
            tw_env = {**env, "TASKRC": str(root / "taskrc"), "TASKDATA": str(root / "tw")}
            started = time.perf_counter()
            subprocess.run([taskwarrior, *TW_RC, "import", str(export)], env=tw_env, capture_output=True, check=True)
            print(f"  ({n} tasks imported into Taskwarrior in {time.perf_counter() - started:.0f} s)", file=sys.stderr)
            rows.append(("task --version", median_ms([taskwarrior, "--version"], tw_env, tw_runs)))
            for label, args in (("list", ["list"]), ("next", ["next"]), ("info", [some_id, "info"]),
                                ("add", ["add", "bench", "task", "project:bench"])):
                rows.append((f"task {label}", median_ms([taskwarrior, *TW_RC, *args], tw_env, tw_runs)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--tw-runs", type=int, default=5)
    parser.add_argument("--tw-max", type=int, default=10_000,
                        help="run Taskwarrior only up to this many tasks (its `list` takes ~16 s at 10k)")
    parser.add_argument("--no-taskwarrior", action="store_true")
    args = parser.parse_args()
    found = None if args.no_taskwarrior else shutil.which("task")
    # An installed package has its bytecode compiled; an editable one under PYTHONDONTWRITEBYTECODE
    # would compile every module in every process (~300 ms), so compile it once here.
    import backlog
    compileall.compile_dir(Path(backlog.__file__).parent, quiet=1)
    for n in args.tasks:
        taskwarrior = found if n <= args.tw_max else None
        print(f"{n} tasks (median of {args.runs} runs, Taskwarrior {args.tw_runs}): wall ms, CPU ms", flush=True)
        rows = measure(n, args.runs, args.tw_runs, taskwarrior)
        floor_wall, floor_cpu = rows[0][1]
        for label, (wall, cpu) in rows:
            print(f"  {label:<20} wall {wall:8.1f} (floor +{wall - floor_wall:7.1f})   "
                  f"cpu {cpu:8.1f} (floor +{cpu - floor_cpu:7.1f})", flush=True)


if __name__ == "__main__":
    main()
