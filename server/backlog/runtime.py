"""Building a `Backlog` from the environment: the one place entry points read settings.

Variables (SPEC §2): TASKDATA, TASKDATA_ROOT, XDG_DATA_HOME, CLAUDE_PROJECT_DIR,
BACKLOG_NAMESPACE, BACKLOG_AUTO_NAMESPACE, BACKLOG_AGENT_ID, BACKLOG_BACKEND (`files` or `s3`, with
BACKLOG_S3_BUCKET/REGION/ENDPOINT/PREFIX/SSE/KMS_KEY, see store/s3.py), TZ,
BACKLOG_COMPACT_EVERY (journal lines per compaction; tests force small values), BACKLOG_LEASE
(how long a lease lasts unrenewed) and
BACKLOG_NOW (a test seam: the fixed instant every reading of the clock returns).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from backlog.clock import clock_from_env
from backlog.core.dates import LazyZone, local_zone
from backlog.engine.backlog import Backlog
from backlog.engine.leases import DEFAULT_LEASE, parse_duration
from backlog.errors import BacklogError
from backlog.paths import data_dir, project_dir, s3_cache_dir, s3_prefix
from backlog.store.files import record_project
from backlog.store.store import COMPACT_EVERY, Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from backlog.store.backend import Backend


def open_backlog(env: Mapping[str, str], cwd: str, *, channel: str, payload_cwd: str | None = None,
                 agent: str | None = None, writer: str = "", session: str | None = None,
                 briefs: bool = True) -> Backlog:
    """The backlog of the project an entry point runs in; BacklogError names a bad variable.

    `writer` is the undo key of the entry point (default `<channel>:<agent>`); `session` the
    Claude session its leases belong to; `briefs` as in `Scope`.
    """
    backend = env.get("BACKLOG_BACKEND", "files") or "files"
    if backend not in ("files", "s3"):
        raise BacklogError("BACKLOG_BACKEND", f"'{backend}' is not available in this build",
                           "unset it or set it to 'files' or 's3'")
    compact = env.get("BACKLOG_COMPACT_EVERY", str(COMPACT_EVERY))
    if not compact.isdigit() or int(compact) < 1:
        raise BacklogError("BACKLOG_COMPACT_EVERY", f"'{compact}' is not a positive number", "unset it or use e.g. 1000")
    lease = parse_duration(env["BACKLOG_LEASE"]) if env.get("BACKLOG_LEASE") else DEFAULT_LEASE
    # A hook finds the zone when it first shows a local time: a writing hook shows none.
    clock, tz = clock_from_env(env), LazyZone(env) if channel.startswith("hook") else local_zone(env)
    project = project_dir(env, cwd, payload_cwd)
    if backend == "s3":
        store = open_s3(env, s3_prefix(env, project), light=channel.startswith("hook"), compact_every=int(compact))
        if not env.get("BACKLOG_NOW"):  # a team agrees on the bucket's time, not on any one machine's
            clock = server_clock(store.backend.server_now, clock)  # type: ignore[attr-defined]
    else:
        root = data_dir(env, project)
        store = Store.open(root, compact_every=int(compact))
        record_project(root, project)  # once the data dir exists: `backlog doctor` tells its strays by it
    return Backlog(store, tz=tz, clock=clock, agent=agent or env.get("BACKLOG_AGENT_ID") or "user",
                   channel=channel, writer=writer, session=session, lease=lease, briefs=briefs)


def server_clock(server_now: Callable[[], datetime | None], fallback: Callable[[], datetime]) -> Callable[[], datetime]:
    """The clock of an S3 store: the server's time as its answers tell it, `fallback` before the first."""
    return lambda: server_now() or fallback()


def s3_backend(env: Mapping[str, str], prefix: str | None, light: bool = False) -> Backend:
    """The backend of key `prefix` (paths.s3_prefix) in BACKLOG_S3_BUCKET, nothing read yet; `light`:
    through the standard-library client when the environment holds the keys (hooks: no boto3 import).

    BacklogError names a missing variable (or boto3).
    """
    from backlog.store.s3 import S3Backend
    from backlog.store.s3bucket import make_client, settings  # only S3 users pay for boto3
    from backlog.store.s3light import credentials

    conf = settings(env, prefix)
    region = conf["region"] or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    client = make_client(region, conf["endpoint"], credentials(env) if light else None)
    return S3Backend(client, conf["bucket"], conf["prefix"], sse=conf["sse"], kms_key=conf["kms_key"],
                     cache=s3_cache_dir(env, conf))


def open_s3(env: Mapping[str, str], prefix: str | None, light: bool = False, **options: int) -> Store:
    """The store of `s3_backend(env, prefix, light)`, loaded; StoreError says what the bucket refused."""
    store = Store(s3_backend(env, prefix, light), **options)
    store.load()
    return store
