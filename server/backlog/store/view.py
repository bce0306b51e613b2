"""The store's view of the hot tasks for one call: what filters, urgency and sort read.

A `Context` carries everything a filter, urgency or sort needs beyond one task, for one
call: all tasks of the hot store, one `now` and the time zone. Its indexes (id → task, the
uuids that block, period windows, `now` as a stored-date string …) are computed on first
use and cached on the instance, so building one is O(1). Given the store's `Index`, the
dependency questions and a filter's index plan (`planned`) are answered from it instead of
scanning every task; `examined` counts the tasks a filter's predicate ran on.
"""

from __future__ import annotations

import heapq
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import cached_property
from collections.abc import Callable, Container, Iterable, Mapping, Sequence

from backlog.core.dates import period_bounds
from backlog.core.model import format_utc, uda_kinds
from backlog.core.urgency import BOUND_MARGIN, COEFFICIENTS, own_bounds, urgencies
from backlog.core.virtual import DUE_DAYS, TAG_TESTS
from backlog.store.taskmap import TaskMap

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing: hooks start fast
if TYPE_CHECKING:
    from backlog.store.index import Index
    from backlog.store.scores import Scores

PLANNED_SHARE = 8  # a plan is used when it leaves at most 1/8 of the tasks to examine
BOUND_HORIZON = timedelta(hours=1)  # cached urgency bounds hold until now + this (then recomputed)
ROW_SETS = 4  # the store caches rows for at most this many sets of fields
ROWS_KEPT = 20_000  # and at most this many rows per set (75k rows would hold ~30 MB)
LOOKUPS = 16  # without an index, a filter naming at most this many ids looks each up (TaskMap; well
#              below its SEARCHES, after which it decodes every line anyway)


