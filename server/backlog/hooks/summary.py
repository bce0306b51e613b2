"""A derived summary beside the store, so that read-only hooks need not open it (issue 14).

`<data dir>/summary.json` is written by the MCP server once it is idle after its commits and at
its exit (`keep`, mcp/opening.py), and by a hook that opened the whole store; never fsynced:
it is no part of the store's format, and a missing, stale or damaged one is only a reason
to open the store and write it again. It holds what SessionStart prints (counts, active
tasks, the most urgent ready tasks with their local due days) and what SubagentStart,
SubagentStop and SessionEnd decide from (how many ready tasks nobody holds and the
ASSIGN_AHEAD that `claims.assign` would lease, in order, with their local due days; the
holders and sessions of all leases). Its first line is the CRC-32 of the JSON after it.

Fresh means (`fresh`):
- the store is where it was: the same snapshot file (inode, mtime, size: FileBackend's
  snapshot_token) and the same length of the same journal file as `Store.position()`;
- the same zone settings (TZ, else the machine's /etc/localtime: `zone_key`);
- `at <= now < until`. `until` is the first instant at which a pending task's due, wait
  or scheduled date or lease expiry is crossed (READY, OVERDUE, WAITING, CLAIMED and the
  "(overdue)" mark change only there), at most `HORIZON` after `at`, and no later than the
  order of the top ready tasks is proven to hold: urgency's age and due terms only grow, so
  with each task's urgency at `at` as a lower bound and at `until` as an upper bound
  (store/view.py `horizon_bounds`), each shown task stays above the next, and the last one
  above every other ready task, unless both are constant (then id breaks the tie, as the
  default sort does); and so do the tasks to assign, in order, above every other unclaimed task.
  When no such instant is found within `SETTLE[-1]`, `until` is `at`.
SubagentStart assigns the first of them without walking the store (`pick`) only once it
holds the write lock and has caught up, when the store is still at the summary's position
then; the k-th when the k commits since each leased one of the first k (and nothing else).
Leases do not depend on time: `untouched` also answers "does any lease name X" across the
commits made since, by looking for `"holder":"X"` (or `"session":…`) in the journal's tail.
Reading it imports neither the store, the engine nor orjson (hooks start fast).

On S3 (`remote`) a summary is this machine's: it lives in the bucket prefix's local cache
directory and cannot tell, without a request, whether another machine committed since. So
there only SessionStart answers from it, for at most `REMOTE_AGE` after it was made, and says
how old it is; the hooks that assign or release open the store.
"""

from __future__ import annotations

import os
import zlib
from datetime import timedelta
from collections.abc import Mapping

from backlog.core import cjson

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing: hooks start fast
if TYPE_CHECKING:
    from datetime import datetime, tzinfo

    from backlog.store.files import StrPath
    from backlog.store.store import Store

FILE = "summary.json"
VERSION = 4
HORIZON = timedelta(hours=1)  # a summary answers for at most this long after it was made
REMOTE_AGE = timedelta(seconds=60)  # on S3, a summary answers SessionStart for at most this long
SETTLE = (timedelta(minutes=10), timedelta(minutes=1), timedelta(seconds=10))  # shorter windows tried in turn
LOCALTIME = "/etc/localtime"
READY_SHOWN = 5
ASSIGN_AHEAD = 4  # tasks the summary names for SubagentStart, in order: subagents often start together
ACTIVE_SHOWN = 5
COUNTS = (("pending", "status:pending"), ("ready", "+READY"), ("active", "+ACTIVE"),
          ("overdue", "+OVERDUE"), ("blocked", "+BLOCKED"), ("waiting", "+WAITING"))
READY = "+READY -ACTIVE"  # what SessionStart offers as next
UNCLAIMED = "+READY -CLAIMED"  # what SubagentStart can assign
MOVING = ("due", "wait", "scheduled")  # the dates of a pending task whose crossing changes a tag
KEYS = {"zone", "at", "until", "remote", "snapshot", "journal", "counts", "active", "ready", "unclaimed", "assign", "holders", "sessions"}
SHOWN = ("id", "description", "priority", "due", "project", "has_doc", "agent")  # what the brief prints


