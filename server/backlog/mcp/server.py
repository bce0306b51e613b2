"""`backlog serve`: the MCP server on stdio.

`serve` starts reading stdin at once and answers the handshake from the shipped copy
(`backlog.mcp.early`; `BACKLOG_EARLY_HANDSHAKE=off` leaves it to the SDK, as the copy's
generator needs), starts opening the backlog on a background thread (`Opening`), then imports
the SDK (the slow part: ~0.5 s idle, ~3 s on a loaded machine) and the tool definitions
(`backlog.mcp.tools`), and runs until stdin closes or SIGINT/SIGTERM arrives, answering every
request received first (`backlog.mcp.stdio`; tool results are encoded once, by orjson:
`backlog.mcp.wire`). The backlog stays open for the process's life; the hooks' summary is
kept fresh when idle; on a clean exit the leases taken through the server are released.
"""

from __future__ import annotations

from backlog.mcp.early import EarlyStdin, load_shipped
from backlog.mcp.opening import Opening


def serve(env: dict, cwd: str) -> None:
    """Run the MCP server on stdio for the backlog of `cwd` until the client disconnects."""
    early = EarlyStdin(None if env.get("BACKLOG_EARLY_HANDSHAKE") == "off" else load_shipped()).start()
    unmap_big_buffers()
    opening = Opening(env, cwd)
    opening.heartbeat()
    opening.keep()
    import anyio

    from backlog.mcp.stdio import run_stdio
    from backlog.mcp.tools import build_server  # imports mcp while the store opens
    from backlog.mcp.wire import Wire

    wire = Wire()
    try:
        anyio.run(run_stdio, build_server(opening, wire).lowlevel, early, wire)
        opening.release()  # a clean exit lets go of its leases; after a crash they expire
    finally:
        opening.close()


def unmap_big_buffers() -> None:
    """Buffers of 1 MiB and more (a big answer's JSON) mapped apart and handed back when freed
    (glibc's M_MMAP_THRESHOLD fixed). By default glibc raises that threshold to the size of each
    big buffer freed, so the next answers' buffers come from the heap and stay in the process's
    RSS: 100k tasks with `limit=0` lists peaked at 311 MB, 294 MB with it. No glibc: nothing."""
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD = -3
    except (OSError, AttributeError):
        pass
