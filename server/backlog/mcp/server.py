"""`backlog serve`: the MCP server on stdio.

`serve` starts opening the backlog on a background thread (`Opening`), then imports the
SDK (the slow part, ~0.5 s) and the tool definitions (`backlog.mcp.tools`), and runs until
stdin closes or SIGINT/SIGTERM arrives, answering every request received first
(`backlog.mcp.stdio`). The backlog stays open for the process's life; on a clean exit the
leases taken through the server are released.
"""

from __future__ import annotations

from backlog.mcp.opening import Opening


def serve(env: dict, cwd: str) -> None:
    """Run the MCP server on stdio for the backlog of `cwd` until the client disconnects."""
    opening = Opening(env, cwd)
    opening.heartbeat()
    import anyio

    from backlog.mcp.stdio import run_stdio
    from backlog.mcp.tools import build_server  # imports mcp while the store opens

    try:
        anyio.run(run_stdio, build_server(opening).lowlevel)
        opening.release()  # a clean exit lets go of its leases; after a crash they expire
    finally:
        opening.close()