def zone_key(env: Mapping[str, str]) -> str:
    """What the local zone is made of (core/dates.py local_zone): TZ, else /etc/localtime's target or file."""
    if "TZ" in env:
        return "TZ=" + env["TZ"]
    try:
        return "link:" + os.readlink(LOCALTIME)
    except OSError:
        pass
    try:
        st = os.stat(LOCALTIME)
        return f"file:{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"
    except OSError:
        return "libc"


def local_day(due: str, tz: tzinfo) -> str:
    """The local `YYYY-MM-DD` of a stored date."""
    from backlog.core.model import parse_utc

    return f"{parse_utc(due).astimezone(tz):%Y-%m-%d}"


def build(store: Store, now: datetime, tz: tzinfo, zone: str) -> dict:
    """The summary of the loaded `store` at `now` in `tz` (whose `zone_key` is `zone`)."""
    from backlog.core.model import format_utc
    from backlog.engine.queries import list_tasks
    from backlog.engine.scope import Scope

    scope = Scope(store, tz=tz, clock=lambda: now, channel="hook:summary")
    ctx = scope.context(now)
    holders, sessions, until, now_s = set(), set(), format_utc(now + HORIZON), ctx.now_s
    for task in store.tasks.values():
        lease = task.get("lease")
        if lease:
            holders.add(lease.get("holder"))
            sessions.add(lease.get("session"))
        if task["status"] != "pending":
            continue
        for name in MOVING:
            value = task.get(name)
            if value is not None and now_s <= value < until:
                until = value
        if lease and now_s <= lease.get("expires", "") < until:
            until = lease["expires"]
    highs: dict[datetime, dict[int, float]] = {}  # urgency bounds, shared: the two lists hold mostly the same tasks
    top, until = _settled(scope.select(READY, ctx), ctx, until, READY_SHOWN, highs)
    unclaimed = scope.select(UNCLAIMED, ctx)
    chosen, until = _settled(unclaimed, ctx, until, ASSIGN_AHEAD, highs)  # (no later than the list's own `until`)
    active = list_tasks(scope, "+ACTIVE", sort="start+", limit=ACTIVE_SHOWN)
    return {
        "version": VERSION, "zone": zone, "at": ctx.now_s, "until": until,
        "remote": bool(getattr(store.backend, "remote", False)), **_position(store),
        "counts": {name: len(scope.select(query, ctx)) for name, query in COUNTS},
        "active": {"tasks": [{k: t[k] for k in ("id", "description", "agent") if k in t} for t in active["tasks"]],
                   "total": active["total"]},
        "ready": [{**{k: t[k] for k in SHOWN if k in t}, **({"due_day": local_day(t["due"], tz)} if "due" in t else {})}
                  for t in top],
        "unclaimed": len(unclaimed),
        "assign": [{"uuid": t["uuid"], "id": t["id"], **({"due": t["due"], "due_day": local_day(t["due"], tz)} if "due" in t else {})}
                   for t in chosen],
        "holders": sorted(h for h in holders if isinstance(h, str)),
        "sessions": sorted(s for s in sessions if isinstance(s, str)),
    }


def _position(store: Store) -> dict:
    """Where `store` stands (`Store.position()` and its seq), as a summary's members."""
    token, gen, offset = store.position()
    return {"snapshot": {"token": list(token) if isinstance(token, tuple) else token},  # S3's is a number
            "journal": {"name": store.backend.journal_name(gen), "size": offset, "seq": store.seq}}