class Context:
    """All tasks of the hot store (uuid → task), one `now` and the zone, for one call.

    `archived` gives archived uuid → short id; it is called at most once, and only when
    something asks for a task outside the hot store (`archived_ids`). `index` gives the
    store's Index over the same `tasks`, called at most once, on first need.
    """

    def __init__(self, tasks: Mapping[str, dict], now: datetime, tz: tzinfo,
                 archived: Callable[[], Mapping[str, int]] | None = None,
                 index: Callable[[], Index] | None = None) -> None:
        self.tasks, self.now, self.tz, self._archived, self._index = tasks, now, tz, archived, index
        self.examined = 0

    @cached_property
    def index(self) -> Index | None:
        """The store's Index over these very `tasks`, or None (none given, or the store has
        reloaded since this view was made): then questions scan."""
        index = self._index() if self._index is not None else None
        if type(self.tasks) is TaskMap and self.tasks.decoded:  # decoded by building the index
            self.tasks = self.tasks.full()
        return index if index is not None and index.tasks is self.tasks else None

    # --- per-call constants -------------------------------------------------------------
    @cached_property
    def now_s(self) -> str:
        """`now` as a stored date string."""
        return format_utc(self.now)

    @cached_property
    def due_hi(self) -> str:
        """The end of the DUE window: local midnight today + 7 × 86,400 s (Taskwarrior's rc.due).

        Plain seconds, as Taskwarrior adds them: an hour off local midnight when a DST
        change falls in the week.
        """
        lo, _ = period_bounds("day", self.now, self.tz)
        return format_utc(lo.astimezone(timezone.utc) + timedelta(seconds=DUE_DAYS * 86400))

    @cached_property
    def windows(self) -> Mapping[str, tuple[str, str]]:
        """Half-open `[lo, hi)` stored-date bounds of today, tomorrow, … this year (local)."""
        lo, hi = period_bounds("day", self.now, self.tz)
        out = {"today": (lo, hi), "tomorrow": period_bounds("day", hi, self.tz)}
        out["yesterday"] = period_bounds("day", lo - timedelta(seconds=1), self.tz)
        for unit in ("week", "month", "quarter", "year"):
            out[unit] = period_bounds(unit, self.now, self.tz)
        return {name: (format_utc(a), format_utc(b)) for name, (a, b) in out.items()}

    # --- lazy indexes over all tasks -----------------------------------------------------
    @cached_property
    def by_id(self) -> Mapping[int, dict]:
        """Short id → task."""
        return {t["id"]: t for t in self.tasks.values() if "id" in t}

    @cached_property
    def archived_ids(self) -> Mapping[str, int]:
        """Archived uuid → short id (empty when the caller gave no archive)."""
        return self._archived() if self._archived is not None else {}

    @cached_property
    def max_id(self) -> int:
        """The highest short id (0 for an empty store)."""
        return max((t.get("id", 0) for t in self.tasks.values()), default=0)

    @cached_property
    def udas(self) -> Mapping[str, str]:
        """UDA name → `number` or `text` (model.uda_kinds) over all tasks, computed on first use."""
        return uda_kinds(self.tasks.values())

    @cached_property
    def blocking_uuids(self) -> Container[str]:
        """Uuids some pending task depends on."""
        if self.index is not None:
            return self.index.blocking
        if type(self.tasks) is TaskMap and not self.tasks.decoded:
            return _Blocking(self.tasks)
        return _blocking(self.tasks.values())

    @cached_property
    def _scores(self) -> dict[int, float]:
        """id(task object) → its urgency now, filled by `urgencies` (the objects are kept in `_scored`)."""
        return {}

    @cached_property
    def _scored(self) -> list[dict]:
        """Every task object scored in this view: alive, so no other object takes its id."""
        return []

    def urgencies(self, tasks: Sequence[dict]) -> list[float]:
        """Each task's urgency now, in order; each task object is scored once per view (sorting
        and rendering one list ask twice) and, with an index, once while its score holds
        (`backlog.store.scores`). A task changed since is a new object: scored again."""
        scores = self._scores
        missing = [t for t in tasks if id(t) not in scores]
        if missing:
            self._scored.extend(missing)
            ids, kept = list(map(id, missing)), self._kept
            if kept is None:
                scores.update(zip(ids, urgencies(missing, self)))
            else:
                found = list(map(kept.by_id.get, ids))
                if None in found:
                    stale = [t for t, score in zip(missing, found) if score is None]
                    fresh = urgencies(stale, self)
                    kept.keep(stale, fresh, self)
                    computed = iter(fresh)
                    found = [next(computed) if score is None else score for score in found]
                scores.update(zip(ids, found))
        return list(map(scores.__getitem__, map(id, tasks)))

    @cached_property
    def _kept(self) -> Scores | None:
        """The store's urgencies kept across calls, brought to `now`; None without an index."""
        index = self.index
        if index is None:
            return None
        if index.scores is None:  # kept from the next view on: a process that lists once pays nothing
            from backlog.store.scores import Scores  # only processes that score lists pay its import

            index.scores = Scores()
            return None
        index.scores.at(self.epoch(self.now_s))
        return index.scores

    def urgency_bounds(self, tasks: Sequence[dict]) -> list[float]:
        """An upper bound of each task's urgency now, in order: its own part plus blocking.

        Without an index the own part is `urgency.own_bounds` (the task alone, any time). With
        one it is the task's urgency at the index's horizon (`horizon_bounds`), cached per task
        until the task changes or `now` passes the horizon: far tighter, so a top-n list scores
        few tasks exactly.
        """
        blocking, term = self.blocking_uuids, COEFFICIENTS["blocking"]
        index = self.index
        if index is None:
            return own_bounds(tasks, blocking)
        if index.horizon is None or self.now > index.horizon:
            index.bounds.clear()
            index.horizon = self.now + BOUND_HORIZON
        cache = index.bounds
        missing = [t for t in tasks if t["uuid"] not in cache]
        if missing:
            cache.update(zip([t["uuid"] for t in missing], horizon_bounds(missing, self.tasks, index.horizon, self.tz)))
        return [cache[t["uuid"]] + term if t["uuid"] in blocking else cache[t["uuid"]] for t in tasks]

    def ready_top(self, limit: int) -> tuple[list[dict], int] | None:
        """For `+READY` sorted by urgency, highest first: the READY tasks that may reach the first
        `limit` places (every one that can, in the store's order) and how many tasks are READY.

        None without an index, and the first time (a process that lists `+READY` once does not
        pay for the ranking). Walks the index's ranking by urgency bound and stops once the
        next bound is below the `limit`-th highest exact urgency seen (`ready.Ready`).
        """
        index = self.index
        if index is None:
            return None
        if index.ready is None:
            from backlog.store.ready import Ready  # only processes that list +READY pay its import

            index.ready = Ready()
            return None
        ready = index.ready
        ready.settle(self)
        now_s, gates, tasks, ranked = self.now_s, ready.gates, self.tasks, ready.ranked
        best: list[float] = []  # the `limit` highest exact urgencies so far (a min-heap)
        picked: list[dict] = []
        start, step = 0, max(limit, 32)
        while start < len(ranked) and not (len(best) == limit and -ranked[start][0] < best[0]):
            chunk = [tasks[u] for _, u in ranked[start:start + step] if gates.get(u, "") <= now_s]
            start += step
            for score in self.urgencies(chunk):
                if len(best) < limit:
                    heapq.heappush(best, score)
                elif score > best[0]:
                    heapq.heapreplace(best, score)
            picked += chunk
        self.examined += len(picked)
        return [tasks[u] for u in index.in_order(t["uuid"] for t in picked)], ready.count(now_s)

    def made_rows(self, fields: tuple[str, ...]) -> dict[str, tuple[dict, dict]] | None:
        """The store's cache of rows showing `fields` (uuid → (task, row); an entry holds while the
        task is that very object; at most ROWS_KEPT are added), kept for the few field sets asked
        last; None without an index, and the first time these fields are asked for (kept from
        the next time on)."""
        index = self.index
        if index is None:
            return None
        made = index.rows.get(fields)
        if made is None:
            if len(index.rows) >= ROW_SETS:
                index.rows.clear()
            index.rows[fields] = {}
        return made

    def pending_dependents(self, uuid: str) -> list[dict]:
        """The pending tasks that depend on `uuid`, in the store's order."""
        if self.index is None:
            found = self.tasks.mentioning(uuid) if type(self.tasks) is TaskMap else self.tasks.values()
            return [t for t in found if t["status"] == "pending" and uuid in t.get("depends", ())]
        tasks = self.tasks
        found = (tasks[u] for u in self.index.in_order(self.index.dependents.get(uuid, ())))
        return [t for t in found if t["status"] == "pending"]

    def any_open(self, uuids: Iterable[str]) -> bool:
        """True when one of `uuids` is a pending or recurring task (a dependency that still blocks)."""
        tasks = self.tasks
        for uuid in uuids:
            task = tasks.get(uuid)
            if task is not None and task["status"] in ("pending", "recurring"):
                return True
        return False

    def blockers(self, task: dict) -> list[dict]:
        """The dependencies of `task` that still block it (pending or recurring), in its order."""
        found = (self.tasks.get(uuid) for uuid in task.get("depends", ()))
        return [dep for dep in found if dep is not None and dep["status"] in ("pending", "recurring")]

    @cached_property
    def day_numbers(self) -> dict[str, int]:
        """Cache `YYYY-MM-DD` → proleptic ordinal (filled by `day_number`)."""
        return {}

    def day_number(self, stamp: str) -> int:
        """The ordinal day of a stored date's `YYYY-MM-DD` prefix (cached for this call)."""
        key = stamp[:10]
        found = self.day_numbers.get(key)
        if found is None:
            found = self.day_numbers[key] = date.fromisoformat(key).toordinal()
        return found

    def epoch(self, stamp: str) -> int:
        """Seconds since 1970-01-01 of a stored date string."""
        return (self.day_number(stamp) - 719163) * 86400 + (
            int(stamp[11:13]) * 3600 + int(stamp[14:16]) * 60 + int(stamp[17:19])
        )

    def resolve_refs(self, refs: Iterable[str]) -> frozenset[str]:
        """Uuids of the tasks named by ids (`3`) or uuids/uuid prefixes; unknown ones name nothing."""
        found: set[str] = set()
        index = self.index
        for ref in refs:
            if ref.isdigit():
                if index is not None:
                    uuid = index.ids.get(int(ref))
                    found.update((uuid,) if uuid is not None else ())
                    continue
                task = self.by_id.get(int(ref))
                if task is not None:
                    found.add(task["uuid"])
            elif ref in self.tasks:
                found.add(ref)
            elif index is not None:
                found.update(index.with_prefix(ref))
            else:
                found.update(u for u in self.tasks if u.startswith(ref))
        return frozenset(found)

    def planned(self, plan: Iterable[tuple]) -> list[dict] | None:
        """The tasks an index plan leaves (a superset of the filter's matches, in the store's
        order), or None when there is no index, no plan, or it would not narrow enough to pay.

        Plan terms (all must hold): ("status", name), ("project", name), ("tag", name),
        ("ids", ranges, uuids) — as `backlog.core.filter.index_plan` emits them.
        """
        index = self.index
        if index is None:
            return self._looked_up(plan)
        sets = [self._posting(index, term) for term in plan]
        if not sets:
            return None
        sets.sort(key=len)
        found = sets[0]
        for other in sets[1:]:
            found = found & other
        if len(found) * PLANNED_SHARE > len(self.tasks):
            return None
        tasks = self.tasks
        return [tasks[u] for u in index.in_order(found)]

    def _looked_up(self, plan: Iterable[tuple]) -> list[dict] | None:
        """Without an index, the tasks a plan's ids and full uuids name, looked up one by one in a
        TaskMap whose lines are not decoded (a command naming a few tasks); else None."""
        tasks = self.tasks
        term = next((term for term in plan if term[0] == "ids"), None)
        if type(tasks) is not TaskMap or tasks.decoded or term is None:
            return None
        _, ranges, uuids = term
        if sum(hi - lo + 1 for lo, hi in ranges) > LOOKUPS or any(len(u) != 36 for u in uuids):
            return None
        found = {tasks.uuid_of(i) for lo, hi in ranges for i in range(lo, hi + 1)}
        found.update(u for u in uuids if u in tasks)
        found.discard(None)
        return tasks.in_order(found)

    def _posting(self, index: Index, term: tuple) -> set[str]:
        kind = term[0]
        if kind == "status":
            return index.status.get(term[1], set())
        if kind == "project":
            return index.in_project(term[1])
        if kind == "tag":
            return index.tags.get(term[1], set())
        _, ranges, uuids = term
        out = {index.ids[i] for lo, hi in ranges for i in range(lo, hi + 1) if i in index.ids}
        for ref in uuids:
            out |= index.with_prefix(ref)
        return out

    # --- the virtual tags ----------------------------------------------------------------
    def has_virtual_tag(self, task: dict, name: str) -> bool:
        """True when `task` carries virtual tag `name` (SPEC §6); KeyError for unknown names."""
        return TAG_TESTS[name](task, self)

    def is_blocked(self, task: dict) -> bool:
        return TAG_TESTS["BLOCKED"](task, self)

    def is_blocking(self, task: dict) -> bool:
        return TAG_TESTS["BLOCKING"](task, self)

    def is_ready(self, task: dict) -> bool:
        return TAG_TESTS["READY"](task, self)

    def is_waiting(self, task: dict) -> bool:
        return TAG_TESTS["WAITING"](task, self)

    def virtual_tags(self, task: dict) -> list[str]:
        """Every virtual tag `task` carries, in `VIRTUAL` order (for task_info)."""
        return [name for name, test in TAG_TESTS.items() if test(task, self)]


