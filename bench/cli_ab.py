"""CLI whole processes, this install against another, interleaved (not a test).

usage: python bench/cli_ab.py --against /work/main/.venv/bin [--tasks 10000 100000] [--runs 9]
       [--store DIR] [--commands pass version list next info add created]

Each round runs every command once with this install's `backlog` (the `bin` next to this
interpreter) and once with the other's, one after the other, so both see the same load; the
figures are CPU medians (user + system of the child), ms. `pass` is each install's
`python -c pass`, the floor of issue 16's target (list/next/info within it + 45 ms, add within
that plus one fsync). `created` is the TaskCreated hook (a new task id on stdin every run,
so each run writes). Stores are built by bench_hooks.make_store (or copied from --store);
bytecode goes to a temporary PYTHONPYCACHEPREFIX, compiled by a warm-up run of each command, so
neither tree's folders are written. `add` and `created` run on their own copy of the store per install.
Outputs of read commands are compared: a difference is reported.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_hooks import make_store, payload  # noqa: E402

ARGS = {"version": ["--version"], "list": ["list"], "next": ["next"], "add": ["add", "bench", "task", "project:bench"],
        "created": ["hook", "TaskCreated"]}
WRITES = ("add", "created")


def cpu_ms(command: list[str], env: dict, stdin: bytes | None = None) -> tuple[float, bytes]:
    """CPU ms (user + system) of one fresh process of `command` (`stdin` on its input), and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, env=env, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode()[-500:]}")
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000, done.stdout


def measure(bins: dict[str, Path], store: Path, n: int, commands: list[str], runs: int, scratch: Path) -> dict:
    """{(command, install): [cpu ms, …]} over `runs` interleaved rounds."""
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPYCACHEPREFIX": str(scratch / "pyc")}
    for name in ("PYTHONDONTWRITEBYTECODE", "BACKLOG_NOW"):
        env.pop(name, None)
    stores = {"read": store}
    for name in bins:  # writes go to a copy per install
        stores[name] = scratch / f"add-{name}"
        shutil.copytree(store, stores[name])
    times: dict = {}
    created = iter(range(10 ** 9))

    def line(command: str, name: str) -> tuple[list[str], dict, bytes | None]:
        if command == "pass":
            return [str(bins[name] / "python"), "-c", "pass"], env, None
        args = ARGS.get(command) or [str(n // 2)]  # info: `backlog <id>`
        stdin = payload("TaskCreated", next(created), str(scratch)) if command == "created" else None
        return ([str(bins[name] / "backlog"), *args],
                {**env, "TASKDATA": str(stores[name if command in WRITES else "read"])}, stdin)

    for command in commands:  # warm-up: bytecode compiled, files in the page cache
        for name in bins:
            cpu_ms(*line(command, name))
    for _ in range(runs):
        for command in commands:
            outputs = {}
            for name in bins:
                ms, outputs[name] = cpu_ms(*line(command, name))
                times.setdefault((command, name), []).append(ms)
            if command not in ("pass", "version", *WRITES) and len(set(outputs.values())) > 1:
                print(f"  note: `{command}` printed different output", file=sys.stderr)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, required=True, help="the bin folder of the other install")
    parser.add_argument("--tasks", type=int, nargs="+", default=[10_000])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--store", type=Path, help="copy this data dir instead of building one (one size)")
    parser.add_argument("--commands", nargs="+", default=["pass", "version", "list", "next", "info", "add"])
    args = parser.parse_args()
    bins = {"this": Path(sys.executable).parent, "other": args.against}
    for n in args.tasks:
        with tempfile.TemporaryDirectory(prefix="bench-cli-ab-") as folder:
            scratch = Path(folder)
            store = scratch / "store"
            if args.store:
                shutil.copytree(args.store, store)
            else:
                make_store(store, n)
            times = measure(bins, store, n, args.commands, args.runs, scratch)
        floor = {name: statistics.median(times[("pass", name)]) for name in bins} if "pass" in args.commands else None
        print(f"{n} tasks, CPU ms, medians of {args.runs} interleaved runs (other = {args.against}; load {os.getloadavg()[0]:.1f})")
        print(f"  {'command':<10} {'other':>8} {'this':>8}" + ("   this − its floor" if floor else ""))
        for command in args.commands:
            other, this = (statistics.median(times[(command, name)]) for name in ("other", "this"))
            extra = f"   {this - floor['this']:+8.1f}" if floor and command != "pass" else ""
            print(f"  {command:<10} {other:8.1f} {this:8.1f}{extra}")


if __name__ == "__main__":
    main()
