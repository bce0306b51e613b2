"""How long Claude Code (`claude -p`) waits for a stdio MCP server before its first model request.

    python bench/startup_window.py [DELAY_MS ...]      (default 0 250 1000 2000 4000)

For each delay, a stub plugin's server (stdlib only, loaded with `--plugin-dir` as the backlog
plugin is) answers `initialize` that many milliseconds late and offers one tool, `window_probe`; the real `claude -p` runs against the fake model API
(`../shared/e2e/fake_anthropic.py`) and the bench reports whether the first model request carried
the tool. The largest delay that still makes it is the window a cold start must answer inside;
`hooks/cold_start.py` answers from a shipped copy in about one interpreter start.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FAKE_API = REPO.parent / "shared" / "e2e" / "fake_anthropic.py"
CLAUDE = REPO / ".tools" / "node_modules" / ".bin" / "claude"

STUB = r'''
import json, sys, time
delay = float(sys.argv[1]) / 1000
for line in sys.stdin:
    m = json.loads(line)
    if "id" not in m:
        continue
    if m.get("method") == "initialize":
        time.sleep(delay)
        result = {"protocolVersion": m["params"]["protocolVersion"], "capabilities": {"tools": {}},
                  "serverInfo": {"name": "stub", "version": "1"}}
    elif m.get("method") == "tools/list":
        result = {"tools": [{"name": "window_probe", "description": "probe",
                             "inputSchema": {"type": "object", "properties": {}}}]}
    elif m.get("method") == "ping":
        result = {}
    else:
        print(json.dumps({"jsonrpc": "2.0", "id": m["id"], "error": {"code": -32601, "message": "no"}}), flush=True)
        continue
    print(json.dumps({"jsonrpc": "2.0", "id": m["id"], "result": result}), flush=True)
'''


def first_request_has_the_tool(delay_ms: int, tmp: Path) -> tuple[bool, float]:
    """(the first model request listed the stub's tool, seconds from start to that request)."""
    stub = tmp / "stub.py"
    stub.write_text(STUB)
    plugin = tmp / "plugin"
    (plugin / ".claude-plugin").mkdir(parents=True)
    (plugin / ".claude-plugin" / "plugin.json").write_text(json.dumps({"name": "stub", "version": "1.0.0", "mcpServers": {
        "stub": {"command": sys.executable, "args": [str(stub), str(delay_ms)]}}}))
    script, log = tmp / "steps.json", tmp / "requests.jsonl"
    script.write_text("[]")
    home = tmp / "home"
    (home / ".claude").mkdir(parents=True, exist_ok=True)
    api = subprocess.Popen([sys.executable, str(FAKE_API), "--script", str(script), "--log", str(log)],
                           stdout=subprocess.PIPE, text=True)
    try:
        port = int(api.stdout.readline().split()[1])
        env = {**{k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE", "ANTHROPIC_"))},
               "HOME": str(home), "CLAUDE_CONFIG_DIR": str(home / ".claude"), "ANTHROPIC_API_KEY": "sk-ant-test",
               "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}", "ENABLE_TOOL_SEARCH": "false",
               "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1"}
        start = time.monotonic()
        subprocess.run([str(CLAUDE), "-p", "go", "--plugin-dir", str(plugin)], env=env, cwd=tmp,
                       capture_output=True, timeout=300)
        elapsed = time.monotonic() - start
    finally:
        api.terminate()
        api.wait(timeout=10)
    requests = [json.loads(line)["body"] for line in log.read_text().splitlines()
                if json.loads(line)["path"].startswith("/v1/messages") and "count_tokens" not in json.loads(line)["path"]]
    names = {tool["name"] for tool in requests[0].get("tools", [])} if requests else set()
    return "mcp__plugin_stub_stub__window_probe" in names, elapsed


def main(delays: list[int]) -> None:
    print(f"claude -p: does the first model request carry a server that answers initialize late? "
          f"(load average {os.getloadavg()[0]:.1f})")
    for delay in delays:
        with tempfile.TemporaryDirectory() as tmp:
            made, elapsed = first_request_has_the_tool(delay, Path(tmp))
        print(f"  initialize after {delay:5d} ms: {'tools in the first request' if made else 'MISSED':26s} "
              f"(session {elapsed:.1f} s)")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [0, 250, 1000, 2000, 4000])
