"""The server's handshake answers, as shipped (`backlog/mcp/handshake.json`).

`backlog serve` answers `initialize`, `tools/list` and Claude Code's `server/discover` probe
from this copy before the SDK is imported (`backlog.mcp.early`), and on a cold start, while the
plugin's environment does not exist yet, `hooks/cold_start.py` does. The copy is taken from a
live server over stdio with that early path off, so it is the SDK's own answer byte for byte:

    python -m backlog.mcp.handshake > server/backlog/mcp/handshake.json   # regenerate
    python -m backlog.mcp.handshake --check                               # exit 1 when it is stale
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from backlog.mcp.early import SHIPPED

CLIENT = {"name": "backlog-handshake-dump", "version": "1"}
MODERN_META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientInfo": CLIENT}


def live_answers(version: str) -> tuple[dict, dict, dict]:
    """A fresh `backlog serve` asked for `version`: its `initialize` and `tools/list` results, and
    its error for Claude Code's `server/discover` probe (the stateless protocol it does not speak)."""
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": CLIENT}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "server/discover", "params": {"_meta": MODERN_META}},
    ]
    with tempfile.TemporaryDirectory() as store:
        env = {**os.environ, "TASKDATA": store, "BACKLOG_EARLY_HANDSHAKE": "off"}
        done = subprocess.run([sys.executable, "-m", "backlog", "serve"], env=env, capture_output=True,
                              input=b"".join(json.dumps(m).encode() + b"\n" for m in messages), timeout=120)
    answers = {m["id"]: m for m in map(json.loads, done.stdout.splitlines())}
    if sorted(answers) != [1, 2, 3] or "result" not in answers[1] or "result" not in answers[2]:
        raise RuntimeError(f"backlog serve did not answer the handshake: {done.stderr.decode()[-500:]}")
    return answers[1]["result"], answers[2]["result"], answers[3]["error"]


def dump() -> str:
    """The shipped file's text: the handshake versions, and both answers at the newest one."""
    from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

    latest = HANDSHAKE_PROTOCOL_VERSIONS[-1]
    initialize, tools, discover = live_answers(latest)
    shipped = {"versions": list(HANDSHAKE_PROTOCOL_VERSIONS), "initialize": initialize, "tools/list": tools,
               "server/discover": discover}
    return json.dumps(shipped, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = dump()
    if argv == ["--check"]:
        if SHIPPED.read_text(encoding="utf-8") == text:
            return 0
        print(f"{SHIPPED} is stale; regenerate it with: python -m backlog.mcp.handshake > {SHIPPED}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(text.encode())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
