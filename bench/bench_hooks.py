"""Hook wall times on a 10k-task store: fresh processes, as Claude Code runs them (not a test).

usage: python bench/bench_hooks.py [--tasks 10000] [--runs 15] [--plugin-data DIR] [--importtime]

Imports --tasks tasks through the engine into a temp TASKDATA, then times each hook as the
median of --runs fresh processes: directly (`<venv>/bin/backlog hook <Event>`) and, with
--plugin-data, through the plugin launcher (`hooks/launch hook <Event>`; the environment
is built there first with `hooks/launch --prepare` when missing, ~15 s). The interpreter's
own start (`python -c pass`) is printed as the floor. Target (SPEC §10): < 100 ms each.
SubagentStart runs twice: one process after another (each assignment leaves the summary
stale for the next, which walks every task), then each after an untimed SessionStart that
leaves a fresh summary (`fresh summary`: its pick is leased without decoding the store).
--importtime prints the slowest imports of one SessionStart process (`python -X importtime`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timezone
from pathlib import Path

import orjson

from backlog.engine.backlog import Backlog
from backlog.clock import utc_now
from backlog.store.store import Store

REPO = Path(__file__).resolve().parent.parent
LAUNCH = REPO / "hooks" / "launch"
EVENTS = ("SessionStart", "TaskCreated", "TaskCompleted", "SubagentStart")


def make_store(root: Path, n: int, seed: int = 7) -> None:
    """`n` tasks: 80% pending (some active, blocked, assigned, due), the rest completed."""
    rnd = random.Random(seed)
    tasks = []
    for i in range(n):
        task = {"uuid": f"{i:08x}-0000-4000-8000-{rnd.getrandbits(48):012x}",
                "description": f"task {i} {rnd.choice(['fix', 'add', 'document'])} {rnd.choice(['auth', 'cache', 'billing'])}",
                "project": f"p{rnd.randrange(20)}", "status": "pending" if rnd.random() < 0.8 else "completed"}
        if rnd.random() < 0.3:
            task["priority"] = rnd.choice("HML")
        if rnd.random() < 0.3:
            task["due"] = f"2026-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}T12:00:00Z"
        if rnd.random() < 0.02:
            task["start"] = "2026-11-20T09:00:00Z"
        if rnd.random() < 0.05:
            task["agent"] = "someone"
        if i and rnd.random() < 0.1:
            task["depends"] = [tasks[rnd.randrange(i)]["uuid"]]
        tasks.append(task)
    backlog = Backlog(Store.open(root), tz=timezone.utc, clock=utc_now, agent="bench")
    for i in range(0, n, 5000):
        backlog.import_tasks(orjson.dumps(tasks[i:i + 5000]).decode())
    backlog.store.compact()


def payload(event: str, i: int, cwd: str) -> bytes:
    base = {"session_id": "bench", "transcript_path": "/dev/null", "cwd": cwd, "hook_event_name": event}
    extra = {
        "SessionStart": {"source": "startup"},
        "TaskCreated": {"task_id": f"new-{i}", "task_subject": f"Bench task {i}", "task_description": "from the bench"},
        "TaskCompleted": {"task_id": f"done-{i}", "task_subject": f"Bench done {i}"},
        "SubagentStart": {"agent_id": f"agent-{i}", "agent_type": "task-worker"},  # assigned a task
    }[event]
    return json.dumps({**base, **extra}).encode()


def timed(cmd: list[str], env: dict, stdins: list[bytes], cwd: str, answers: bool = False,
          before: Callable[[], object] | None = None) -> tuple[float, float, float]:
    """(median wall ms, min wall ms, median CPU ms) of one fresh process per stdin, each after
    `before` (untimed) when given.

    Exits when a run fails, or prints nothing although it should (`answers`).

    CPU time (user + system of the child) is what the hook costs; wall time adds waiting
    for the disk (fsync) and for other processes on a busy machine.
    """
    walls, cpus = [], []
    for data in stdins:
        if before is not None:
            before()
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        run = subprocess.run(cmd, input=data, capture_output=True, env=env, cwd=cwd)
        walls.append((time.perf_counter() - start) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - used.ru_utime + after.ru_stime - used.ru_stime) * 1000)
        if run.returncode != 0 or run.stderr or answers and b"additionalContext" not in run.stdout:
            sys.exit(f"{' '.join(cmd)} failed: {run.returncode} {run.stdout[:300]!r} {run.stderr.decode()[:300]}")
    return statistics.median(walls), min(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--plugin-data", help="CLAUDE_PLUGIN_DATA for timing through hooks/launch")
    ap.add_argument("--importtime", action="store_true")
    a = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-hooks-"))
    data, project = tmp / "data", tmp / "project"
    project.mkdir()
    # Bytecode is cached as in an installed plugin (pip compiles it), so the runs measure no compiling.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TASKDATA", "BACKLOG_", "CLAUDE_")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(TASKDATA=str(data), CLAUDE_PROJECT_DIR=str(project), TZ="UTC")
    start = time.perf_counter()
    make_store(data, a.tasks)
    print(f"store: {a.tasks} tasks in {data} (built in {time.perf_counter() - start:.1f} s)")

    ways = [("direct", [str(Path(sys.executable).with_name("backlog")), "hook"])]
    if a.plugin_data:
        launch_env = {**env, "CLAUDE_PLUGIN_ROOT": str(REPO), "CLAUDE_PLUGIN_DATA": a.plugin_data}
        prep = subprocess.run([str(LAUNCH), "--prepare"], capture_output=True, text=True, env=launch_env)
        if prep.returncode:
            sys.exit(f"hooks/launch --prepare failed: {prep.stderr}")
        ways.append(("launcher", [str(LAUNCH), "hook"]))
    # Mirrored tasks for TaskCompleted to find by origin, one per timed run of each way.
    backlog = Backlog(Store.open(data), tz=timezone.utc, clock=utc_now, agent="bench")
    for w in range(len(ways)):
        for i in range(a.runs):
            backlog.add(f"Bench done {w * a.runs + i}", origin=f"claude:bench:done-{w * a.runs + i}")

    print(f"{'':<24}{'median':>8}{'min':>8}{'cpu':>8}  (ms, {a.runs} fresh processes each; * with a fresh summary)")
    print("{:<24}{:8.1f}{:8.1f}{:8.1f}".format("python -c pass (floor)", *timed([sys.executable, "-c", "pass"], env, [b""] * a.runs, str(project))))
    for w, (way, cmd) in enumerate(ways):
        run_env = launch_env if way == "launcher" else env
        for event in EVENTS:
            stdins = [payload(event, w * a.runs + i, str(project)) for i in range(a.runs)]
            subprocess.run([*cmd, "SessionStart"], input=b"{}", capture_output=True, env=run_env)  # warm caches
            answers = event in ("SessionStart", "SubagentStart")
            print("{:<24}{:8.1f}{:8.1f}{:8.1f}".format(f"{way} {event}", *timed([*cmd, event], run_env, stdins, str(project), answers)))
        stdins = [payload("SubagentStart", (len(ways) + w) * a.runs + i, str(project)) for i in range(a.runs)]
        summarise = lambda: subprocess.run([*cmd, "SessionStart"], input=b"{}", capture_output=True, env=run_env)
        print("{:<24}{:8.1f}{:8.1f}{:8.1f}".format(f"{way} SubagentStart*", *timed(
            [*cmd, "SubagentStart"], run_env, stdins, str(project), True, summarise)))
    log = data / "hooks.log"
    if log.exists():  # every timed event should have done its work, not been ignored
        sys.exit(f"hooks logged problems, the figures mean nothing:\n{log.read_text()[:2000]}")
    if a.importtime:
        run = subprocess.run([sys.executable, "-X", "importtime", "-m", "backlog", "hook", "SessionStart"],
                             input=payload("SessionStart", 0, str(project)), capture_output=True, env=env)
        rows = [line.split("|") for line in run.stderr.decode().splitlines() if line.startswith("import time:")]
        rows = [(int(r[1]), r[2].rstrip()) for r in rows if r[1].strip().isdigit()]
        print("slowest imports (cumulative us):")
        for cumulative, name in sorted(rows, reverse=True)[:25]:
            print(f"  {cumulative:8d} {name}")


if __name__ == "__main__":
    main()
