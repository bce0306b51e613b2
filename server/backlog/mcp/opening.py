"""The server's one backlog, opened on a background thread while the SDK imports.

`Opening.use` serializes every engine call under one lock (the store is not safe for
concurrent use in one process) and re-raises an opening failure on every call, so a
misconfigured server still starts and answers each tool with that one line.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator, Mapping

from backlog.errors import StoreError

if TYPE_CHECKING:
    from backlog.engine.backlog import Backlog


class Opening:
    """The server's one backlog, opened on a background thread while the SDK imports."""

    def __init__(self, env: Mapping[str, str], cwd: str) -> None:
        self._env, self._cwd = env, cwd
        self._backlog: Backlog | None = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._open, name="backlog-open", daemon=True)
        self._thread.start()

    def _open(self) -> None:
        try:
            from backlog.runtime import open_backlog  # here, so the engine's imports overlap the SDK's

            self._backlog, self._error = open_backlog(self._env, self._cwd, channel="mcp"), None
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
            yield self._backlog

    def close(self) -> None:
        """Wait for a call in progress, then release the store."""
        self._thread.join()
        with self._lock:
            if self._backlog is not None:
                self._backlog.store.close()