def _blocking(tasks: Iterable[dict]) -> frozenset[str]:
    """The uuids some pending task of `tasks` depends on."""
    return frozenset(uuid for t in tasks if "depends" in t and t["status"] == "pending" for uuid in t["depends"])


class _Blocking:
    """`uuid in` it: some pending task depends on `uuid`. Over a TaskMap whose lines are not decoded,
    each question decodes only the lines that mention the uuid; once they are, one set answers."""

    def __init__(self, tasks: TaskMap) -> None:
        self.tasks, self.known, self.every = tasks, {}, None

    def __contains__(self, uuid: object) -> bool:
        if self.every is None and self.tasks.decoded:
            self.every = _blocking(self.tasks.values())
        if self.every is not None:
            return uuid in self.every
        if uuid not in self.known:
            self.known[uuid] = isinstance(uuid, str) and any(
                t["status"] == "pending" and uuid in t.get("depends", ()) for t in self.tasks.mentioning(uuid))
        return self.known[uuid]


class _Horizon(Context):
    """The view at a later instant in which no task is blocked and none blocks."""

    def any_open(self, uuids: Iterable[str]) -> bool:
        return False

    @cached_property
    def blocking_uuids(self) -> Container[str]:
        return frozenset()


def horizon_bounds(tasks: Sequence[dict], every: Mapping[str, dict], horizon: datetime, tz: tzinfo) -> list[float]:
    """Each task's urgency at `horizon`, blocked and blocking terms left out: an upper bound of its
    urgency at any instant up to `horizon` (due, age, scheduled and waiting only grow with time,
    blocked only lowers it, blocking is the caller's to add), whatever other tasks do."""
    return [u + BOUND_MARGIN for u in urgencies(tasks, _Horizon(every, horizon, tz))]
