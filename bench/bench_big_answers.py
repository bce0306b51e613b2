"""Issue 14's big answers as the server's own CPU time, beside the SDK floor (not a test).

usage: python bench/bench_big_answers.py [--sizes 10000 100000] [--reps 7] [--cache DIR] [--code DIR ...]

For each store of bench/scale.py (built once under --cache) and each checkout's `server/` given
with --code (default: this one; several are run interleaved, round by round), one `backlog serve`
answers: task_info (the first call), `+READY` (100 rows) and `task_list limit=0` (all pending)
--reps times each. Each call is measured as the CPU time (user + system, from /proc) the server
process spent on it, which other jobs on the shared cores do not inflate the way they inflate
wall time, beside the same for the SDK floor (bench_server's minimal MCPServer answering the very
result object ours answered). Also: spawn → first `tools/list` (wall, and the server's CPU up to
then) beside the floor's, and the server's peak RSS (VmHWM) after the calls. The clock is pinned.
The `+READY` mean includes the server's second list, which builds its ranking and kept scores;
"first task_info" includes the rest of the SDK's import (it runs beside the store's opening).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_server import FLOOR_SERVER, Rpc  # noqa: E402
from scale import NOW_ISO, build, peak_rss_mb  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float:
    """CPU ms (user + system) process `pid` used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_MS


def call_cpu(rpc: Rpc, tool: str, arguments: dict, reps: int) -> float:
    """Mean CPU ms of the server per call (the clock ticks are 10 ms: a mean, not a median)."""
    times = []
    for _ in range(reps):
        before = cpu_of(rpc.proc.pid)
        rpc.call(tool, arguments)
        times.append(cpu_of(rpc.proc.pid) - before)
    return round(statistics.fmean(times), 1)


def first_list(command: list[str], env: dict) -> tuple[float, float]:
    """(wall ms, server CPU ms) from spawn to the answer of the first `tools/list`."""
    started = time.perf_counter()
    rpc = Rpc(command, env)
    rpc.request("tools/list", {})
    wall, cpu = (time.perf_counter() - started) * 1000, cpu_of(rpc.proc.pid)
    rpc.close()
    return wall, cpu


def one_round(built: Path, code: Path, reps: int) -> dict[str, float]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-big-"))
    data, saved = tmp / "data", tmp / "floor"
    shutil.copytree(built, data)
    saved.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TASKDATA", "BACKLOG_", "CLAUDE_")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(TASKDATA=str(data), FLOOR_DIR=str(saved), BACKLOG_NOW=NOW_ISO, TZ="UTC", CLAUDE_PROJECT_DIR=str(tmp),
               PYTHONPATH=str(code))
    ours_cmd, floor_cmd = [sys.executable, "-m", "backlog", "serve"], [sys.executable, "-c", FLOOR_SERVER]
    got: dict[str, float] = {}
    walls = [first_list(ours_cmd, env) for _ in range(3)]
    floors = [first_list(floor_cmd, env) for _ in range(3)]
    got["spawn->tools/list wall"] = statistics.median(w for w, _ in walls)
    got["spawn->tools/list wall floor"] = statistics.median(w for w, _ in floors)
    got["spawn->tools/list cpu"] = statistics.median(c for _, c in walls)
    got["spawn->tools/list cpu floor"] = statistics.median(c for _, c in floors)
    ours, floor = Rpc(ours_cmd, env), Rpc(floor_cmd, env)
    before = cpu_of(ours.proc.pid)
    ours.call("task_info", {"id": "1"})
    got["first task_info cpu"] = cpu_of(ours.proc.pid) - before
    for key, arguments in (("ready", {"filter": "+READY"}), ("all", {"filter": "", "limit": 0})):
        result = ours.call("task_list", arguments)["structuredContent"]
        Path(saved, key + ".json").write_bytes(json.dumps(result).encode())
        got[f"{key} cpu"] = call_cpu(ours, "task_list", arguments, reps)
        got[f"{key} cpu floor"] = call_cpu(floor, "replay", {"key": key}, reps)
    got["peak RSS MB"] = peak_rss_mb(ours.proc.pid)
    got["peak RSS MB floor"] = peak_rss_mb(floor.proc.pid)
    ours.close()
    floor.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "backlog-bench-scale"))
    parser.add_argument("--code", nargs="+", default=[str(REPO / "server")], help="checkouts' server/ dirs")
    args = parser.parse_args()
    codes = [Path(c) for c in args.code]
    for code in codes:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(code)], check=True)
    for n in args.sizes:
        built = build(Path(args.cache), n)
        results: dict[Path, list[dict[str, float]]] = {code: [] for code in codes}
        for _ in range(args.rounds):
            for code in codes:
                results[code].append(one_round(built, code, args.reps))
        print(f"\n{n} tasks: medians over {args.rounds} round(s); CPU ms of the server process, wall ms, MB")
        keys = list(results[codes[0]][0])
        print(f"{'measure':34}" + "".join(f" {str(c)[-24:]:>24}" for c in codes))
        for key in keys:
            print(f"{key:34}" + "".join(f" {statistics.median(r[key] for r in results[c]):>24.1f}" for c in codes))


if __name__ == "__main__":
    main()