def pick(summary: dict, store: Store, now: datetime) -> str | None:
    """The uuid of the task `claims.assign` leases from `store` at `now`, as `summary` names it,
    or None (then the caller computes it): while `at <= now < until`, and the store (caught up,
    under the write lock) is at the summary's position, or past it only by k commits that each
    leased the next of its picks, still live (subagents started together): then pick k.
    The caller has checked that the summary is of this zone and not remote (`fresh`)."""
    from backlog.core.model import format_utc

    now_s, picks = format_utc(now), [named["uuid"] for named in summary["assign"]]
    here = _position(store)
    if (not summary["at"] <= now_s < summary["until"] or here["snapshot"] != summary["snapshot"]
            or here["journal"]["name"] != summary["journal"]["name"]):
        return None
    since = store.records_after(summary["journal"]["seq"])
    if len(since) < len(picks) and all(_leased(rec, uuid, now_s) for rec, uuid in zip(since, picks)):
        return picks[len(since)]
    return None


def _leased(record: dict, uuid: str, now_s: str) -> bool:
    """True when journal `record` did nothing but lease task `uuid` (assigned, live at `now_s`)."""
    if len(record["ops"]) != 1 or record["ops"][0]["k"] != f"t:{uuid}":
        return False
    old, new = record["ops"][0].get("o"), record["ops"][0].get("n")
    if not isinstance(old, dict) or not isinstance(new, dict):
        return False
    rest = lambda task: {k: v for k, v in task.items() if k not in ("lease", "modified")}  # noqa: E731
    lease = new.get("lease") or {}
    return rest(old) == rest(new) and lease.get("kind") == "assigned" and lease.get("expires", "") > now_s


def _settled(ready: list[dict], ctx, until: str, shown: int,
             highs: dict[datetime, dict[int, float]]) -> tuple[list[dict], str]:
    """(the `shown` most urgent of `ready` at ctx.now, the latest instant ≤ `until` before which
    that list and its order cannot change; ctx.now_s when none was found). `highs` keeps each
    task object's urgency bound by instant, for the next call."""
    from backlog.core.model import format_utc, parse_utc
    from backlog.core.sort import parse_sort, sort_tasks
    from backlog.core.urgency import BOUND_MARGIN, COEFFICIENTS
    from backlog.store.view import horizon_bounds

    if len(ready) <= 1:
        return ready, until
    blocking, term = ctx.blocking_uuids, COEFFICIENTS["blocking"]

    def highest(tasks: list[dict], end: datetime) -> list[float]:
        known = highs.setdefault(end, {})
        missing = [t for t in tasks if id(t) not in known]
        known.update((id(t), bound + term * (t["uuid"] in blocking))
                     for bound, t in zip(horizon_bounds(missing, ctx.tasks, end, ctx.tz), missing))
        return [known[id(t)] for t in tasks]

    ends = [parse_utc(until)] + [ctx.now + span for span in SETTLE if ctx.now + span < parse_utc(until)]
    bounds = highest(ready, ends[0])  # also bounds each urgency now: tighter than the view's for the sort
    top = sort_tasks(ready, parse_sort(None), ctx, shown, bounds)  # as task_list and claims.assign pick them
    # Only a task that can reach the last shown one's urgency by `until` can ever change the list.
    floor = ctx.urgencies(top)[-1]
    rivals = [t for t, high in zip(ready, bounds) if high >= floor]
    ranked = sorted(zip(ctx.urgencies(rivals), rivals), key=lambda pair: (-pair[0], pair[1]["id"]))
    tasks, last = [t for _, t in ranked], len(top) - 1  # (top is shorter than `shown` when `ready` is)
    pairs = [(i, i + 1) for i in range(last)] + [(last, j) for j in range(last + 1, len(ranked))]
    for end in ends:
        high = highest(tasks, end)
        steady = [h - low <= 2 * BOUND_MARGIN for h, (low, _) in zip(high, ranked)]  # constant all along
        if all(ranked[a][0] > high[b] or (steady[a] and steady[b]) for a, b in pairs):
            return top, format_utc(end)
    return top, ctx.now_s


def beside(store: Store) -> StrPath | None:
    """Where a summary of `store` is kept: its data dir, or on S3 this machine's cache of the
    prefix (None without one)."""
    from backlog.store.files import FileBackend

    if isinstance(store.backend, FileBackend):
        return store.backend.root
    return getattr(getattr(store.backend, "cache", None), "root", None)


