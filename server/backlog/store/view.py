"""The store's view of the hot tasks for one call: what filters, urgency and sort read.

A `Context` carries everything a filter, urgency or sort needs beyond one task, for one
call: all tasks of the hot store, one `now` and the time zone. Its indexes (id → task, the
uuids that block, period windows, `now` as a stored-date string …) are computed on first
use and cached on the instance, so building one is O(1).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import cached_property
from collections.abc import Callable, Iterable, Mapping

from backlog.core.dates import period_bounds
from backlog.core.model import format_utc, uda_kinds
from backlog.core.virtual import DUE_DAYS, TAG_TESTS


class Context:
    """All tasks of the hot store (uuid → task), one `now` and the zone, for one call.

    `archived` gives archived uuid → short id; it is called at most once, and only when
    something asks for a task outside the hot store (`archived_ids`).
    """

    def __init__(self, tasks: Mapping[str, dict], now: datetime, tz: tzinfo,
                 archived: Callable[[], Mapping[str, int]] | None = None) -> None:
        self.tasks, self.now, self.tz, self._archived = tasks, now, tz, archived

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
    def blocking_uuids(self) -> frozenset[str]:
        """Uuids some pending task depends on."""
        return frozenset(
            uuid for t in self.tasks.values() if "depends" in t and t["status"] == "pending" for uuid in t["depends"]
        )

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
        for ref in refs:
            if ref.isdigit():
                task = self.by_id.get(int(ref))
                if task is not None:
                    found.add(task["uuid"])
            elif ref in self.tasks:
                found.add(ref)
            else:
                found.update(u for u in self.tasks if u.startswith(ref))
        return frozenset(found)

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
