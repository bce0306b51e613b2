"""The server's one backlog, opened on a background thread while the SDK imports.

`Opening.use` serializes every engine call under one lock (the store is not safe for
concurrent use in one process) and re-raises an opening failure on every call, so a
misconfigured server still starts and answers each tool with that one line.

`heartbeat` renews the leases taken through this server every BACKLOG_LEASE/3 on a daemon
thread, so a lease lives exactly as long as its server (issue 12): a crash or kill ends the
renewals and the lease expires; the thread never keeps the process alive. A clean exit
(end-of-file, SIGINT/SIGTERM) releases them instead (`release`).

`keep` keeps the hooks' summary (hooks/summary.py) fresh: once the server has had no call for
`IDLE` seconds after the store moved (its commits, or others' picked up by a call), a forked
child builds it from the copy-on-write image of the in-memory store and indexes and saves it,
so the engine lock is held only for a refresh and the fork (~2 ms at 10k tasks, ~9 ms at
100k) and the build (~90 ms / ~0.8 s of CPU in the child) runs beside the server's GIL, not
under it. A clean exit builds it once more, in process, after releasing the leases (the exit
takes that much longer). Failures are silent (derived data). bench/bench_summary_keep.py
measures it.

`meet` names the server's writer in history after the MCP client (`claude-code#1a2b3c`: the
client's name and the first 6 characters of the session key) unless BACKLOG_AGENT_ID names it.
"""

from __future__ import annotations

import gc
import logging
import os
import secrets
import signal
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator, Mapping

from backlog.errors import StoreError
from backlog.hooks import summary

if TYPE_CHECKING:
    from backlog.engine.backlog import Backlog

log = logging.getLogger("backlog")
IDLE = 1.0  # seconds without a call after the store moved before the summary is refreshed
CHILD_LIMIT_S = 60  # the summary's child is killed after this long (it takes ~0.1 s at 10k tasks, ~1 s at 100k)


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
        self._moved = threading.Event()  # the store moved past the last summary kept (or not checked yet)
        self._kept: object = None  # the store position the summary was last kept at
        self._last = time.monotonic()  # when the last call ended
        self._keeper: threading.Thread | None = None
        self._thread = threading.Thread(target=self._open, name="backlog-open", daemon=True)
        self._thread.start()

    def _open(self) -> None:
        try:
            from backlog.engine.backlog import import_all
            from backlog.runtime import open_backlog  # here, so the engine's imports overlap the SDK's

            import_all()  # the use cases' areas too: the first call imports nothing
            self._backlog = open_backlog(self._env, self._cwd, channel="mcp", session=self.session,
                                         writer=f"mcp:{self.key}")
            self._backlog.store.all_tasks()  # every task decoded while the SDK loads: calls walk them
            self._kept = self._backlog.store.position()  # as opened: the hooks judge that summary themselves
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
            try:
                yield self._backlog
            finally:
                self._last = time.monotonic()
                if self._backlog.store.position() != self._kept:
                    self._moved.set()

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

    def keep(self) -> None:
        """Start keeping the hooks' summary fresh after the store moves (a daemon thread)."""
        self._keeper = threading.Thread(target=self._keep, name="backlog-summary", daemon=True)
        self._keeper.start()

    def _keep(self) -> None:
        self._thread.join()
        if self._backlog is not None and summary.beside(self._backlog.store) is None:
            return  # S3: no summary (a refresh there would cost a request)
        while self._moved.wait() and not self._stopped.is_set():
            quiet = IDLE - (time.monotonic() - self._last)
            if quiet > 0:
                self._stopped.wait(quiet)
            else:
                self._fork_summary()

    def _fork_summary(self) -> None:
        """Fork a child that saves the summary of the store as it stands, and wait for it."""
        with self._lock:
            if self._stopped.is_set() or time.monotonic() - self._last < IDLE or self._backlog is None:
                return
            self._moved.clear()
            store = self._backlog.store
            try:
                store.refresh()  # others' commits too (two stats when there are none)
            except Exception:  # noqa: BLE001 - the next call reports a damaged store
                return
            self._kept = store.position()
            now, tz = self._backlog.clock(), self._backlog.tz
            try:
                child = os.fork()
            except OSError:  # no memory or processes to spare: a second later it tries again
                self._moved.set()
                self._last = time.monotonic()
                return
            if child == 0:  # the child: one thread, a private copy of the store
                try:
                    gc.disable()  # nor finalize the parent's garbage; it lives a moment
                    signal.set_wakeup_fd(-1)  # a signal to it must not reach the server's loop
                    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
                        signal.signal(signum, signal.SIG_DFL)
                    signal.alarm(CHILD_LIMIT_S)  # a child stuck on a lock another thread held at the fork dies
                    os.closerange(0, 3)  # nor hold the client's pipes open
                    summary.keep(store, now, tz, summary.zone_key(self._env))
                finally:
                    os._exit(0)
        os.waitpid(child, 0)

    def release(self) -> None:
        """Let go of the leases taken through this server (a clean exit), then save the summary;
        a failure to release is logged."""
        self._stopped.set()
        self._moved.set()  # wakes the keeper to end
        self._thread.join()
        if self._backlog is None:  # never opened: nothing was leased through it
            return
        try:
            with self.use() as backlog:
                backlog.release_writer("its server exited")
        except Exception as err:  # noqa: BLE001 - the leases then expire as a crashed server's do
            log.warning("backlog: could not release this server's leases: %s", err)
        if self._keeper is not None:
            self._keeper.join()  # its child's summary first, so the one saved below is the last word
        with self._lock:
            if self._backlog.store.position() != self._kept:
                summary.keep(self._backlog.store, self._backlog.clock(), self._backlog.tz, summary.zone_key(self._env))

    def close(self) -> None:
        """Stop the heartbeat, wait for a call in progress, then release the store."""
        self._stopped.set()
        self._thread.join()
        with self._lock:
            if self._backlog is not None:
                self._backlog.store.close()
