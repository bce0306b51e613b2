"""MCP server latency over stdio at 10k tasks, beside the SDK's own floor (not a test).

usage: python bench/bench_server.py [--n 10000] [--reps 15] [--mcp-bench /work/shared/bench/mcp_bench.py]

Prints medians in ms for `backlog serve` and, beside each, the same measurement on a
minimal MCPServer whose one tool answers the very result object ours answered: the
per-call cost of the SDK (JSON-RPC parsing, pydantic validation and serialization,
the worker-thread hop) that no server built on it can go below. The client speaks raw
newline-delimited JSON-RPC, so both servers are measured by the same code. With
--mcp-bench, also runs the shared side-by-side benchmark and prints its JSON; its client
reads answers one byte per syscall, which --raw-reads reproduces here (long answers
then cost the client ~0.15 ms per KB, whatever the server).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_store import make_tasks  # bench/ is on sys.path when run as a script

REPO = Path(__file__).resolve().parent.parent

# A minimal server on the same SDK whose one tool answers a saved result object (read once).
FLOOR_SERVER = r'''
import functools, os, orjson
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent

server = MCPServer("floor", log_level="WARNING")

@functools.cache
def saved(key):
    with open(os.path.join(os.environ["FLOOR_DIR"], key + ".json"), "rb") as f:
        return orjson.loads(f.read())

@server.tool()
def replay(key: str) -> CallToolResult:
    """Answer the saved result `key`."""
    obj = saved(key)
    return CallToolResult(content=[TextContent(type="text", text=orjson.dumps(obj).decode())], structured_content=obj)

server.run("stdio")
'''


class Rpc:
    """A stdio MCP server and a raw JSON-RPC client (legacy initialize handshake)."""

    def __init__(self, command: list[str], env: dict, raw_reads: bool = False) -> None:
        started = time.perf_counter()
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=env, bufsize=0 if raw_reads else -1)
        self.next_id = 0
        self.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                    "clientInfo": {"name": "bench", "version": "1"}})
        self.start_ms = (time.perf_counter() - started) * 1000
        self.proc.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        self.proc.stdin.flush()

    def request(self, method: str, params: dict) -> dict:
        self.next_id += 1
        self.proc.stdin.write((json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method,
                                           "params": params}) + "\n").encode())
        self.proc.stdin.flush()
        while True:
            message = json.loads(self.proc.stdout.readline())
            if message.get("id") == self.next_id:
                if "error" in message or message["result"].get("isError"):
                    raise RuntimeError(f"{method} {params}: {message}")
                return message["result"]

    def call(self, tool: str, arguments: dict) -> dict:
        return self.request("tools/call", {"name": tool, "arguments": arguments})

    def median_ms(self, tool: str, arguments: dict, reps: int) -> float:
        times = []
        for _ in range(reps):
            started = time.perf_counter()
            self.call(tool, arguments)
            times.append((time.perf_counter() - started) * 1000)
        return round(statistics.median(times), 2)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def starts(command: list[str], env: dict, reps: int) -> float:
    """Median ms from spawning the server to its initialize answer."""
    times = []
    for _ in range(reps):
        rpc = Rpc(command, env)
        times.append(rpc.start_ms)
        rpc.close()
    return round(statistics.median(times), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--mcp-bench", help="path of the shared mcp_bench.py to run as well")
    parser.add_argument("--raw-reads", action="store_true",
                        help="read answers unbuffered, byte by byte, as mcp_bench.py's client does")
    args = parser.parse_args()
    data, saved = tempfile.mkdtemp(prefix="bench-server-"), tempfile.mkdtemp(prefix="bench-floor-")
    env = {**os.environ, "TASKDATA": data, "FLOOR_DIR": saved, "PYTHONPATH": str(REPO / "server")}
    ours_cmd = [sys.executable, "-m", "backlog", "serve"]
    floor_cmd = [sys.executable, "-c", FLOOR_SERVER]
    ours, floor = Rpc(ours_cmd, env, args.raw_reads), Rpc(floor_cmd, env, args.raw_reads)

    def both(key: str, tool: str, arguments: dict, reps: int) -> tuple[float, float]:
        """Median ms of the call on ours, and of the SDK answering the same result object."""
        result = ours.call(tool, arguments)["structuredContent"]
        Path(saved, key + ".json").write_bytes(json.dumps(result).encode())
        return ours.median_ms(tool, arguments, reps), floor.median_ms("replay", {"key": key}, reps)

    tasks = make_tasks(args.n)
    imports = []
    for i in range(0, args.n, 1000):
        started = time.perf_counter()
        ours.call("task_import", {"tasks": json.dumps(tasks[i:i + 1000])})
        imports.append((time.perf_counter() - started) * 1000)
    adds = []
    for k in range(args.reps * 3):
        started = time.perf_counter()
        added = ours.call("task_add", {"description": f"bench add {k}", "project": "p1", "tags": "bench"})
        adds.append((time.perf_counter() - started) * 1000)
    Path(saved, "add.json").write_bytes(json.dumps(added["structuredContent"]).encode())
    Path(saved, "import.json").write_bytes(json.dumps({"message": "imported 1000 tasks",
                                                       "ids": list(range(1, 1001))}).encode())
    pending = ours.call("task_count", {"filter": "status:pending"})["structuredContent"]["count"]
    rows = [
        ("task_add", round(statistics.median(adds), 2), floor.median_ms("replay", {"key": "add"}, args.reps), 2),
        ("task_list project:p3 +bug", *both("filtered", "task_list", {"filter": "project:p3 +bug"}, args.reps), 5),
        ("task_list +READY (100 rows)", *both("ready", "task_list", {"filter": "+READY"}, args.reps), 5),
        ("task_count status:pending", *both("count", "task_count", {"filter": "status:pending"}, args.reps), 2),
        ("task_info 17", *both("info", "task_info", {"id": "17"}, args.reps), 2),
        (f"task_list limit=0 ({pending} rows)", *both("all", "task_list", {"filter": "", "limit": 0}, 5), 150),
        ("task_search 'billing cache'", *both("search", "task_search", {"query": "billing cache"}, 5), None),
        ("task_import 1,000 (median batch)", round(statistics.median(imports), 1),
         floor.median_ms("replay", {"key": "import"}, args.reps), 100),
    ]
    ours.close()
    floor.close()
    rows.append(("start to initialize answer", starts(ours_cmd, env, 5), starts(floor_cmd, env, 5), 500))

    print(f"backlog serve, {args.n} tasks, medians in ms (SDK floor: a minimal MCPServer answering the same result)")
    print(f"{'measure':40} {'ours':>9} {'SDK floor':>10} {'target':>8}")
    for name, ms, base, target in rows:
        print(f"{name:40} {ms:>9} {base:>10} {'' if target is None else '≤ ' + str(target):>8}")
    if args.mcp_bench:
        shared = subprocess.run([sys.executable, args.mcp_bench, "--name", "ours", "--n", str(args.n), "--",
                                 *ours_cmd], capture_output=True, text=True, env=env, check=True)
        print(shared.stdout.strip())


if __name__ == "__main__":
    main()
