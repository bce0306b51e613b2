"""Building a `Backlog` from the environment: the one place entry points read settings.

Variables (SPEC §2): TASKDATA, TASKDATA_ROOT, XDG_DATA_HOME, CLAUDE_PROJECT_DIR,
BACKLOG_NAMESPACE, BACKLOG_AUTO_NAMESPACE, BACKLOG_AGENT_ID, BACKLOG_BACKEND, TZ, and
BACKLOG_COMPACT_EVERY (journal lines per compaction; tests force small values).
"""

from __future__ import annotations

from datetime import datetime, timezone
from collections.abc import Mapping

from backlog.dates import local_zone
from backlog.engine import Backlog
from backlog.errors import BacklogError
from backlog.paths import resolve_data_dir
from backlog.store import COMPACT_EVERY, Store


def utc_now() -> datetime:
    """The clock of every entry point: now, in UTC, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def open_backlog(env: Mapping[str, str], cwd: str, *, channel: str, payload_cwd: str | None = None,
                 agent: str | None = None) -> Backlog:
    """The backlog of the project an entry point runs in; BacklogError names a bad variable."""
    backend = env.get("BACKLOG_BACKEND", "files") or "files"
    if backend != "files":
        raise BacklogError("BACKLOG_BACKEND", f"'{backend}' is not available in this build",
                           "unset it or set it to 'files'")
    compact = env.get("BACKLOG_COMPACT_EVERY", str(COMPACT_EVERY))
    if not compact.isdigit() or int(compact) < 1:
        raise BacklogError("BACKLOG_COMPACT_EVERY", f"'{compact}' is not a positive number", "unset it or use e.g. 1000")
    store = Store.open(resolve_data_dir(env, cwd, payload_cwd), compact_every=int(compact))
    return Backlog(store, tz=local_zone(env), clock=utc_now,
                   agent=agent or env.get("BACKLOG_AGENT_ID") or "user", channel=channel)
