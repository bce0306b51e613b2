"""The server's one backlog, opened on a background thread while the SDK imports.

`Opening.use` serializes every engine call under one lock (the store is not safe for
concurrent use in one process) and re-raises an opening failure on every call, so a
misconfigured server still starts and answers each tool with that one line.

`heartbeat` renews the leases taken through this server every BACKLOG_LEASE/3 on a daemon
thread, so a lease lives exactly as long as its server (issue 12): a crash or kill ends the
renewals and the lease expires; the thread never keeps the process alive. A clean exit
(end-of-file, SIGINT/SIGTERM) releases them instead (`release`).

`meet` names the server's writer in history after the MCP client (`claude-code#1a2b3c`: the
client's name and the first 6 characters of the session key) unless BACKLOG_AGENT_ID names it.
"""

from __future__ import annotations

import logging
import secrets
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator, Mapping

from backlog.errors import StoreError

if TYPE_CHECKING:
    from backlog.engine.backlog import Backlog

log = logging.getLogger("backlog")


class Opening:
    """The server's one backlog, opened on a background thread while the SDK imports."""

    def __init__(self, env: Mapping[str, str], cwd: str) -> None:
        self._env, self._cwd = env, cwd
        self.session = env.get("CLAUDE_CODE_SESSION_ID") or None
        self.key = self.session or secrets.token_hex(6)  # undo key: Claude's session, else one per process
        self._agent: str | None = None
        self._backlog: Backlog | None = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._open, name="backlog-open", daemon=True)
        self._thread.start()

    def _open(self) -> None:
        try:
            from backlog.runtime import open_backlog  # here, so the engine's imports overlap the SDK's

            self._backlog = open_backlog(self._env, self._cwd, channel="mcp", session=self.session,
                                         writer=f"mcp:{self.key}")
            self._error = None
        except Exception as err:  # kept and reported by every call
            self._error = err

    @contextmanager
    def use(self) -> Iterator[Backlog]:
        """The backlog, held under the engine lock; raises the opening failure instead.

        A store that failed to open (damaged file, I/O error) is opened again on the next
        call, so `backlog doctor --repair` needs no restart; bad settings need one.
        """
        self._thread.join()
        with self._lock:
            if self._backlog is None and isinstance(self._error, (StoreError, OSError)):
                self._open()
            if self._backlog is None:
                raise (self._error or RuntimeError("the backlog did not open")).with_traceback(None)
            if self._agent:
                self._backlog.agent = self._agent
            yield self._backlog

    def meet(self, client: str | None) -> None:
        """Write as `<client>#<key[:6]>` from now on, for the MCP client named in `initialize`,
        unless BACKLOG_AGENT_ID is set (a tool call's own `agent` still wins)."""
        if client and client.strip() and not self._env.get("BACKLOG_AGENT_ID"):
            self._agent = f"{client.strip()}#{self.key[:6]}"

    def heartbeat(self) -> None:
        """Start renewing this server's leases every lease/3 until `close` (a daemon thread)."""
        threading.Thread(target=self._beat, name="backlog-heartbeat", daemon=True).start()

    def _beat(self) -> None:
        self._thread.join()
        interval = self._backlog.lease.total_seconds() / 3 if self._backlog is not None else 60.0
        while not self._stopped.wait(interval):
            try:
                with self.use() as backlog:
                    backlog.renew_leases()
            except Exception:  # noqa: BLE001, S110 - a failed beat is retried next time; calls report the error
                pass

    def release(self) -> None:
        """Let go of the leases taken through this server (a clean exit); a failure is logged."""
        self._stopped.set()
        self._thread.join()
        if self._backlog is None:  # never opened: nothing was leased through it
            return
        try:
            with self.use() as backlog:
                backlog.release_writer("its server exited")
        except Exception as err:  # noqa: BLE001 - the leases then expire as a crashed server's do
            log.warning("backlog: could not release this server's leases: %s", err)

    def close(self) -> None:
        """Stop the heartbeat, wait for a call in progress, then release the store."""
        self._stopped.set()
        self._thread.join()
        with self._lock:
            if self._backlog is not None:
                self._backlog.store.close()
