"""Issue 14's hook rows: each hook as a fresh process at 10k and 100k tasks, beside `python -c pass` (not a test).

usage: python bench/bench_hook_summary.py [--sizes 10000 100000] [--runs 9] [--cache DIR] [--code DIR]

Stores come from bench/scale.py (`build`, cached under --cache); each size is measured on a
fresh copy with the clock pinned (BACKLOG_NOW) and TZ=UTC. Every figure is the median of
--runs fresh processes, wall and CPU (user + system of the child), bytecode compiled first:
- SessionStart, summary missing (deleted before each run: a full open that writes it again);
- SessionStart, summary fresh;
- TaskCreated (a write: opens the store), then SubagentStop and SessionEnd of agents and a
  session that hold nothing, after those commits (the summary's journal tail is read);
- SubagentStart of a `task-worker` (it leases a task: opens the store and writes).
--code runs the hooks of another checkout's `server/` (PYTHONPATH), e.g. the commit before
the summary, extracted with `git archive <commit> server | tar -x -C DIR`, for "before" rows.
"""

from __future__ import annotations

import argparse
import json
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
from scale import NOW_ISO, build  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def run_many(cmd: list[str], env: dict, stdins: list[bytes], before=None) -> tuple[float, float]:
    """(median wall ms, median CPU ms) of one fresh process per stdin; `before()` runs untimed ahead of each."""
    walls, cpus = [], []
    for data in stdins:
        if before is not None:
            before()
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        run = subprocess.run(cmd, input=data, capture_output=True, env=env)
        walls.append((time.perf_counter() - start) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - used.ru_utime + after.ru_stime - used.ru_stime) * 1000)
        if run.returncode != 0 or run.stderr:
            sys.exit(f"{' '.join(cmd)} failed: {run.returncode} {run.stderr.decode()[:300]}")
    return round(statistics.median(walls), 1), round(statistics.median(cpus), 1)


def payload(event: str, i: int, **extra: str) -> bytes:
    return json.dumps({"session_id": f"bench-{event}-{i}", "hook_event_name": event, **extra}).encode()


def fresh_store(cache: Path, n: int) -> tuple[Path, Path, dict]:
    """(a temp dir, a copy of the cached `n`-task store in it, the environment of hooks on it)."""
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-hook-summary-{n}-"))
    data, project = tmp / "data", tmp / "project"
    shutil.copytree(build(cache, n), data)
    project.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TASKDATA", "BACKLOG_", "CLAUDE_")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(TASKDATA=str(data), BACKLOG_NOW=NOW_ISO, TZ="UTC", CLAUDE_PROJECT_DIR=str(project))
    return tmp, data, env


def measure(cache: Path, n: int, runs: int, code: Path | None) -> list[tuple[str, float, float]]:
    tmp, data, env = fresh_store(cache, n)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(code or REPO / "server")], check=True)
    hook = [str(Path(sys.executable).with_name("backlog")), "hook"]  # the console script, as hooks/launch runs it
    summary = data / "summary.json"
    rows = [("python -c pass (floor)", *run_many([sys.executable, "-c", "pass"], env, [b""] * runs))]
    start = [payload("SessionStart", i, source="startup") for i in range(runs)]
    rows.append(("SessionStart, no summary (full open)",
                 *run_many([*hook, "SessionStart"], env, start, lambda: summary.unlink(missing_ok=True))))
    rows.append(("SessionStart, summary fresh", *run_many([*hook, "SessionStart"], env, start)))
    rows.append(("TaskCreated (writes)", *run_many([*hook, "TaskCreated"], env, [
        payload("TaskCreated", i, task_id=str(i), task_subject=f"bench {i}") for i in range(runs)])))
    rows.append(("SubagentStop, holds nothing", *run_many([*hook, "SubagentStop"], env, [
        payload("SubagentStop", i, agent_type="task-worker", agent_id=f"idle{i:04d}") for i in range(runs)])))
    rows.append(("SessionEnd, holds nothing", *run_many([*hook, "SessionEnd"], env, [
        payload("SessionEnd", i, reason="other") for i in range(runs)])))
    rows.append(("SubagentStart task-worker (leases: writes)", *run_many([*hook, "SubagentStart"], env, [
        payload("SubagentStart", i, agent_type="task-worker", agent_id=f"work{i:04d}") for i in range(runs)])))
    if (data / "hooks.log").exists():
        sys.exit(f"hooks logged problems, the figures mean nothing:\n{(data / 'hooks.log').read_text()[:2000]}")
    shutil.rmtree(tmp, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "backlog-bench-scale"))
    parser.add_argument("--code", help="a checkout's server/ dir whose hooks to time (default: this one)")
    args = parser.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    for n in args.sizes:
        print(f"\n{n} tasks, medians of {args.runs} fresh processes, ms")
        print(f"{'hook':48} {'wall':>8} {'cpu':>8}")
        for name, wall, cpu in measure(cache, n, args.runs, Path(args.code) if args.code else None):
            print(f"{name:48} {wall:>8} {cpu:>8}")


if __name__ == "__main__":
    main()
