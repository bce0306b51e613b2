"""The first session after an install, as Claude Code (`claude -p`) has it: time to tools, and their cost.

    python bench/first_session.py [RUNS]      (default 3)

Each run is a fresh HOME with the plugin loaded from this repository (`--plugin-dir`) and no
environment: a **cold** session (the launcher's stand-in answers from the shipped handshake copy
while the environment builds in the background), then, once the build is done, a **warm** session (the real
server). Both run with ENABLE_TOOL_SEARCH=false and without CLAUDE_CODE_MCP_STARTUP_WAIT_MS, as a
user has them. Reported per kind: seconds from starting `claude` to its first model request, and
whether that request carried all 27 tools (the moment the tools are available to the model).

Then the per-request cost of our tools and server instructions exactly as Claude Code sends them
(the request bodies the fake model API captured; tokens = chars/4), with ENABLE_TOOL_SEARCH=false
(full definitions in `tools`) and with default settings (tool search: deferred names only), and
the whole plugin's cost (skills, agents, hook context too): the request body against one of a
session without the plugin.

Builds use BACKLOG_CI_WHEELHOUSE (no index) when it names a wheelhouse (.ci/run builds one), else
the package index. Needs the npm tools in .tools (.ci/run) and ../shared/e2e/fake_anthropic.py.

Measured 2026-12-01, claude 2.1.330, shared 2-core machine at load ~5, 5 runs, wheelhouse builds:
  cold  first request after 3.93 s median (3.26-5.07), the 27 tools in it 5 of 5
  warm  first request after 6.24 s median (4.18-6.49), the 27 tools in it 0 of 5: the real
        server answered `initialize` 2.2-3.0 s after its start at load ~3.5, past the window.
        With the handshake answered before the SDK import (backlog.mcp.early), 3 runs at load
        ~2.5: cold 1.80 s (1.13-4.03), 3 of 3; warm 2.54 s (1.75-5.06), 3 of 3
  ENABLE_TOOL_SEARCH=false: tool definitions 16,005 chars + instructions 1,624 = ~4,407 tokens;
        no resource tools; the whole plugin against none ~5,309 tokens
  default (tool search): deferred names 1,063 chars + instructions 1,624 = ~671 tokens;
        the whole plugin against none ~1,573 tokens
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FAKE_API = REPO.parent / "shared" / "e2e" / "fake_anthropic.py"
CLAUDE = REPO / ".tools" / "node_modules" / ".bin" / "claude"
PREFIX = "mcp__plugin_backlog_tasks__"
HANDSHAKE = json.loads((REPO / "server" / "backlog" / "mcp" / "handshake.json").read_text())
NAMES = [PREFIX + tool["name"] for tool in HANDSHAKE["tools/list"]["tools"]]
INSTRUCTIONS = HANDSHAKE["initialize"]["instructions"]
BUILD_TIMEOUT_S = 900


class FakeApi:
    """The shared fake model API, in this process, noting when each request arrived."""

    def __init__(self, log: Path) -> None:
        spec = importlib.util.spec_from_file_location("fake_anthropic", FAKE_API)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        arrivals = self.arrivals = []

        class Timed(module.make_handler([], str(log))):
            def do_POST(self):  # noqa: N802 - the http.server name
                if "count_tokens" not in self.path:
                    arrivals.append(time.monotonic())
                super().do_POST()

        self.log = log
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Timed)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def requests(self) -> list[dict]:
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [r["body"] for r in map(json.loads, lines) if "count_tokens" not in r["path"]]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def local_wheelhouse() -> str:
    """BACKLOG_CI_WHEELHOUSE when it names a complete wheelhouse, else ''."""
    path = os.environ.get("BACKLOG_CI_WHEELHOUSE", "")
    return path if path and (Path(path) / ".complete").exists() else ""


def environment(base: Path, tool_search: bool) -> dict[str, str]:
    """A fresh user's machine under base; pip limited to the wheelhouse when there is one."""
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("CLAUDE", "ANTHROPIC_", "TASKDATA", "BACKLOG_", "ENABLE_TOOL_SEARCH"))}
    env = {**keep, "HOME": str(base / "home"), "CLAUDE_CONFIG_DIR": str(base / "home" / ".claude"),
           "TASKDATA_ROOT": str(base / "backlogs"), "ANTHROPIC_API_KEY": "sk-ant-test",
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1"}
    if not tool_search:
        env["ENABLE_TOOL_SEARCH"] = "false"
    if wheelhouse := local_wheelhouse():
        env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_FIND_LINKS=wheelhouse,
                   UV_NO_CONFIG="1", UV_NO_INDEX="1", UV_FIND_LINKS=wheelhouse)
    (base / "home" / ".claude").mkdir(parents=True, exist_ok=True)
    (base / "project").mkdir(exist_ok=True)
    return env


def session(base: Path, name: str, env: dict[str, str], plugin: bool = True) -> tuple[float, dict]:
    """One `claude -p go`: (seconds from start to its first model request, that request's body)."""
    api = FakeApi(base / f"{name}.jsonl")
    try:
        port = api.server.server_address[1]
        start = time.monotonic()
        subprocess.run([str(CLAUDE), "-p", "go", *(["--plugin-dir", str(REPO)] if plugin else [])],
                       env={**env, "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}"}, cwd=base / "project",
                       capture_output=True, timeout=300, check=True)
        return api.arrivals[0] - start, api.requests()[0]
    finally:
        api.close()