def keep(store: Store, now: datetime, tz: tzinfo, zone: str) -> None:
    """Save the summary of the loaded `store` beside it, as a process that commits does (the MCP
    server: mcp/opening.py); a failure is silent (derived data: the next reader that finds it
    stale rebuilds it)."""
    root = beside(store)
    if root is not None:
        try:
            save(root, build(store, now, tz, zone))
        except Exception:  # noqa: BLE001, S110 - derived data, never a reason to fail the process
            pass


def save(root: StrPath, summary: dict) -> None:
    """Replace `<root>/summary.json` (atomically, not durably); an unwritable one is left as it is."""
    body = cjson.dumps(summary).encode()
    # Not a name files.is_temp matches: a writer sweeping crashed writers' temp files under its
    # lock must not race this rename (this process holds no lock).
    tmp = os.path.join(root, f"summary.{os.getpid()}.part")
    try:
        with open(tmp, "wb") as f:
            f.write(b"%08x\n%s" % (zlib.crc32(body), body))
        os.replace(tmp, os.path.join(root, FILE))
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def read(root: StrPath) -> dict | None:
    """The summary saved in `root`; None when there is none or it is damaged or of another version."""
    try:
        with open(os.path.join(root, FILE), "rb") as f:
            data = f.read()
        body = data[9:]
        if data[8:9] != b"\n" or data[:8] != b"%08x" % zlib.crc32(body):
            return None
        summary = cjson.loads(body)
    except (OSError, ValueError):
        return None
    return summary if isinstance(summary, dict) and summary.get("version") == VERSION and KEYS <= summary.keys() else None


def snapshot_token(root: StrPath, name: str = "tasks.json") -> list[int] | None:
    """FileBackend.snapshot_token (store/files.py) without importing the store: [inode, mtime, size]."""
    try:
        st = os.stat(os.path.join(root, name))
    except FileNotFoundError:
        return None
    return [st.st_ino, st.st_mtime_ns, st.st_size]


def _journal_size(root: StrPath, summary: dict) -> int:
    try:
        return os.stat(os.path.join(root, summary["journal"]["name"])).st_size
    except FileNotFoundError:
        return 0


def fresh(summary: dict, root: StrPath, now: datetime, zone: str, grown: bool = False) -> bool:
    """True when `summary` still tells the truth about the store in `root` at `now` for zone key `zone`;
    with `grown`, also when commits were appended to its journal since (SubagentStart: `pick`
    checks them under the lock)."""
    try:
        from backlog.core.model import format_utc, parse_utc

        if summary["zone"] != zone or not summary["at"] <= format_utc(now) < summary["until"]:
            return False
        if summary["remote"]:
            return format_utc(now) < format_utc(parse_utc(summary["at"]) + REMOTE_AGE)
        size = _journal_size(root, summary)
        return snapshot_token(root) == summary["snapshot"]["token"] and (
            size == summary["journal"]["size"] or grown and size > summary["journal"]["size"])
    except (KeyError, TypeError, ValueError, OSError):
        return False


def untouched(summary: dict, root: StrPath, field: str, value: str) -> bool:
    """True when no commit since `summary` was made can hold `"field":"value"` (a lease's holder
    or session): the same snapshot, and the journal's tail after the summary's position does
    not contain those bytes (as a writer seals them: sealed.plain_dumps or orjson, byte for byte
    the same; or with non-ASCII escaped)."""
    try:
        offset = summary["journal"]["size"]
        if snapshot_token(root) != summary["snapshot"]["token"] or _journal_size(root, summary) < offset:
            return False
        with open(os.path.join(root, summary["journal"]["name"]), "rb") as f:
            f.seek(offset)
            tail = f.read()
        needles = {f'"{field}":{cjson.dumps(value, ascii=True)}'.encode(), f'"{field}":{cjson.dumps(value)}'.encode()}
        return not any(needle in tail for needle in needles)
    except (KeyError, TypeError, ValueError, OSError):
        return False
