"""The real MCP server as a subprocess, driven by the SDK's client, behind a synchronous API.

`McpServer(env)` runs `python -m backlog serve` and connects with `mcp.Client` (legacy
`initialize` handshake by default, as Claude Code does). The client lives in one
coroutine on a private event-loop thread, so tests call it from plain functions and
several threads can call at once (the concurrency tests).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult, Implementation

from tests.conftest import NOW_ISO, REPO

CALL_TIMEOUT_S = 120
TOOLS = {  # SPEC §4: the original's 24 names plus task_claim, task_search and task_history
    "task_list", "task_count", "task_info", "task_projects", "task_tags", "task_add", "task_log",
    "task_modify", "task_duplicate", "task_done", "task_delete", "task_start", "task_stop",
    "task_annotate", "task_denotate", "task_undo", "task_purge", "task_import", "task_doc_write",
    "task_doc_read", "task_doc_delete", "task_archive", "task_archive_list", "task_archive_load",
    "task_claim", "task_search", "task_history",
}


def compact(obj: Any) -> str:
    """`obj` as compact JSON text (what the server's text content must be)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class McpServer:
    """One `backlog serve` process and a connected client."""

    def __init__(self, env: dict, mode: str = "legacy", client: str | None = None) -> None:
        """`client`: the clientInfo name sent in `initialize` (the SDK's default `mcp` when None)."""
        self.env, self.mode = env, mode
        self.client_info = Implementation(name=client, version="1") if client else None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.client: Client | None = None
        self._closing: asyncio.Event | None = None
        ready: asyncio.Future = self.loop.create_future()
        self._session = asyncio.run_coroutine_threadsafe(self._hold(ready), self.loop)
        asyncio.run_coroutine_threadsafe(self._wait(ready), self.loop).result(CALL_TIMEOUT_S)

    async def _wait(self, ready: asyncio.Future) -> None:
        await ready

    async def _hold(self, ready: asyncio.Future) -> None:
        params = StdioServerParameters(command=sys.executable, args=["-m", "backlog", "serve"],
                                       env=self.env, cwd=str(REPO))
        self._closing = asyncio.Event()
        try:
            async with Client(params, mode=self.mode, client_info=self.client_info) as client:
                self.client = client
                ready.set_result(None)
                await self._closing.wait()
        except BaseException as err:
            if not ready.done():
                ready.set_exception(err)
            raise

    def run(self, coro: Any) -> Any:
        """Run a coroutine using `self.client` on the client's loop and wait for it."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(CALL_TIMEOUT_S)

    def call(self, tool: str, arguments: dict | None = None) -> CallToolResult:
        assert self.client is not None
        return self.run(self.client.call_tool(tool, arguments or {}))

    def ok(self, tool: str, arguments: dict | None = None) -> dict:
        """The structuredContent of a successful call, after checking the text is the same object."""
        result = self.call(tool, arguments)
        texts = [block.text for block in result.content]
        assert not result.is_error, texts
        assert len(texts) == 1 and result.structured_content is not None
        assert json.loads(texts[0]) == result.structured_content
        assert texts[0] == compact(json.loads(texts[0])), "text content is not compact JSON"
        return result.structured_content

    def fail(self, tool: str, arguments: dict | None = None) -> str:
        """The one error line of a failed call."""
        result = self.call(tool, arguments)
        texts = [block.text for block in result.content]
        assert result.is_error, f"{tool} {arguments} succeeded: {texts}"
        assert result.structured_content is None
        assert len(texts) == 1 and "\n" not in texts[0], texts
        return texts[0]

    def list_tools(self) -> list:
        assert self.client is not None
        return self.run(self.client.list_tools()).tools

    def close(self) -> None:
        if self._closing is not None:
            self.loop.call_soon_threadsafe(self._closing.set)
        try:
            self._session.result(CALL_TIMEOUT_S)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(CALL_TIMEOUT_S)
            self.loop.close()

    def __enter__(self) -> McpServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def server_env(root: Path, **extra: str) -> dict:
    """The environment of conftest's `clean_env` (no leaked settings, HOME and data under `root`,
    TZ=UTC, BACKLOG_NOW=NOW) for servers that outlive one test, with TASKDATA=`root`/data plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TASKDATA", "BACKLOG_", "CLAUDE_")) and k not in ("XDG_DATA_HOME", "TZ")}
    env.update(HOME=str(root / "home"), PYTHONPATH=str(REPO), TZ="UTC", BACKLOG_NOW=NOW_ISO,
               TASKDATA=str(root / "data"))
    env.update(extra)
    return env