def has_tools(request: dict) -> bool:
    offered = {tool["name"] for tool in request.get("tools", [])}
    return set(NAMES) <= offered


def built(base: Path) -> bool:
    """The background build of the cold session is done (ready, or failed)."""
    data = base / "home" / ".claude" / "plugins" / "data" / "backlog-inline"
    return any(data.glob("venv-*/.ready")) or (data / "install.failed").exists()


def timings(runs: int) -> dict[str, list[tuple[float, bool]]]:
    found: dict[str, list[tuple[float, bool]]] = {"cold": [], "warm": []}
    for _ in range(runs):
        base = Path(tempfile.mkdtemp(prefix="first-session-"))
        try:
            env = environment(base, tool_search=False)
            seconds, request = session(base, "cold", env)
            found["cold"].append((seconds, has_tools(request)))
            deadline = time.monotonic() + BUILD_TIMEOUT_S
            while not built(base):
                if time.monotonic() > deadline:
                    raise SystemExit("the background build did not finish")
                time.sleep(0.5)
            time.sleep(1)  # the installer's last lines after the marker
            seconds, request = session(base, "warm", env)
            found["warm"].append((seconds, has_tools(request)))
        finally:
            shutil.rmtree(base, ignore_errors=True)
    return found


def text_of(request: dict) -> str:
    """The system prompt and messages as one string, the way a model reads them."""
    parts = []

    def walk(node: object) -> None:
        if isinstance(node, str):
            parts.append(node)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for key in ("content", "text"):
                if key in node:
                    walk(node[key])
    walk(request.get("system", []))
    walk(request.get("messages", []))
    return "\n".join(parts)


def costs(request: dict) -> dict[str, int]:
    """Chars of our tool definitions, deferred names and instructions in one request body."""
    ours = [tool for tool in request.get("tools", []) if tool["name"].startswith(PREFIX)]
    text = text_of(request)
    return {
        "tool definitions": sum(len(json.dumps(tool, separators=(",", ":"), ensure_ascii=False)) for tool in ours),
        "deferred names": 0 if ours else sum(len(name) + 1 for name in NAMES if re.search(rf"{re.escape(name)}\b", text)),
        "instructions": len(INSTRUCTIONS) if INSTRUCTIONS in text else -1,
        "resource tools": sum(len(json.dumps(tool, separators=(",", ":"))) for tool in request.get("tools", [])
                              if tool["name"] in ("ListMcpResourcesTool", "ReadMcpResourceTool")),
    }


def body_chars(request: dict) -> int:
    return len(json.dumps(request, separators=(",", ":"), ensure_ascii=False))


def token_table() -> list[tuple[str, dict[str, int], int]]:
    """Per setting: our parts of the first warm request, and the whole plugin's share of the body."""
    rows = []
    for label, tool_search in (("ENABLE_TOOL_SEARCH=false", False), ("default (tool search)", True)):
        base = Path(tempfile.mkdtemp(prefix="first-session-"))
        try:
            env = environment(base, tool_search)
            env["CLAUDE_CODE_MCP_STARTUP_WAIT_MS"] = "30000"  # the real server, connected
            subprocess.run([str(REPO / "hooks" / "launch"), "--prepare"], check=True, capture_output=True,
                           timeout=BUILD_TIMEOUT_S, env={**env, "CLAUDE_PLUGIN_ROOT": str(REPO), "CLAUDE_PLUGIN_DATA": str(
                               base / "home" / ".claude" / "plugins" / "data" / "backlog-inline")})
            _, with_plugin = session(base, "with", env)
            _, without = session(base, "without", env, plugin=False)
            rows.append((label, costs(with_plugin), body_chars(with_plugin) - body_chars(without)))
        finally:
            shutil.rmtree(base, ignore_errors=True)
    return rows


def main(runs: int) -> None:
    print(f"claude {subprocess.run([str(CLAUDE), '--version'], capture_output=True, text=True).stdout.strip()}, "
          f"load average {os.getloadavg()[0]:.1f}, {runs} runs, builds from "
          f"{'the wheelhouse' if local_wheelhouse() else 'the index'}")
    print("\nclaude start -> first model request (ENABLE_TOOL_SEARCH=false, no startup wait)")
    print(f"  {'start':6s} {'median s':>9s} {'min s':>7s} {'max s':>7s}  first request carried the 27 tools")
    for kind, found in timings(runs).items():
        seconds = [s for s, _ in found]
        print(f"  {kind:6s} {statistics.median(seconds):9.2f} {min(seconds):7.2f} {max(seconds):7.2f}  "
              f"{sum(ok for _, ok in found)} of {len(found)}")
    print("\nper-request cost as sent (chars, ~tokens = chars/4)")
    for label, parts, whole in token_table():
        ours = sum(v for k, v in parts.items() if v > 0)
        detail = ", ".join(f"{k} {v} (~{v // 4})" if v >= 0 else f"{k} MISSING" for k, v in parts.items())
        print(f"  {label}: tools + instructions {ours} chars (~{ours // 4} tokens): {detail}; "
              f"whole plugin vs none: {whole} chars (~{whole // 4} tokens)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
